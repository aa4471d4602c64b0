"""Fixtures for hotline tests: agents and other roles, the gazetteer and knowledge base, a point in 春晖社区,
and a helper that walks a ticket through the loop to closed."""

import pytest
from django.contrib.auth.models import Permission
from django.contrib.gis.geos import Point

from org.models import Department, Role
from hotline import demo, gazetteer
from hotline.models import Open311Client
from tests.conftest import make_user
from tickets import services as ticket_services
from tickets.demo import load_categories
from tickets.models import Category
from tests.conftest import current_version


@pytest.fixture(autouse=True)
def no_demo_contacts(request):
    """Figures and counts in these tests start from no contacts (the demo city brings a few)."""
    if "db" in request.fixturenames or request.node.get_closest_marker("django_db"):
        from hotline.models import Contact, ReturnVisit

        request.getfixturevalue("city")
        ReturnVisit.objects.all().delete()
        Contact.objects.all().delete()


@pytest.fixture
def categories(city):
    load_categories()
    return {c.code: c for c in Category.objects.filter(parent__isnull=False)}


@pytest.fixture
def hotline_data(categories):
    demo.load_gazetteer()
    gazetteer.reset()
    demo.load_services()
    demo.load_articles()


@pytest.fixture
def agent(city, hotline_data):
    """A city hotline agent."""
    return make_user("hl_agent", Role.HOTLINE_AGENT, region=city)


@pytest.fixture
def editor_agent(city, hotline_data):
    """A hotline agent allowed to edit the knowledge base."""
    user = make_user("hl_editor", Role.HOTLINE_AGENT, region=city)
    user.user_permissions.add(Permission.objects.get(codename="edit_knowledge", content_type__app_label="hotline"))
    return user


@pytest.fixture
def haigang_agent(haigang, hotline_data):
    """An agent scoped to 海港区: an outsider to tickets in 江城区."""
    return make_user("hg_agent", Role.HOTLINE_AGENT, region=haigang)


@pytest.fixture
def leader(city):
    return make_user("hl_leader", Role.LEADER, region=city)


@pytest.fixture
def chief(city):
    return make_user("hl_chief", Role.DUTY_CHIEF, region=city)


@pytest.fixture
def spot(grid1) -> Point:
    x0, y0, x1, y1 = grid1.boundary.extent
    return Point((x0 + x1) / 2, (y0 + y1) / 2, srid=4326)


def near(point: Point, metres_east: float) -> Point:
    return Point(point.x + metres_east / 94_500, point.y, srid=4326)


@pytest.fixture
def town_dispatcher(wangjiang):
    return make_user("hl_wj_disp", Role.DISPATCHER, region=wangjiang)


@pytest.fixture
def zf_staff(wangjiang):
    return make_user("hl_zf_staff", Role.DEPARTMENT_STAFF, department=Department.objects.get(code=f"{wangjiang.code[:9]}-ZF"))


@pytest.fixture
def close_ticket(town_dispatcher, zf_staff):
    """Walk a new ticket through open → dispatch → sign → reply → verify (closed)."""

    def run(ticket):
        t = ticket_services.ticket_open(ticket=ticket, by=town_dispatcher, version=current_version(ticket))
        t = ticket_services.ticket_dispatch(ticket=t, by=town_dispatcher, lead=zf_staff.department, version=current_version(t))
        a = t.assignments.get()
        ticket_services.ticket_sign(assignment=a, by=zf_staff, version=current_version(a))
        ticket_services.ticket_reply(assignment=a, by=zf_staff, reply="已处理", version=current_version(a))
        t.refresh_from_db()
        return ticket_services.ticket_verify(ticket=t, by=town_dispatcher, passed=True, version=t.version)

    return run


@pytest.fixture
def open311_key(hotline_data):
    client = Open311Client(name="江海市民App")
    raw = client.set_new_key()
    client.save()
    return raw
