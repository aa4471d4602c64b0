"""Open311 GeoReport v2: every endpoint in .json and .xml, every error as the specification gives it."""

import datetime as dt
import xml.etree.ElementTree as ET

import pytest
from django.utils import timezone

from hotline.models import Contact, Open311Client, Place
from tickets.models import Ticket

from .conftest import near

BASE = "/open311/v2"
FORMAT_TYPES = {"json": "application/json", "xml": "text/xml"}


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
    with django_assert_num_queries(17):  # 15, and the first lock of a ticket here reads its category and center copies
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


@pytest.mark.django_db
@pytest.mark.parametrize("raw", ["2026-02-30T08:00:00+08:00", "2026-11-01T25:00:00+08:00", "2026-11-01T08:00:00", "yesterday", "9" * 5000])
def test_impossible_or_naive_dates_are_a_400(client, hotline_data, raw):
    response = client.get(f"{BASE}/requests.json", {"start_date": raw})
    assert response.status_code == 400
    assert errors_of(response)[0][0] == 400


@pytest.mark.django_db
def test_a_control_character_in_a_request_is_refused_and_one_stored_earlier_keeps_the_xml_well_formed(client, open311_key, spot):
    refused = submit(client, open311_key, spot, description="井盖\x1b\x0b破损")
    assert refused.status_code == 400 and errors_of(refused)[0][0] == 400
    assert not Contact.objects.filter(content__contains="井盖").exists()
    created = submit(client, open311_key, spot)
    assert created.status_code == 201
    Contact.objects.filter(channel="open311").update(content="春晖路\x1b\x0b噪音")  # stored by an older release
    listing = client.get(f"{BASE}/requests.xml")
    assert listing.status_code == 200
    root = ET.fromstring(listing.content)  # well-formed
    assert "春晖路噪音" in "".join(root.itertext())


@pytest.mark.parametrize("fmt", ["json", "xml"])
def test_another_method_and_an_unknown_path_answer_the_error_list(client, hotline_data, fmt):
    r = client.delete(f"{BASE}/requests.{fmt}")
    assert r.status_code == 405 and r["Allow"] == "GET, POST"
    assert r["Content-Type"].startswith(FORMAT_TYPES[fmt]) and errors_of(r, fmt)[0][0] == 405
    r = client.post(f"{BASE}/services.{fmt}")
    assert r.status_code == 405 and errors_of(r, fmt)[0][0] == 405
    for path in (f"{BASE}/nothing-here.{fmt}", f"{BASE}/requests/1/extra.{fmt}", f"{BASE}/services/noise/more.{fmt}",
                 f"{BASE}/.{fmt}"):
        r = client.get(path)
        assert r.status_code == 404 and r["Content-Type"].startswith(FORMAT_TYPES[fmt]), path
        assert errors_of(r, fmt)[0][0] == 404
    for path in (BASE, f"{BASE}/"):
        r = client.get(path)
        assert r.status_code == 404 and errors_of(r)[0][0] == 404


@pytest.mark.django_db
def test_description_is_optional_and_the_service_name_stands_for_it(client, open311_key, spot):
    r = submit(client, open311_key, spot, description=None)
    assert r.status_code == 201, r.content
    contact = Contact.objects.get()
    assert contact.content == contact.open311_service.name and contact.ticket.description == contact.open311_service.name


@pytest.mark.django_db
@pytest.mark.parametrize("fmt", ["json", "xml"])
def test_address_id_names_a_gazetteer_place(client, open311_key, spot, fmt):
    place = Place.objects.order_by("id").first()
    r = submit(client, open311_key, spot, fmt, lat=None, long=None, address_id=str(place.pk))
    assert r.status_code == 201, r.content
    contact = Contact.objects.get()
    assert contact.location.equals_exact(place.location, 1e-9) and contact.address == place.name
    r = client.get(f"{BASE}/requests/{contact.pk}.{fmt}")
    shown = r.json()[0]["address_id"] if fmt == "json" else ET.fromstring(r.content).findtext("request/address_id")
    assert shown == str(place.pk)
    for unknown in ("999999999", "abc", "１２"):
        r = submit(client, open311_key, spot, fmt, lat=None, long=None, address_id=unknown)
        assert r.status_code == 400 and errors_of(r, fmt)[0][0] == 400
    assert Contact.objects.count() == 1


@pytest.mark.django_db
def test_the_90_day_rule_holds_for_start_and_end_together(client, open311_key, spot):
    request_id = submit(client, open311_key, spot).json()[0]["service_request_id"]
    old_id = submit(client, open311_key, near(spot, 2000), description="江边夜市音响声音太大").json()[0]["service_request_id"]
    Contact.objects.filter(pk=int(old_id)).update(created_at=timezone.now() - dt.timedelta(days=200))
    now = timezone.now()

    def listed(**params):
        r = client.get(f"{BASE}/requests.json", params)
        assert r.status_code == 200, r.content
        return [x["service_request_id"] for x in r.json()]

    # start_date alone: everything since, even further back than 90 days
    assert set(listed(start_date=(now - dt.timedelta(days=365)).isoformat())) == {request_id, old_id}
    # end_date alone, or nothing: the 90 days before it
    assert listed(end_date=(now + dt.timedelta(minutes=1)).isoformat()) == [request_id]
    assert listed() == [request_id]
    assert listed(end_date=(now - dt.timedelta(days=150)).isoformat()) == [old_id]
    # both together: at most 90 days apart
    r = client.get(f"{BASE}/requests.json", {"start_date": (now - dt.timedelta(days=91)).isoformat(), "end_date": now.isoformat()})
    assert r.status_code == 400 and "90" in errors_of(r)[0][1]


@pytest.mark.django_db
def test_a_request_has_one_service_notice_in_post_and_get(client, open311_key, spot):
    posted = submit(client, open311_key, spot).json()[0]
    contact = Contact.objects.get()
    assert contact.ticket.number in posted["service_notice"]
    for url in (f"{BASE}/requests/{posted['service_request_id']}.json", f"{BASE}/requests.json"):
        assert client.get(url).json()[0]["service_notice"] == posted["service_notice"]


@pytest.mark.django_db
def test_the_demo_clients_key_from_the_readme_posts_a_request(client, city, hotline_data):
    """load_demo_city's Open311 client: the README's curl example works as written."""
    from pathlib import Path

    from hotline.demo import DEMO_OPEN311_KEY

    readme = (Path(__file__).resolve().parents[2] / "README.md").read_text()
    assert f"api_key={DEMO_OPEN311_KEY}" in readme
    r = client.post(f"{BASE}/requests.json", {"api_key": DEMO_OPEN311_KEY, "service_code": "streetlight",
                                               "lat": "31.8540", "long": "120.0012", "description": "路灯不亮"})
    assert r.status_code == 201, r.content
    contact = Contact.objects.get(pk=int(r.json()[0]["service_request_id"]))
    assert contact.open311_client.name == "演示客户端（仅开发环境）" and contact.ticket.number in r.json()[0]["service_notice"]
    # a wrong key is still refused
    assert client.post(f"{BASE}/requests.json", {"api_key": DEMO_OPEN311_KEY + "x", "service_code": "streetlight",
                                                  "lat": "31.8540", "long": "120.0012"}).status_code == 403
