import pytest
from django.urls import reverse

pytestmark = pytest.mark.django_db


def test_login_page_is_chinese_by_default(client, city):
    response = client.get(reverse("login"))
    html = response.content.decode()
    assert response.status_code == 200
    assert "登录" in html and "江海市" in html
    assert 'lang="zh-hans"' in html


def test_chinese_even_for_an_english_browser(client, city):
    response = client.get(reverse("login"), HTTP_ACCEPT_LANGUAGE="en-US,en;q=0.9")
    assert "登录" in response.content.decode()


def test_english_is_available_through_the_language_switch(client, city):
    client.post(reverse("set_language"), {"language": "en", "next": "/login/"})
    response = client.get(reverse("login"))
    assert "Sign in" in response.content.decode()


def test_home_lists_every_workspace_of_the_role(client, alice):
    from org import workspaces

    client.force_login(alice)
    mine = workspaces.for_user(alice)
    response = client.get(reverse("home"), {"stay": 1})
    html = response.content.decode()
    assert response.status_code == 200
    assert mine, "a dispatcher has at least one workspace"
    for workspace in mine:
        assert f'href="{workspace.url}"' in html


def test_home_sends_a_role_with_one_workspace_straight_there(client, city):
    from org import workspaces
    from org.models import Role
    from tests.conftest import make_user

    for role in Role.values:
        user = make_user(f"only-{role}", role, region=city) if role not in ("department_staff", "data_officer") else None
        if user is None:
            continue
        mine = workspaces.for_user(user)
        client.force_login(user)
        response = client.get(reverse("home"))
        if len(mine) == 1:
            assert response.status_code == 302 and response["Location"] == mine[0].url
        else:
            assert response.status_code == 200


def test_home_requires_login(client, city):
    response = client.get(reverse("home"))
    assert response.status_code == 302 and reverse("login") in response["Location"]


def test_login_locks_out_after_five_failures(client, alice):
    url = reverse("login")
    for _ in range(5):
        client.post(url, {"username": "alice", "password": "wrong-password"})
    # Even the right password is refused while locked out.
    response = client.post(url, {"username": "alice", "password": "Test-pass-2026"})
    assert response.status_code == 429
    assert "锁定" in response.content.decode()


def test_right_password_signs_in(client, alice):
    response = client.post(reverse("login"), {"username": "alice", "password": "Test-pass-2026"})
    assert response.status_code == 302


def test_api_docs_and_schema_render_without_cdn(client, alice):
    client.force_login(alice)
    docs = client.get(reverse("api-docs"))
    assert docs.status_code == 200
    assert "cdn" not in docs.content.decode().lower()
    schema = client.get(reverse("schema"), {"format": "json"})
    assert schema.status_code == 200 and "/api/org/regions/" in schema.json()["paths"]


def test_admin_shows_region_on_a_leaflet_map(client, admin_user):
    from org.models import Region

    client.force_login(admin_user)
    region = Region.objects.get(code="329902000000")
    html = client.get(reverse("admin:org_region_change", args=[region.pk])).content.decode()
    assert "leaflet" in html.lower()
