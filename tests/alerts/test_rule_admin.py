"""Warning models are edited in the admin: parameters are checked against the kind, defaults fill the rest."""

import pytest
from django.core.exceptions import ValidationError
from django.test import Client

from alerts.models import AlertRule, RuleKind

from .conftest import rule

pytestmark = pytest.mark.django_db


def test_defaults_fill_missing_parameters(city):
    r = rule(RuleKind.LONG_STOP)
    r.params = {"min_minutes": 45}
    assert r.settings() == {"merge_gap_minutes": 30, "min_minutes": 45, "still_kmh": 5.0, "site_radius_m": 300}


@pytest.mark.parametrize(
    ("kind", "params"),
    [
        (RuleKind.LONG_STOP, {"min_minutes": "thirty"}),
        (RuleKind.LONG_STOP, {"minutes": 30}),
        (RuleKind.BANNED_HOURS, {"windows": [["25:00", "06:00"]]}),
        (RuleKind.BANNED_HOURS, {"windows": [], "vehicle_permits": False}),
        (RuleKind.OVERSPEED, {"other_kmh": -5}),
        (RuleKind.SENSITIVE_CONTENT, {"terms": []}),
        (RuleKind.VIDEO_EVENT, {"event_types": {}}),
    ],
)
def test_bad_parameters_are_refused_with_a_reason(city, kind, params):
    r = AlertRule(code="x-test", kind=kind, name="测试", params=params)
    with pytest.raises(ValidationError) as caught:
        r.full_clean()
    assert "params" in caught.value.message_dict


def test_the_admin_edits_a_rule(admin_user):
    client = Client()
    client.force_login(admin_user)
    r = rule(RuleKind.ROUTE_DEVIATION)
    url = f"/admin/alerts/alertrule/{r.pk}/change/"
    assert client.get("/admin/alerts/alertrule/").status_code == 200
    form = {"code": r.code, "kind": r.kind, "name": r.name, "level": "red", "is_active": "on", "deadline_hours": 2,
            "params": '{"max_metres": 800}', "description": r.description}
    bad = client.post(url, form | {"params": '{"max_metres": "far"}'})
    assert bad.status_code == 200 and AlertRule.objects.get(pk=r.pk).params == {}
    assert client.post(url, form).status_code == 302
    r.refresh_from_db()
    assert r.level == "red" and r.settings()["max_metres"] == 800
