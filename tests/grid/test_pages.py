"""The /m/ pages: Chinese, only for grid workers, the report endpoint with photos, verification, the service worker."""

import io

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse
from PIL import Image

from tickets.models import Ticket

from .conftest import inside
from tests.conftest import current_version

pytestmark = pytest.mark.django_db


def photo(name="p.jpg", color=(200, 80, 40)):
    buf = io.BytesIO()
    Image.new("RGB", (64, 48), color).save(buf, format="JPEG")
    return SimpleUploadedFile(name, buf.getvalue(), content_type="image/jpeg")


def test_pages_render_in_chinese(client, worker):
    client.force_login(worker)
    for name in ("field:m-home", "field:m-report", "field:m-reports", "field:m-verify", "field:m-checkin", "field:m-patrol"):
        r = client.get(reverse(name))
        assert r.status_code == 200, name
        assert 'lang="zh-hans"' in r.content.decode()
    assert "上报" in client.get(reverse("field:m-home")).content.decode()


def test_home_sends_grid_workers_to_the_phone_workspace(client, worker):
    client.force_login(worker)
    r = client.get(reverse("home"))
    assert r.status_code == 302 and r["Location"] == reverse("field:m-home")


def test_service_worker_is_served_under_m(client, worker):
    r = client.get(reverse("field:m-sw"))
    assert r.status_code == 200 and r["Content-Type"].startswith("application/javascript")
    assert r["Service-Worker-Allowed"] == "/m/"
    assert "/m/report/" in r.content.decode()


def test_report_with_photos_lands_in_the_right_grid(client, worker, grid2, category):
    client.force_login(worker)
    p = inside(grid2)
    r = client.post(
        reverse("field:m-api-report"),
        {"category": category.pk, "description": "路口堆了三袋垃圾", "lon": p.x, "lat": p.y, "photos": [photo(), photo("b.jpg")]},
        HTTP_IDEMPOTENCY_KEY="report-key-0001",
    )
    assert r.status_code == 201, r.content
    ticket = Ticket.objects.get(pk=r.json()["id"])
    assert ticket.grid == grid2 and ticket.community == grid2.community and ticket.reporter == worker
    assert ticket.photos.count() == 2
    # Replayed from the offline queue: the same answer, still one ticket.
    again = client.post(
        reverse("field:m-api-report"),
        {"category": category.pk, "description": "路口堆了三袋垃圾", "lon": p.x, "lat": p.y, "photos": [photo(), photo("b.jpg")]},
        HTTP_IDEMPOTENCY_KEY="report-key-0001",
    )
    assert again.json()["id"] == ticket.pk and Ticket.objects.filter(reporter=worker).count() == 1
    # The same key on another report is refused, not answered with the first one.
    other = client.post(reverse("field:m-api-report"), {"category": category.pk, "description": "x", "lon": p.x, "lat": p.y},
                        HTTP_IDEMPOTENCY_KEY="report-key-0001")
    assert other.status_code == 422 and "Idempotency-Key" in other.json()["detail"]
    assert Ticket.objects.filter(reporter=worker).count() == 1
    # My reports shows it, with its timeline.
    assert ticket.number in client.get(reverse("field:m-reports")).content.decode()
    detail = client.get(reverse("field:m-report-detail", args=[ticket.pk])).content.decode()
    assert "上报" in detail


def test_report_outside_every_grid_is_accepted_at_the_nearest_community(client, worker, category):
    client.force_login(worker)
    r = client.post(reverse("field:m-api-report"),
                    {"category": category.pk, "description": "城外路段", "lon": "119.95", "lat": "31.81"})
    assert r.status_code == 201
    body = r.json()
    ticket = Ticket.objects.get(pk=body["id"])
    assert ticket.grid is None and ticket.community.level == 4
    assert ticket.community.name in body["message"]


def test_self_resolve_needs_an_after_photo_and_closes(client, worker, grid2, category):
    client.force_login(worker)
    p = inside(grid2)
    data = {"category": category.pk, "description": "随手清理", "lon": p.x, "lat": p.y, "self_resolved": "1", "note": "已清理"}
    r = client.post(reverse("field:m-api-report"), data)
    assert r.status_code == 400 and Ticket.objects.filter(reporter=worker).count() == 0
    r = client.post(reverse("field:m-api-report"), {**data, "after_photo": photo()})
    assert r.status_code == 201 and r.json()["state"] == "closed"


def test_report_without_category_or_location_is_refused(client, worker, category):
    client.force_login(worker)
    r = client.post(reverse("field:m-api-report"), {"description": "x", "lon": "120.01", "lat": "31.81"})
    assert r.status_code == 400 and "分类" in r.json()["detail"]
    r = client.post(reverse("field:m-api-report"), {"category": category.pk, "description": "x"})
    assert r.status_code == 400 and "地图" in r.json()["detail"]
    assert not Ticket.objects.filter(reporter=worker).exists()


