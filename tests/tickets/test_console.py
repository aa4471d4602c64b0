"""The dispatcher console's reads and bulk steps: counts, filters and search, what surrounds a ticket, several new
cases at once with each outcome reported, and the roles that must be refused."""

import pytest
from django.urls import reverse

from org.models import Role
from tests.conftest import make_user
from tickets import services
from tickets.models import State, Ticket

from .conftest import inside

pytestmark = pytest.mark.django_db


@pytest.fixture
def make(categories, grid1, worker):
    def create(title, *, code="1501", at=(0.5, 0.5), phone="", address="春晖路1号", source="grid"):
        return services.ticket_create(
            by=worker, source=source, category=categories[code], title=title, description=f"{title}，请处理", location=inside(grid1, *at),
            address=address, citizen_phone=phone,
        )
    return create


def test_tab_counts_follow_the_queue_and_cost_two_queries(client, town_dispatcher, make, django_assert_max_num_queries):
    client.force_login(town_dispatcher)
    before = client.get(reverse("tickets:console-counts")).json()["counts"]
    t = make("春晖路占道经营计数")
    services.ticket_open(ticket=t, by=town_dispatcher, version=t.version)
    make("春晖路另一件新案件")
    with django_assert_max_num_queries(6):  # session, user, the tabs' aggregate, the requests' count
        after = client.get(reverse("tickets:console-counts")).json()["counts"]
    assert after["new"] == before["new"] + 1 and after["open"] == before["open"] + 1
    assert set(after) == {"new", "open", "active", "escalated", "verify", "requests"}


def test_the_console_page_costs_a_flat_number_of_queries(client, town_dispatcher, make, django_assert_max_num_queries):
    client.force_login(town_dispatcher)
    for n in range(3):
        make(f"队列工单{n}")
    client.get(reverse("tickets:console"))
    with django_assert_max_num_queries(14) as few:
        client.get(reverse("tickets:console"))
    for n in range(12):
        make(f"更多队列工单{n}", at=(0.1 + n * 0.05, 0.3))
    with django_assert_max_num_queries(len(few.captured_queries)):
        page = client.get(reverse("tickets:console"))
    assert page.content.decode().count('class="tk-qrow') >= 15


def test_filters_and_search_by_words_address_phone_and_number(client, town_dispatcher, make, categories):
    client.force_login(town_dispatcher)
    vending = make("菜场门口占道经营", address="江城区春晖路30号")
    water = make("春晖花园停水", code="2101", phone="13911112222", address="江城区春晖花园5栋", source="hotline")
    url = reverse("tickets:console")
    by_category = client.get(url, {"category": categories["2101"].pk}).content.decode()
    assert "春晖花园停水" in by_category and "菜场门口占道经营" not in by_category
    assert "菜场门口占道经营" in client.get(url, {"source": "grid"}).content.decode()
    assert "菜场门口占道经营" not in client.get(url, {"source": "hotline"}).content.decode()
    assert "菜场门口占道经营" in client.get(url, {"q": "春晖路30号"}).content.decode()  # the address
    assert "菜场门口占道经营" in client.get(url, {"q": "门口 占道"}).content.decode()  # words
    by_phone = client.get(url, {"q": "13911112222"}).content.decode()
    assert "春晖花园停水" in by_phone and "菜场门口占道经营" not in by_phone
    assert "春晖花园停水" not in client.get(url, {"q": "1391111222"}).content.decode()  # the exact number only
    assert client.get(url, {"q": vending.number}).url == reverse("tickets:console-ticket", args=[vending.pk])
    # a value that names nothing is ignored, not an error
    assert client.get(url, {"category": "x", "light": "purple", "since": "1y", "community": "999999"}).status_code == 200
    assert water.pk


