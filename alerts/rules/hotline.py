"""Hotline rules over 12345 contacts: a surge of one category in one community, sensitive wording, and the
same address complained about again and again."""

import datetime as dt
import math

from django.contrib.gis.geos import Point
from django.db import connection
from django.utils.translation import gettext as _

from ..models import RuleKind
from . import register
from .base import Detector, Finding, ParamError


def _fetch(sql, params):
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        return cursor.fetchall()


@register
class HotlineSurge(Detector):
    """Contacts of one category in one community over the last 24 hours above mean + k·σ of the previous days
    (each of those days a 24-hour window ending at the same hour; days without contacts count as 0)."""

    kind = RuleKind.HOTLINE_SURGE
    defaults = {"history_days": 28, "sigmas": 3.0, "min_contacts": 5}
    default_merge_gap_minutes = 24 * 60

    def check(self, params):
        if not 7 <= params["history_days"] <= 365:
            raise ParamError(_("history_days must lie between 7 and 365."))

    def detect(self, rule, params, *, since, until, subjects=None):
        days = int(params["history_days"])
        rows = _fetch(
            """
            WITH c AS (
                SELECT community_id, category_id,
                       floor(extract(epoch FROM (%(until)s - created_at)) / 86400)::int AS k
                FROM hotline_contact
                WHERE created_at > %(until)s - make_interval(days => %(days)s + 1) AND created_at <= %(until)s
                  AND community_id IS NOT NULL AND category_id IS NOT NULL
            ), n AS (
                SELECT community_id, category_id, k, count(*) AS n FROM c GROUP BY 1, 2, 3
            )
            SELECT r.code, r.name, cat.code, cat.name,
                   coalesce(sum(n) FILTER (WHERE k = 0), 0) AS current,
                   coalesce(sum(n) FILTER (WHERE k BETWEEN 1 AND %(days)s), 0) AS total,
                   coalesce(sum(n * n) FILTER (WHERE k BETWEEN 1 AND %(days)s), 0) AS squares,
                   array_agg(ARRAY[k, n]::bigint[] ORDER BY k) FILTER (WHERE k BETWEEN 1 AND %(days)s) AS history
            FROM n JOIN org_region r ON r.id = n.community_id JOIN tickets_category cat ON cat.id = n.category_id
            GROUP BY r.code, r.name, cat.code, cat.name
            HAVING coalesce(sum(n) FILTER (WHERE k = 0), 0) >= %(min)s
            """,
            {"until": until, "days": days, "min": params["min_contacts"]},
        )
        findings = []
        for code, community, cat_code, cat_name, current, total, squares, history in rows:
            current, total, squares = int(current), int(total), int(squares)
            mean = total / days
            sigma = math.sqrt(max(squares / days - mean * mean, 0.0))
            threshold = mean + params["sigmas"] * sigma
            if current <= threshold:
                continue
            daily = [0] * days
            for k, n in history or []:
                daily[k - 1] = n
            findings.append(Finding(
                subject=f"{code}:{cat_code}",
                title=_("%(category)s contacts surge in %(community)s: %(n)d in 24 hours") % {
                    "category": cat_name, "community": community, "n": current},
                window_start=until - dt.timedelta(hours=24), window_end=until, location=None, region_code=code,
                evidence={"community": community, "category": cat_name, "contacts_24h": current, "mean": round(mean, 2),
                          "sigma": round(sigma, 2), "threshold": round(threshold, 2), "daily_before": daily},
            ))
        return findings


