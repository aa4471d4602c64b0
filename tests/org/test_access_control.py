"""Access control across the product: each hole found by the role × endpoint matrix, with the person who must be
refused and the person who is allowed.

1. /ws/wall/ asks for the wall page's permission and our own origin.
2. An alert's snapshot follows the alert's own rule.
3. Exchange batches are listed to the owner department's data officers (and administrators) only.
4. A center dispatches only to the departments of its region and the regions above it, in the service.
5. The role is checked before input, state and version: 403, not 400 or 409.
6. The signed-in user's scope is read fresh; a region's code and parent are fixed once it exists.
7. Production: no default SECRET_KEY, no demo logins unless asked for, no Basic auth.
"""

import base64
import io
import os
import secrets
import subprocess
import sys
from pathlib import Path

import orjson
import pytest
import yaml
from asgiref.sync import async_to_sync
from channels.testing import WebsocketCommunicator
from django.conf import settings
from django.contrib.gis.geos import Point
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.management import CommandError, call_command
from django.test import Client
from django.utils import timezone
from PIL import Image
from rest_framework.test import APIClient

from command_center.asgi import application
from org.models import Department, Region, Role, User
from datahub import services as datahub_services
from datahub.models import Camera, DataResource, ExchangeBatch
from tests.conftest import make_user, session_cookie
from tests.datahub.conftest import jt, jt_officer, positions, push, push_token, recent, sj, sj_officer, token_client  # noqa: F401
from tests.tickets.conftest import categories, dispatched, new_ticket, town_dispatcher, worker, zf, zf_staff  # noqa: F401
from tickets import services
from tickets.models import State, Ticket

ROOT = Path(__file__).resolve().parents[2]


def api(user) -> APIClient:
    client = APIClient()
    client.force_login(user)
    return client


# ------------------------------------------------------------------------------------------------ 1. the wall socket


def open_walls(*attempts: dict) -> list[tuple[bool, int | None]]:
    """(connected, close code) of each attempt to open /ws/wall/ through the real ASGI stack (origin check,
    sessions, consumer). An attempt names its cookie, host and origin (None: no Origin header).

    All attempts run in one event loop, as they would in one server process, and each socket is closed
    before the next opens: the channel layer is one object per process, and its receive state is not meant
    to outlive an event loop (a socket left open when its loop closes can hang the next loop for good)."""

    async def attempt(cookie: str | None, host: bytes = b"localhost", origin: bytes | None = b"http://localhost"):
        headers = [(b"host", host)]
        if origin is not None:
            headers.append((b"origin", origin))
        if cookie:
            headers.append((b"cookie", cookie.encode()))
        comm = WebsocketCommunicator(application, "/ws/wall/", headers=headers)
        try:
            connected, code = await comm.connect()
            if connected:
                hello = await comm.receive_json_from()
                assert hello["type"] == "hello"
        finally:
            await comm.disconnect()  # a refused socket's consumer is still running too: end it
        return connected, code

    async def scenario():
        return [await attempt(**kwargs) for kwargs in attempts]

    return async_to_sync(scenario)()


@pytest.mark.django_db(transaction=True)
def test_the_wall_socket_is_refused_to_every_role_the_wall_page_refuses(private_redis, city, jiangcheng, alice):
    cg = Department.objects.get(code="329900-CG")
    refused = [
        make_user("w_agent", Role.HOTLINE_AGENT, region=city),
        make_user("w_gw", Role.GRIDWORKER, region=jiangcheng),
        make_user("w_staff", Role.DEPARTMENT_STAFF, department=cg),
        make_user("w_data", Role.DATA_OFFICER, department=Department.objects.get(code="329900-DSJ")),
    ]
    allowed = [alice, make_user("w_chief", Role.DUTY_CHIEF, region=city), make_user("w_leader", Role.LEADER, region=city)]
    for user, status in [(user, 403) for user in refused] + [(user, 200) for user in allowed]:
        client = Client()
        client.force_login(user)
        assert client.get("/wall/").status_code == status, user.role
    results = open_walls(*[{"cookie": session_cookie(user)} for user in refused + allowed])
    assert results[: len(refused)] == [(False, 4403)] * len(refused)
    assert [connected for connected, _ in results[len(refused) :]] == [True] * len(allowed)


