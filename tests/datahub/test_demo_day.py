"""The one-day generator: planted anomalies are exactly what the data shows (ground truth for alert recall)."""

from datetime import date, timedelta

import pytest
from django.core.management import call_command
from django.db import connection
from django.utils import timezone

from datahub.models import Dwelling, ExchangeBatch, HazmatVehicle, Licence, PlantedAnomaly

pytestmark = pytest.mark.django_db


def plates(sql, params):
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        return {row[0] for row in cursor.fetchall()}


def planted(kind):
    return set(PlantedAnomaly.objects.filter(kind=kind).values_list("subject", flat=True))


def test_demo_day_plants_each_anomaly_and_nothing_else_breaks_a_rule(city, tmp_path, settings):
    settings.BASE_DIR = tmp_path
    day = timezone.localdate() - timedelta(days=1)
    call_command("datahub_demo_day", date=day.isoformat(), vehicles=20, seed=3, stdout=open("/dev/null", "w"))
    assert HazmatVehicle.objects.count() == 20
    for kind in PlantedAnomaly.Kind.values:
        assert planted(kind), kind
    window = [day - timedelta(days=1), day + timedelta(days=1)]
    speeding = plates(
        "SELECT DISTINCT plate FROM datahub_vehicle_position WHERE speed_kmh > 80 AND recorded_at::date BETWEEN %s AND %s", window
    )
    off_route = plates(
        "SELECT DISTINCT p.plate FROM datahub_vehicle_position p JOIN datahub_hazmatvehicle v USING (plate) "
        "WHERE ST_Distance(p.point::geography, v.route::geography) > 500", []
    )
    banned = plates(
        "SELECT DISTINCT p.plate FROM datahub_vehicle_position p JOIN datahub_hazmatvehicle v USING (plate) WHERE p.speed_kmh > 5 "
        "AND ((p.recorded_at AT TIME ZONE 'Asia/Shanghai')::time NOT BETWEEN v.permitted_start AND v.permitted_end)", []
    )
    assert speeding == planted("speeding")
    assert off_route == planted("off_route")
    assert banned == planted("banned_hours")
    overcrowded = {d.code for d in Dwelling.objects.all() if d.area_m2 / d.registered_residents < 5}
    assert overcrowded == planted("overcrowded_dwelling")
    assert set(Licence.objects.filter(valid_to__lt=day, status="valid").values_list("holder_credit_code", flat=True)) == planted("expired_licence")
    assert set(Licence.objects.filter(status="revoked").values_list("holder_credit_code", flat=True)) == planted("revoked_licence")
    assert (tmp_path / "var" / "datahub" / f"planted-{day.isoformat()}.json").exists()

    # Running it again stores nothing twice (same idempotency keys) and keeps the same ground truth.
    batches, truth = ExchangeBatch.objects.count(), PlantedAnomaly.objects.count()
    call_command("datahub_demo_day", date=day.isoformat(), vehicles=20, seed=3, stdout=open("/dev/null", "w"))
    assert ExchangeBatch.objects.count() == batches and PlantedAnomaly.objects.count() == truth
