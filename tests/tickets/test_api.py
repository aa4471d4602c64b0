"""The API as department apps and pages use it: intake, transitions, scope, masking, photos, query counts."""

import io

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from PIL import Image
from rest_framework.test import APIClient

from tickets import services
from tickets.models import Ticket, TicketEvent, TicketPhoto

from .conftest import inside, jpeg_bytes, photo
from tests.conftest import current_version

pytestmark = pytest.mark.django_db


def api(user):
    client = APIClient()
    client.force_authenticate(user)
    return client


def payload(grid, **extra):
    p = inside(grid)
    return {"source": "hotline", "category": "1501", "title": "早市占道", "description": "人行道被占", "lon": p.x, "lat": p.y,
            "address": "春晖路8号", "citizen_name": "王建国", "citizen_phone": "13812345678", **extra}


def test_create_with_idempotency_key_returns_the_first_result_and_creates_nothing(categories, grid1, town_dispatcher):
    client = api(town_dispatcher)
    first = client.post("/api/tickets/tickets/", payload(grid1), format="json", HTTP_IDEMPOTENCY_KEY="call-42")
    assert first.status_code == 201, first.content
    count = Ticket.objects.count()
    again = client.post("/api/tickets/tickets/", payload(grid1), format="json", HTTP_IDEMPOTENCY_KEY="call-42")
    assert again.status_code == 200 and again.json()["id"] == first.json()["id"]
    assert Ticket.objects.count() == count
    assert TicketEvent.objects.filter(ticket_id=first.json()["id"], action="created").count() == 1


def test_bad_input_is_a_clear_400_in_chinese_and_writes_nothing(categories, grid1, worker):
    client = api(worker)
    count = Ticket.objects.count()
    r = client.post("/api/tickets/tickets/", payload(grid1, title="", category="9999"), format="json")
    assert r.status_code == 400
    body = r.json()
    assert "title" in body and "category" in body
    fake = SimpleUploadedFile("photo.jpg", b"this is not a picture at all", content_type="image/jpeg")
    r = client.post("/api/tickets/tickets/", {**payload(grid1), "photos": [fake]}, format="multipart")
    assert r.status_code == 400
    assert "不是有效的图片" in str(r.json()), r.json()
    assert Ticket.objects.count() == count


def test_oversized_photo_is_refused(categories, grid1, worker, settings):
    settings.TICKETS_PHOTO_MAX_BYTES = 1000
    big = SimpleUploadedFile("big.jpg", jpeg_bytes(size=(400, 400)), content_type="image/jpeg")
    r = api(worker).post("/api/tickets/tickets/", {**payload(grid1), "photos": [big]}, format="multipart")
    assert r.status_code == 400 and "过大" in str(r.json())


def test_photos_are_stripped_of_metadata_and_thumbnailed(categories, grid1, worker):
    upload = SimpleUploadedFile("p.jpg", jpeg_bytes(size=(1200, 900)), content_type="image/jpeg")
    assert Image.open(io.BytesIO(jpeg_bytes())).getexif()  # the original carries EXIF and GPS
    r = api(worker).post("/api/tickets/tickets/", {**payload(grid1), "photos": [upload]}, format="multipart")
    assert r.status_code == 201, r.content
    p = TicketPhoto.objects.get(ticket_id=r.json()["id"])
    with p.image.open("rb") as f:
        img = Image.open(f)
        assert not img.getexif() and "exif" not in img.info
    with p.thumbnail.open("rb") as f:
        assert max(Image.open(f).size) <= 320