@pytest.mark.django_db(transaction=True)
def test_the_wall_socket_refuses_a_foreign_origin_even_where_every_host_is_allowed(private_redis, settings, alice):
    settings.ALLOWED_HOSTS = ["*"]  # as in development
    settings.CSRF_TRUSTED_ORIGINS = ["https://wall.jianghai.example"]
    cookie = session_cookie(alice)
    cases = [
        ({"origin": b"http://evil.example"}, False),
        ({"host": b"localhost:18200", "origin": b"http://localhost"}, False),  # another port, another site
        ({"origin": None}, False),
        ({"host": b"127.0.0.1:18200", "origin": b"http://127.0.0.1:18200"}, True),  # the page's own site
        # behind a proxy that passes its own Host, the public origin is allowed by CSRF_TRUSTED_ORIGINS
        ({"host": b"web:8000", "origin": b"https://wall.jianghai.example"}, True),
        ({"host": b"web:8000", "origin": b"https://evil.jianghai.example"}, False),
    ]
    results = open_walls(*[{"cookie": cookie} | headers for headers, _ in cases])
    assert [connected for connected, _ in results] == [expected for _, expected in cases]


@pytest.mark.django_db(transaction=True)
def test_the_wall_socket_refuses_a_host_outside_allowed_hosts(private_redis, settings, alice):
    settings.ALLOWED_HOSTS = ["localhost"]
    cookie = session_cookie(alice)
    results = open_walls(
        {"cookie": cookie, "host": b"evil.example", "origin": b"http://evil.example"},
        {"cookie": cookie, "host": b"localhost", "origin": b"http://localhost"},
    )
    assert [connected for connected, _ in results] == [False, True]


# ---------------------------------------------------------------------------------------------- 2. alert snapshots


def jpeg() -> str:
    out = io.BytesIO()
    Image.new("RGB", (64, 48), (200, 40, 40)).save(out, "JPEG")
    return base64.b64encode(out.getvalue()).decode()


@pytest.fixture
def fire_alert(city, jiangcheng):
    """A red alert of 江城区 raised by a camera event, with its snapshot."""
    Camera.objects.create(
        code="32990000001310000009", name="江滨路监控点", location=Point(120.15, 32.05, srid=4326), owner_name="市公安局",
        stream_name="cam-9", region=jiangcheng, updated_at=timezone.now(),
    )
    ga = Department.objects.get(code="329900-GA")
    officer = make_user("ga_officer_ac", Role.DATA_OFFICER, department=ga)
    resource = DataResource.objects.get(code="GA-CAMERA")
    _, secret = datahub_services.token_create(department=ga, name="视频分析平台", scopes=[(resource, "push")], by=officer)
    response = token_client(secret).post("/api/alerts/video-events/", {
        "camera": "32990000001310000009", "event_type": "fire", "occurred_at": timezone.now().isoformat(),
        "confidence": 0.9, "snapshot": jpeg(), "event_id": "evt-ac-1",
    }, format="json")
    assert response.status_code == 201, response.content
    from alerts.models import Alert

    return Alert.objects.get(pk=response.json()["id"])


def test_an_alert_snapshot_is_refused_to_whoever_is_refused_the_alert(fire_alert, alice, charlie, city, jiangcheng):
    url, page = f"/alerts/{fire_alert.pk}/snapshot.jpg", f"/alerts/{fire_alert.pk}/"
    for user in (make_user("s_gw", Role.GRIDWORKER, region=jiangcheng), make_user("s_agent", Role.HOTLINE_AGENT, region=city)):
        client = api(user)
        assert client.get(page).status_code == 403, user.role
        assert client.get(url).status_code == 403, user.role
    outsider = api(charlie)  # a dispatcher of 海港区: the alert is not in his scope
    assert outsider.get(page).status_code == 404 and outsider.get(url).status_code == 404
    response = api(alice).get(url)
    assert response.status_code == 200 and response["Content-Type"] == "image/jpeg"
    assert b"".join(response.streaming_content).startswith(b"\xff\xd8")


# --------------------------------------------------------------------------------------------- 3. exchange batches


