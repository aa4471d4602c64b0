"""GET /healthz: database (with PostGIS), Redis, Celery worker and beat; apps add their own checks."""

from collections.abc import Callable

import redis
from django.conf import settings
from django.db import connection
from django.http import JsonResponse
from django.utils import timezone
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET

# name -> callable returning {"ok": bool, ...}; a check with "warning" but ok=True does not fail health.
_CHECKS: dict[str, Callable[[], dict]] = {}


def register_check(name: str, func: Callable[[], dict]) -> None:
    _CHECKS[name] = func


def check_database() -> dict:
    with connection.cursor() as cursor:
        cursor.execute("SELECT version(), PostGIS_Lib_Version()")
        version, postgis = cursor.fetchone()
    return {"ok": True, "version": version.split(" on ")[0], "postgis": postgis}


def check_redis() -> dict:
    client = redis.Redis.from_url(settings.REDIS_URL, socket_connect_timeout=1, socket_timeout=1)
    try:
        client.ping()
    finally:
        client.close()
    return {"ok": True}


def check_worker() -> dict:
    from command_center.celery import app

    replies = app.control.ping(timeout=1.0)
    return {"ok": bool(replies), "workers": sorted(name for reply in replies for name in reply)}


def check_beat() -> dict:
    from command_center.realtime.models import Heartbeat

    beat = Heartbeat.objects.filter(name="beat").first()
    if beat is None:
        return {"ok": False, "error": "no tick recorded yet"}
    age = (timezone.now() - beat.at).total_seconds()
    ok = age <= settings.HEALTH_BEAT_MAX_AGE_SECONDS
    return {"ok": ok, "last_tick": beat.at.isoformat(), "age_seconds": round(age, 1)}


register_check("database", check_database)
register_check("redis", check_redis)
register_check("worker", check_worker)
register_check("beat", check_beat)


def run_checks() -> dict[str, dict]:
    results = {}
    for name, func in _CHECKS.items():
        try:
            results[name] = func()
        except Exception as exc:  # a failing part is reported, never raised
            results[name] = {"ok": False, "error": f"{type(exc).__name__}: {exc}"[:300]}
    return results


@never_cache
@require_GET
def healthz(request):
    results = run_checks()
    down = [name for name, result in results.items() if not result.get("ok")]
    body = {"status": "ok" if not down else "down", "down": down, "checks": results, "time": timezone.now().isoformat()}
    return JsonResponse(body, status=200 if not down else 503, json_dumps_params={"ensure_ascii": False})