def test_the_ticket_shows_its_grid_the_open_tickets_nearby_and_the_workers_on_duty(client, town_dispatcher, make, grid1):
    client.force_login(town_dispatcher)
    here = make("春晖路井盖破损", code="0101", at=(0.5, 0.5))
    make("春晖路井盖又坏了", code="0101", at=(0.5, 0.505))
    make("远处的另一件事", at=(0.95, 0.95))
    page = client.get(reverse("tickets:console-ticket", args=[here.pk])).content.decode()
    nearby = page[page.index('id="tk-nearby-list"'):page.index('id="tk-on-duty"')]
    assert "春晖路井盖又坏了" in nearby and "远处的另一件事" not in nearby
    assert "合并到此单" in nearby  # a likely duplicate can be merged from here
    assert grid1.name in page and "Polygon" in page[page.index('id="tk-grid"'):]  # the grid's boundary for the map
    assert "在岗网格员" in page


def test_bulk_open_reports_each_ticket_and_refuses_a_stale_one(client, town_dispatcher, town_dispatcher2, make):
    client.force_login(town_dispatcher)
    a, b, stale = make("批量一"), make("批量二"), make("批量三")
    services.ticket_open(ticket=stale, by=town_dispatcher2, version=stale.version)  # someone else was quicker
    r = client.post(reverse("tickets:console-bulk"), {
        "action": "open", "pick": [f"{a.pk}:{a.version}", f"{b.pk}:{b.version}", f"{stale.pk}:{stale.version}"]}, follow=True)
    text = " ".join(str(m) for m in r.context["messages"])
    assert f"{a.number}：已立案" in text and f"{b.number}：已立案" in text
    assert stale.number in text and "完成 2 件，未能办理 1 件" in text
    assert Ticket.objects.get(pk=a.pk).state == State.OPEN and Ticket.objects.get(pk=stale.pk).version == stale.version + 1


def test_bulk_dispatch_opens_new_cases_and_sends_each_to_its_suggested_department(client, town_dispatcher, make, zf):
    client.force_login(town_dispatcher)
    a, b = make("批量派遣一"), make("批量派遣二")
    client.post(reverse("tickets:console-bulk"), {"action": "dispatch", "pick": [f"{a.pk}:{a.version}", f"{b.pk}:{b.version}"]})
    for t in (a, b):
        t = Ticket.objects.get(pk=t.pk)
        assert t.state == State.DISPATCHED and t.assignments.get().department == zf


def test_bulk_cancel_needs_a_reason_and_writes_nothing_without_one(client, town_dispatcher, make):
    client.force_login(town_dispatcher)
    a = make("批量不予立案")
    r = client.post(reverse("tickets:console-bulk"), {"action": "cancel", "pick": [f"{a.pk}:{a.version}"]}, follow=True)
    assert "请填写不予立案的理由" in r.content.decode()
    assert Ticket.objects.get(pk=a.pk).state == State.NEW
    client.post(reverse("tickets:console-bulk"), {"action": "cancel", "reason": "重复上报", "pick": [f"{a.pk}:{a.version}"]})
    assert Ticket.objects.get(pk=a.pk).state == State.CANCELLED


def test_another_centers_dispatcher_cannot_act_on_the_queue_and_other_roles_are_refused(client, charlie, make, zf_staff):
    a = make("别的中心的工单")
    client.force_login(charlie)
    r = client.post(reverse("tickets:console-bulk"), {"action": "open", "pick": [f"{a.pk}:{a.version}"]}, follow=True)
    assert "不在您的队列中" in r.content.decode()
    assert Ticket.objects.get(pk=a.pk).state == State.NEW
    assert client.get(reverse("tickets:console-ticket", args=[a.pk])).status_code == 404
    client.force_login(zf_staff)
    assert client.get(reverse("tickets:console-counts")).status_code == 403
    assert client.post(reverse("tickets:console-bulk"), {"action": "open", "pick": [f"{a.pk}:{a.version}"]}).status_code == 403
    agent = make_user("agent_t", Role.HOTLINE_AGENT, region=charlie.region)
    client.force_login(agent)
    assert client.get(reverse("tickets:console")).status_code == 403