def _ticket_to_verify(worker, grid, category):
    """A ticket of the grid taken through dispatch and the department's reply, so it waits for verification."""
    from org.models import Department, Role, User
    from tickets import services as ts
    from tickets.models import Source

    dispatcher = User.objects.filter(role=Role.DISPATCHER, region=grid.community.parent).first() or User.objects.create_user(
        username="wj_disp_t", password="x-Test-2026", role=Role.DISPATCHER, region=grid.community.parent)
    t = ts.ticket_create(by=worker, source=Source.GRID, category=category, title="垃圾", description="堆放", location=inside(grid))
    t = ts.ticket_open(ticket=t, by=dispatcher, version=current_version(t))
    dept = Department.objects.filter(region=grid.community.parent).first()
    t = ts.ticket_dispatch(ticket=t, by=dispatcher, lead=dept, version=current_version(t))
    staff = User.objects.create_user(username="dept_t", password="x-Test-2026", role=Role.DEPARTMENT_STAFF, department=dept)
    assignment = t.assignments.get()
    ts.ticket_sign(assignment=assignment, by=staff, version=current_version(assignment))
    assignment.refresh_from_db()
    ts.ticket_reply(assignment=assignment, by=staff, reply="已清运", photos=[photo()], version=current_version(assignment))
    t.refresh_from_db()
    assert t.state == "verifying" and t.verifier == worker
    return t


def test_verification_pass_closes_and_stale_version_is_409(client, worker, grid2, category, chunhui):
    ticket = _ticket_to_verify(worker, grid2, category)
    client.force_login(worker)
    assert ticket.number in client.get(reverse("field:m-verify")).content.decode()
    detail = client.get(reverse("field:m-verify-detail", args=[ticket.pk])).content.decode()
    assert "已清运" in detail and "核查通过" in detail  # the department's reply, and the buttons
    url = reverse("field:m-api-verify", args=[ticket.pk])
    r = client.post(url, {"passed": "1", "version": ticket.version})
    assert r.status_code == 400  # no after-photo
    r = client.post(url, {"passed": "1", "version": ticket.version - 1, "photo": photo()})
    assert r.status_code == 409
    r = client.post(url, {"passed": "1", "version": ticket.version, "photo": photo()}, HTTP_IDEMPOTENCY_KEY="verify-key-001")
    assert r.status_code == 201 and r.json()["state"] == "closed"
    again = client.post(url, {"passed": "1", "version": ticket.version, "photo": photo()}, HTTP_IDEMPOTENCY_KEY="verify-key-001")
    assert again.status_code == 201 and again.json()["state"] == "closed"


def test_someone_elses_verification_is_404(client, worker, grid2, category, chunhui):
    from org.models import Role
    from grid.models import GridWorker
    from grid.services import gridworker_assign
    from tests.conftest import make_user

    ticket = _ticket_to_verify(worker, grid2, category)
    other = make_user("gw_eve", Role.GRIDWORKER, region=chunhui)
    gridworker_assign(user=other, grid=grid2, kind=GridWorker.Kind.VOLUNTEER)
    client.force_login(other)
    assert client.get(reverse("field:m-verify-detail", args=[ticket.pk])).status_code == 404
    r = client.post(reverse("field:m-api-verify", args=[ticket.pk]), {"passed": "1", "version": ticket.version, "photo": photo()})
    assert r.status_code == 404


def test_verification_fail_sends_it_back_as_rework(client, worker, grid2, category):
    ticket = _ticket_to_verify(worker, grid2, category)
    client.force_login(worker)
    url = reverse("field:m-api-verify", args=[ticket.pk])
    r = client.post(url, {"passed": "0", "version": ticket.version, "photo": photo()})
    assert r.status_code == 400  # failing needs a note saying what is still wrong
    ticket.refresh_from_db()
    assert ticket.state == "verifying"
    r = client.post(url, {"passed": "0", "version": ticket.version, "photo": photo(), "note": "仍有垃圾未清运"})
    assert r.status_code == 201 and r.json()["state"] == "handling"
    assert ticket.number not in client.get(reverse("field:m-verify")).content.decode()


def test_report_photos_are_served_only_through_the_scoped_photo_view(client, worker, grid2, category, charlie):
    client.force_login(worker)
    p = inside(grid2)
    r = client.post(reverse("field:m-api-report"), {"category": category.pk, "description": "井盖缺了一块", "lon": p.x, "lat": p.y,
                                                   "photos": [photo()]}, HTTP_IDEMPOTENCY_KEY="report-key-photo")
    ticket = Ticket.objects.get(pk=r.json()["id"])
    stored = ticket.photos.get()
    html = client.get(reverse("field:m-report-detail", args=[ticket.pk])).content.decode()
    thumb = reverse("tickets:photo", args=[stored.pk, "thumb"])
    assert thumb in html and "/media/" not in html
    assert client.get(thumb)["Content-Type"] == "image/jpeg"
    # The file is not reachable by its storage path, and an outsider gets 404 from the view.
    assert client.get(stored.image.url).status_code == 404
    client.force_login(charlie)
    assert client.get(thumb).status_code == 404