def _patterns(terms):
    return ["%" + t.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_") + "%" for t in terms]


@register
class SensitiveContent(Detector):
    """Hotline text containing one of the configured terms."""

    kind = RuleKind.SENSITIVE_CONTENT
    defaults = {"terms": ["自杀", "轻生", "跳楼", "爆炸", "燃气泄漏", "煤气泄漏", "集体上访", "群体性", "讨薪", "持刀"]}
    default_merge_gap_minutes = 0

    def check(self, params):
        if not params["terms"] or not all(isinstance(t, str) and t.strip() for t in params["terms"]):
            raise ParamError(_("Give at least one term."))

    def detect(self, rule, params, *, since, until, subjects=None):
        terms = [t.strip() for t in params["terms"]]
        rows = _fetch(
            """
            SELECT c.id, c.content, c.address, ST_X(c.location), ST_Y(c.location), r.code, c.created_at, c.type
            FROM hotline_contact c LEFT JOIN org_region r ON r.id = c.community_id
            WHERE c.created_at >= %(since)s AND c.created_at < %(until)s AND c.content LIKE ANY(%(patterns)s)
            ORDER BY c.id
            """,
            {"since": since, "until": until, "patterns": _patterns(terms)},
        )
        findings = []
        for pk, content, address, lon, lat, region_code, created_at, ctype in rows:
            hits = [t for t in terms if t in content]
            first = min(content.find(t) for t in hits)
            excerpt = content[max(0, first - 30): first + 40]
            findings.append(Finding(
                subject=f"contact-{pk}",
                title=_("Sensitive wording in hotline contact %(id)d: %(terms)s") % {"id": pk, "terms": "、".join(hits)},
                window_start=created_at, window_end=created_at,
                location=Point(lon, lat, srid=4326) if lon is not None else None, region_code=region_code,
                evidence={"contact": pk, "terms": hits, "excerpt": excerpt, "address": address, "type": ctype},
            ))
        return findings


@register
class RepeatedComplaint(Detector):
    """Three or more contacts about one address within seven days."""

    kind = RuleKind.REPEATED_COMPLAINT
    defaults = {"min_contacts": 3, "days": 7, "types": ["complaint", "report", "help"]}
    default_merge_gap_minutes = 7 * 24 * 60

    def detect(self, rule, params, *, since, until, subjects=None):
        span = dt.timedelta(days=params["days"])
        rows = _fetch(
            r"""
            WITH c AS (
                SELECT id, regexp_replace(address, '[\s,，。.、]+', '', 'g') AS addr, created_at, location, community_id, content
                FROM hotline_contact
                WHERE created_at >= %(since)s AND created_at < %(until)s AND address <> '' AND type = ANY(%(types)s)
            ), busy AS (
                SELECT addr FROM c GROUP BY addr HAVING count(*) >= %(min)s
            )
            SELECT c.addr, c.id, c.created_at, ST_X(c.location), ST_Y(c.location), r.code, left(c.content, 40)
            FROM c JOIN busy USING (addr) LEFT JOIN org_region r ON r.id = c.community_id
            ORDER BY c.addr, c.created_at
            """,
            {"since": since - span, "until": until, "types": params["types"], "min": params["min_contacts"]},
        )
        by_address: dict[str, list] = {}
        for row in rows:
            by_address.setdefault(row[0], []).append(row)
        findings = []
        need = int(params["min_contacts"])
        for addr, contacts in by_address.items():
            # the first run of `need` contacts within the span that ends inside [since, until)
            for i in range(len(contacts) - need + 1):
                group = contacts[i: i + need]
                if group[-1][2] - group[0][2] <= span and group[-1][2] >= since:
                    j = i + need
                    while j < len(contacts) and contacts[j][2] - group[0][2] <= span:
                        group.append(contacts[j])
                        j += 1
                    last = group[-1]
                    findings.append(Finding(
                        subject=addr[:80],
                        title=_("%(n)d contacts about %(address)s within %(days)d days") % {
                            "n": len(group), "address": addr, "days": params["days"]},
                        window_start=group[0][2], window_end=last[2],
                        location=Point(last[3], last[4], srid=4326) if last[3] is not None else None, region_code=last[5],
                        evidence={"address": addr, "contacts": [{"id": c[1], "at": c[2].isoformat(), "excerpt": c[6]} for c in group]},
                    ))
                    break
        return findings
