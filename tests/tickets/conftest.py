"""Fixtures for ticket tests: the 望江街道 center, its departments' staff, the grid worker and photos."""

import io

import pytest
from django.contrib.gis.geos import Point
from django.core.files.uploadedfile import SimpleUploadedFile
from PIL import Image

from org.models import Department, Role
from grid.models import GridWorker
from tests.conftest import make_user
from tickets import services
from tickets.demo import load_categories
from tickets.models import Category


@pytest.fixture
def categories(city):
    load_categories()
    return {c.code: c for c in Category.objects.filter(parent__isnull=False)}


@pytest.fixture
def town_dispatcher(wangjiang):
    return make_user("wj_disp", Role.DISPATCHER, region=wangjiang)


@pytest.fixture
def town_dispatcher2(wangjiang):
    return make_user("wj_disp2", Role.DISPATCHER, region=wangjiang)


@pytest.fixture
def duty_chief(wangjiang):
    return make_user("wj_chief", Role.DUTY_CHIEF, region=wangjiang)


@pytest.fixture
def zf(wangjiang):
    return Department.objects.get(code=f"{wangjiang.code[:9]}-ZF")


@pytest.fixture
def sq(wangjiang):
    return Department.objects.get(code=f"{wangjiang.code[:9]}-SQ")


@pytest.fixture
def zf_staff(zf):
    return make_user("zf_staff", Role.DEPARTMENT_STAFF, department=zf)


@pytest.fixture
def sq_staff(sq):
    return make_user("sq_staff", Role.DEPARTMENT_STAFF, department=sq)


@pytest.fixture
def worker(grid1, chunhui):
    """The full-time grid worker of grid1 (the demo may already have one)."""
    existing = GridWorker.objects.filter(grid=grid1, kind=GridWorker.Kind.FULL_TIME, is_active=True).first()
    if existing:
        return existing.user
    user = make_user("gw1", Role.GRIDWORKER, region=chunhui)
    GridWorker.objects.create(user=user, grid=grid1, kind=GridWorker.Kind.FULL_TIME)
    return user


def inside(grid, fx=0.5, fy=0.5) -> Point:
    x0, y0, x1, y1 = grid.boundary.extent
    return Point(x0 + (x1 - x0) * fx, y0 + (y1 - y0) * fy, srid=4326)


def jpeg_bytes(size=(64, 48), color=(200, 30, 30), exif=True) -> bytes:
    img = Image.new("RGB", size, color)
    buf = io.BytesIO()
    if exif:
        ex = Image.Exif()
        ex[0x010F] = "SecretCam"  # Make
        ex[0x8825] = {2: (31.0, 50.0, 0.0)}  # GPS info
        img.save(buf, format="JPEG", exif=ex.tobytes())
    else:
        img.save(buf, format="JPEG")
    return buf.getvalue()


def photo(name="p.jpg", **kwargs) -> SimpleUploadedFile:
    return SimpleUploadedFile(name, jpeg_bytes(**kwargs), content_type="image/jpeg")


@pytest.fixture
def new_ticket(categories, grid1, worker):
    def make(code="1501", urgent=False, by=None, **extra):
        return services.ticket_create(
            by=by or worker, source="grid", category=categories[code], title="占道经营测试", description="早市摊贩占道",
            location=inside(grid1), address="春晖路1号", urgent=urgent, **extra,
        )
    return make


@pytest.fixture
def dispatched(new_ticket, town_dispatcher, zf):
    def make(code="1501", assisting=(), **extra):
        t = new_ticket(code, **extra)
        t = services.ticket_open(ticket=t, by=town_dispatcher, version=t.version)
        return services.ticket_dispatch(ticket=t, by=town_dispatcher, lead=zf, assisting=assisting, version=t.version)
    return make
