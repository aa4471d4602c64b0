"""Grid API: grids as GeoJSON with open-ticket counts for maps, and grid-worker performance for leaders."""

import datetime as dt
import json

from django.contrib.gis.db.models.functions import AsGeoJSON
from django.contrib.gis.geos import Polygon
from django.utils import timezone
from django.utils.translation import gettext as _
from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework import exceptions
from rest_framework.response import Response
from rest_framework.views import APIView

from org.api import ActionPermission
from org.models import Region
from org.permissions import visible

from grid import selectors
from grid.models import Grid, GridWorker

from . import stats

MAX_GRIDS = 5000


def _bbox(raw: str) -> Polygon:
    try:
        xmin, ymin, xmax, ymax = (float(v) for v in raw.split(","))
    except ValueError:
        raise exceptions.ValidationError({"bbox": _("bbox must be minLon,minLat,maxLon,maxLat.")}) from None
    if not (xmin < xmax and ymin < ymax):
        raise exceptions.ValidationError({"bbox": _("bbox must be minLon,minLat,maxLon,maxLat.")})
    box = Polygon.from_bbox((xmin, ymin, xmax, ymax))
    box.srid = 4326
    return box


class GridsGeoJSON(APIView):
    """GET /api/grid/grids.geojson — the grids in your scope as a GeoJSON FeatureCollection.

    Filters: `community` (12-digit code), `bbox` (minLon,minLat,maxLon,maxLat). Each feature carries
    code, name, kind, community, households, population, active workers and open tickets.
    """

    permission_classes = [ActionPermission]
    action_permissions = {"*": "grid.map"}

    @extend_schema(
        parameters=[OpenApiParameter("community", str), OpenApiParameter("bbox", str)],
        responses={200: dict},
    )
    def get(self, request):
        grids = visible(Grid.objects.all(), request.user)
        if community := request.query_params.get("community"):
            grids = grids.filter(community__code=community)
        if bbox := request.query_params.get("bbox"):
            grids = grids.filter(boundary__intersects=_bbox(bbox))
        rows = list(
            selectors.grids_with_counts(grids)
            .annotate(geometry=AsGeoJSON("boundary", precision=6))
            .defer("boundary")
            .order_by("code")[: MAX_GRIDS + 1]
        )
        if len(rows) > MAX_GRIDS:
            raise exceptions.ValidationError({"detail": _("Too many grids; narrow the request with bbox or community.")})
        open_counts = stats.open_ticket_counts(g.pk for g in rows)
        features = [
            {
                "type": "Feature",
                "id": g.code,
                "geometry": json.loads(g.geometry),
                "properties": {
                    "code": g.code, "name": g.name, "kind": g.kind, "kind_label": g.get_kind_display(),
                    "community": g.community.name, "community_code": g.community.code,
                    "households": g.households, "population": g.population,
                    "workers": g.worker_count, "open_tickets": open_counts.get(g.pk, 0),
                    "station": [g.station.x, g.station.y] if g.station else None,
                },
            }
            for g in rows
        ]
        return Response({"type": "FeatureCollection", "features": features})


class Performance(APIView):
    """GET /api/grid/performance/ — grid-worker performance in your scope.

    `since`, `until` (YYYY-MM-DD, default: this month so far), `group` = worker | grid | community.
    """

    permission_classes = [ActionPermission]
    action_permissions = {"*": "grid.performance"}

    @extend_schema(
        parameters=[OpenApiParameter("since", str), OpenApiParameter("until", str), OpenApiParameter("group", str)],
        responses={200: dict},
    )
    def get(self, request):
        today = timezone.localdate()
        try:
            since = dt.date.fromisoformat(request.query_params.get("since") or today.replace(day=1).isoformat())
            until = dt.date.fromisoformat(request.query_params.get("until") or today.isoformat())
        except ValueError:
            raise exceptions.ValidationError({"detail": _("Dates must be YYYY-MM-DD.")}) from None
        if until < since or (until - since).days > 366:
            raise exceptions.ValidationError({"detail": _("The period must run forwards and be at most a year.")})
        group = request.query_params.get("group", "worker")
        if group not in ("worker", "grid", "community"):
            raise exceptions.ValidationError({"group": _("group must be worker, grid or community.")})
        workers = visible(GridWorker.objects.all(), request.user)
        if community := request.query_params.get("community"):
            region = Region.objects.filter(code=community).first()
            workers = workers.filter(region_path__startswith=region.path) if region else workers.none()
        rows = stats.performance(workers, since=since, until=until, group=group)
        return Response({"since": since, "until": until, "group": group, "results": rows})
