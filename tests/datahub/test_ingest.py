"""Pushing batches through the API: validation, idempotency, scopes, malformed bodies, storage."""

import json

import orjson
import pytest
from django.db import connection

from datahub import services
from datahub.models import DataRecord, DataResource, Enterprise, ExchangeBatch, ExchangeDaily, Licence
from datahub.selectors import exchanged_on

from .conftest import push, recent, token_client

pytestmark = pytest.mark.django_db


def position_count(batch_id=None):
    with connection.cursor() as cursor:
        if batch_id is None:
            cursor.execute("SELECT count(*) FROM datahub_vehicle_position")
        else:
            cursor.execute("SELECT count(*) FROM datahub_vehicle_position WHERE batch_id = %s", [batch_id])
        return cursor.fetchone()[0]


def ndjson(rows):
    return b"".join(orjson.dumps(r) + b"\n" for r in rows)


GOOD = {"plate": "苏A12345", "lon": 120.31, "lat": 32.01, "speed": 42.5}


def test_good_and_bad_rows_bad_ones_reported_good_ones_stored(push_token, positions):
    rows = [
        {**GOOD, "time": recent(3)},
        {**GOOD, "time": recent(2), "speed": 400},  # row 2: impossible speed
        {**GOOD, "time": recent(1), "plate": "ABC"},  # row 3: not a plate
        {**GOOD, "time": "yesterday"},  # row 4: not a time
        {"plate": "苏A12345", "time": recent(1), "lat": 32.0, "speed": 1},  # row 5: no lon
        {**GOOD, "time": recent(0)},
    ]
    before = position_count()
    response = push(token_client(push_token), positions.code, ndjson(rows), key="b-1")
    assert response.status_code == 201, response.content
    body = response.json()
    assert (body["received"], body["accepted"], body["rejected"]) == (6, 2, 4)
    assert [e["row"] for e in body["errors"]] == [2, 3, 4, 5]
    assert "speed" in body["errors"][0]["reason"] and "lon" in body["errors"][3]["reason"]
    assert position_count() == before + 2
    assert position_count(body["id"]) == 2
    positions.refresh_from_db()
    assert positions.record_count >= 2 and positions.last_updated_at is not None and positions.is_fresh
    assert exchanged_on(positions.last_updated_at.astimezone().date())["records"] >= 2


def test_reasons_are_chinese_by_default(push_token, positions):
    response = push(token_client(push_token), positions.code, ndjson([{**GOOD, "time": recent(), "speed": -3}]), key="zh")
    assert response.json()["errors"][0]["reason"] == "字段“speed”必须在 0 到 250 之间"


def test_the_same_batch_twice_is_stored_once(push_token, positions):
    client = token_client(push_token)
    body = ndjson([{**GOOD, "time": recent(i)} for i in range(5)])
    first = push(client, positions.code, body, key="same-key")
    again = push(client, positions.code, body, key="same-key")
    assert first.status_code == 201 and again.status_code == 200
    assert again["Idempotent-Replayed"] == "true"
    assert again.json()["id"] == first.json()["id"] and again.json()["accepted"] == 5
    assert position_count(first.json()["id"]) == 5
    assert ExchangeBatch.objects.filter(resource=positions, idempotency_key="same-key").count() == 1
    assert ExchangeDaily.objects.get(resource=positions).batches == 1


def test_missing_idempotency_key_is_refused(push_token, positions):
    response = token_client(push_token).generic(
        "POST", f"/api/datahub/resources/{positions.code}/batches/", ndjson([{**GOOD, "time": recent()}]),
        content_type="application/x-ndjson",
    )
    assert response.status_code == 400
    assert "Idempotency-Key" in response.json()["detail"][0]
    assert not ExchangeBatch.objects.exists()


@pytest.mark.parametrize(
    "body,content_type",
    [
        (b'{"plate": "\xe8\x8b\x8fA12345", "time": "2026-11-20T10:00:00+08:00"}\n{"plate": oops}\n', "application/x-ndjson"),
        (b'[{"plate": "x"}, {"plate": ', "application/json"),
        (b'{"not": "an array"}', "application/json"),
        (b"\xff\xfe\x00garbage", "text/csv"),
        (b"", "application/x-ndjson"),
    ],
    ids=["ndjson-broken-line", "json-truncated", "json-not-array", "csv-not-utf8", "empty"],
)
def test_a_malformed_body_is_400_and_nothing_is_stored(push_token, positions, body, content_type):
    before = position_count()
    response = push(token_client(push_token), positions.code, body, key="bad-body", content_type=content_type)
    assert response.status_code == 400, response.content
    assert response.json()["detail"]
    assert position_count() == before
    assert not ExchangeBatch.objects.exists() and not ExchangeDaily.objects.exists()