def test_exchange_batches_are_listed_to_the_owner_departments_data_officers_only(
    push_token, positions, jt, jt_officer, sj_officer, admin_user, city  # noqa: F811
):
    line = orjson.dumps({"plate": "苏A12345", "lon": 120.31, "lat": 32.01, "speed": 30.0, "time": recent()}) + b"\n"
    assert push(token_client(push_token), positions.code, line, key="ac-batch").status_code == 201
    url = f"/api/datahub/resources/{positions.code}/batches/"
    refused = [
        make_user("b_disp", Role.DISPATCHER, region=city), make_user("b_chief", Role.DUTY_CHIEF, region=city),
        make_user("b_agent", Role.HOTLINE_AGENT, region=city), make_user("b_leader", Role.LEADER, region=city),
        make_user("b_staff", Role.DEPARTMENT_STAFF, department=jt),  # the owner's ticket handlers, not its data officers
    ]
    for user in refused:
        response = api(user).get(url)
        assert response.status_code == 403, (user.role, response.content)
        assert "数据专员" in response.json()["detail"]
    assert api(sj_officer).get(url).json() == []  # another department's data officer: none of them
    owner = api(jt_officer).get(url)
    assert owner.status_code == 200 and [b["idempotency_key"] for b in owner.json()] == ["ac-batch"]
    everything = api(admin_user).get(url)
    assert everything.status_code == 200 and len(everything.json()) == ExchangeBatch.objects.filter(resource=positions).count()
    assert token_client(push_token).get(url).json()[0]["idempotency_key"] == "ac-batch"  # the pushing department's token


# --------------------------------------------------------------------------------------- 4. where a center dispatches


@pytest.fixture
def opened(new_ticket, town_dispatcher):  # noqa: F811
    t = new_ticket()
    return services.ticket_open(ticket=t, by=town_dispatcher, version=t.version)


def test_a_town_center_cannot_dispatch_to_another_districts_department(opened, town_dispatcher, zf):  # noqa: F811
    neighbour = Department.objects.get(code="329903-CG")  # 海港区城市管理局
    client = api(town_dispatcher)
    url = f"/api/tickets/tickets/{opened.pk}/dispatch/"
    for body in ({"lead": neighbour.pk, "version": opened.version}, {"lead": zf.pk, "assisting": [neighbour.pk], "version": opened.version}):
        response = client.post(url, body, format="json")
        assert response.status_code == 400, response.content
        assert "不在" in str(response.json()) and neighbour.name in str(response.json())
    opened.refresh_from_db()
    assert opened.state == State.OPEN and not opened.assignments.exists()
    with pytest.raises(ValidationError):  # the same rule for every caller of the service (console, demo, imports)
        services.ticket_dispatch(ticket=opened, by=town_dispatcher, lead=neighbour, version=opened.version)
    # its own town's, its district's and the city's departments are fine
    district_cg, city_cg = Department.objects.get(code="329902-CG"), Department.objects.get(code="329900-CG")
    response = client.post(url, {"lead": zf.pk, "assisting": [district_cg.pk, city_cg.pk], "version": opened.version}, format="json")
    assert response.status_code == 200, response.content
    assert response.json()["state"] == State.DISPATCHED


def test_the_console_refuses_another_districts_department_too(opened, town_dispatcher):  # noqa: F811
    neighbour = Department.objects.get(code="329903-CG")
    client = Client()
    client.force_login(town_dispatcher)
    response = client.post(f"/console/t/{opened.pk}/dispatch/", {"lead": neighbour.pk, "version": opened.version}, follow=True)
    assert response.status_code == 200
    assert "不在" in response.content.decode()
    opened.refresh_from_db()
    assert opened.state == State.OPEN


# ------------------------------------------------------------------------------------ 5. role before state and version


