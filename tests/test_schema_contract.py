"""/api/schema/ describes what the server answers for real records of the demo city, role by role: each
answer is checked against the schema (status code, content type, body) by schemathesis, and the parts of
the contract a client relies on are asserted by name."""

import pytest
import schemathesis
from django.core.wsgi import get_wsgi_application
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    response_schema_conformance,
    status_code_conformance,
)

from org.models import Region
from datahub.models import DataResource
from hotline.models import Contact
from tickets.models import Ticket

from .test_schema_fuzz import signed_in

CHECKS = [status_code_conformance, content_type_conformance, response_schema_conformance]


@pytest.fixture(scope="module")
def api_schema(django_db_setup, django_db_blocker):
    with django_db_blocker.unblock():
        return schemathesis.openapi.from_wsgi("/api/schema/?format=json", get_wsgi_application())


@pytest.fixture(scope="module")
def raw(api_schema):
    return api_schema.raw_schema


def answer(api_schema, role, method, path, *, path_parameters=None, query=None, body=None, media_type=None,
           headers=None):
    """Call one documented operation as `role` and check the answer against the schema."""
    operation = api_schema[path][method]
    extra = {"body": body, "media_type": media_type} if body is not None else {}
    case = operation.Case(path_parameters=path_parameters or {}, query=query, headers=headers, **extra)
    response = case.call(**signed_in(role))
    case.validate_response(response, checks=CHECKS)
    return response


def test_nullable_fields_are_marked(raw):
    schemas = raw["components"]["schemas"]
    assert schemas["DataResource"]["properties"]["fresh_until"]["nullable"] is True
    me = schemas["Me"]["properties"]
    assert me["region"]["nullable"] is True and me["department"]["nullable"] is True
    assert schemas["Contact"]["properties"]["ticket"]["nullable"] is True
    assert schemas["Alert"]["properties"]["department"]["nullable"] is True  # not yet assigned


def test_timeline_assignments_and_suggestions_are_plain_lists(raw):
    for action in ("timeline", "assignments", "suggestions"):
        get = raw["paths"][f"/api/tickets/tickets/{{id}}/{action}/"]["get"]
        assert get["responses"]["200"]["content"]["application/json"]["schema"]["type"] == "array", action
        assert not [p for p in get.get("parameters", []) if p["in"] == "query"], action  # no limit/offset, no filters


def test_every_operation_documents_its_errors_with_the_one_error_component(raw):
    error = {"$ref": "#/components/schemas/Error"}
    for path, item in raw["paths"].items():
        for method, operation in item.items():
            codes = operation["responses"]
            assert codes.get("403", {}).get("content", {}).get("application/json", {}).get("schema") == error, (method, path)
            if "{" in path:
                assert "404" in codes, (method, path)
            if method == "post":
                assert {"400", "409", "415"} <= set(codes), (method, path)
    assert raw["paths"]["/api/tickets/tickets/{id}/dispatch/"]["post"]["responses"]["409"]["content"]["application/json"]["schema"] == error
    # a department token is challenged for (401); a session-only API answers a missing sign-in with 403
    assert "401" in raw["paths"]["/api/datahub/resources/"]["get"]["responses"]
    assert "401" not in raw["paths"]["/api/tickets/tickets/"]["get"]["responses"]
    assert "401" in raw["paths"]["/m/api/checkin"]["post"]["responses"]


def test_the_phone_workspace_endpoints_are_described(raw):
    paths = raw["paths"]
    for path in ("/m/api/report", "/m/api/checkin", "/m/api/verify/{id}", "/m/api/patrol/start", "/m/api/patrol/{id}/points",
                 "/m/api/patrol/{id}/check", "/m/api/patrol/{id}/stop"):
        post = paths[path]["post"]
        assert "201" in post["responses"] and "multipart/form-data" in post["requestBody"]["content"], path
        assert any(p["name"] == "Idempotency-Key" for p in post["parameters"]), path
    assert "200" in paths["/m/api/locate"]["get"]["responses"]