def test_a_malformed_tail_rolls_back_rows_already_copied(push_token, positions, settings, monkeypatch):
    from datahub import feeds

    monkeypatch.setattr(feeds, "COPY_CHUNK_ROWS", 10)  # the first 30 good rows are COPYed before the bad line
    before = position_count()
    body = ndjson([{**GOOD, "time": recent(i % 50)} for i in range(30)]) + b"{broken\n"
    response = push(token_client(push_token), positions.code, body, key="tail")
    assert response.status_code == 400 and "31" in response.json()["detail"]
    assert position_count() == before
    # the key is free again: the corrected batch goes through
    retry = push(token_client(push_token), positions.code, body[: -len(b"{broken\n")], key="tail")
    assert retry.status_code == 201 and retry.json()["accepted"] == 30


def test_unsupported_content_type_is_415(push_token, positions):
    response = push(token_client(push_token), positions.code, b"<xml/>", key="x", content_type="application/xml")
    assert response.status_code == 415


def test_json_array_and_csv_bodies(push_token, positions):
    client = token_client(push_token)
    array = json.dumps([{**GOOD, "time": recent(2)}, {**GOOD, "time": recent(1), "lat": 99}])
    response = push(client, positions.code, array.encode(), key="arr", content_type="application/json")
    assert response.status_code == 201 and (response.json()["accepted"], response.json()["rejected"]) == (1, 1)
    csv_body = f"plate,time,lon,lat,speed\n苏A12345,{recent(2)},120.3,32.0,30\n苏A12345,{recent(1)},120.3,32.0,fast\n".encode()
    response = push(client, positions.code, csv_body, key="csv", content_type="text/csv; charset=utf-8")
    assert response.status_code == 201, response.content
    assert (response.json()["accepted"], response.json()["rejected"]) == (1, 1)
    assert response.json()["errors"][0]["row"] == 2


def test_a_day_without_partition_gets_one(push_token, positions):
    from datetime import timedelta

    from django.utils import timezone

    from datahub import partitions

    day = timezone.localdate() - timedelta(days=20)
    assert day not in partitions.existing_partitions()  # nothing creates past days but ingestion
    at = (timezone.localtime() - timedelta(days=20)).isoformat()
    response = push(token_client(push_token), positions.code, ndjson([{**GOOD, "time": at}]), key="old-day")
    assert response.status_code == 201 and response.json()["accepted"] == 1
    assert day in partitions.existing_partitions()


def test_rows_older_than_retention_are_rejected(push_token, positions, settings):
    from datetime import timedelta

    from django.utils import timezone

    settings.DATAHUB_POSITION_RETENTION_DAYS = 3
    at = (timezone.localtime() - timedelta(days=5)).isoformat()
    response = push(token_client(push_token), positions.code, ndjson([{**GOOD, "time": at}]), key="ancient")
    assert response.json()["rejected"] == 1 and "3" in response.json()["errors"][0]["reason"]


# ---- typed master feeds ---------------------------------------------------------------------

def sj_push_token(sj, sj_officer, *codes):
    scopes = [(DataResource.objects.get(code=c), "push") for c in codes]
    return services.token_create(department=sj, name="登记系统", scopes=scopes, by=sj_officer)[1]


def test_a_credit_code_with_a_wrong_check_digit_is_rejected(sj, sj_officer, enterprises):
    secret = sj_push_token(sj, sj_officer, enterprises.code)
    rows = [
        {"credit_code": "91320100MA1XYZ0000", "name": "坏校验码", "status": "在业"},
        {"credit_code": "91110000600037341L", "name": "江海危化储运有限公司", "status": "整改中", "lon": 120.31, "lat": 32.01},
        {"credit_code": "91110000600037341M", "name": "校验位错一位", "status": "在业"},
    ]
    response = push(token_client(secret), enterprises.code, ndjson(rows), key="ent-1")
    assert response.status_code == 201
    body = response.json()
    assert (body["accepted"], body["rejected"]) == (1, 2)
    assert {e["row"] for e in body["errors"]} == {1, 3}
    assert all("统一社会信用代码" in e["reason"] for e in body["errors"])
    ent = Enterprise.objects.get()
    assert ent.credit_code == "91110000600037341L" and ent.status == Enterprise.Status.RECTIFYING
    assert ent.region is not None and ent.region.level == 4  # placed in its community
    enterprises.refresh_from_db()
    assert enterprises.record_count == 1