def test_a_role_that_may_not_take_a_step_gets_403_whatever_the_state_version_or_body(
    new_ticket, worker, zf_staff, town_dispatcher, dispatched, zf  # noqa: F811
):
    fresh = new_ticket()  # state "new": dispatching it would be a 409 for a dispatcher
    gw = api(worker)
    for body in ({"lead": zf.pk, "version": fresh.version}, {"lead": zf.pk, "version": fresh.version + 7}, {}, {"lead": "x"}):
        response = gw.post(f"/api/tickets/tickets/{fresh.pk}/dispatch/", body, format="json")
        assert response.status_code == 403, (body, response.content)
    staff = api(zf_staff)
    for step in ("open", "cancel", "urge", "escalate", "merge", "reopen", "resume"):
        assert staff.post(f"/api/tickets/tickets/{fresh.pk}/{step}/", {"version": 999}, format="json").status_code == 403, step
    assert gw.post(f"/api/tickets/tickets/{fresh.pk}/request/", {}, format="json").status_code == 403
    t = dispatched()
    share = t.assignments.get()
    for step in ("sign", "reply", "release"):
        assert gw.post(f"/api/tickets/assignments/{share.pk}/{step}/", {"version": 1}, format="json").status_code == 403, step
    fresh.refresh_from_db()
    assert fresh.state == State.NEW
    # the services decide the same before they look at anything else
    with pytest.raises(PermissionDenied):
        services.ticket_dispatch(ticket=fresh, by=worker, lead=None, version=fresh.version + 7)
    with pytest.raises(PermissionDenied):
        services.ticket_reply(assignment=share, by=worker, reply="", version=0)
    # the dispatcher, who may, still gets 409 for a stale version and the step for the right one
    disp = api(town_dispatcher)
    assert disp.post(f"/api/tickets/tickets/{fresh.pk}/open/", {"version": fresh.version + 7}, format="json").status_code == 409
    assert disp.post(f"/api/tickets/tickets/{fresh.pk}/dispatch/", {"lead": zf.pk, "version": fresh.version}, format="json").status_code == 409
    assert disp.post(f"/api/tickets/tickets/{fresh.pk}/open/", {"version": fresh.version}, format="json").status_code == 200
    assert api(zf_staff).post(f"/api/tickets/assignments/{share.pk}/sign/", {"version": t.version}, format="json").status_code == 200


# ---------------------------------------------------------------------------------- 6. the scope is fresh; fixed paths


def test_a_scope_change_made_with_queryset_update_holds_from_the_next_request(alice, jiangcheng, haigang, new_ticket, worker):  # noqa: F811
    t = new_ticket()  # a 江城区 ticket
    client = api(alice)
    assert client.get("/api/org/me/").json()["region"]["name"] == jiangcheng.name
    assert client.get(f"/api/tickets/tickets/{t.pk}/").status_code == 200
    Region.objects.filter(pk=jiangcheng.pk).update(name="江城新区")  # no signal, nothing to invalidate
    assert client.get("/api/org/me/").json()["region"]["name"] == "江城新区"
    User.objects.filter(pk=alice.pk).update(region=haigang)  # alice moves to 海港区
    assert client.get("/api/org/me/").json()["region"]["code"] == haigang.code
    assert client.get(f"/api/tickets/tickets/{t.pk}/").status_code == 404


def test_a_regions_code_and_parent_are_fixed_once_it_exists(jiangcheng, haigang, wangjiang):
    children = dict(Region.objects.filter(path__startswith=wangjiang.path).values_list("pk", "path"))
    wangjiang.parent = haigang
    with pytest.raises(ValidationError) as refused:
        wangjiang.save()
    assert "parent" in refused.value.message_dict
    wangjiang.refresh_from_db()
    wangjiang.code = "329903099000"
    with pytest.raises(ValidationError) as refused:
        wangjiang.full_clean()
    assert "code" in refused.value.message_dict
    with pytest.raises(ValidationError):
        wangjiang.save()
    assert dict(Region.objects.filter(path__startswith=wangjiang.path.replace("329903099000", wangjiang.path.split("/")[-2])).values_list("pk", "path")) == children
    fresh = Region.objects.get(pk=wangjiang.pk)
    fresh.name = "望江街道（新）"
    fresh.save()  # everything else may change
    assert Region.objects.get(pk=wangjiang.pk).parent_id == jiangcheng.pk


def test_the_admin_shows_a_regions_code_and_parent_read_only_once_created(admin_user, wangjiang, haigang, alice):
    client = Client()
    client.force_login(admin_user)
    url = f"/{settings.ADMIN_URL_PATH}org/region/{wangjiang.pk}/change/"
    page = client.get(url).content.decode()
    assert 'name="parent"' not in page and 'name="code"' not in page and 'name="name"' in page
    response = client.post(url, {"name": "望江街道", "level": wangjiang.level, "parent": haigang.pk, "code": "329903099000"})
    assert response.status_code == 302
    wangjiang.refresh_from_db()
    assert wangjiang.parent_id != haigang.pk and wangjiang.code != "329903099000"
    add = client.get(f"/{settings.ADMIN_URL_PATH}org/region/add/").content.decode()
    assert 'name="parent"' in add and 'name="code"' in add
    outsider = Client()
    outsider.force_login(alice)  # not staff
    assert outsider.get(url).status_code == 302


