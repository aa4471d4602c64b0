"""The demo city's past: the same every time, written once, made of the rows the services write, and its
statistics equal to those recomputed from the timeline."""

import datetime as dt

import pytest
from django.utils import timezone

from dashboard import demo_history as dashboard_history
from dashboard import stats
from org.models import Role
from hotline import demo_history as hotline_history
from hotline.models import Channel, Contact, Outcome, ReturnVisit
from tests.conftest import make_user
from tickets import demo_history
from tickets.models import Assignment, Ticket, TicketEvent, TicketRequest

from .test_stats import figures_from_timeline

pytestmark = pytest.mark.django_db
DAYS = 12


@pytest.fixture
def now():
    return timezone.now()


def load(days, now):
    result = demo_history.load_history(days=days, now=now)
    hotline_history.load_history(days=days, now=now)
    dashboard_history.load_history(days=days)
    return result


def counts() -> dict:
    return {
        "tickets": Ticket.objects.count(), "events": TicketEvent.objects.count(), "shares": Assignment.objects.count(),
        "requests": TicketRequest.objects.count(), "contacts": Contact.objects.count(), "visits": ReturnVisit.objects.count(),
    }


def test_the_history_is_the_same_every_time(city, now):
    first = demo_history.plan(days=DAYS, now=now)
    second = demo_history.plan(days=DAYS, now=now)
    assert [(life.ticket, life.events, life.assignments) for life in first] == [
        (life.ticket, life.events, life.assignments) for life in second
    ]
    assert len(first) > DAYS * 25  # a city's days, not a handful of tickets


def test_every_life_runs_forward_and_ends_in_its_tickets_state(city, now):
    for life in demo_history.plan(days=60, now=now):
        t, events = life.ticket, life.events
        assert [e["at"] for e in events] == sorted(e["at"] for e in events), t["idempotency_key"]
        assert events[-1]["at"] <= now
        assert all(e["from_state"] == before["to_state"] for before, e in zip(events, events[1:])), t["idempotency_key"]
        assert events[-1]["to_state"] == t["state"] and t["version"] == len(events)
        assert t["light"] == "green" or any(a["state"] in ("dispatched", "signed") for a in life.assignments)


@pytest.mark.parametrize("hour", [0, 5, 9, 12, 16, 21])
def test_each_share_and_request_agrees_with_its_timeline_whenever_the_present_falls(city, hour):
    """A life cut at the present mid-way (a 退单 requested, its approval still ahead) leaves the share active and the
    request pending, as the services would, whatever the hour of the present."""
    now = timezone.make_aware(dt.datetime(2026, 12, 2, hour, 10))
    returned = 0
    for life in demo_history.plan(days=DAYS, now=now):
        actions = [e["action"] for e in life.events]
        shares = [a for a in life.assignments if a["state"] == Assignment.State.RETURNED]
        assert len(shares) == actions.count("returned"), life.ticket["idempotency_key"]
        undecided = [r for r in life.requests if r["decision"] == TicketRequest.Decision.PENDING]
        assert len(undecided) == sum(e.endswith("_requested") for e in actions) - actions.count("returned") - actions.count("extended")
        if undecided:
            share = next(a for a in life.assignments if a["id"] == undecided[0]["assignment_id"])
            assert share["state"] in Assignment.ACTIVE and life.ticket["state"] not in ("open", "closed")
        returned += len(shares)
    assert returned


def test_loading_the_history_twice_adds_nothing(city, now):
    before = counts()
    written = load(DAYS, now)
    after = counts()
    assert written["tickets"] > DAYS * 25 and after["contacts"] > before["contacts"] and after["visits"] > before["visits"]
    assert load(DAYS, now)["tickets"] == 0
    assert counts() == after
    numbers = list(Ticket.objects.filter(idempotency_key__startswith="history:").values_list("number", flat=True))
    assert len(numbers) == len(set(numbers))


