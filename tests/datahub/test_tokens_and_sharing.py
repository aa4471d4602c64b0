"""Department tokens (hashed, scoped, revocable) and the sharing rules of the catalog."""

import hashlib

import orjson
import pytest
from django.core.exceptions import ValidationError
from rest_framework.test import APIClient

from org.models import Role
from datahub import services
from datahub.models import AccessRequest, DataResource, DepartmentToken, ExchangeBatch, TokenScope
from tests.conftest import make_user

from .conftest import push, recent, token_client

pytestmark = pytest.mark.django_db

def one_row():
    return orjson.dumps({"plate": "苏A12345", "lon": 120.31, "lat": 32.01, "speed": 30.0, "time": recent()}) + b"\n"


def test_token_is_stored_hashed_and_shown_once(jt, jt_officer, positions):
    token, secret = services.token_create(department=jt, name="GPS", scopes=[(positions, "push")], by=jt_officer)
    assert secret.startswith("dh_") and len(secret) > 40
    stored = DepartmentToken.objects.get(pk=token.pk)
    assert stored.key_hash == hashlib.sha256(secret.encode()).hexdigest()
    assert secret not in str(DepartmentToken.objects.filter(pk=token.pk).values().first())


def test_token_used_outside_its_scope_is_403(push_token, positions, enterprises):
    # A push-only token reads: 403; it pushes to another department's resource: 403.
    client = token_client(push_token)
    read = client.get(f"/api/datahub/resources/{positions.code}/records/")
    assert read.status_code == 403 and read.json()["detail"] == "此令牌无权读取“危险货物运输车辆实时定位”。"
    other = push(client, enterprises.code, b'{"credit_code": "91110000600037341L", "name": "x", "status": "operating"}\n', key="k")
    assert other.status_code == 403
    assert not ExchangeBatch.objects.exists()


def test_unknown_or_revoked_token_is_401(push_token, positions, jt_officer):
    assert push(token_client("dh_not-a-token"), positions.code, one_row(), key="a").status_code == 401
    token = DepartmentToken.objects.get(key_hash=services.hash_token(push_token))
    services.token_revoke(token=token, by=jt_officer)
    response = push(token_client(push_token), positions.code, one_row(), key="b")
    assert response.status_code == 401
    assert response["WWW-Authenticate"] == "Token"
    assert not ExchangeBatch.objects.exists()


def test_bearer_keyword_works_too(push_token, positions):
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Bearer {push_token}")
    assert push(client, positions.code, one_row(), key="bearer").status_code == 201


def test_a_signed_in_person_cannot_push_without_a_token(jt_officer, positions):
    client = APIClient()
    client.force_login(jt_officer)
    assert push(client, positions.code, one_row(), key="session").status_code in (401, 403)


def test_push_scope_only_for_own_resources(jt, jt_officer, enterprises):
    with pytest.raises(ValidationError) as exc:
        services.token_create(department=jt, name="x", scopes=[(enterprises, "push")], by=jt_officer)
    assert "只能读取" in str(exc.value)
    assert not DepartmentToken.objects.exists()


def test_conditional_resource_is_read_after_the_owners_approval(jt, jt_officer, sj, sj_officer, positions):
    # 市场监管 asks for the GPS feed (shared on conditions) and cannot read it before approval.
    with pytest.raises(ValidationError):
        services.token_create(department=sj, name="r", scopes=[(positions, "read")], by=sj_officer)
    client = APIClient()
    client.force_login(sj_officer)
    assert client.get(f"/api/datahub/resources/{positions.code}/records/").status_code == 403
    created = client.post("/api/datahub/access-requests/", {"resource": positions.code, "purpose": "危化品企业运输监管"}, format="json")
    assert created.status_code == 201
    again = client.post("/api/datahub/access-requests/", {"resource": positions.code, "purpose": "再次申请"}, format="json")
    assert again.status_code == 400
    request_id = created.json()["id"]
    # the requester cannot approve its own request
    assert client.post(f"/api/datahub/access-requests/{request_id}/decide/", {"approve": True}, format="json").status_code == 403
    owner = APIClient()
    owner.force_login(jt_officer)
    decided = owner.post(f"/api/datahub/access-requests/{request_id}/decide/", {"approve": True, "note": "同意"}, format="json")
    assert decided.status_code == 200 and decided.json()["status"] == "approved"
    # deciding twice is a conflict
    assert owner.post(f"/api/datahub/access-requests/{request_id}/decide/", {"approve": True}, format="json").status_code == 409
    assert client.get(f"/api/datahub/resources/{positions.code}/records/").status_code == 200
    token, secret = services.token_create(department=sj, name="r", scopes=[(positions, "read")], by=sj_officer)
    assert token_client(secret).get(f"/api/datahub/resources/{positions.code}/records/").status_code == 200
    # revoking the approval stops the token at once
    owner.post(f"/api/datahub/access-requests/{request_id}/decide/", {"approve": False}, format="json")
    assert AccessRequest.objects.get(pk=request_id).status == AccessRequest.Status.REVOKED
    assert token_client(secret).get(f"/api/datahub/resources/{positions.code}/records/").status_code == 403
    assert not TokenScope.objects.filter(token=token).exists()


