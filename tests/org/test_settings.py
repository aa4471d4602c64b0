import os
import secrets
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def run_manage(*args, **env):
    full_env = {k: v for k, v in os.environ.items() if k not in ("SECRET_KEY", "DJANGO_ALLOW_ASYNC_UNSAFE")} | env
    return subprocess.run([sys.executable, "manage.py", *args], cwd=ROOT, env=full_env, capture_output=True, text=True, timeout=120)


def test_production_refuses_to_start_without_secret_key():
    result = run_manage("check", DJANGO_SETTINGS_MODULE="command_center.settings.prod")
    assert result.returncode != 0
    assert "SECRET_KEY" in result.stderr


def test_production_passes_check_deploy_without_warnings():
    result = run_manage(
        "check", "--deploy", "--fail-level", "WARNING",
        DJANGO_SETTINGS_MODULE="command_center.settings.prod", SECRET_KEY=secrets.token_urlsafe(64),
    )
    assert result.returncode == 0, result.stdout + result.stderr
    assert "no issues" in result.stdout


def test_every_cache_object_of_a_process_shares_one_redis_client():
    """Under ASGI each request gets its own cache object; with the stock RedisCache each opened its own
    connection to Redis. The project's backend hands them all the process's one client."""
    import threading

    from django.core.cache import caches

    clients = []

    def grab():
        cache = caches["default"]
        cache.set("shared-client-probe", 1, 5)  # really talks to Redis
        clients.append((cache, cache._cache))

    worker = threading.Thread(target=grab)
    worker.start()
    worker.join()
    grab()
    (cache_a, client_a), (cache_b, client_b) = clients
    assert cache_a is not cache_b  # two contexts, two cache objects …
    assert client_a is client_b  # … one client and connection pool
    # … and one redis-py client object for every call, reads and writes alike
    assert client_a.get_client("a") is client_a.get_client("b", write=True)
    assert cache_a.get("shared-client-probe") == 1