def test_keyed_feed_newer_row_replaces_older(sj, sj_officer):
    secret = sj_push_token(sj, sj_officer, "SJ-LICENCE")
    row = {"licence_type": "危险化学品经营许可证", "number": "苏江危化经字〔2024〕001", "holder_credit_code": "91110000600037341L",
           "valid_from": "2024-01-01", "valid_to": "2026-12-31", "status": "有效"}
    body = ndjson([row, {**row, "status": "吊销"}])
    assert push(token_client(secret), "SJ-LICENCE", body, key="l1").json()["accepted"] == 2
    licence = Licence.objects.get()
    assert licence.status == Licence.Status.REVOKED
    push(token_client(secret), "SJ-LICENCE", ndjson([{**row, "valid_to": "2027-12-31"}]), key="l2")
    assert Licence.objects.count() == 1 and str(Licence.objects.get().valid_to) == "2027-12-31"


def test_generic_resource_validates_against_its_json_schema(city):
    from org.models import Department, Role
    from tests.conftest import make_user

    yj = Department.objects.get(code="329900-YJ")
    officer = make_user("yj_officer", Role.DATA_OFFICER, department=yj)
    resource = DataResource.objects.get(code="YJ-HAZCHEM-SITE")
    secret = services.token_create(department=yj, name="t", scopes=[(resource, "push")], by=officer)[1]
    csv_body = (
        "site_id,credit_code,level,chemical,storage_t\n"
        "S-1,91110000600037341L,2,液氨,120.5\n"
        "S-2,91110000600037341L,7,氯气,10\n"  # level out of range
        "S-1,91110000600037341L,1,液氨,130\n"  # same key: replaces the first
    ).encode()
    response = push(token_client(secret), resource.code, csv_body, key="g1", content_type="text/csv")
    assert response.status_code == 201, response.content
    assert (response.json()["accepted"], response.json()["rejected"]) == (2, 1)
    assert response.json()["errors"][0]["row"] == 2
    record = DataRecord.objects.get(resource=resource)
    assert record.key == "S-1" and record.data == {"site_id": "S-1", "credit_code": "91110000600037341L", "level": 1,
                                                     "chemical": "液氨", "storage_t": 130.0}


def test_exchange_statistics_per_department_per_day(push_token, positions, jt_officer, alice, city, haigang):
    from django.utils import timezone
    from rest_framework.test import APIClient

    from datahub.selectors import exchange_series

    push(token_client(push_token), positions.code, ndjson([{**GOOD, "time": recent(i)} for i in range(4)]), key="s1")
    push(token_client(push_token), positions.code, ndjson([{**GOOD, "time": recent(), "lat": 0}]), key="s2")
    today = timezone.localdate()
    assert exchanged_on(today) == {"records": 4, "batches": 2, "rejected": 1}
    assert exchanged_on(today, region=city)["records"] == 4  # 市交通运输局 is a city department
    assert exchanged_on(today, region=haigang)["records"] == 0
    assert exchange_series(start=today, end=today) == [
        {"day": today, "department_id": positions.owner_id, "department": "市交通运输局", "records": 4, "batches": 2}
    ]
    client = APIClient()
    client.force_login(jt_officer)
    stats = client.get("/api/datahub/stats/?days=7").json()
    assert stats["today"]["records"] == 4 and stats["series"][0]["department"] == "市交通运输局"
    client.force_login(alice)
    assert client.get("/api/datahub/stats/").status_code == 403


