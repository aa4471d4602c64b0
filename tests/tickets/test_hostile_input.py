"""Hostile and odd input on the ticket API and the pages: a clear 4xx, nothing written (rules: org.inputs)."""

import json

import pytest
from django.test import override_settings
from rest_framework.test import APIClient

from org.models import IdempotencyRecord
from tickets.models import Ticket, TicketEvent

from .conftest import inside

pytestmark = pytest.mark.django_db


def api(user=None) -> APIClient:
    client = APIClient()
    if user is not None:
        client.force_login(user)
    return client


def body(categories, grid1, **over):
    p = inside(grid1)
    return {"source": "grid", "category": "1101", "title": "路口垃圾堆积", "description": "三袋垃圾", "lon": p.x, "lat": p.y} | over


def post_json(client, path, payload, **headers):
    raw = payload if isinstance(payload, (bytes, str)) else json.dumps(payload)
    return client.generic("POST", path, raw, content_type="application/json", **headers)


@pytest.mark.parametrize("path", ["/api/tickets/tickets/", "/api/tickets/tickets/1/", "/api/tickets/tickets/1/timeline/", "/api/tickets/tickets/1/assignments/",
                                  "/api/tickets/assignments/", "/api/tickets/requests/", "/api/tickets/categories/",
                                  "/api/hotline/contacts/", "/api/alerts/", "/api/org/me/"])
def test_no_session_is_refused_with_json_not_a_500(city, path):
    response = api().get(path)
    assert response.status_code in (401, 403), (path, response.status_code)
    assert response["Content-Type"].startswith("application/json") and response.json()["detail"]


def test_no_session_on_a_transition_is_refused_and_changes_nothing(new_ticket):
    ticket = new_ticket()
    response = post_json(api(), f"/api/tickets/tickets/{ticket.pk}/open/", {"version": ticket.version})
    assert response.status_code in (401, 403)
    ticket.refresh_from_db()
    assert ticket.state == "new"


def test_a_data_hub_token_does_not_open_the_ticket_api(city):
    from org.models import Department
    from datahub import services as datahub_services
    from datahub.models import DataResource

    resource = DataResource.objects.get(code="JT-HAZMAT-GPS")
    from org.models import Role

    from ..conftest import make_user

    jt = Department.objects.get(code="329900-JT")
    officer = make_user("jt_officer", Role.DATA_OFFICER, department=jt)
    _, secret = datahub_services.token_create(department=jt, name="GPS", scopes=[(resource, "push")], by=officer)
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Token {secret}")
    assert client.get("/api/tickets/tickets/").status_code in (401, 403)


@pytest.mark.parametrize("payload", ["[]", '"x"', "42", "null", "[{}]"])
def test_a_body_that_is_not_a_json_object_is_a_400(worker, payload):
    before = Ticket.objects.count()
    response = post_json(api(worker), "/api/tickets/tickets/", payload)
    assert response.status_code == 400 and "JSON" in response.json()["detail"]
    assert Ticket.objects.count() == before


def test_deeply_nested_json_is_a_400_not_a_recursion_error(worker):
    deep = "[" * 5000 + "]" * 5000
    response = post_json(api(worker), "/api/tickets/tickets/", '{"title": ' + deep + "}")
    assert response.status_code == 400
    response = post_json(api(worker), "/api/tickets/tickets/", '{"title": ' + "[" * 40 + "]" * 40 + "}")
    assert response.status_code == 400 and "32" in response.json()["detail"]


@pytest.mark.parametrize("bad", ["垃圾\x00堆", "垃圾\ud800", "垃圾\x1b[31m", "垃圾\x0b"])
def test_control_characters_and_lone_surrogates_are_refused_and_nothing_is_written(worker, categories, grid1, bad):
    before = Ticket.objects.count()
    raw = json.dumps(body(categories, grid1, title=bad))  # json.dumps keeps a lone surrogate as \\ud800
    response = post_json(api(worker), "/api/tickets/tickets/", raw)
    assert response.status_code == 400, response.content
    assert Ticket.objects.count() == before


