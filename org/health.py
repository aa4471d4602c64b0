"""GET /healthz: database (with PostGIS), Redis, Celery worker and beat; apps add their own checks.

It answers within a second whatever is down (HEALTH_DEADLINE): the checks run side by side on threads of
their own, the database first; a check that has not answered by the deadline is reported as down, and when the
database is down the checks that need it are not run (they could only wait for a connection)."""

import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from concurrent.futures import TimeoutError as FutureTimeout

import redis
from celery import current_app  # the project's app (command_center.celery), without importing it upward
from django.conf import settings
from django.db import connection, connections
from django.http import JsonResponse
from django.utils import timezone
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET

from org import database

HEALTH_DEADLINE = 0.8  # seconds for all the checks together (the answer goes out within a second)

# name -> (callable returning {"ok": bool, ...}, whether it needs the database); a check with "warning" but
# ok=True does not fail health.
_CHECKS: dict[str, tuple[Callable[[], dict], bool]] = {}
_threads = ThreadPoolExecutor(max_workers=8, thread_name_prefix="health")


def register_check(name: str, func: Callable[[], dict], *, needs_database: bool = True) -> None:
    _CHECKS[name] = (func, needs_database)


def check_database() -> dict:
    database.connect_checked()  # at once while the database is known to be down; swaps a stale connection
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
    replies = current_app.control.ping(timeout=0.3)  # a worker on the local broker answers in milliseconds
    return {"ok": bool(replies), "workers": sorted(name for reply in replies for name in reply)}


def check_beat() -> dict:
    from realtime.models import Heartbeat

    beat = Heartbeat.objects.filter(name="beat").first()
    if beat is None:
        return {"ok": False, "error": "no tick recorded yet"}
    age = (timezone.now() - beat.at).total_seconds()
    ok = age <= settings.HEALTH_BEAT_MAX_AGE_SECONDS
    return {"ok": ok, "last_tick": beat.at.isoformat(), "age_seconds": round(age, 1)}


register_check("database", check_database)
register_check("redis", check_redis, needs_database=False)
register_check("worker", check_worker, needs_database=False)
register_check("beat", check_beat)


def _run(func) -> dict:
    try:
        return func()
    except Exception as exc:  # a failing part is reported, never raised
        return {"ok": False, "error": f"{type(exc).__name__}: {exc}"[:300]}
    finally:
        connections.close_all()  # this thread's connection goes back to the pool


def run_checks(deadline: float | None = None) -> dict[str, dict]:
    deadline = deadline or time.monotonic() + HEALTH_DEADLINE
    first = {name: _threads.submit(_run, func) for name, (func, needs) in _CHECKS.items() if name == "database" or not needs}
    results = {name: _result(future, deadline) for name, future in first.items() if name == "database"}
    db_ok = results.get("database", {}).get("ok", True)
    later = {}
    for name, (func, needs) in _CHECKS.items():
        if name in first:
            continue
        if db_ok:
            later[name] = _threads.submit(_run, func)
        else:
            results[name] = {"ok": False, "error": "not checked: the database is unavailable"}
    for name, future in {**first, **later}.items():
        if name not in results:
            results[name] = _result(future, deadline)
    return {name: results[name] for name in _CHECKS}


def _result(future, deadline: float) -> dict:
    try:
        return future.result(timeout=max(0.0, deadline - time.monotonic()))
    except FutureTimeout:
        return {"ok": False, "error": f"no answer within {HEALTH_DEADLINE} s"}


@never_cache
@require_GET
def healthz(request):
    results = run_checks()
    down = [name for name, result in results.items() if not result.get("ok")]
    body = {"status": "ok" if not down else "down", "down": down, "checks": results, "time": timezone.now().isoformat()}
    return JsonResponse(body, status=200 if not down else 503, json_dumps_params={"ensure_ascii": False})
