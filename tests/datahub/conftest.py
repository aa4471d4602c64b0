from datetime import timedelta

import pytest
from django.utils import timezone
from rest_framework.test import APIClient

from org.models import Department, Role
from datahub import services
from datahub.models import DataResource
from tests.conftest import make_user


@pytest.fixture
def jt(city):
    return Department.objects.get(code="329900-JT")


@pytest.fixture
def sj(city):
    return Department.objects.get(code="329900-SJ")


@pytest.fixture
def jt_officer(jt):
    return make_user("jt_officer", Role.DATA_OFFICER, department=jt)


@pytest.fixture
def sj_officer(sj):
    return make_user("sj_officer", Role.DATA_OFFICER, department=sj)


@pytest.fixture
def positions(city):
    return DataResource.objects.get(code="JT-HAZMAT-GPS")


@pytest.fixture
def enterprises(city):
    return DataResource.objects.get(code="SJ-ENTERPRISE")


@pytest.fixture
def push_token(jt, jt_officer, positions):
    """A 市交通运输局 token that may push vehicle positions only."""
    token, secret = services.token_create(department=jt, name="GPS 平台", scopes=[(positions, "push")], by=jt_officer)
    return secret


def token_client(secret):
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Token {secret}")
    return client


def push(client, code, body, *, key, content_type="application/x-ndjson"):
    return client.generic(
        "POST", f"/api/datahub/resources/{code}/batches/", body, content_type=content_type, HTTP_IDEMPOTENCY_KEY=key
    )


def recent(minutes_ago=5):
    return (timezone.localtime() - timedelta(minutes=minutes_ago)).isoformat()