# ------------------------------------------------------------------------------------------------ 7. production


def run_manage(*args, **env):
    full_env = {k: v for k, v in os.environ.items() if k not in ("SECRET_KEY", "DEMO_USERS", "DJANGO_ALLOW_ASYNC_UNSAFE")} | env
    return subprocess.run([sys.executable, "manage.py", *args], cwd=ROOT, env=full_env, capture_output=True, text=True, timeout=120)


def compose():
    return yaml.safe_load((ROOT / "docker-compose.yml").read_text())


def test_the_compose_stack_has_no_default_secret_key():
    environment = compose()["x-app"]["environment"]
    assert environment["SECRET_KEY"].startswith("${SECRET_KEY:?")  # compose refuses to start without it
    assert environment["DEMO_USERS"] == "${DEMO_USERS:-0}"


def test_the_compose_web_command_loads_the_demo_logins_only_when_asked(tmp_path):
    """Run the web service's shell command with stand-ins for python and gunicorn that record their arguments."""
    for name in ("python", "gunicorn"):
        stub = tmp_path / name
        stub.write_text(f'#!/bin/sh\necho "{name} $*" >> "{tmp_path}/ran"\n')
        stub.chmod(0o755)
    command = compose()["services"]["web"]["command"].replace("$$", "$")  # compose's escape for a literal $
    assert command.startswith("sh -c ")
    script = command[len("sh -c "):].strip().strip('"')

    def ran(**env):
        (tmp_path / "ran").unlink(missing_ok=True)
        subprocess.run(["sh", "-c", script], env={"PATH": f"{tmp_path}:/usr/bin:/bin", **env}, check=True, timeout=30)
        return (tmp_path / "ran").read_text()

    assert "load_demo_city" not in ran()
    assert "load_demo_city" not in ran(DEMO_USERS="0")
    assert "gunicorn --bind 0.0.0.0:8000 --worker-class gthread" in ran()
    assert "manage.py load_demo_city" in ran(DEMO_USERS="1")


def test_production_settings_refuse_the_demo_logins_unless_asked():
    key = secrets.token_urlsafe(64)
    refused = run_manage("load_demo_city", DJANGO_SETTINGS_MODULE="command_center.settings.prod", SECRET_KEY=key)
    assert refused.returncode != 0 and "DEMO_USERS=1" in refused.stderr
    shell = "from django.conf import settings; print(settings.DEMO_USERS)"
    asked = run_manage("shell", "-c", shell, DJANGO_SETTINGS_MODULE="command_center.settings.prod", SECRET_KEY=key, DEMO_USERS="1")
    assert asked.stdout.strip().splitlines()[-1] == "True", asked.stderr


def test_load_demo_city_creates_no_demo_login_where_they_are_not_allowed(city, settings):
    settings.DEMO_USERS = False
    User.objects.filter(username="dispatcher").delete()
    with pytest.raises(CommandError, match="DEMO_USERS=1"):
        call_command("load_demo_city", quiet=True, history_days=0)
    assert not User.objects.filter(username="dispatcher").exists()
    settings.DEMO_USERS = True
    call_command("load_demo_city", quiet=True, history_days=0)
    assert User.objects.get(username="dispatcher").check_password("Jianghai@2026")


def test_the_api_takes_no_basic_auth_but_a_session(alice, city):
    basic = APIClient()
    basic.credentials(HTTP_AUTHORIZATION="Basic " + base64.b64encode(b"alice:Test-pass-2026").decode())
    for url in ("/api/org/me/", "/api/datahub/resources/", f"/api/datahub/resources/{DataResource.objects.first().code}/batches/"):
        assert basic.get(url).status_code in (401, 403), url
    assert basic.post("/api/tickets/tickets/", {}, format="json").status_code in (401, 403)
    assert Ticket.objects.filter(created_by=alice).count() == 0
    assert api(alice).get("/api/org/me/").json()["username"] == "alice"
