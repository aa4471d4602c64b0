"""Hostile bodies and parameters on the data hub: refused with a 4xx, memory bounded by the body, nothing stored."""

import resource

import pytest
from rest_framework.test import APIClient

from datahub.models import ExchangeBatch

from .conftest import push, recent, token_client
from .test_ingest import GOOD, ndjson, position_count

pytestmark = pytest.mark.django_db


def peak_rss_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


@pytest.mark.parametrize("size", [24_000, 200_000])
def test_a_deeply_nested_body_is_a_400_and_memory_stays_flat(push_token, positions, size):
    """A body of nested brackets once took hundreds of MB (24 KB) and 22 GB (200 KB) in ijson's prefixes."""
    depth = size // 2
    body = b"[" + b"[" * depth + b"]" * depth + b"]"
    before = peak_rss_mb()
    response = push(token_client(push_token), positions.code, body, key=f"deep-{size}", content_type="application/json")
    grown = peak_rss_mb() - before
    assert response.status_code == 400 and "32" in response.json()["detail"]
    assert grown < 10 + size / 1e6, f"peak memory grew by {grown:.1f} MB for a {size / 1000:.0f} KB body"
    assert not ExchangeBatch.objects.filter(idempotency_key=f"deep-{size}").exists()


def test_a_nested_row_within_the_limit_is_read_as_a_row(push_token, positions):
    body = b'[{"plate": "\xe8\x8b\x8fA12345", "lon": 120.31, "lat": 32.01, "speed": 4, "time": "' + recent(0).encode() + b'", "x": ' + b"[" * 20 + b"]" * 20 + b"}]"
    response = push(token_client(push_token), positions.code, body, key="nested-ok", content_type="application/json")
    assert response.status_code == 201, response.content
    assert response.json()["received"] == 1


def test_the_same_key_with_another_body_is_a_422_and_stores_nothing_more(push_token, positions):
    client = token_client(push_token)
    body = ndjson([{**GOOD, "time": recent(i)} for i in range(3)])
    assert push(client, positions.code, body, key="batch-1").status_code == 201
    assert push(client, positions.code, body, key="batch-1").status_code == 200  # a true retry
    other = push(client, positions.code, ndjson([{**GOOD, "time": recent(9)}]), key="batch-1")
    assert other.status_code == 422 and "Idempotency-Key" in other.json()["detail"]
    assert ExchangeBatch.objects.filter(idempotency_key="batch-1").count() == 1 and position_count() == 3


def test_a_reused_key_with_a_body_too_big_for_the_middleware_is_still_compared(push_token, positions, settings):
    settings.DATA_UPLOAD_MAX_MEMORY_SIZE = 100  # the data hub streams bodies far larger than a form may be
    client = token_client(push_token)
    body = ndjson([{**GOOD, "time": recent(i)} for i in range(3)])
    assert push(client, positions.code, body, key="big-1").status_code == 201
    assert push(client, positions.code, body, key="big-1").status_code == 200
    assert push(client, positions.code, body + ndjson([{**GOOD, "time": recent(7)}]), key="big-1").status_code == 422


@pytest.mark.parametrize("key", ["k" * 65, "键", "a b", ""])
def test_a_malformed_idempotency_key_is_a_400(push_token, positions, key):
    response = push(token_client(push_token), positions.code, ndjson([{**GOOD, "time": recent(0)}]), key=key)
    assert response.status_code == 400
    assert position_count() == 0


@pytest.mark.parametrize("value", ["2026-02-30T08:00:00+08:00", "2026-11-01T25:00:00+08:00", "2026-11-01T08:00:00", "soon"])
def test_impossible_or_naive_since_and_until_are_a_400(jt_officer, positions, value):
    client = APIClient()
    client.force_login(jt_officer)
    for name in ("since", "until"):
        response = client.get(f"/api/datahub/resources/{positions.code}/records/", {name: value})
        assert response.status_code == 400 and name in response.json()
