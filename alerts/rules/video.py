"""Video events: a camera's analytics posts an event with a snapshot (see services.video_event_receive)."""

from ..models import RuleKind
from . import register
from .base import Detector, ParamError


@register
class VideoEvent(Detector):
    kind = RuleKind.VIDEO_EVENT
    defaults = {"event_types": {"fire": "火情"}, "min_confidence": 0.5}
    default_merge_gap_minutes = 10

    def check(self, params):
        types = params["event_types"]
        if not types or not all(isinstance(k, str) and isinstance(v, str) and k and v for k, v in types.items()):
            raise ParamError("event_types: {\"code\": \"标签\"}")

    def detect(self, rule, params, *, since, until, subjects=None):
        return []  # events are pushed to the endpoint, never polled
