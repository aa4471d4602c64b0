"""Open311 GeoReport v2: every endpoint in .json and .xml, every error as the specification gives it."""

import datetime as dt
import xml.etree.ElementTree as ET

import pytest
from django.utils import timezone

from hotline.models import Contact, Open311Client
from tickets.models import Ticket

from .conftest import near

BASE = "/open311/v2"


def errors_of(response, fmt="json"):
    if fmt == "xml":
        root = ET.fromstring(response.content)
        assert root.tag == "errors"
        return [(int(e.findtext("code")), e.findtext("description")) for e in root.findall("error")]
    return [(e["code"], e["description"]) for e in response.json()]


def submit(client, key, spot, fmt="json", headers=None, **extra):
    data = {"api_key": key, "service_code": "noise", "lat": spot.y, "long": spot.x,
            "description": "春晖路工地晚上十一点以后还在打桩，噪音很大", "attribute[source]": "construction",
            "first_name": "建国", "last_name": "王", "phone": "13812345678"} | extra
    data = {k: v for k, v in data.items() if v is not None}
    return client.post(f"{BASE}/requests.{fmt}", data, **(headers or {}))


@pytest.mark.django_db
@pytest.mark.parametrize("fmt", ["json", "xml"])
def test_discovery_and_services(client, hotline_data, fmt):
    r = client.get(f"{BASE}/discovery.{fmt}")
    assert r.status_code == 200
    r = client.get(f"{BASE}/services.{fmt}")
    if fmt == "json":
        codes = {s["service_code"]: s for s in r.json()}
        assert codes["noise"]["metadata"] is True and codes["noise"]["type"] == "realtime"
    else:
        assert r["Content-Type"].startswith("text/xml")
        root = ET.fromstring(r.content)
        assert root.tag == "services" and "noise" in [s.findtext("service_code") for s in root.findall("service")]
    r = client.get(f"{BASE}/services/noise.{fmt}")
    if fmt == "json":
        attrs = r.json()["attributes"]
        assert attrs[0]["code"] == "source" and attrs[0]["required"] is True and attrs[0]["values"][0]["key"] == "construction"
    else:
        root = ET.fromstring(r.content)
        assert root.tag == "service_definition"
        assert root.find("attributes/attribute/values/value/key").text == "construction"
    r = client.get(f"{BASE}/services/nope.{fmt}")
    assert r.status_code == 404 and errors_of(r, fmt)[0][0] == 404


@pytest.mark.django_db
def test_unsupported_format_is_a_400(client, hotline_data):
    r = client.get(f"{BASE}/services.csv")
    assert r.status_code == 400 and errors_of(r)[0][0] == 400


@pytest.mark.django_db
@pytest.mark.parametrize("fmt", ["json", "xml"])
def test_post_creates_a_contact_of_channel_open311_and_a_ticket(client, open311_key, spot, fmt):
    r = submit(client, open311_key, spot, fmt)
    assert r.status_code == 201, r.content
    if fmt == "json":
        request_id, token = r.json()[0]["service_request_id"], r.json()[0]["token"]
    else:
        request_id, token = (ET.fromstring(r.content).findtext(f"request/{k}") for k in ("service_request_id", "token"))
    contact = Contact.objects.get(pk=int(request_id))
    assert contact.channel == "open311" and contact.open311_client.name == "江海市民App" and token == str(contact.token)
    assert contact.ticket.source == "open311" and contact.ticket.category.code == "2201"
    assert contact.caller_name == "王建国" and contact.attributes["source"] == "construction"
    r = client.get(f"{BASE}/requests/{request_id}.{fmt}")
    if fmt == "json":
        assert r.json()[0]["status"] == "open" and r.json()[0]["service_code"] == "noise"
        assert "phone" not in r.json()[0] and "13812345678" not in r.content.decode()
    else:
        assert ET.fromstring(r.content).findtext("request/status") == "open"
    r = client.get(f"{BASE}/tokens/{contact.token}.{fmt}")
    assert r.status_code == 200 and request_id in r.content.decode()