def test_contact_intake_has_a_typed_body_and_answers_201(raw):
    post = raw["paths"]["/api/hotline/contacts/"]["post"]
    body = raw["components"]["schemas"]["ContactInputRequest"]
    assert set(body["required"]) == {"channel", "type", "content", "outcome"}
    assert post["requestBody"]["content"]["application/json"]["schema"] == {"$ref": "#/components/schemas/ContactInputRequest"}
    assert post["responses"]["201"]["content"]["application/json"]["schema"] == {"$ref": "#/components/schemas/Contact"}


@pytest.mark.django_db(transaction=True)
def test_real_records_answer_as_documented(api_schema, city):
    ticket = Ticket.objects.order_by("id").first()
    r = answer(api_schema, "dispatcher", "GET", "/api/tickets/tickets/{id}/timeline/", path_parameters={"id": ticket.pk})
    assert isinstance(r.json(), list) and r.json()
    r = answer(api_schema, "dispatcher", "GET", "/api/tickets/tickets/{id}/assignments/", path_parameters={"id": ticket.pk})
    assert isinstance(r.json(), list)
    answer(api_schema, "dispatcher", "GET", "/api/tickets/tickets/{id}/suggestions/", path_parameters={"id": ticket.pk})
    answer(api_schema, "dispatcher", "GET", "/api/tickets/tickets/{id}/", path_parameters={"id": ticket.pk})
    # a stale version: 409 with the current version, as documented
    r = answer(api_schema, "dispatcher", "POST", "/api/tickets/tickets/{id}/urge/", path_parameters={"id": ticket.pk},
               body={"version": ticket.version + 50, "note": ""}, media_type="application/json")
    assert r.status_code in (409, 403)
    # the data officer sees a resource that may never have been fed (fresh_until null) and their own record
    resource = DataResource.objects.order_by("code").first()
    r = answer(api_schema, "data_officer", "GET", "/api/datahub/resources/{code}/", path_parameters={"code": resource.code})
    assert "fresh_until" in r.json()
    r = answer(api_schema, "data_officer", "GET", "/api/org/me/")
    assert r.json()["region"] is None and r.json()["department"] is not None
    region = Region.objects.get(code="329902000000")
    answer(api_schema, "leader", "GET", "/api/org/regions/{id}/", path_parameters={"id": region.pk})


@pytest.mark.django_db(transaction=True)
def test_contact_intake_and_the_phone_answer_as_documented(api_schema, city):
    body = {"channel": "phone", "type": "consult", "content": "请问居住证在哪里办理？", "outcome": "direct",
            "answer": "到街道便民服务中心办理。", "caller_phone": "13500009999"}
    r = answer(api_schema, "agent", "POST", "/api/hotline/contacts/", body=body, media_type="application/json",
               headers={"Idempotency-Key": "contract-contact-1"})
    assert r.status_code == 201, r.text
    again = answer(api_schema, "agent", "POST", "/api/hotline/contacts/", body=body, media_type="application/json",
                   headers={"Idempotency-Key": "contract-contact-1"})
    assert again.status_code == 200 and again.json()["id"] == r.json()["id"]
    answer(api_schema, "agent", "GET", "/api/hotline/contacts/{id}/", path_parameters={"id": r.json()["id"]})
    assert Contact.objects.filter(pk=r.json()["id"]).exists()
    # the grid worker checks in from the phone; a dispatcher is refused with the documented 403
    spot = {"lon": "120.0012", "lat": "31.8540"}
    r = answer(api_schema, "gridworker", "POST", "/m/api/checkin", body=spot, media_type="application/x-www-form-urlencoded")
    assert r.status_code == 201, r.text
    r = answer(api_schema, "dispatcher", "POST", "/m/api/checkin", body=spot, media_type="application/x-www-form-urlencoded")
    assert r.status_code == 403
    r = answer(api_schema, "gridworker", "GET", "/m/api/locate", query=spot)
    assert r.status_code == 200 and "grid_name" in r.json()