def test_records_are_read_page_by_page(push_token, positions, jt_officer, django_assert_max_num_queries):
    from rest_framework.test import APIClient

    push(token_client(push_token), positions.code, ndjson([{**GOOD, "time": recent(i)} for i in range(5)]), key="r")
    client = APIClient()
    client.force_login(jt_officer)
    with django_assert_max_num_queries(8):
        first = client.get(f"/api/datahub/resources/{positions.code}/records/?limit=3").json()
    assert len(first["results"]) == 3 and first["next"]
    second = client.get(f"/api/datahub/resources/{positions.code}/records/?limit=3&after={first['next']}").json()
    assert len(second["results"]) >= 2 and second["results"][0]["plate"] == "苏A12345"
    from datetime import timedelta

    from django.utils import timezone

    since = (timezone.localtime() - timedelta(minutes=2, seconds=30)).isoformat()
    window = client.get(f"/api/datahub/resources/{positions.code}/records/", {"plate": "苏A12345", "since": since}).json()
    assert len(window["results"]) == 3  # the rows of 2, 1 and 0 minutes ago
    assert client.get(f"/api/datahub/resources/{positions.code}/records/", {"plate": "苏B99999"}).json()["results"] == []
    assert client.get(f"/api/datahub/resources/{positions.code}/records/", {"since": "yesterday"}).status_code == 400


def test_batch_committed_is_announced_after_commit(push_token, positions, django_capture_on_commit_callbacks):
    from datahub.signals import batch_committed

    heard = []

    def listener(sender, batch_id, resource_code, feed, **kwargs):
        heard.append((batch_id, resource_code, feed))

    batch_committed.connect(listener)
    try:
        with django_capture_on_commit_callbacks(execute=True):
            response = push(token_client(push_token), positions.code, ndjson([{**GOOD, "time": recent()}]), key="sig")
            assert heard == []  # nothing is announced before the batch commits
        assert heard == [(response.json()["id"], positions.code, "vehicle_position")]
        with django_capture_on_commit_callbacks(execute=True):
            push(token_client(push_token), positions.code, ndjson([{**GOOD, "time": recent()}]), key="sig")  # replay
        assert len(heard) == 1
    finally:
        batch_committed.disconnect(listener)


def test_retention_command_drops_old_days_and_creates_coming_ones(push_token, positions):
    from datetime import timedelta

    from django.core.management import call_command
    from django.utils import timezone

    from datahub import partitions

    old_day = timezone.localdate() - timedelta(days=40)
    partitions.ensure_position_partitions([old_day])
    call_command("datahub_partitions", retention_days=30, ahead=3, stdout=open("/dev/null", "w"))
    have = partitions.existing_partitions()
    assert old_day not in have
    assert all(timezone.localdate() + timedelta(days=i) in have for i in range(4))
    assert "warning" not in partitions.health_check()


def test_freshness_follows_the_update_cycle(positions, enterprises):
    from datetime import timedelta

    from django.utils import timezone

    assert positions.fresh_until is None and not positions.is_fresh  # never updated
    positions.last_updated_at = timezone.now() - timedelta(minutes=10)
    assert positions.is_fresh  # real time: fresh for 15 minutes
    positions.last_updated_at = timezone.now() - timedelta(minutes=20)
    assert not positions.is_fresh
    enterprises.last_updated_at = timezone.now() - timedelta(hours=20)
    assert enterprises.is_fresh  # daily


@pytest.mark.django_db(transaction=True)
def test_two_concurrent_pushes_with_one_key_store_once(city):
    """The second request waits on the batch's unique key while the first streams, then gets its batch."""
    import threading

    from django.db import connections

    positions = DataResource.objects.get(code="JT-HAZMAT-GPS")
    release, started = threading.Event(), threading.Event()
    body = ndjson([{**GOOD, "time": recent(i)} for i in range(3)])  # the same body twice: a true retry

    class SlowBody:
        def __init__(self):
            self.parts = [body]

        def read(self, size=-1):
            if self.parts:
                return self.parts.pop()
            started.set()
            release.wait(10)
            return b""

    results = {}

    def first():
        try:
            results["first"] = services.ingest_batch(resource=positions, department=positions.owner, token=None,
                                                     idempotency_key="race", fmt="ndjson", stream=SlowBody())
        finally:
            connections.close_all()

    def second():
        try:
            results["second"] = services.ingest_batch(resource=positions, department=positions.owner, token=None,
                                                      idempotency_key="race", fmt="ndjson", stream=SlowBody())
        finally:
            connections.close_all()

    a = threading.Thread(target=first)
    a.start()
    assert started.wait(10)
    b = threading.Thread(target=second)
    b.start()
    b.join(0.5)
    assert b.is_alive()  # waiting on the first batch's key
    release.set()
    a.join(10)
    b.join(10)
    assert not results["first"].replayed and results["second"].replayed
    assert results["second"].batch.pk == results["first"].batch.pk
    assert ExchangeBatch.objects.filter(idempotency_key="race").count() == 1
    assert position_count(results["first"].batch.pk) == 3