@pytest.mark.django_db
def test_address_string_is_located_through_the_gazetteer(client, open311_key, spot):
    r = submit(client, open311_key, spot, lat=None, long=None, address_string="江城区春晖路12号")
    assert r.status_code == 201, r.content
    contact = Contact.objects.get()
    assert contact.location is not None and contact.ticket.community is not None


@pytest.mark.django_db
def test_a_similar_request_nearby_is_linked_to_the_open_ticket(client, open311_key, spot):
    first = submit(client, open311_key, spot)
    second = submit(client, open311_key, near(spot, 60), phone="13999990000",
                    description="春晖路工地半夜十一点以后打桩，噪音很大")
    assert second.status_code == 201
    a, b = (Contact.objects.get(pk=int(r.json()[0]["service_request_id"])) for r in (first, second))
    assert b.outcome == "linked" and b.ticket_id == a.ticket_id
    assert Ticket.objects.filter(source="open311").count() == 1
    assert "已" in second.json()[0]["service_notice"] or a.ticket.number in second.json()[0]["service_notice"]


@pytest.mark.django_db
def test_idempotency_key_replays_the_same_request(client, open311_key, spot):
    h = {"HTTP_IDEMPOTENCY_KEY": "app-req-1"}
    first, again = submit(client, open311_key, spot, headers=h), submit(client, open311_key, spot, headers=h)
    assert first.status_code == 201 and again.status_code == 200
    assert first.json()[0]["service_request_id"] == again.json()[0]["service_request_id"]
    assert Contact.objects.count() == 1
    # the retry is not looked up first: whatever its duplicate search decided (linking to the first ticket),
    # the unique key rolled it back: no second caller, no timeline row
    ticket = Contact.objects.get().ticket
    assert ticket.caller_count == 1
    assert not ticket.events.filter(action="caller_added").exists()


@pytest.mark.django_db
@pytest.mark.parametrize("fmt", ["json", "xml"])
@pytest.mark.parametrize("change, code", [
    ({"api_key": None}, 403),
    ({"api_key": "wrong-key-000000"}, 403),
    ({"service_code": None}, 400),
    ({"service_code": "unknown"}, 400),
    ({"lat": None, "long": None}, 400),
    ({"lat": "91", "long": "120.05"}, 400),
    ({"lat": "39.9", "long": "116.4"}, 400),  # outside the city
    ({"lat": "abc"}, 400),
    ({"description": "  "}, 400),
    ({"attribute[source]": None}, 400),  # required attribute missing
    ({"attribute[source]": "aliens"}, 400),  # not one of the values
    ({"attribute[colour]": "red"}, 400),  # not defined for the service
    ({"lat": None, "long": None, "address_string": "完全不存在的地方"}, 400),
])
def test_every_error_case_writes_nothing(client, open311_key, spot, fmt, change, code):
    before = (Contact.objects.count(), Ticket.objects.count())
    r = submit(client, open311_key, spot, fmt, **change)
    assert r.status_code == code, r.content
    (err_code, description), = errors_of(r, fmt)
    assert err_code == code and description
    assert (Contact.objects.count(), Ticket.objects.count()) == before


@pytest.mark.django_db
def test_inactive_client_is_refused(client, open311_key, spot):
    Open311Client.objects.update(is_active=False)
    assert submit(client, open311_key, spot).status_code == 403