def test_walk_the_loop_through_the_api(categories, grid1, worker, town_dispatcher, zf, zf_staff):
    r = api(worker).post("/api/tickets/tickets/", payload(grid1, source="grid"), format="json")
    t = r.json()
    d = api(town_dispatcher)
    t = d.post(f"/api/tickets/tickets/{t['id']}/open/", {"version": t["version"]}, format="json").json()
    sugg = d.get(f"/api/tickets/tickets/{t['id']}/suggestions/").json()
    assert sugg[0]["id"] == zf.pk  # 事件 by area first: the street's enforcement team
    t = d.post(f"/api/tickets/tickets/{t['id']}/dispatch/", {"version": t["version"], "lead": zf.pk}, format="json").json()
    assert t["state"] == "dispatched"
    s = api(zf_staff)
    inbox = s.get("/api/tickets/assignments/").json()["results"]
    a = next(x for x in inbox if x["ticket"]["id"] == t["id"])
    r = s.post(f"/api/tickets/assignments/{a['id']}/sign/", {"version": t["version"]}, format="json")
    assert r.status_code == 200 and r.json()["state"] == "signed"
    version = r.json()["ticket"]["version"]
    r = s.post(f"/api/tickets/assignments/{a['id']}/reply/", {"version": version, "reply": "已清理", "photos": [photo()]},
               format="multipart")
    assert r.status_code == 200, r.content
    t = Ticket.objects.get(pk=t["id"])
    r = api(worker).post(f"/api/tickets/tickets/{t.pk}/verify/", {"version": t.version, "passed": True}, format="json")
    assert r.status_code == 200 and r.json()["state"] == "closed"
    timeline = d.get(f"/api/tickets/tickets/{t.pk}/timeline/").json()
    assert [e["action"] for e in timeline] == ["created", "opened", "dispatched", "signed", "replied", "closed"]


def test_stale_version_is_409_through_the_api(new_ticket, town_dispatcher):
    t = new_ticket()
    d = api(town_dispatcher)
    assert d.post(f"/api/tickets/tickets/{t.pk}/open/", {"version": t.version}, format="json").status_code == 200
    r = d.post(f"/api/tickets/tickets/{t.pk}/cancel/", {"version": t.version, "reason": "x"}, format="json")
    assert r.status_code == 409 and r.json()["version"] == t.version + 1
    r = d.post(f"/api/tickets/tickets/{t.pk}/open/", {"version": t.version + 1}, format="json")
    assert r.status_code == 409  # already open: not possible in this state


def test_department_member_gets_404_for_another_departments_ticket(dispatched, sq_staff, zf_staff, client):
    t = dispatched()
    a = t.assignments.get()
    s = api(sq_staff)
    assert s.get(f"/api/tickets/assignments/{a.pk}/").status_code == 404
    assert s.post(f"/api/tickets/assignments/{a.pk}/sign/", {"version": t.version}, format="json").status_code == 404
    assert s.get(f"/api/tickets/tickets/{t.pk}/").status_code == 404
    assert a.pk not in [x["id"] for x in s.get("/api/tickets/assignments/").json()["results"]]
    client.force_login(sq_staff)
    assert client.get(f"/dept/a/{a.pk}/").status_code == 404
    assert client.post(f"/dept/a/{a.pk}/sign/", {"version": t.version}).status_code == 404
    assert a.__class__.objects.get(pk=a.pk).state == "dispatched"
    assert api(zf_staff).get(f"/api/tickets/assignments/{a.pk}/").status_code == 200


def test_outsider_dispatcher_sees_nothing(new_ticket, charlie, town_dispatcher):
    t = new_ticket()
    c = api(charlie)
    assert c.get(f"/api/tickets/tickets/{t.pk}/").status_code == 404
    assert c.post(f"/api/tickets/tickets/{t.pk}/open/", {"version": t.version}, format="json").status_code == 404
    assert t.pk not in [x["id"] for x in c.get("/api/tickets/tickets/?limit=500").json()["results"]]
    assert api(town_dispatcher).get(f"/api/tickets/tickets/{t.pk}/").status_code == 200


