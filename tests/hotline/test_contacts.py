"""Taking a contact at the console: the three outcomes, idempotency, bad input, scope and masking."""

import datetime as dt

import pytest
from django.utils import timezone

from hotline import services
from hotline.models import Contact, ContactTimeLimit, KnowledgeArticle, Outcome
from realtime.models import OutboxEvent
from tickets import calendar
from tickets import services as ticket_services
from tickets.models import Ticket, TicketEvent

from .conftest import near
from tests.conftest import current_version

URL = "/api/hotline/contacts/"


def close(a, b) -> bool:
    return abs((a - b).total_seconds()) < 5


def post(client, user, data, key=None):
    client.force_login(user)
    headers = {"HTTP_IDEMPOTENCY_KEY": key} if key else {}
    return client.post(URL, data, content_type="application/json", **headers)


def complaint(spot, categories, **extra):
    return {
        "channel": "phone", "type": "complaint", "caller_name": "王建国", "caller_phone": "13812345678",
        "content": "春晖路工地晚上十一点以后还在打桩，噪音很大，严重扰民", "address": "春晖路12号",
        "lon": spot.x, "lat": spot.y, "category": categories["2201"].pk, "outcome": "new_ticket", **extra,
    }


@pytest.mark.django_db
def test_new_ticket_outcome_creates_a_hotline_ticket(client, agent, spot, categories):
    r = post(client, agent, complaint(spot, categories), key="k-new")
    assert r.status_code == 201, r.content
    body = r.json()
    contact = Contact.objects.get(pk=body["id"])
    ticket = contact.ticket
    assert contact.outcome == Outcome.NEW_TICKET and ticket.source == "hotline"
    assert ticket.category.code == "2201" and ticket.citizen_phone == "13812345678"
    assert ticket.title.startswith("春晖路工地晚上十一点")
    assert contact.region_path == ticket.region_path and contact.grid_id == ticket.grid_id
    assert body["ticket"]["number"] == ticket.number
    # complaint: 15 working days
    assert close(contact.due_at, calendar.add_working_time(contact.created_at, 15, "working_days"))


@pytest.mark.django_db
def test_retry_with_the_same_idempotency_key_creates_nothing_twice(client, agent, spot, categories):
    first = post(client, agent, complaint(spot, categories), key="same-key")
    again = post(client, agent, complaint(spot, categories), key="same-key")
    assert first.status_code == 201 and again.status_code == 200
    assert again.json()["id"] == first.json()["id"]
    assert Contact.objects.count() == 1
    assert Ticket.objects.filter(source="hotline", title__startswith="春晖路工地").count() == 1


@pytest.mark.django_db
def test_direct_resolution_from_an_article_closes_on_the_spot(client, agent, categories):
    article = KnowledgeArticle.objects.get(title="居住证办理流程")
    used_before = article.used_count
    tickets_before = Ticket.objects.count()
    r = post(client, agent, {"channel": "wechat", "type": "consult", "content": "请问居住证怎么办理？需要什么材料",
                             "caller_phone": "13900000001", "outcome": "direct", "article": article.pk})
    assert r.status_code == 201, r.content
    contact = Contact.objects.get(pk=r.json()["id"])
    assert contact.outcome == Outcome.DIRECT and contact.article == article and contact.closed_at is not None
    assert contact.ticket is None and Ticket.objects.count() == tickets_before
    article.refresh_from_db()
    assert article.used_count == used_before + 1
    # consultation: 2 working days
    assert close(contact.due_at, calendar.add_working_time(contact.created_at, 2, "working_days"))


@pytest.mark.django_db
def test_linking_to_an_existing_ticket_counts_the_caller(client, agent, spot, categories, town_dispatcher, zf_staff):
    first = post(client, agent, complaint(spot, categories))
    ticket = Ticket.objects.get(pk=first.json()["ticket"]["id"])
    ticket = ticket_services.ticket_open(ticket=ticket, by=town_dispatcher, version=current_version(ticket))
    ticket = ticket_services.ticket_dispatch(ticket=ticket, by=town_dispatcher, lead=zf_staff.department, version=current_version(ticket))
    r = post(client, agent, complaint(near(spot, 80), categories, caller_phone="13700000002", caller_name="李梅",
                                      outcome="linked", link_to=ticket.pk))
    assert r.status_code == 201, r.content
    contact = Contact.objects.get(pk=r.json()["id"])
    ticket.refresh_from_db()
    assert contact.outcome == Outcome.LINKED and contact.ticket == ticket
    assert ticket.caller_count == 2
    assert TicketEvent.objects.filter(ticket=ticket, action="caller_added").count() == 1
    assert Ticket.objects.filter(title__startswith="春晖路工地").count() == 1
    # the department handling it hears of the new caller and sees the count in its inbox
    event = OutboxEvent.objects.filter(topic="ticket.caller_added").latest("id")
    assert f"dept-{zf_staff.department_id}" in event.groups
    client.force_login(zf_staff)
    assert "来电人数 2" in client.get("/dept/").content.decode()


@pytest.mark.django_db
@pytest.mark.parametrize("change, field", [
    ({"content": "   "}, "content"),
    ({"lon": 200, "lat": 31.9}, "location"),
    ({"lon": 116.4, "lat": 39.9}, "location"),  # Beijing: outside the city's service area
    ({"lon": "abc"}, "lon"),
    ({"category": 999999}, "category"),
    ({"channel": "fax"}, "channel"),
    ({"outcome": "maybe"}, "outcome"),
    ({"caller_phone": "call me"}, "caller_phone"),
    ({"outcome": "direct"}, "article"),
    ({"outcome": "linked"}, "link_to"),
    ({"outcome": "linked", "link_to": "abc"}, "link_to"),
    ({"outcome": "linked", "link_to": 999999999}, "link_to"),  # no such ticket
    ({"category": "abc"}, "category"),
])
def test_bad_input_is_refused_in_chinese_and_writes_nothing(client, agent, spot, categories, change, field):
    before = (Contact.objects.count(), Ticket.objects.count(), TicketEvent.objects.count())
    r = post(client, agent, complaint(spot, categories) | change)
    assert r.status_code == 400, r.content
    assert field in r.json() or "detail" in r.json()
    text = str(r.json())
    assert any("\u4e00" <= ch <= "\u9fff" for ch in text), text
    assert (Contact.objects.count(), Ticket.objects.count(), TicketEvent.objects.count()) == before


