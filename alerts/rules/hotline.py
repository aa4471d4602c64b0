"""Hotline rules over 12345 contacts: a surge of one category in one community, sensitive wording, and the
same address complained about again and again."""

import datetime as dt
import math

from django.contrib.gis.geos import Point
from django.utils.translation import gettext as _

from hotline import selectors as hotline_selectors

from ..models import RuleKind
from . import register
from .base import Detector, Finding, ParamError


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
        rows = hotline_selectors.contact_counts_by_community_category(until=until, days=days, min_contacts=params["min_contacts"])
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
        rows = hotline_selectors.contacts_with_terms(since=since, until=until, patterns=_patterns(terms))
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
        rows = hotline_selectors.contacts_at_busy_addresses(
            since=since - span, until=until, types=params["types"], min_contacts=params["min_contacts"]
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
