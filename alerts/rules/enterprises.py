"""Licence anomaly: an enterprise still operating while a licence it needs has expired or was revoked."""

import datetime as dt

from django.contrib.gis.geos import Point
from django.db import connection
from django.utils import timezone
from django.utils.translation import gettext as _

from ..models import RuleKind
from . import register
from .base import Detector, Finding


@register
class LicenceAnomaly(Detector):
    kind = RuleKind.LICENCE
    # An enterprise with a newer valid licence of the same type is fine: only its latest licence per type counts.
    defaults = {
        "operating_statuses": ["operating", "rectifying"],
        "bad_statuses": ["revoked", "cancelled"],
        "expired": True,
        "licence_types": [],
    }
    default_merge_gap_minutes = 60 * 24 * 2

    def detect(self, rule, params, *, since, until, subjects=None):
        today = timezone.localdate(until)
        with connection.cursor() as cursor:
            cursor.execute(
                """
                WITH latest AS (
                    SELECT DISTINCT ON (l.holder_credit_code, l.licence_type) l.*
                    FROM datahub_licence l
                    WHERE (cardinality(%(types)s::text[]) = 0 OR l.licence_type = ANY(%(types)s))
                    ORDER BY l.holder_credit_code, l.licence_type, (l.status = 'valid') DESC, l.valid_to DESC
                )
                SELECT e.credit_code, e.name, ST_X(e.location), ST_Y(e.location), r.code,
                       l.licence_type, l.number, l.status, l.valid_to, l.updated_at
                FROM latest l
                JOIN datahub_enterprise e ON e.credit_code = l.holder_credit_code
                LEFT JOIN org_region r ON r.id = e.region_id
                WHERE e.status = ANY(%(operating)s)
                  AND (l.status = ANY(%(bad)s) OR (%(expired)s AND l.valid_to < %(today)s))
                  AND (%(all)s OR e.credit_code = ANY(%(subjects)s))
                ORDER BY e.credit_code, l.licence_type
                """,
                {"types": params["licence_types"], "operating": params["operating_statuses"], "bad": params["bad_statuses"],
                 "expired": params["expired"], "today": today, "all": subjects is None, "subjects": list(subjects or [])},
            )
            rows = cursor.fetchall()
        by_enterprise: dict[str, list] = {}
        for row in rows:
            by_enterprise.setdefault(row[0], []).append(row)
        findings = []
        tz = timezone.get_current_timezone()
        for code, licences in by_enterprise.items():
            _code, name, lon, lat, region_code = licences[0][:5]
            problems, starts = [], []
            for *_head, ltype, number, status, valid_to, updated_at in licences:
                revoked = status in params["bad_statuses"]
                # the anomaly began when the licence lapsed, or when the revocation was recorded
                began = updated_at if revoked else dt.datetime.combine(valid_to + dt.timedelta(days=1), dt.time.min, tzinfo=tz)
                starts.append(began)
                problems.append({"type": ltype, "number": number, "status": status, "valid_to": valid_to.isoformat(),
                                 "problem": "revoked" if revoked else "expired"})
            kinds = {p["problem"] for p in problems}
            label = _("revoked licence") if kinds == {"revoked"} else _("expired licence") if kinds == {"expired"} else _("expired or revoked licences")
            findings.append(Finding(
                subject=code,
                title=_("%(name)s operating with a %(problem)s") % {"name": name, "problem": label},
                window_start=min(starts), window_end=max(until, max(starts)),
                location=Point(lon, lat, srid=4326) if lon is not None else None,
                region_code=region_code,
                evidence={"credit_code": code, "enterprise": name, "licences": problems},
            ))
        return findings
