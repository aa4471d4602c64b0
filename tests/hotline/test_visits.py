"""Return visits: due within one working day of closing, scanned for lateness, and what 不满意 does. KPIs."""

import datetime as dt

import pytest
from django.utils import timezone

from realtime.models import OutboxEvent
from hotline import selectors, services
from hotline.models import Outcome, ReturnVisit
from tickets import calendar, deadlines
from tickets.models import State, Ticket

from .conftest import near

NOISE = "春晖路工地晚上十一点以后还在打桩，噪音很大，严重扰民"


@pytest.fixture
def hotline_ticket(agent, spot, categories):
    def make(phone="13812345678", offset=0):
        contact = services.contact_create(by=agent, channel="phone", type="complaint", content=NOISE, outcome=Outcome.NEW_TICKET,
                                          caller_name="王建国", caller_phone=phone, location=near(spot, offset), category=categories["2201"])
        return contact.ticket
    return make


@pytest.mark.django_db
def test_closing_a_hotline_ticket_schedules_a_visit_within_one_working_day(hotline_ticket, close_ticket):
    t = close_ticket(hotline_ticket())
    visit = ReturnVisit.objects.get(ticket=t)
    assert visit.state == "pending" and visit.next_scan_at == visit.due_at
    assert visit.due_at == calendar.add_working_time(t.closed_at, 1, "working_days")
    assert OutboxEvent.objects.filter(topic="hotline.visit_due").exists()


@pytest.mark.django_db
def test_grid_tickets_get_no_visit(new_grid_ticket, close_ticket):
    close_ticket(new_grid_ticket())
    assert ReturnVisit.objects.count() == 0


@pytest.fixture
def new_grid_ticket(categories, spot, town_dispatcher):
    from tickets import services as ts

    def make():
        return ts.ticket_create(by=town_dispatcher, source="grid", category=categories["1501"], title="占道经营",
                                description="早市摊贩占道", location=spot)
    return make


@pytest.mark.django_db
def test_the_one_scanner_flags_a_late_visit_once(hotline_ticket, close_ticket):
    visit = ReturnVisit.objects.get(ticket=close_ticket(hotline_ticket()))
    result = deadlines.scan(now=visit.due_at + dt.timedelta(minutes=1), names=["hotline.return_visit"])
    assert result.handled == 1
    visit.refresh_from_db()
    assert visit.overdue and visit.next_scan_at is None
    assert deadlines.scan(now=visit.due_at + dt.timedelta(hours=5), names=["hotline.return_visit"]).handled == 0
    assert OutboxEvent.objects.filter(topic="hotline.visit_overdue").count() == 1


@pytest.mark.django_db
def test_satisfied_visit_rates_the_ticket(client, agent, hotline_ticket, close_ticket):
    visit = ReturnVisit.objects.get(ticket=close_ticket(hotline_ticket()))
    client.force_login(agent)
    r = client.post(f"/hotline/visits/{visit.pk}/record/", {"satisfaction": "satisfied", "note": "已停工"})
    assert r.status_code == 302
    visit.refresh_from_db()
    assert visit.state == "done" and visit.visited_by == agent
    assert Ticket.objects.get(pk=visit.ticket_id).satisfaction == "satisfied"
    r = client.post(f"/api/hotline/visits/{visit.pk}/record/", {"satisfaction": "satisfied"}, content_type="application/json")
    assert r.status_code == 409  # recorded once only


@pytest.mark.django_db
def test_unsatisfied_reopens_as_rework(client, agent, hotline_ticket, close_ticket):
    visit = ReturnVisit.objects.get(ticket=close_ticket(hotline_ticket()))
    client.force_login(agent)
    r = client.post(f"/api/hotline/visits/{visit.pk}/record/", {"satisfaction": "unsatisfied", "note": "晚上还在打桩"},
                    content_type="application/json")
    assert r.status_code == 200, r.content
    t = Ticket.objects.get(pk=visit.ticket_id)
    assert t.state == State.OPEN and t.satisfaction == "unsatisfied"
    assert t.events.filter(action="reopened").exists()


@pytest.mark.django_db
def test_unsatisfied_without_a_note_is_refused(client, agent, hotline_ticket, close_ticket):
    visit = ReturnVisit.objects.get(ticket=close_ticket(hotline_ticket()))
    client.force_login(agent)
    r = client.post(f"/api/hotline/visits/{visit.pk}/record/", {"satisfaction": "unsatisfied"}, content_type="application/json")
    assert r.status_code == 400
    visit.refresh_from_db()
    assert visit.state == "pending" and Ticket.objects.get(pk=visit.ticket_id).state == State.CLOSED


@pytest.mark.django_db
def test_unsatisfied_to_the_duty_chief_who_decides(client, agent, chief, haigang_agent, hotline_ticket, close_ticket):
    visit = ReturnVisit.objects.get(ticket=close_ticket(hotline_ticket()))
    client.force_login(haigang_agent)  # outside the ticket's region: not found
    assert client.post(f"/api/hotline/visits/{visit.pk}/record/", {"satisfaction": "satisfied"},
                       content_type="application/json").status_code == 404
    client.force_login(agent)
    client.post(f"/hotline/visits/{visit.pk}/record/", {"satisfaction": "unsatisfied", "note": "不认可处理结果", "unsatisfied_to": "chief"})
    visit.refresh_from_db()
    assert visit.state == "chief"
    assert client.post(f"/hotline/visits/{visit.pk}/decide/", {"reopen": "1", "note": "重办"}).status_code == 403
    client.force_login(chief)
    page = client.get("/hotline/visits/").content.decode()
    assert "不认可处理结果" in page
    client.post(f"/hotline/visits/{visit.pk}/decide/", {"reopen": "1", "note": "重新派遣"})
    visit.refresh_from_db()
    assert visit.state == "done" and visit.follow_up == "chief_reopened"
    assert Ticket.objects.get(pk=visit.ticket_id).state == State.OPEN


@pytest.mark.django_db
def test_kpis(client, agent, leader, charlie, hotline_ticket, close_ticket, categories):
    t = close_ticket(hotline_ticket())
    hotline_ticket(phone="13812345678", offset=500)  # the same caller again: a repeat call
    services.contact_create(by=agent, channel="wechat", type="consult", content="居住证怎么办", outcome=Outcome.DIRECT,
                            answer="到派出所办理", caller_phone="13900000000")
    visit = ReturnVisit.objects.get(ticket=t)
    services.return_visit_record(visit=visit, by=agent, satisfaction="basically")
    now = timezone.now()
    k = selectors.hotline_kpis(leader, start=now - dt.timedelta(days=1), end=now + dt.timedelta(minutes=1))
    assert k["contacts"] == 3 and k["direct_rate"] == 33.3 and k["repeat_rate"] == 33.3
    assert k["on_time_rate"] == 100.0  # the closed ticket and the direct answer, both in time
    assert k["visit_rate"] == 100.0 and k["satisfaction_rate"] == 100.0
    assert k["by_channel"] == {"phone": 2, "wechat": 1} and k["by_type"] == {"complaint": 2, "consult": 1}
    client.force_login(leader)
    assert client.get("/api/hotline/kpis/").json()["contacts"] == 3
    assert "直接办结率" in client.get("/hotline/kpis/").content.decode()
    assert client.get("/api/hotline/kpis/", {"start": "2026-13-01"}).status_code == 400
    client.force_login(charlie)
    assert client.get("/api/hotline/kpis/").status_code == 403