def test_a_control_character_in_a_query_string_or_a_form_is_a_400(worker, town_dispatcher, new_ticket):
    client = api(town_dispatcher)
    assert client.get("/api/tickets/tickets/?state=new%00").status_code == 400
    ticket = new_ticket()
    client.force_login(town_dispatcher)
    response = client.post(f"/console/t/{ticket.pk}/open/", {"version": ticket.version, "note": "好\x07"})
    assert response.status_code == 400 and "控制字符" in response.content.decode()
    ticket.refresh_from_db()
    assert ticket.state == "new"


def test_text_of_only_zero_width_characters_is_empty(worker, categories, grid1):
    response = post_json(api(worker), "/api/tickets/tickets/", body(categories, grid1, title="\u200b\u200b\ufeff "))
    assert response.status_code == 400 and "title" in response.json()


def test_a_huge_note_is_refused_and_the_timeline_keeps_nothing(town_dispatcher, new_ticket):
    ticket = new_ticket()
    events = TicketEvent.objects.filter(ticket=ticket).count()
    client = api(town_dispatcher)
    for note in ("长" * 1_000_000, "长" * 2001):
        response = post_json(client, f"/api/tickets/tickets/{ticket.pk}/open/", {"version": ticket.version, "note": note})
        assert response.status_code == 400
    assert TicketEvent.objects.filter(ticket=ticket).count() == events
    ticket.refresh_from_db()
    assert ticket.state == "new"


def test_the_service_itself_refuses_an_over_long_note(town_dispatcher, new_ticket):
    from django.core.exceptions import ValidationError

    from tickets import services

    ticket = new_ticket()
    with pytest.raises(ValidationError):
        services.ticket_open(ticket=ticket, by=town_dispatcher, note="长" * 2001, version=ticket.version)
    ticket.refresh_from_db()
    assert ticket.state == "new" and ticket.events.count() == 1


@pytest.mark.parametrize("over", [{"title": {"a": 1}}, {"urgent": [True]}, {"lon": "东经120度"}, {"category": ["1101"]}])
def test_wrong_types_are_a_400(worker, categories, grid1, over):
    before = Ticket.objects.count()
    response = post_json(api(worker), "/api/tickets/tickets/", body(categories, grid1, **over))
    assert response.status_code == 400, response.content
    assert Ticket.objects.count() == before


def test_a_point_outside_the_city_is_a_400(worker, categories, grid1):
    response = post_json(api(worker), "/api/tickets/tickets/", body(categories, grid1, lon=116.4, lat=39.9))
    assert response.status_code == 400 and "location" in response.json()
    assert not Ticket.objects.filter(title="路口垃圾堆积").exists()


@pytest.mark.parametrize("raw_id", ["١٢", "１２", "9" * 5000, "99999999999999999999", "-1", "1e3"])
def test_odd_ids_are_404s(town_dispatcher, raw_id):
    client = api(town_dispatcher)
    assert client.get(f"/api/tickets/tickets/{raw_id}/").status_code == 404
    assert client.get(f"/console/t/{raw_id}/").status_code == 404


@pytest.mark.parametrize("query", ["limit=99999999999999999999999", "offset=99999999999999999999999", "limit=" + "9" * 5000,
                                   "offset=" + "9" * 5000, "category=99999999999999999999", "center=" + "9" * 30])
def test_huge_numbers_in_a_list_query_are_4xx_or_clamped(town_dispatcher, query):
    response = api(town_dispatcher).get(f"/api/tickets/tickets/?{query}")
    assert response.status_code in (200, 400), (query, response.status_code)
    if response.status_code == 200:
        assert len(response.json()["results"]) <= 500


def test_an_over_long_idempotency_key_is_a_400_and_creates_nothing(worker, categories, grid1):
    before = Ticket.objects.count()
    response = post_json(api(worker), "/api/tickets/tickets/", body(categories, grid1), HTTP_IDEMPOTENCY_KEY="k" * 81)
    assert response.status_code == 400 and "Idempotency-Key" in response.json()["detail"]
    assert Ticket.objects.count() == before


