"""What every detector shares: typed parameters with defaults, and the finding it reports."""

import datetime as dt
from dataclasses import dataclass, field

from django.contrib.gis.geos import Point
from django.utils.translation import gettext as _


class ParamError(ValueError):
    """A warning model's parameters do not fit its kind."""


@dataclass
class Finding:
    """One anomaly about one subject in one time window, with what proves it."""

    subject: str
    title: str
    window_start: dt.datetime
    window_end: dt.datetime
    location: Point
    evidence: dict = field(default_factory=dict)
    region_code: str | None = None  # when the data names the region; otherwise the point decides


def _clock(value) -> dt.time:
    if isinstance(value, dt.time):
        return value
    try:
        hours, minutes = str(value).split(":")[:2]
        if str(value) == "24:00":
            return dt.time.max
        return dt.time(int(hours), int(minutes))
    except (ValueError, TypeError):
        raise ParamError(_("“%(value)s” is not a time of day like 06:00.") % {"value": value}) from None


class Detector:
    """A kind of warning model. `defaults` names every parameter and its type; `detect` finds anomalies."""

    kind: str = ""
    defaults: dict = {}
    # findings of one rule and subject whose windows lie closer than this are one alert
    default_merge_gap_minutes = 30

    def params(self, raw: dict) -> dict:
        if not isinstance(raw, dict):
            raise ParamError(_("Parameters must be a JSON object."))
        unknown = sorted(set(raw) - set(self.defaults) - {"merge_gap_minutes"})
        if unknown:
            raise ParamError(_("Unknown parameters: %(names)s.") % {"names": ", ".join(unknown)})
        out = {"merge_gap_minutes": self.default_merge_gap_minutes, **self.defaults}
        for key, value in raw.items():
            default = out[key]
            try:
                if isinstance(default, bool):
                    if not isinstance(value, bool):
                        raise TypeError
                elif isinstance(default, (int, float)):
                    if isinstance(value, bool) or not isinstance(value, (int, float)) or value < 0:
                        raise TypeError
                elif isinstance(default, list):
                    if not isinstance(value, list):
                        raise TypeError
                elif isinstance(default, dict):
                    if not isinstance(value, dict):
                        raise TypeError
                elif isinstance(default, str) and not isinstance(value, str):
                    raise TypeError
            except TypeError:
                raise ParamError(_("Parameter “%(name)s” has the wrong type (like %(example)s).") % {"name": key, "example": default}) from None
            out[key] = value
        self.check(out)
        return out

    def check(self, params: dict) -> None:
        """Further validation of a kind's parameters."""

    def detect(self, rule, params: dict, *, since: dt.datetime, until: dt.datetime, subjects=None) -> list[Finding]:
        raise NotImplementedError


def windows(params: dict) -> list[tuple[dt.time, dt.time]]:
    out = []
    for pair in params.get("windows", []):
        if not isinstance(pair, list) or len(pair) != 2:
            raise ParamError(_("Each time window is a pair like [\"00:00\", \"06:00\"]."))
        start, end = _clock(pair[0]), _clock(pair[1])
        if start == end:
            raise ParamError(_("A time window must not be empty."))
        out.append((start, end))
    return out