def test_citizen_contact_is_masked_for_departments_and_shown_to_dispatchers(categories, grid1, town_dispatcher, zf, zf_staff):
    r = api(town_dispatcher).post("/api/tickets/tickets/", payload(grid1), format="json")
    t = Ticket.objects.get(pk=r.json()["id"])
    assert (r.json()["citizen_name"], r.json()["citizen_phone"]) == ("王建国", "13812345678")
    t = services.ticket_open(ticket=t, by=town_dispatcher, version=current_version(t))
    services.ticket_dispatch(ticket=t, by=town_dispatcher, lead=zf, version=current_version(t))
    seen = api(zf_staff).get(f"/api/tickets/tickets/{t.pk}/").json()
    assert (seen["citizen_name"], seen["citizen_phone"]) == ("王**", "138****5678")


def test_role_without_the_action_is_refused(dispatched, zf_staff, town_dispatcher):
    t = dispatched()
    r = api(zf_staff).post(f"/api/tickets/tickets/{t.pk}/urge/", {"version": t.version}, format="json")
    assert r.status_code == 403
    assert api(town_dispatcher).post(f"/api/tickets/tickets/{t.pk}/urge/", {"version": t.version}, format="json").status_code == 200


def _many(dispatched, n):
    for _ in range(n):
        dispatched()


@pytest.mark.parametrize("path,who", [
    ("/api/tickets/tickets/", "town_dispatcher"),
    ("/api/tickets/assignments/", "zf_staff"),
    ("/api/tickets/requests/", "town_dispatcher"),
    ("/dept/", "zf_staff"),
    ("/console/?tab=active", "town_dispatcher"),
])
def test_list_query_counts_stay_flat_as_data_grows(path, who, request, dispatched, django_assert_max_num_queries, client):
    user = request.getfixturevalue(who)
    client.force_login(user)
    _many(dispatched, 2)
    with django_assert_max_num_queries(12) as small:
        assert client.get(path).status_code == 200
    _many(dispatched, 12)
    with django_assert_max_num_queries(len(small.captured_queries)):
        assert client.get(path).status_code == 200


def test_openapi_schema_documents_intake_and_every_transition(admin_client):
    schema = admin_client.get("/api/schema/?format=json").json()
    paths = schema["paths"]
    for p in ["open", "cancel", "dispatch", "urge", "escalate", "merge", "verify", "self-resolve", "reopen", "resume", "request"]:
        assert f"/api/tickets/tickets/{{id}}/{p}/" in paths, p
    for p in ["sign", "reply", "release"]:
        assert f"/api/tickets/assignments/{{id}}/{p}/" in paths
    assert "/api/tickets/requests/{id}/decide/" in paths
    params = [x["name"] for x in paths["/api/tickets/tickets/"]["post"].get("parameters", [])]
    assert "Idempotency-Key" in params


def test_ticket_representation_is_what_the_declared_fields_give(dispatched, new_ticket, town_dispatcher, zf_staff):
    """TicketSerializer builds its dict directly (speed); DRF's generic path over the declared fields must give
    the same, for tickets in several states and for a role that sees the citizen's contact and one that does not."""
    from types import SimpleNamespace

    from django.utils import timezone
    from rest_framework import serializers

    from tickets.serializers import TicketSerializer

    fresh = new_ticket(citizen_name="王建国", citizen_phone="13812345678")
    sent = dispatched(urgent=True)
    closed = new_ticket()
    Ticket.objects.filter(pk=closed.pk).update(
        state="closed", closed_at=timezone.now(), satisfaction="satisfied", grid=None, duplicate_of=sent, light="red",
    )
    tickets = Ticket.objects.select_related("category", "center").filter(pk__in=[fresh.pk, sent.pk, closed.pk])
    assert len(tickets) == 3
    for user in (town_dispatcher, zf_staff):
        for ticket in tickets:
            serializer = TicketSerializer(ticket, context={"request": SimpleNamespace(user=user)})
            generic = serializers.Serializer.to_representation(serializer, ticket)
            fast = serializer.data
            assert fast == generic
            assert list(fast) == list(generic)  # the same keys in the same order
