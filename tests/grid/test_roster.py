"""Rosters: one full-time worker per grid (一人一格), helpers attached, every change kept as history."""

import pytest
from django.core.exceptions import ValidationError

from org.models import Role
from grid.models import Grid, GridWorker, GridWorkerChange
from grid.selectors import full_time_worker, grid_of_worker, roster_of
from grid.services import gridworker_assign, gridworker_leave
from tests.conftest import make_user

pytestmark = pytest.mark.django_db


def test_second_full_time_worker_is_refused(worker, grid2, chunhui):
    other = make_user("gw_other", Role.GRIDWORKER, region=chunhui)
    with pytest.raises(ValidationError, match="专职网格员"):
        gridworker_assign(user=other, grid=grid2, kind=GridWorker.Kind.FULL_TIME)
    assert full_time_worker(grid2) == worker
    assert not GridWorker.objects.filter(user=other).exists()


def test_helpers_attach_and_roster_lists_full_time_first(worker, grid2, chunhui):
    police = make_user("gw_police2", Role.GRIDWORKER, region=chunhui)
    volunteer = make_user("gw_vol2", Role.GRIDWORKER, region=chunhui)
    gridworker_assign(user=volunteer, grid=grid2, kind=GridWorker.Kind.VOLUNTEER)
    gridworker_assign(user=police, grid=grid2, kind=GridWorker.Kind.POLICE)
    kinds = [w.kind for w in roster_of(grid2)]
    assert kinds == ["full_time", "police", "volunteer"]


def test_move_and_leave_are_kept_as_history(worker, grid2, chunhui):
    grid3 = Grid.objects.filter(community=chunhui).order_by("code")[2]
    gridworker_assign(user=worker, grid=grid3, kind=GridWorker.Kind.FULL_TIME, note="调整网格")
    assert grid_of_worker(worker) == grid3 and full_time_worker(grid2) is None
    gridworker_assign(user=worker, grid=grid3, kind=GridWorker.Kind.GRID_HEAD)
    gridworker_leave(worker=worker.grid_worker)
    assert grid_of_worker(worker) is None
    history = list(GridWorkerChange.objects.filter(worker__user=worker).order_by("id").values_list("action", "from_grid", "to_grid"))
    assert history == [
        ("joined", None, grid2.pk),
        ("moved", grid2.pk, grid3.pk),
        ("kind_changed", grid3.pk, grid3.pk),
        ("left", grid3.pk, None),
    ]
    # The grid is free again for a new full-time worker.
    newcomer = make_user("gw_new", Role.GRIDWORKER, region=chunhui)
    gridworker_assign(user=newcomer, grid=grid2, kind=GridWorker.Kind.FULL_TIME)
    assert full_time_worker(grid2) == newcomer


def test_admin_edits_go_through_the_roster_service(client, admin_user, grid2, chunhui):
    from django.urls import reverse

    client.force_login(admin_user)
    page = client.get(reverse("admin:grid_grid_change", args=[grid2.pk])).content.decode()
    assert "leaflet" in page.lower()  # the boundary is edited on a Leaflet map
    newcomer = make_user("gw_admin_added", Role.GRIDWORKER, region=chunhui)
    r = client.post(reverse("admin:grid_gridworker_add"), {
        "user": newcomer.pk, "grid": grid2.pk, "kind": "volunteer", "is_active": "on",
        "changes-TOTAL_FORMS": "0", "changes-INITIAL_FORMS": "0",
    })
    assert r.status_code == 302, r.content.decode()[:2000]
    change = GridWorkerChange.objects.get(worker__user=newcomer)
    assert change.action == "joined" and change.by == admin_user
    # A second full-time worker is refused by the form, in Chinese.
    other = make_user("gw_admin_ft", Role.GRIDWORKER, region=chunhui)
    gridworker_assign(user=make_user("gw_ft", Role.GRIDWORKER, region=chunhui), grid=grid2, kind=GridWorker.Kind.FULL_TIME)
    r = client.post(reverse("admin:grid_gridworker_add"), {
        "user": other.pk, "grid": grid2.pk, "kind": "full_time", "is_active": "on",
        "changes-TOTAL_FORMS": "0", "changes-INITIAL_FORMS": "0",
    })
    assert r.status_code == 200 and "一人一格" in r.content.decode()
    assert not GridWorker.objects.filter(user=other).exists()
