"""Plumbing of the /m/ workspace's JSON endpoints: sign-in, role, client idempotency keys, readable errors.

A phone that lost its signal keeps a submission in IndexedDB with the key it made and sends it
again later, maybe twice. The first successful answer is stored under (user, key) in the same
transaction as the change itself, so a replay gets that answer back and changes nothing.
"""

import json
from functools import wraps

from django.contrib.gis.geos import Point
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.http import Http404, JsonResponse
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from org import inputs
from org.errors import error_response
from org.exceptions import Conflict
from org.permissions import can

from grid.models import MobileSubmission


def mobile_endpoint(kind: str):
    """Wrap a view `fn(request, *args) -> dict` that makes one change; see the module docstring."""

    def decorate(fn):
        @require_POST
        @wraps(fn)
        def wrapper(request, *args, **kwargs):
            if not request.user.is_authenticated:
                return error_response(request, 401, _("Your sign-in has expired; please sign in again."))
            if not can(request.user, "field.mobile"):
                return error_response(request, 403, _("Only grid workers may do this."))
            key = request.headers.get("Idempotency-Key", "").strip()  # well formed: InputGuardMiddleware checked it
            try:
                with transaction.atomic():
                    if key:
                        submission, created = MobileSubmission.objects.get_or_create(
                            user=request.user, key=key, defaults={"kind": kind}
                        )
                        if not created:
                            response = JsonResponse(submission.response, status=submission.status)
                            response["Idempotent-Replay"] = "true"
                            return response
                    data, status = fn(request, *args, idempotency_key=key or None, **kwargs), 201
                    if key:
                        submission.response, submission.status = data, status
                        submission.save(update_fields=["response", "status"])
            except ValidationError as exc:
                return error_response(request, 400, " ".join(exc.messages))
            except PermissionDenied as exc:
                return error_response(request, 403, str(exc) or _("Your role may not do this."))
            except Http404 as exc:
                return error_response(request, 404, str(exc) or _("Not found, or not within your scope."))
            except Conflict as exc:
                return error_response(request, 409, str(exc))
            return JsonResponse(data, status=status, json_dumps_params={"ensure_ascii": False})

        return wrapper

    return decorate


def point_from(data) -> Point:
    """The position a phone sent (lon, lat); a clear message when there is none."""
    try:
        lon, lat = float(data.get("lon", "")), float(data.get("lat", ""))
    except ValueError:
        raise ValidationError(_("No location: allow location access, or tap the map to place the pin.")) from None
    if not (-180 <= lon <= 180 and -90 <= lat <= 90):
        raise ValidationError(_("The location is not a valid longitude/latitude."))
    return Point(lon, lat, srid=4326)


def accuracy_from(data) -> float | None:
    try:
        value = float(data.get("accuracy", ""))
    except ValueError:
        return None
    return value if value >= 0 else None


def time_from(data, name: str = "at"):
    """When the phone says it happened: an ISO 8601 time with its offset, or None when not sent."""
    return inputs.parse_moment(data.get(name, ""), name=_("The time"))


def track_points_from(raw: str) -> list:
    """`points` = JSON list of [lon, lat, iso time, accuracy]."""
    try:
        items = json.loads(raw or "[]")
        if not isinstance(items, list) or len(items) > 2000:
            raise ValueError
        points = []
        for lon, lat, at, accuracy in items:
            moment = inputs.parse_moment(at)
            if moment is None:
                raise ValueError
            points.append((point_from({"lon": lon, "lat": lat}), moment, float(accuracy) if accuracy is not None else None))
        return points
    except (ValueError, TypeError, RecursionError, ValidationError):
        raise ValidationError(_("The track points are not understood.")) from None
