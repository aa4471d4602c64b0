import pytest
from django.contrib.auth import BACKEND_SESSION_KEY, load_backend
from django.test import Client
from django.urls import reverse
from rest_framework.test import APIClient

from org import permissions as perms
from org.models import Department, Region, Role
from grid.models import Grid

pytestmark = pytest.mark.django_db


def api(user):
    client = APIClient()
    client.force_authenticate(user)
    return client


def test_region_detail_inside_scope_is_shown_and_outside_is_404(alice, charlie):
    town = Region.objects.filter(parent__code="329902000000").first()
    url = reverse("region-detail", args=[town.pk])
    assert api(alice).get(url).status_code == 200
    response = api(charlie).get(url)
    assert response.status_code == 404


def test_region_list_never_shows_rows_outside_scope(alice):
    response = api(alice).get(reverse("region-list"), {"limit": 500})
    codes = {row["code"] for row in response.json()["results"]}
    assert "329902000000" in codes
    assert all(code.startswith("329902") for code in codes)
    # the district, its 4 towns and 16 communities
    assert response.json()["count"] == 1 + 4 + 16


def test_department_staff_see_only_their_department(cg_staff):
    other = Department.objects.get(code="329900-JT")
    assert api(cg_staff).get(reverse("department-detail", args=[other.pk])).status_code == 404
    listed = api(cg_staff).get(reverse("department-list")).json()["results"]
    assert [row["code"] for row in listed] == ["329900-CG"]


def test_anonymous_is_refused(city):
    assert APIClient().get(reverse("region-list")).status_code in (401, 403)


def test_user_without_scope_sees_nothing(city):
    from tests.conftest import make_user

    nobody = make_user("nobody", Role.LEADER)
    assert perms.visible(Region.objects.all(), nobody).count() == 0


def test_visible_grids_follow_region_prefix(alice, charlie):
    assert perms.visible(Grid.objects.all(), alice).count() == 160
    assert not perms.visible(Grid.objects.filter(code__startswith="329902"), charlie).exists()


def test_actions_are_checked_per_role(alice, cg_staff, admin_user):
    perms.register_action("test.dispatch", {Role.DISPATCHER})
    assert perms.can(alice, "test.dispatch")
    assert not perms.can(cg_staff, "test.dispatch")
    assert perms.can(admin_user, "test.dispatch")
    with pytest.raises(KeyError):
        perms.can(alice, "test.never-registered")


def test_me_endpoint_names_role_and_scope(alice):
    body = api(alice).get(reverse("me")).json()
    assert body["role"] == "dispatcher"
    assert body["region"]["code"] == "329902000000"


def test_list_queries_do_not_grow_with_rows(alice, django_assert_max_num_queries):
    with django_assert_max_num_queries(4):
        api(alice).get(reverse("department-list"), {"limit": 200})


def test_a_request_loads_its_user_in_one_query_with_its_scope(alice, cg_staff, django_assert_num_queries):
    """The session's user comes with its scope: `visible()` needs no second query. The region and department
    are joined in that query, the region without its boundary (the largest value in the table)."""
    for user, scope in ((alice, lambda u: u.region.path), (cg_staff, lambda u: (u.department.code, u.department_id))):
        client = Client()
        client.force_login(user)
        request = client.get(reverse("me")).wsgi_request
        assert request.user.pk == user.pk
        backend = request.session[BACKEND_SESSION_KEY]
        assert backend == "org.backends.ScopedModelBackend"
        with django_assert_num_queries(1):
            loaded = load_backend(backend).get_user(user.pk)
            assert scope(loaded)
        if loaded.region_id:
            assert "boundary" in loaded.region.get_deferred_fields()


def test_the_user_row_is_fresh_and_an_edited_region_is_seen_at_once(alice, jiangcheng):
    backend = load_backend("org.backends.ScopedModelBackend")
    assert backend.get_user(alice.pk).region.name == jiangcheng.name
    jiangcheng.name = "江城新区"
    jiangcheng.save()
    assert backend.get_user(alice.pk).region.name == "江城新区"
    alice.is_active = False
    alice.save()
    assert backend.get_user(alice.pk) is None  # read fresh: a deactivated user is out on the next request
