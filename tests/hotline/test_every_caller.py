"""Every citizen who called about a ticket is visited back, and the visit page reads out the department's reply."""

import pytest
from django.urls import reverse

from hotline import services
from hotline.models import Outcome, ReturnVisit

from .conftest import near

pytestmark = pytest.mark.django_db
NOISE = "春晖路工地晚上十一点以后还在打桩，噪音很大，严重扰民"


def call(agent, spot, categories, *, phone, name, link_to=None, offset=0):
    return services.contact_create(
        by=agent, channel="phone", type="complaint", content=NOISE, caller_name=name, caller_phone=phone,
        outcome=Outcome.LINKED if link_to else Outcome.NEW_TICKET, link_to=link_to, location=near(spot, offset),
        category=categories["2201"],
    )


def test_each_caller_gets_a_return_visit_once_and_sees_the_reply(client, agent, spot, categories, close_ticket):
    first = call(agent, spot, categories, phone="13500001111", name="王建国")
    call(agent, spot, categories, phone="13900002222", name="李梅", link_to=first.ticket, offset=40)
    call(agent, spot, categories, phone="13900002222", name="李梅", link_to=first.ticket, offset=40)  # she called twice
    ticket = close_ticket(first.ticket)
    visits = ReturnVisit.objects.filter(ticket=ticket).select_related("contact")
    assert sorted(v.contact.caller_phone for v in visits) == ["13500001111", "13900002222"]

    client.force_login(agent)
    page = client.get(reverse("hotline:visits")).content.decode()
    assert page.count(ticket.number) == 2  # one row per caller
    assert "13500001111" in page and "13900002222" in page
    assert "望江街道综合行政执法队" in page and "已处理" in page  # what the department replied
