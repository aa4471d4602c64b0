"""Property-based fuzzing of /api/schema/ (schemathesis): every operation, as anonymous and as six roles.

A few deterministic examples per operation, valid and invalid (hypothesis derandomized, no example
database, no shrinking), keep it short. Requests go through Django's WSGI handler in this process (the
whole middleware stack, CSRF checks included), signed in with a session of the role's demo user and a
CSRF token as the pages send one; every write lands in the test database, which the transactional test
flushes afterwards. Each answer must be documented (status code, content type, body schema) and none may
be a 5xx.
"""

import logging
import secrets
import traceback
from dataclasses import dataclass, field

import hypothesis
import pytest
import schemathesis
from django.core.wsgi import get_wsgi_application
from django.test import Client
from hypothesis import HealthCheck, Phase
from schemathesis import GenerationMode
from schemathesis.core.failures import Failure, FailureGroup
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    response_schema_conformance,
    status_code_conformance,
)

from org.models import User

EXAMPLES_PER_OPERATION = 5
CONFORMANCE_CHECKS = [status_code_conformance, content_type_conformance, response_schema_conformance]
ROLES = ["anonymous", "dispatcher", "agent", "gridworker", "dept_cg", "leader", "data_officer"]
SETTINGS = hypothesis.settings(
    max_examples=EXAMPLES_PER_OPERATION, derandomize=True, database=None, deadline=None,
    phases=[Phase.explicit, Phase.generate], suppress_health_check=list(HealthCheck), report_multiple_bugs=False,
)


@dataclass(frozen=True)
class Finding:
    operation: str
    status: int
    check: str
    detail: str
    example: str = field(compare=False, hash=False)

    def __str__(self):
        return f"{self.operation} → {self.status} [{self.check}] {self.detail} (e.g. {self.example[:160]})"


def signed_in(role: str) -> dict:
    """case.call() arguments for `role`: its session cookie, and a CSRF token as cookie and header like the
    pages' scripts send (a 32-character secret)."""
    token = secrets.token_hex(16)
    cookies = {"csrftoken": token}
    if role != "anonymous":
        client = Client()
        client.force_login(User.objects.get(username=role))
        cookies["sessionid"] = client.cookies["sessionid"].value
    return {"cookies": cookies, "headers": {"X-CSRFToken": token}}


def _server_traceback(caplog) -> str:
    """The exception and the last line of its traceback, for the 500 django.request just logged."""
    for record in reversed(caplog.records):
        if record.name == "django.request" and record.exc_info:
            frames = traceback.extract_tb(record.exc_info[2])
            last = frames[-1]
            return f"{type(record.exc_info[1]).__name__}: {record.exc_info[1]} at {last.filename.split('/work/')[-1]}:{last.lineno}"
    return ""


@pytest.fixture(scope="module")
def api_schema(django_db_setup, django_db_blocker):
    """/api/schema/ as the server answers it (the same for every caller), from the app in this process."""
    with django_db_blocker.unblock():
        schema = schemathesis.openapi.from_wsgi("/api/schema/?format=json", get_wsgi_application())
    schema.config.generation.update(with_security_parameters=False)  # the role's own session, no made-up credentials
    return schema


def fuzz(api_schema, credentials: dict, caplog) -> list[Finding]:
    caplog.set_level(logging.ERROR, logger="django.request")
    findings: set[Finding] = set()
    for result in api_schema.get_all_operations():
        operation = result.ok()

        @SETTINGS
        @hypothesis.given(case=hypothesis.strategies.one_of(operation.as_strategy(mode) for mode in GenerationMode))
        def run(case):
            if "Idempotency-Key" in (case.headers or {}):
                # one key space per operation: reusing a key across endpoints is a separate idempotency matter
                case.headers["Idempotency-Key"] = f"{operation.definition.raw['operationId']}-{case.headers['Idempotency-Key']}"[:64]
            caplog.clear()
            response = case.call(**credentials)
            if response.status_code >= 500:
                findings.add(Finding(operation.label, response.status_code, "not_a_server_error",
                                     _server_traceback(caplog)[:300], response.request.url))
                return
            if response.status_code == 404 and response.headers.get("content-type", [""])[0].startswith("text/html"):
                # no route matched (a path parameter with "." or "/" in it): Django's page, not the API's answer
                findings.add(Finding(operation.label, 404, "html_404", "Django's HTML page", response.request.url))
                return
            for check in CONFORMANCE_CHECKS:
                try:
                    case.validate_response(response, checks=[check])
                except (Failure, FailureGroup) as exc:
                    for failure in exc.exceptions if isinstance(exc, FailureGroup) else [exc]:
                        detail = f"{failure.title}: {' '.join(failure.message.split())}"[:240]
                        findings.add(Finding(operation.label, response.status_code, check.__name__, detail, response.request.url))

        run()
    return sorted(findings, key=str)


@pytest.mark.timeout(180)
@pytest.mark.parametrize("role", ROLES)
def test_every_answer_is_documented_and_none_is_a_server_error(transactional_db, api_schema, city, caplog, role):
    credentials = signed_in(role)
    me = api_schema["/api/org/me/"]["GET"].Case().call(**credentials)
    assert me.status_code == 403 if role == "anonymous" else me.json()["username"] == role  # fuzzed as who we think
    findings = fuzz(api_schema, credentials, caplog)
    assert not findings, "server errors, HTML pages under /api/, or answers the schema does not describe:\n" + "\n".join(map(str, findings))