def test_two_keys_sharing_their_first_80_characters_are_two_tickets(worker, categories, grid1):
    client = api(worker)
    head = "k" * 60
    a = post_json(client, "/api/tickets/tickets/", body(categories, grid1, title="甲"), HTTP_IDEMPOTENCY_KEY=head + "-1")
    b = post_json(client, "/api/tickets/tickets/", body(categories, grid1, title="乙"), HTTP_IDEMPOTENCY_KEY=head + "-2")
    assert (a.status_code, b.status_code) == (201, 201) and a.json()["id"] != b.json()["id"]


def test_the_same_key_with_another_body_is_a_422_and_a_true_retry_replays(worker, categories, grid1):
    client = api(worker)
    first = post_json(client, "/api/tickets/tickets/", body(categories, grid1), HTTP_IDEMPOTENCY_KEY="intake-0001")
    assert first.status_code == 201
    retry = post_json(client, "/api/tickets/tickets/", body(categories, grid1), HTTP_IDEMPOTENCY_KEY="intake-0001")
    assert retry.status_code == 200 and retry.json()["id"] == first.json()["id"]
    other = post_json(client, "/api/tickets/tickets/", body(categories, grid1, title="另一件事"), HTTP_IDEMPOTENCY_KEY="intake-0001")
    assert other.status_code == 422 and "Idempotency-Key" in other.json()["detail"]
    assert Ticket.objects.filter(created_by=worker, title__in=["路口垃圾堆积", "另一件事"]).count() == 1
    assert IdempotencyRecord.objects.filter(key="intake-0001").count() == 1


def test_keys_are_per_sender(worker, categories, grid1, city):
    from org.models import Role

    from ..conftest import make_user

    other_worker = make_user("w2", Role.GRIDWORKER, region=worker.region)
    a = post_json(api(worker), "/api/tickets/tickets/", body(categories, grid1), HTTP_IDEMPOTENCY_KEY="shared-key")
    b = post_json(api(other_worker), "/api/tickets/tickets/", body(categories, grid1, title="另一件事"), HTTP_IDEMPOTENCY_KEY="shared-key")
    assert a.status_code == 201 and b.status_code in (201, 403)  # never a 422: another sender's key is not this one's


def test_pages_answer_errors_in_chinese_with_a_way_back_and_api_paths_in_json(client, worker):
    client.force_login(worker)
    page = client.get("/no-such-page/")
    assert page.status_code == 404 and page["Content-Type"].startswith("text/html")
    html = page.content.decode()
    assert "页面不存在" in html and 'href="/"' in html and "Traceback" not in html
    api_404 = client.get("/api/tickets/tickets/999999999/")
    assert api_404.status_code == 404 and api_404.json()["detail"]
    unknown_api = client.get("/api/no-such-endpoint/")
    assert unknown_api.status_code == 404 and unknown_api["Content-Type"].startswith("application/json")


def test_a_server_error_is_a_styled_page_not_a_traceback(client):
    from org import errors

    response = errors.server_error(client.get("/").wsgi_request)
    assert response.status_code == 500 and "Traceback" not in response.content.decode() and "出错" in response.content.decode()


def test_debug_is_off_unless_asked_for(monkeypatch):
    import importlib

    import command_center.settings.dev as dev

    monkeypatch.delenv("DJANGO_DEBUG", raising=False)
    assert importlib.reload(dev).DEBUG is False
    monkeypatch.setenv("DJANGO_DEBUG", "1")
    assert importlib.reload(dev).DEBUG is True
    monkeypatch.delenv("DJANGO_DEBUG")
    importlib.reload(dev)


@override_settings(DEBUG=False)
def test_an_unknown_page_for_a_visitor_is_not_a_debug_page(client):
    response = client.get("/console/t/abc/")
    assert response.status_code == 404 and "URLconf" not in response.content.decode()