@pytest.mark.django_db
@pytest.mark.parametrize("fmt", ["json", "xml"])
def test_get_requests_with_filters(client, open311_key, spot, fmt, django_assert_max_num_queries):
    ids = [submit(client, open311_key, near(spot, 800 * i), description=f"第{i}处工地夜间打桩",
                  phone=f"1300000000{i}").json()[0]["service_request_id"] for i in range(3)]
    submit(client, open311_key, spot, service_code="streetlight", description="路灯不亮", **{"attribute[source]": None})

    def listed(**params):
        r = client.get(f"{BASE}/requests.{fmt}", params)
        assert r.status_code == 200, r.content
        if fmt == "json":
            return [x["service_request_id"] for x in r.json()]
        return [e.findtext("service_request_id") for e in ET.fromstring(r.content).findall("request")]

    with django_assert_max_num_queries(4):
        assert len(listed()) == 4
    assert sorted(listed(service_request_id=",".join(ids[:2]))) == sorted(ids[:2])
    assert sorted(listed(service_code="noise")) == sorted(ids)
    assert len(listed(status="open")) == 4 and listed(status="closed") == []
    now = timezone.now()
    assert len(listed(start_date=(now - dt.timedelta(days=1)).isoformat(), end_date=(now + dt.timedelta(minutes=1)).isoformat())) == 4
    assert listed(start_date=(now - dt.timedelta(days=10)).isoformat(), end_date=(now - dt.timedelta(days=5)).isoformat()) == []
    for params in (
        {"start_date": (now - dt.timedelta(days=120)).isoformat(), "end_date": now.isoformat()},
        {"start_date": "yesterday"},
        {"status": "pending"},
        {"service_code": "nope"},
        {"service_request_id": "1,x"},
    ):
        r = client.get(f"{BASE}/requests.{fmt}", params)
        assert r.status_code == 400 and errors_of(r, fmt)[0][0] == 400


@pytest.mark.django_db
@pytest.mark.parametrize("fmt", ["json", "xml"])
def test_unknown_request_and_token_are_404(client, hotline_data, fmt):
    for url in (f"{BASE}/requests/999999.{fmt}", f"{BASE}/tokens/00000000-0000-0000-0000-000000000000.{fmt}", f"{BASE}/tokens/junk.{fmt}"):
        r = client.get(url)
        assert r.status_code == 404 and errors_of(r, fmt)[0][0] == 404


@pytest.mark.django_db
def test_admin_issues_a_key_shown_once_and_stored_hashed(client, admin_user, spot, hotline_data):
    client.force_login(admin_user)
    r = client.post("/admin/hotline/open311client/add/", {"name": "微信小程序", "contact_email": "", "is_active": "on"}, follow=True)
    assert r.status_code == 200
    message = next(str(m) for m in r.context["messages"] if "API" in str(m))
    raw = message.rsplit("：", 1)[-1].strip()
    stored = Open311Client.objects.get(name="微信小程序")
    assert stored.key_hash == Open311Client.hash_key(raw) and raw not in stored.key_hash
    assert submit(client, raw, spot).status_code == 201


@pytest.mark.django_db
def test_post_query_count_is_pinned(client, open311_key, spot, django_assert_num_queries):
    """A new request and a linked one: the service definitions and time limits come from this process's copy."""
    assert submit(client, open311_key, spot).status_code == 201  # fills the per-process copies
    with django_assert_num_queries(16):
        assert submit(client, open311_key, near(spot, 2000), phone="13999990001",
                      description="江边夜市音响声音太大").status_code == 201
    with django_assert_num_queries(15):
        linked = submit(client, open311_key, near(spot, 60), phone="13999990000",
                        description="春晖路工地半夜十一点以后打桩，噪音很大")
    assert linked.status_code == 201 and "已" in linked.json()[0]["service_notice"]


@pytest.mark.django_db
def test_an_edited_service_applies_at_once(client, open311_key, spot, django_capture_on_commit_callbacks):
    """The process's copy of the service definitions forgets a saved or deleted service at once and after the
    commit, so the admin's change is what the next request sees."""
    from hotline.models import Open311Service

    assert submit(client, open311_key, spot).status_code == 201
    noise = Open311Service.objects.get(code="noise")
    with django_capture_on_commit_callbacks(execute=True) as callbacks:
        noise.is_active = False
        noise.save()
    assert callbacks  # forgotten again after the commit
    r = submit(client, open311_key, spot)
    assert r.status_code == 400 and "noise" in errors_of(r)[0][1]
    assert "noise" not in [s["service_code"] for s in client.get(f"{BASE}/services.json").json()]
    noise.is_active = True
    noise.save()
    assert client.get(f"{BASE}/services/noise.json").status_code == 200
