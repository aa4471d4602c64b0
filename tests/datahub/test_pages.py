"""Catalog, resource and token pages: who sees what, and the secret shown once."""

import pytest
from django.test import Client

from datahub import services
from datahub.models import AccessRequest, DepartmentToken

pytestmark = pytest.mark.django_db


def logged_in(user):
    client = Client()
    client.force_login(user)
    return client


def test_catalog_page_lists_every_entry_with_sharing_and_freshness(jt_officer, django_assert_max_num_queries):
    client = logged_in(jt_officer)
    with django_assert_max_num_queries(12):
        response = client.get("/datahub/")
    html = response.content.decode()
    assert response.status_code == 200
    assert "数据资源目录" in html and "危险货物运输车辆实时定位" in html and "刑事案件明细" in html
    assert "无条件共享" in html and "有条件共享" in html and "不予共享" in html
    filtered = client.get("/datahub/", {"sharing": "not_shared"}).content.decode()
    assert "刑事案件明细" in filtered and "危险货物运输车辆实时定位" not in filtered


def test_catalog_is_refused_to_a_dispatcher(alice):
    assert logged_in(alice).get("/datahub/").status_code == 403
    assert logged_in(alice).get("/datahub/r/JT-HAZMAT-GPS/").status_code == 403


def test_request_and_approval_through_the_pages(jt_officer, sj_officer, positions):
    requester = logged_in(sj_officer)
    page = requester.get(f"/datahub/r/{positions.code}/").content.decode()
    assert "申请共享" in page and "字段结构" in page and "plate" in page
    requester.post(f"/datahub/r/{positions.code}/request/", {"purpose": "危化品企业监管"})
    request = AccessRequest.objects.get()
    assert request.status == "pending"
    # the requester cannot decide it; the owner can
    assert requester.post(f"/datahub/requests/{request.pk}/decide/", {"decision": "approve"}).status_code == 404
    owner = logged_in(jt_officer)
    assert "待贵部门审批的共享申请" in owner.get("/datahub/").content.decode()
    owner.post(f"/datahub/requests/{request.pk}/decide/", {"decision": "approve", "note": "同意，限监管使用"})
    request.refresh_from_db()
    assert request.status == "approved" and request.decided_by == jt_officer
    assert "贵部门可以读取该资源" in requester.get(f"/datahub/r/{positions.code}/").content.decode()


def test_token_page_shows_the_secret_once_and_revokes(jt_officer, sj_officer, positions):
    client = logged_in(jt_officer)
    page = client.get("/datahub/tokens/").content.decode()
    assert f'value="{positions.pk}:push"' in page
    response = client.post("/datahub/tokens/", {"name": "GPS 平台", "scope": [f"{positions.pk}:push"]}, follow=True)
    html = response.content.decode()
    token = DepartmentToken.objects.get()
    assert response["Cache-Control"] == "no-store"
    secret = html.split('data-testid="secret">')[1].split("<")[0]
    assert services.hash_token(secret) == token.key_hash
    assert secret not in client.get("/datahub/tokens/").content.decode()
    # another department's officer can neither see nor revoke it
    assert "GPS 平台" not in logged_in(sj_officer).get("/datahub/tokens/").content.decode()
    assert logged_in(sj_officer).post(f"/datahub/tokens/{token.pk}/revoke/").status_code == 404
    client.post(f"/datahub/tokens/{token.pk}/revoke/")
    token.refresh_from_db()
    assert token.revoked_at is not None


def test_token_page_refuses_a_push_scope_on_someone_elses_resource(sj_officer, positions):
    client = logged_in(sj_officer)
    client.post("/datahub/tokens/", {"name": "x", "scope": [f"{positions.pk}:push"]})
    assert not DepartmentToken.objects.exists()


def test_a_leader_reads_the_catalog_and_its_statistics(city):
    from org.models import Role
    from tests.conftest import make_user

    leader = make_user("city_leader", Role.LEADER, region=city)
    response = logged_in(leader).get("/datahub/")
    assert response.status_code == 200 and "今日交换记录数" in response.content.decode()
    assert logged_in(leader).get("/datahub/tokens/").status_code == 403  # tokens are a data officer's
