"""Fixtures shared by every test: the demo city in the real PostGIS test database, and role users.

Role users follow Healthchecks' habit: `alice` works inside the scope under test, `charlie` is an
outsider who must be refused.
"""

import os
import subprocess
import tempfile
from contextlib import contextmanager

import pytest
from django.conf import settings
from django.core.cache import caches
from django.core.management import call_command
from django.db import connection, connections

from org.models import Department, Region, Role, User
from tests.redis_server import free_port
from tests.servers import start_uvicorn, stop

# Transactional tests (live servers, websockets, concurrency) end with a flush of every table. Loading
# the whole demo city again through every app's demo hook takes seconds, so the first load is dumped
# once with pg_dump and later restored with pg_restore, which takes a fraction of that.
_DEMO_DUMP = os.path.join(tempfile.gettempdir(), f"cc-demo-{os.getpid()}.dump")
# Rows Django recreates itself after a flush (post_migrate) or never flushes.
_NOT_RESTORED = ["django_migrations", "django_content_type", "auth_permission"]


def _pg_args():
    db = connection.settings_dict
    args = ["-h", db["HOST"] or "127.0.0.1", "-p", str(db["PORT"] or 5432), "-U", db["USER"] or "postgres", "-d", db["NAME"]]
    return args, {**os.environ, "PGPASSWORD": db["PASSWORD"] or ""}


def _dump_demo_city():
    args, env = _pg_args()
    excluded = [f"--exclude-table-data={table}" for table in _NOT_RESTORED]
    subprocess.run(["pg_dump", "--data-only", "-Fc", *excluded, "-f", _DEMO_DUMP, *args], env=env, check=True)


def _ensure_demo_city():
    if Region.objects.filter(code="329900000000").exists():
        return
    if os.path.exists(_DEMO_DUMP):
        args, env = _pg_args()
        subprocess.run(
            ["pg_restore", "--data-only", "--disable-triggers", "--single-transaction", *args, _DEMO_DUMP],
            env=env, check=True,
        )
        return
    call_command("load_demo_city", quiet=True, history_days=0)


@pytest.fixture(autouse=True)
def fresh_table_copies():
    """A rolled-back test must not leave its rows in the per-process table copies (org.cache)."""
    caches["local"].clear()
    yield
    caches["local"].clear()


@pytest.fixture(scope="session")
def django_db_setup(django_db_setup, django_db_blocker):
    with django_db_blocker.unblock():
        _ensure_demo_city()
        _dump_demo_city()
    yield
    if os.path.exists(_DEMO_DUMP):
        os.remove(_DEMO_DUMP)
    # Threads of finished websocket tests (channels' database_sync_to_async pool) keep idle connections
    # to the test database; end them so the test database can be dropped.
    with django_db_blocker.unblock(), connection.cursor() as cursor:
        cursor.execute(
            "SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = current_database() AND pid <> pg_backend_pid()"
        )


@pytest.fixture
def city(db):
    """The demo city (reloaded if a transactional test flushed it)."""
    _ensure_demo_city()
    return Region.objects.get(code="329900000000")


@pytest.fixture
def jiangcheng(city):
    return Region.objects.get(code="329902000000")


@pytest.fixture
def haigang(city):
    return Region.objects.get(code="329903000000")


def session_cookie(user) -> str:
    """The `name=value` Cookie pair of a session for `user`, made in the test database, for requests that go
    around Django's test client (ASGI scopes, websockets, a server in another process)."""
    from django.test import Client

    client = Client()
    client.force_login(user)
    return f"{settings.SESSION_COOKIE_NAME}={client.cookies[settings.SESSION_COOKIE_NAME].value}"


def make_user(username, role, *, region=None, department=None, **extra):
    user = User.objects.create_user(
        username=username, password="Test-pass-2026", role=role, region=region, department=department, **extra
    )
    return user


@pytest.fixture
def wangjiang(city):
    """望江街道, a street of 江城区."""
    return Region.objects.get(name="望江街道")


@pytest.fixture
def chunhui(wangjiang):
    """春晖社区, 望江街道's first community (the demo grid worker's)."""
    return Region.objects.filter(parent=wangjiang).order_by("code").first()


@pytest.fixture
def grid1(chunhui):
    """春晖社区第1网格, worked full-time by the demo user `gridworker`."""
    from grid.models import Grid

    return Grid.objects.filter(community=chunhui).order_by("code").first()