@pytest.mark.django_db
def test_roles_without_the_console_are_refused(client, charlie, leader, spot, categories):
    for user in (charlie, leader):
        r = post(client, user, complaint(spot, categories))
        assert r.status_code == 403
    assert Contact.objects.count() == 0
    client.force_login(charlie)
    assert client.get("/hotline/").status_code == 403


@pytest.mark.django_db
def test_an_agent_cannot_link_to_a_ticket_outside_their_scope(client, agent, haigang_agent, spot, categories):
    ticket = Ticket.objects.get(pk=post(client, agent, complaint(spot, categories)).json()["ticket"]["id"])
    r = post(client, haigang_agent, complaint(spot, categories, outcome="linked", link_to=ticket.pk))
    assert r.status_code == 400
    assert Contact.objects.count() == 1
    client.force_login(haigang_agent)
    contact_id = Contact.objects.get().pk
    assert client.get(f"{URL}{contact_id}/").status_code == 404
    assert client.get(URL).json()["results"] == []


@pytest.mark.django_db
def test_caller_is_masked_for_leaders_and_found_by_exact_number(client, agent, leader, spot, categories):
    post(client, agent, complaint(spot, categories))
    client.force_login(agent)
    full = client.get(URL, {"phone": "13812345678"}).json()["results"]
    assert [c["caller_phone"] for c in full] == ["13812345678"] and full[0]["caller_name"] == "王建国"
    client.force_login(leader)
    masked = client.get(URL, {"phone": "13812345678"}).json()["results"]
    assert masked[0]["caller_phone"] == "138****5678" and masked[0]["caller_name"] == "王**"
    assert client.get(URL, {"phone": "1381234567"}).json()["results"] == []  # exact number only


@pytest.mark.django_db
def test_an_edited_time_limit_applies_at_once(agent, spot, categories, django_assert_num_queries):
    """Time limits are read from this process's copy of the table; saving a row makes the copy forget it."""
    now = timezone.now()
    services.contact_due_at("complaint", urgent=False, start=now)
    with django_assert_num_queries(0):
        services.contact_due_at("complaint", urgent=False, start=now)
    limit = ContactTimeLimit.objects.get(key="complaint")
    limit.amount = 4
    limit.save()
    assert services.contact_due_at("complaint", urgent=False, start=now) == calendar.add_working_time(now, 4, "working_days")
    limit.delete()  # without a row the default applies (15 working days)
    assert services.contact_due_at("complaint", urgent=False, start=now) == calendar.add_working_time(now, 15, "working_days")


@pytest.mark.django_db
def test_caller_history_and_repeat_calls(client, agent, spot, categories):
    post(client, agent, complaint(spot, categories))
    r = post(client, agent, complaint(spot, categories, type="consult", outcome="direct", answer="已告知施工许可时间"))
    assert Contact.objects.get(pk=r.json()["id"]).is_repeat is True
    client.force_login(agent)
    history = client.get("/api/hotline/caller-history/", {"phone": "13812345678"}).json()
    assert history["total"] == 2 and history["repeat"] is True and history["open_tickets"] == 1
    assert history["contacts"][0]["type"] == "consult"


@pytest.mark.django_db
def test_time_limits_follow_the_configured_table(agent, spot, categories, settings):
    ContactTimeLimit.objects.filter(key="complaint").update(amount=3)
    now = timezone.now()
    assert services.contact_due_at("complaint", urgent=False, start=now) == calendar.add_working_time(now, 3, "working_days")
    assert services.contact_due_at("help", urgent=False, start=now) == calendar.add_working_time(now, 10, "working_days")
    urgent_due = services.contact_due_at("complaint", urgent=True, start=now)
    assert urgent_due > now and urgent_due - now < dt.timedelta(days=10)
    assert timezone.localtime(urgent_due).time() == dt.time(17, 30)


@pytest.mark.django_db
def test_contact_list_query_count_is_pinned(client, agent, spot, categories, django_assert_max_num_queries):
    for i in range(5):
        post(client, agent, complaint(near(spot, i * 500), categories, caller_phone=f"1390000000{i}"))
    client.force_login(agent)
    with django_assert_max_num_queries(6):
        r = client.get(URL)
    assert len(r.json()["results"]) == 5


@pytest.mark.parametrize("over", [{"content": {"text": "噪音"}}, {"urgent": [True]}, {"caller_name": ["王"]}, {"lon": "东经", "lat": 32.0},
                                  {"content": "噪\x00音"}, {"content": "长" * 4001}])
def test_wrong_types_and_hostile_text_are_a_400_and_store_nothing(agent, over):
    import json

    from rest_framework.test import APIClient

    client = APIClient()
    client.force_login(agent)
    body = {"channel": "phone", "type": "complaint", "content": "春晖路工地夜间施工噪音", "outcome": "ticket"} | over
    before = Contact.objects.count()
    response = client.generic("POST", "/api/hotline/contacts/", json.dumps(body), content_type="application/json")
    assert response.status_code == 400, response.content
    assert Contact.objects.count() == before
