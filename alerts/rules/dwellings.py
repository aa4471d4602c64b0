"""Group rental (群租): more residents per room, or less floor area per resident, than the rules allow."""

from django.contrib.gis.geos import Point
from django.db import connection
from django.utils.translation import gettext as _

from ..models import RuleKind
from . import register
from .base import Detector, Finding


@register
class GroupRental(Detector):
    kind = RuleKind.GROUP_RENTAL
    defaults = {"max_per_room": 2, "min_m2_per_person": 5.0}
    default_merge_gap_minutes = 60 * 24 * 8

    def detect(self, rule, params, *, since, until, subjects=None):
        with connection.cursor() as cursor:
            cursor.execute(
                """
                SELECT d.code, d.address, ST_X(d.location), ST_Y(d.location), r.code, d.registered_residents, d.rooms,
                       d.area_m2, d.updated_at
                FROM datahub_dwelling d LEFT JOIN org_region r ON r.id = d.region_id
                WHERE d.registered_residents > 0
                  AND ((d.rooms > 0 AND d.registered_residents > %(per_room)s * d.rooms)
                       OR d.area_m2 < %(m2)s * d.registered_residents)
                  AND (%(all)s OR d.code = ANY(%(subjects)s))
                ORDER BY d.code
                """,
                {"per_room": params["max_per_room"], "m2": params["min_m2_per_person"], "all": subjects is None,
                 "subjects": list(subjects or [])},
            )
            rows = cursor.fetchall()
        findings = []
        for code, address, lon, lat, region_code, residents, rooms, area, updated_at in rows:
            reasons = []
            if rooms and residents > params["max_per_room"] * rooms:
                reasons.append(_("%(n)d residents in %(rooms)d rooms") % {"n": residents, "rooms": rooms})
            if area < params["min_m2_per_person"] * residents:
                reasons.append(_("%(m2).1f m² per person") % {"m2": area / residents})
            findings.append(Finding(
                subject=code,
                title=_("Suspected group rental at %(address)s: %(reasons)s") % {"address": address, "reasons": "，".join(reasons)},
                window_start=updated_at, window_end=max(until, updated_at),
                location=Point(lon, lat, srid=4326) if lon is not None else None,
                region_code=region_code,
                evidence={"dwelling": code, "address": address, "residents": residents, "rooms": rooms, "area_m2": area,
                          "m2_per_person": round(area / residents, 2),
                          "limits": {"max_per_room": params["max_per_room"], "min_m2_per_person": params["min_m2_per_person"]}},
            ))
        return findings
