"""Duplicate candidates: same category, open, nearby, recent, similar text — or the same caller."""

import datetime as dt

import pytest

from hotline import selectors, services
from hotline.models import Outcome
from tickets.models import Ticket

from .conftest import near

NOISE = "春晖路工地晚上十一点以后还在打桩，噪音很大，严重扰民"


def new_ticket(agent, categories, point, *, code="2201", content=NOISE, phone="13812345678"):
    c = services.contact_create(by=agent, channel="phone", type="complaint", content=content, outcome=Outcome.NEW_TICKET,
                                caller_phone=phone, location=point, category=categories[code])
    return c.ticket


@pytest.mark.django_db
def test_a_nearby_open_ticket_of_the_same_category_with_similar_text_is_the_top_candidate(agent, spot, categories):
    same = new_ticket(agent, categories, spot)
    new_ticket(agent, categories, near(spot, 150), content="小区楼下餐馆油烟直排，熏得没法开窗", phone="13911110000")
    found = selectors.duplicate_candidates(agent, content="春晖路那个工地半夜打桩太吵了", location=near(spot, 120),
                                           category=categories["2201"])
    assert found[0].ticket == same
    assert 100 < found[0].distance_m < 140 and "similar_text" in found[0].reasons


@pytest.mark.django_db
def test_other_category_far_away_old_or_closed_tickets_are_not_candidates(agent, spot, categories):
    other_category = new_ticket(agent, categories, spot, code="2202")
    far = new_ticket(agent, categories, near(spot, 900))
    old = new_ticket(agent, categories, near(spot, 50))
    Ticket.objects.filter(pk=old.pk).update(created_at=old.created_at - dt.timedelta(days=40))
    cancelled = new_ticket(agent, categories, near(spot, 20))
    Ticket.objects.filter(pk=cancelled.pk).update(state="cancelled")
    found = selectors.duplicate_candidates(agent, content=NOISE, location=spot, category=categories["2201"])
    assert {c.ticket.pk for c in found}.isdisjoint({other_category.pk, far.pk, old.pk, cancelled.pk})


@pytest.mark.django_db
def test_the_same_callers_open_ticket_is_a_candidate_anywhere(agent, spot, categories):
    mine = new_ticket(agent, categories, near(spot, 3000), code="2101", content="家里停水两天了", phone="13655556666")
    found = selectors.duplicate_candidates(agent, content=NOISE, location=spot, category=categories["2201"], caller_phone="13655556666")
    assert [c.ticket for c in found] == [mine] and found[0].reasons == ["same_caller"]


@pytest.mark.django_db
def test_duplicates_endpoint_is_scoped_and_its_queries_are_pinned(client, agent, haigang_agent, spot, categories,
                                                                  django_assert_max_num_queries):
    for i in range(4):
        new_ticket(agent, categories, near(spot, 40 * i), phone=f"1380000000{i}")
    client.force_login(agent)
    params = {"content": NOISE, "category": categories["2201"].pk, "lon": spot.x, "lat": spot.y, "phone": "13800000001"}
    client.get("/api/hotline/duplicates/", params)  # fills the per-process copies (region, category)
    with django_assert_max_num_queries(5):  # session, user, candidates nearby, the caller's tickets, those tickets
        r = client.get("/api/hotline/duplicates/", params)
    results = r.json()["results"]
    assert len(results) == 4
    assert [x["reasons"][-1] for x in results].count("same_caller") == 1
    client.force_login(haigang_agent)
    assert client.get("/api/hotline/duplicates/", params).json()["results"] == []


@pytest.mark.django_db
def test_duplicates_endpoint_refuses_impossible_coordinates(client, agent, categories):
    client.force_login(agent)
    r = client.get("/api/hotline/duplicates/", {"content": NOISE, "category": categories["2201"].pk, "lon": 500, "lat": 32})
    assert r.status_code == 400
