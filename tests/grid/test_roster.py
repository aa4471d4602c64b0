"""Rosters: one full-time worker per grid (一人一格), helpers attached, every change kept as history."""

import pytest
from django.core.exceptions import ValidationError

from command_center.org.models import Role
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
