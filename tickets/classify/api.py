"""GET /api/tickets/categories/suggest/?text=…&lon=&lat= → the three likeliest small classes and their departments."""

from django.contrib.gis.geos import Point
from django.core.exceptions import ValidationError as DjangoValidationError
from django.utils.translation import gettext as _
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework.decorators import api_view
from rest_framework.exceptions import ValidationError
from rest_framework.response import Response

from org.permissions import require

from ..services import check_location
from .suggest import suggest as suggest_categories


def _point(params) -> Point | None:
    lon, lat = params.get("lon", ""), params.get("lat", "")
    if lon in ("", None) and lat in ("", None):
        return None
    try:
        point = Point(float(lon), float(lat), srid=4326)
    except (TypeError, ValueError):
        raise ValidationError({"location": _("Give both longitude and latitude as numbers.")}) from None
    try:
        return check_location(point)
    except DjangoValidationError as exc:
        raise ValidationError(exc.message_dict) from None


@extend_schema(
    operation_id="tickets_categories_suggest",
    parameters=[OpenApiParameter("text", str, required=True), OpenApiParameter("lon", float), OpenApiParameter("lat", float)],
    responses=OpenApiTypes.OBJECT, summary="Category suggestions (智能分类) for a complaint's text",
)
@api_view(["GET"])
def suggest(request):
    require(request.user, "tickets.suggest_category")
    point = _point(request.query_params)
    try:
        result = suggest_categories(request.query_params.get("text", ""), point=point)
    except DjangoValidationError as exc:
        raise ValidationError(exc.message_dict) from None
    return Response(result.as_dict())