@pytest.mark.parametrize("present", ["now", 3, 12, 21])
def test_the_statistics_of_the_history_equal_those_recomputed_from_its_timeline(city, now, present):
    """At the present moment, and with the history cut at three hours of yesterday (lives cut mid-step)."""
    if present != "now":
        yesterday = timezone.localdate(now) - dt.timedelta(days=1)
        now = timezone.make_aware(dt.datetime.combine(yesterday, dt.time(present, 10)))
    load(DAYS, now)
    leader = make_user("history_leader", Role.LEADER, region=city)
    today = timezone.localdate(now)
    f = stats.parse_filter(leader, {"start": (today - dt.timedelta(days=DAYS)).isoformat(), "end": today.isoformat()})
    # the demo city's open tickets (tickets.demo) are written at the real present, after a present of yesterday
    period = Ticket.objects.filter(created_at__gte=f.start_at, created_at__lt=f.end_at)
    expected_totals, expected_departments = figures_from_timeline(period)
    totals = stats.totals(f, leader)
    assert {k: totals[k] for k in expected_totals} == expected_totals
    departments = {r["id"]: {k: r[k] for k in ("volume", "closed", "on_time", "returned", "reworked", "extended")}
                   for r in stats.by_department(f, leader)}
    assert departments == expected_departments
    # a plausible city: most closed, some late, reworked, returned and extended, and rated by the callers
    assert totals["closure_rate"] > 60 and 50 < totals["on_time_rate"] < 100  # the last days are still being handled
    assert totals["reworked"] and totals["returned"] and totals["extended"] and totals["rated"]
    channels = set(Contact.objects.values_list("channel", flat=True))
    assert {Channel.PHONE, Channel.WECHAT, Channel.APP, Channel.WEB} <= channels
    assert Contact.objects.filter(outcome=Outcome.LINKED).exists() and Contact.objects.filter(outcome=Outcome.DIRECT).exists()


def _shape(ticket: Ticket) -> tuple:
    """What a ticket's rows look like, without their values: which columns are set, the timeline's steps and data keys."""
    nullable = ["grid_id", "reporter_id", "dispatched_at", "due_at", "closed_at", "verifier_id", "created_by_id"]
    events = list(TicketEvent.objects.filter(ticket=ticket).order_by("id"))
    return (
        ticket.state, ticket.light, ticket.version == len(events), ticket.rework_count, ticket.urge_count,
        tuple(getattr(ticket, f) is None for f in nullable),
        tuple(
            (a.role, a.state, a.signed_at is None, a.replied_at is None, a.next_scan_at is None, bool(a.return_reason))
            for a in ticket.assignments.order_by("id")
        ),
        tuple((e.action, e.from_state, e.to_state, tuple(sorted(e.data)), e.actor_id is None) for e in events),
        tuple((r.kind, r.decision, r.extra_days is None) for r in ticket.requests.order_by("id")),
    )


def _actions(ticket) -> list[str]:
    return list(TicketEvent.objects.filter(ticket=ticket).order_by("id").values_list("action", flat=True))


def test_historical_tickets_have_the_rows_of_tickets_driven_through_the_services(city, now, loop):
    driven = {
        "closed": loop.close(loop.dispatch(loop.create(n=0))),
        "reworked": loop.verify(loop.reply(loop.verify(loop.reply(loop.sign(loop.dispatch(loop.create(n=1)))), passed=False))),
        "returned": loop.close(loop.dispatch(loop.give_back(loop.dispatch(loop.create(n=2))), lead=loop.sq)),
        "extended": loop.verify(loop.reply(loop.extend(loop.sign(loop.dispatch(loop.create(n=3)))))),
    }
    load(30, now)
    history = Ticket.objects.filter(idempotency_key__startswith="history:", source="grid").order_by("id")
    by_actions: dict = {}
    for t in history.iterator():
        by_actions.setdefault(tuple(_actions(t)), t)
    for name, ticket in driven.items():
        ticket.refresh_from_db()
        twin = by_actions.get(tuple(_actions(ticket)))
        assert twin is not None, f"no historical ticket went the way of {name}: {_actions(ticket)}"
        assert _shape(twin) == _shape(ticket), name


def test_the_statistics_page_draws_the_history_and_its_slices_drill_down(city, now, client, django_assert_max_num_queries):
    load(DAYS, now)
    leader = make_user("history_leader", Role.LEADER, region=city)
    client.force_login(leader)
    today = timezone.localdate(now)
    period = {"start": (today - dt.timedelta(days=DAYS)).isoformat(), "end": today.isoformat()}
    with django_assert_max_num_queries(40):
        page = client.get("/stats/", period)
    charts = page.context["charts"]
    assert sum(charts["trend"]["received"]) == page.context["totals"]["received"]
    assert len(charts["trend"]["labels"]) == DAYS + 1 and charts["trend"]["unit"] == "day"
    assert {f["id"] for f in charts["regions"]["geojson"]["features"]} == {r["code"] for r in charts["regions"]["rows"]}
    mix = {s["key"]: s["value"] for s in charts["satisfaction"]}
    assert sum(mix.values()) == page.context["totals"]["rated"]
    drilled = client.get("/stats/tickets/", {**period, "metric": "rated", "satisfaction": "unsatisfied"})
    assert int(drilled.context["tickets_count"]) == mix["unsatisfied"] > 0
    assert client.get("/stats/tickets/", {**period, "metric": "rated", "satisfaction": "angry"}).status_code == 400