@pytest.fixture
def alice(jiangcheng):
    """Dispatcher of 江城区."""
    return make_user("alice", Role.DISPATCHER, region=jiangcheng)


@pytest.fixture
def charlie(haigang):
    """Dispatcher of 海港区: an outsider to 江城区."""
    return make_user("charlie", Role.DISPATCHER, region=haigang)


@pytest.fixture
def cg_staff(city):
    return make_user("cg_staff", Role.DEPARTMENT_STAFF, department=Department.objects.get(code="329900-CG"))


@pytest.fixture
def jt_staff(city):
    return make_user("jt_staff", Role.DEPARTMENT_STAFF, department=Department.objects.get(code="329900-JT"))


@pytest.fixture
def admin_user(city):
    return make_user("root", Role.ADMIN, region=city, is_superuser=True, is_staff=True)


@pytest.fixture
def private_redis(settings):
    """A real Redis of the test's own; the channel layer points at it (with the project's client options)."""
    from command_center.settings.base import channel_layer_hosts
    from tests.redis_server import PrivateRedis

    server = PrivateRedis()
    server.start()
    settings.CHANNEL_LAYERS = {
        "default": {"BACKEND": "channels_redis.core.RedisChannelLayer", "CONFIG": {"hosts": channel_layer_hosts(server.url)}}
    }
    yield server
    server.stop()


@pytest.fixture
def server(private_redis):
    """uvicorn (what `make run` serves) on a free port, on the test database and the private Redis; map tiles unreachable."""
    db = settings.DATABASES["default"]
    env = os.environ | {
        "DJANGO_SETTINGS_MODULE": "command_center.settings.test",
        "DATABASE_URL": f"postgis://{db['USER']}@{db['HOST']}:{db['PORT']}/{db['NAME']}",
        "TEST_REDIS_URL": private_redis.url,
        "MAP_TILES_URL": "http://tiles.invalid/{z}/{x}/{y}.png",
    }
    process, url = start_uvicorn("tests.dashboard.asgi_static:application", port=free_port(), env=env)
    yield url
    stop(process)


CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
SCREENSHOTS = __import__("pathlib").Path(__file__).resolve().parent.parent / "var" / "screenshots"


@pytest.fixture
def browser(monkeypatch):
    """The system Chromium driven by Playwright (no `playwright install`).

    Function-scoped: Playwright's sync API holds an event loop on the main thread while it runs,
    which would break later tests that use async_to_sync (websocket consumers)."""
    from playwright.sync_api import sync_playwright

    # Playwright's sync API keeps an event loop on this thread; the test's own ORM calls are still sync.
    monkeypatch.setenv("DJANGO_ALLOW_ASYNC_UNSAFE", "true")
    with sync_playwright() as pw:
        chromium = pw.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS, headless=True)
        yield chromium
        chromium.close()


def screenshot(page, name: str) -> str:
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    path = SCREENSHOTS / f"{name}.png"
    page.screenshot(path=str(path), full_page=False)
    return str(path)


def browser_login(page, base_url: str, username: str, password: str = "Test-pass-2026"):
    page.goto(f"{base_url}/login/")
    page.fill("#id_username", username)
    page.fill("#id_password", password)
    page.click("button[type=submit].primary")
    page.wait_for_load_state("networkidle")


@contextmanager
def relay_lock_held():
    """Another relay holds the outbox relay's lock (on a connection of its own) for the block."""
    from realtime.services import RELAY_LOCK_KEY

    other = connections.create_connection("default")
    try:
        with other.cursor() as cursor:
            cursor.execute("SELECT pg_advisory_lock(%s)", [RELAY_LOCK_KEY])
        yield
    finally:
        with other.cursor() as cursor:  # a session lock would go back into the connection pool with the connection
            cursor.execute("SELECT pg_advisory_unlock_all()")
        other.close()


def current_version(obj) -> int:
    """The version a person acting now would see on the screen: read fresh for the ticket (of a share or a
    request) or the alert, so a test's older copy of the row does not stand for a stale form."""
    from alerts.models import Alert
    from tickets.models import Ticket

    if isinstance(obj, Alert):
        return Alert.objects.values_list("version", flat=True).get(pk=obj.pk)
    ticket_id = obj.pk if isinstance(obj, Ticket) else obj.ticket_id
    return Ticket.objects.values_list("version", flat=True).get(pk=ticket_id)
