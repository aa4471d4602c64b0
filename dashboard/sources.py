"""What the wall and the statistics read from the apps below the dashboard, through their public selectors."""

import datetime as dt

from alerts.models import OPEN_STATES, Level
from alerts.selectors import active_alerts_for
from datahub.selectors import exchanged_on as datahub_exchanged_on


def alert_open_states() -> frozenset:
    return frozenset(OPEN_STATES)


def alert_levels() -> dict:
    return {value: str(label) for value, label in Level.choices}


def alert_row(data: dict) -> list:
    """[lon, lat, level, title, at] of one alert, from an outbox payload or a row dict."""
    lon, lat = data.get("lon"), data.get("lat")
    if lon is None and isinstance(data.get("location"), (list, tuple)):
        lon, lat = data["location"][:2]
    return [lon, lat, data.get("level", ""), data.get("title", ""), data.get("created_at") or data.get("at")]


def active_alerts(user) -> dict:
    """Active alerts in the user's scope as {id: [lon, lat, level, title, created_at]}."""
    alerts = {}
    for alert in active_alerts_for(user):
        location = getattr(alert, "location", None)
        alerts[str(alert.pk)] = [
            round(location.x, 6) if location else None, round(location.y, 6) if location else None,
            alert.level, alert.title, alert.created_at.isoformat(),
        ]
    return alerts


def exchanged_on(day: dt.date, region) -> int:
    """Records the data hub accepted on `day` from departments in `region`."""
    return int(datahub_exchanged_on(day, region).get("records") or 0)