def test_not_shared_stays_unreadable(city, sj_officer):
    case = DataResource.objects.get(code="GA-CASE")
    client = APIClient()
    client.force_login(sj_officer)
    response = client.get(f"/api/datahub/resources/{case.code}/records/")
    assert response.status_code == 403 and response.json()["detail"]
    assert client.post("/api/datahub/access-requests/", {"resource": case.code, "purpose": "x"}, format="json").status_code == 400


def test_unconditional_resource_is_readable_by_any_department(city, jt_officer, sj, sj_officer, enterprises):
    secret = services.token_create(department=sj, name="p", scopes=[(enterprises, "push")], by=sj_officer)[1]
    push(token_client(secret), enterprises.code, b'{"credit_code": "91110000600037341L", "name": "a", "status": "operating"}\n', key="e")
    client = APIClient()
    client.force_login(jt_officer)
    response = client.get(f"/api/datahub/resources/{enterprises.code}/records/")
    assert response.status_code == 200
    assert [r["credit_code"] for r in response.json()["results"]] == ["91110000600037341L"]


def test_catalog_is_refused_to_roles_without_it(city, alice, jt_officer, django_assert_max_num_queries):
    client = APIClient()
    client.force_login(alice)  # a dispatcher
    assert client.get("/api/datahub/resources/").status_code == 403
    gridworker = make_user("gw", Role.GRIDWORKER, region=city)
    client.force_login(gridworker)
    assert client.get("/datahub/").status_code == 403
    client.force_login(jt_officer)
    with django_assert_max_num_queries(6):
        response = client.get("/api/datahub/resources/")
    assert response.status_code == 200 and response.json()["count"] >= 10
    entry = next(r for r in response.json()["results"] if r["code"] == "GA-CASE")
    assert entry["sharing"] == "not_shared" and entry["owner"] == "市公安局"


def test_batches_are_listed_to_their_department_only(push_token, positions, jt_officer, sj_officer):
    push(token_client(push_token), positions.code, one_row(), key="mine")
    owner = APIClient()
    owner.force_login(jt_officer)
    assert len(owner.get(f"/api/datahub/resources/{positions.code}/batches/").json()) == 1
    outsider = APIClient()
    outsider.force_login(sj_officer)
    assert outsider.get(f"/api/datahub/resources/{positions.code}/batches/").json() == []


def test_a_data_officer_registers_a_resource_of_their_department(jt_officer, sj_officer, alice, django_assert_max_num_queries):
    client = APIClient()
    client.force_login(jt_officer)
    schema = {"type": "object", "required": ["stop_id"], "properties": {"stop_id": {"type": "string"}, "name": {"type": "string"}}}
    body = {"code": "JT-BUS-STOP", "name": "公交站点", "schema": schema, "key_field": "stop_id", "sharing": "unconditional"}
    response = client.post("/api/datahub/resources/", body, format="json")
    assert response.status_code == 201 and response.json()["owner"] == "市交通运输局"
    assert client.post("/api/datahub/resources/", {**body, "schema": {"type": 7}}, format="json").status_code == 400
    # another department cannot take the code over; a dispatcher cannot register at all
    other = APIClient()
    other.force_login(sj_officer)
    taken = other.post("/api/datahub/resources/", body, format="json")
    assert taken.status_code == 400 and "市交通运输局" in str(taken.json())
    other.force_login(alice)
    assert other.post("/api/datahub/resources/", {**body, "code": "X-1"}, format="json").status_code == 403
    assert DataResource.objects.get(code="JT-BUS-STOP").owner == jt_officer.department


def test_access_request_list_is_scoped_and_query_bounded(jt_officer, sj_officer, positions, city, django_assert_max_num_queries):
    from org.models import Department

    for code in ["329900-SJ", "329900-GA", "329900-YJ"]:
        department = Department.objects.get(code=code)
        officer = sj_officer if code == "329900-SJ" else make_user(f"o_{code}", Role.DATA_OFFICER, department=department)
        services.access_request_create(resource=positions, department=department, purpose="监管", by=officer)
    owner = APIClient()
    owner.force_login(jt_officer)
    with django_assert_max_num_queries(6):
        response = owner.get("/api/datahub/access-requests/")
    assert response.json()["count"] == 3
    requester = APIClient()
    requester.force_login(sj_officer)
    assert [r["department"] for r in requester.get("/api/datahub/access-requests/").json()["results"]] == ["市市场监督管理局"]
