"""Figures from apps above or beside `tickets` that may not be installed yet (alerts, data hub, hotline).

Each reader imports inside the function and answers "nothing" when the app does not expose the selector,
so the wall shows 0 instead of invented data."""

import datetime as dt
import importlib


def _selector(module: str, name: str):
    try:
        return getattr(importlib.import_module(module), name)
    except (ImportError, AttributeError):
        return None


def alerts_available() -> bool:
    return _selector("alerts.selectors", "active_alerts_for") is not None


def alert_open_states() -> frozenset:
    states = _selector("alerts.models", "OPEN_STATES")
    return frozenset(states or ())


def alert_levels() -> dict:
    level = _selector("alerts.models", "Level")
    return {} if level is None else {value: str(label) for value, label in level.choices}


def alert_row(data: dict) -> list:
    """[lon, lat, level, title, at] of one alert, from an outbox payload or a row dict."""
    lon, lat = data.get("lon"), data.get("lat")
    if lon is None and isinstance(data.get("location"), (list, tuple)):
        lon, lat = data["location"][:2]
    return [lon, lat, data.get("level", ""), data.get("title", ""), data.get("created_at") or data.get("at")]


def active_alerts(user) -> dict:
    """Active alerts in the user's scope as {id: [lon, lat, level, title, created_at]}; {} without the alerts app."""
    active_alerts_for = _selector("alerts.selectors", "active_alerts_for")
    if active_alerts_for is None:
        return {}
    alerts = {}
    for alert in active_alerts_for(user):
        location = getattr(alert, "location", None)
        alerts[str(alert.pk)] = [
            round(location.x, 6) if location else None, round(location.y, 6) if location else None,
            alert.level, alert.title, alert.created_at.isoformat(),
        ]
    return alerts


def exchanged_on(day: dt.date, region) -> int:
    """Records the data hub accepted on `day` from departments in `region`; 0 without the data hub."""
    exchanged = _selector("datahub.selectors", "exchanged_on")
    if exchanged is None:
        return 0
    return int(exchanged(day, region).get("records") or 0)


def hotline_kpis(user, *, start: dt.datetime, end: dt.datetime, region=None) -> dict | None:
    """The hotline's own figures (直接办结率 …) when the hotline app exposes them, else None."""
    kpis = _selector("hotline.selectors", "hotline_kpis")
    if kpis is None:
        return None
    return kpis(user, start=start, end=end, region=region)


def hotline_contacts(user):
    """The hotline contacts the user may see, or None without the hotline app."""
    contacts_visible_to = _selector("hotline.selectors", "contacts_visible_to")
    return None if contacts_visible_to is None else contacts_visible_to(user)
