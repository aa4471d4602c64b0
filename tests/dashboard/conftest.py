"""Tickets taken along the closed loop by the people of 望江街道 (江城区) and 海港区, for the wall and the statistics."""

import datetime as dt
from unittest import mock

import pytest
from django.contrib.gis.geos import Point
from django.utils import timezone

from org.models import Department, Region, Role
from grid.models import Grid, GridWorker
from tests.conftest import current_version, make_user
from tickets import services
from tickets.demo import load_categories
from tickets.models import Category


def inside(grid, fx=0.5, fy=0.5) -> Point:
    x0, y0, x1, y1 = grid.boundary.extent
    return Point(x0 + (x1 - x0) * fx, y0 + (y1 - y0) * fy, srid=4326)


class Loop:
    """One town center's people, and each step of a ticket's life as one call."""

    def __init__(self, town: Region, tag: str):
        load_categories()
        self.town = town
        self.categories = {c.code: c for c in Category.objects.filter(parent__isnull=False)}
        self.grids = list(Grid.objects.filter(community__parent=town).order_by("code")[:8])
        self.dispatcher = make_user(f"{tag}_disp", Role.DISPATCHER, region=town)
        self.chief = make_user(f"{tag}_chief", Role.DUTY_CHIEF, region=town)
        self.zf = Department.objects.get(code=f"{town.code[:9]}-ZF")
        self.sq = Department.objects.get(code=f"{town.code[:9]}-SQ")
        self.zf_staff = make_user(f"{tag}_zf", Role.DEPARTMENT_STAFF, department=self.zf)
        self.sq_staff = make_user(f"{tag}_sq", Role.DEPARTMENT_STAFF, department=self.sq)
        self.staff = {self.zf.pk: self.zf_staff, self.sq.pk: self.sq_staff}
        worker = GridWorker.objects.filter(grid__in=self.grids, kind=GridWorker.Kind.FULL_TIME, is_active=True).first()
        self.verifier = self.dispatcher if worker is None else None

    def create(self, *, code="1501", source="grid", n=0, title="占道经营", at=None):
        def make():
            return services.ticket_create(
                by=self.dispatcher, source=source, category=self.categories[code], title=title, description="",
                location=inside(self.grids[n % len(self.grids)], 0.3 + 0.05 * (n % 5), 0.6),
            )

        return self._at(at, make)

    def dispatch(self, t, *, lead=None, at=None):
        def step():
            opened = services.ticket_open(ticket=t, by=self.dispatcher, version=current_version(t)) if t.state == "new" else t
            return services.ticket_dispatch(ticket=opened, by=self.dispatcher, lead=lead or self.zf, version=current_version(opened))

        return self._at(at, step)

    def lead(self, t):
        return t.assignments.filter(role="lead", state__in=["dispatched", "signed"]).get()

    def sign(self, t):
        a = self.lead(t)
        return services.ticket_sign(assignment=a, by=self.staff[a.department_id], version=current_version(a)).ticket

    def reply(self, t):
        a = t.assignments.filter(role="lead", state="signed").get()
        services.ticket_reply(assignment=a, by=self.staff[a.department_id], reply="已处理完毕", version=current_version(a))
        t.refresh_from_db()
        return t

    def verify(self, t, *, passed=True):
        by = t.verifier
        return services.ticket_verify(ticket=t, by=by, passed=passed, note="" if passed else "仍未清理干净", version=t.version)

    def close(self, t):
        return self.verify(self.reply(self.sign(t)))

    def give_back(self, t):
        a = self.lead(t)
        r = services.ticket_request(ticket=t, by=self.staff[a.department_id], kind="return", reason="不属于本部门职责", assignment=a, version=current_version(t))
        services.ticket_decide(request=r, by=self.dispatcher, approve=True, version=current_version(r))
        t.refresh_from_db()
        return t

    def extend(self, t, days=2):
        a = self.lead(t)
        r = services.ticket_request(ticket=t, by=self.staff[a.department_id], kind="extension", reason="需要采购材料",
                                    assignment=a, extra_days=days, version=current_version(t))
        services.ticket_decide(request=r, by=self.chief, approve=True, version=current_version(r))
        t.refresh_from_db()
        return t

    def escalate(self, t):
        return services.ticket_escalate(ticket=t, by=self.dispatcher, note="情况复杂，提请上级协调", version=current_version(t))

    def rate(self, t, satisfaction="satisfied"):
        return services.ticket_rate(ticket=t, by=None, satisfaction=satisfaction)

    @staticmethod
    def _at(at, step):
        if at is None:
            return step()
        with mock.patch("django.utils.timezone.now", return_value=at):
            return step()


@pytest.fixture
def haigang_town(haigang):
    return Region.objects.filter(parent=haigang).order_by("code").first()


@pytest.fixture
def loop(wangjiang):
    return Loop(wangjiang, "wj")


@pytest.fixture
def hg_loop(haigang_town):
    return Loop(haigang_town, "hg")


@pytest.fixture
def jc_leader(jiangcheng):
    return make_user("jc_leader_t", Role.LEADER, region=jiangcheng)


@pytest.fixture
def city_leader(city):
    return make_user("city_leader_t", Role.LEADER, region=city)


def days_ago(n: int) -> dt.datetime:
    return timezone.now() - dt.timedelta(days=n)


@pytest.fixture(autouse=True)
def own_cache_prefix(settings):
    """The wall caches its history per group and day; each test starts without another test's figures."""
    import uuid

    settings.CACHES = {**settings.CACHES, "default": {**settings.CACHES["default"], "KEY_PREFIX": f"test-{uuid.uuid4().hex}"}}
