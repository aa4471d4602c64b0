"""Working-day calendar: statutory holidays, adjusted working days, overrides, unknown years."""

import datetime as dt
from zoneinfo import ZoneInfo

import pytest

from tickets import calendar
from tickets.models import CalendarOverride

pytestmark = pytest.mark.django_db
SH = ZoneInfo("Asia/Shanghai")


def at(*args):
    return dt.datetime(*args, tzinfo=SH)


def test_spring_festival_2026_is_skipped_and_the_adjusted_saturday_counts():
    # Fri 13 Feb 16:00 + 1 working day (7.5 h): 1.5 h on Friday, 6 h on Sat 14 Feb (an adjusted working day)
    assert calendar.add_working_time(at(2026, 2, 13, 16, 0), 1, "working_days") == at(2026, 2, 14, 16, 0)
    # + 2 working days: the holiday 15–23 Feb is skipped, it lands on Tue 24 Feb
    assert calendar.add_working_time(at(2026, 2, 13, 16, 0), 2, "working_days") == at(2026, 2, 24, 16, 0)
    assert not calendar.is_workday(dt.date(2026, 2, 17))


def test_adjusted_saturday_workday_after_the_festival():
    assert dt.date(2026, 2, 28).weekday() == 5 and calendar.is_workday(dt.date(2026, 2, 28))
    # Fri 27 Feb 17:00 + 2 working hours: 0.5 h Friday, 1.5 h on Saturday morning
    assert calendar.add_working_time(at(2026, 2, 27, 17, 0), 2, "working_hours") == at(2026, 2, 28, 10, 0)


def test_working_hours_skip_lunch_and_nights():
    assert calendar.add_working_time(at(2026, 3, 2, 11, 0), 2, "working_hours") == at(2026, 3, 2, 14, 30)
    assert calendar.add_working_time(at(2026, 3, 2, 20, 0), 1, "working_hours") == at(2026, 3, 3, 9, 30)
    assert calendar.working_seconds_between(at(2026, 3, 2, 11, 0), at(2026, 3, 2, 14, 30)) == 2 * 3600
    assert calendar.working_seconds_between(at(2026, 2, 14, 0, 0), at(2026, 2, 24, 0, 0)) == 7.5 * 3600


def test_natural_hours_ignore_the_calendar():
    assert calendar.add_working_time(at(2026, 2, 16, 23, 0), 4, "natural_hours") == at(2026, 2, 17, 3, 0)


def test_deadline_crossing_into_2027_uses_weekdays_and_the_override_table_wins():
    start = at(2026, 12, 31, 16, 0)  # Thursday
    # chinese_calendar knows nothing of 2027: Fri 1 Jan counts as a weekday
    assert calendar.add_working_time(start, 3, "working_days") == at(2027, 1, 5, 16, 0)
    CalendarOverride.objects.create(date=dt.date(2027, 1, 1), is_workday=False, note="元旦")
    assert calendar.add_working_time(start, 3, "working_days") == at(2027, 1, 6, 16, 0)
    CalendarOverride.objects.create(date=dt.date(2027, 1, 2), is_workday=True, note="调休上班")
    assert calendar.add_working_time(start, 3, "working_days") == at(2027, 1, 5, 16, 0)


def test_override_wins_over_chinese_calendar_in_a_known_year():
    assert calendar.is_workday(dt.date(2026, 3, 2))
    CalendarOverride.objects.create(date=dt.date(2026, 3, 2), is_workday=False, note="台风停工")
    assert not calendar.is_workday(dt.date(2026, 3, 2))


def test_unknown_year_warns_on_healthz_without_failing(client, settings):
    result = calendar.health()
    assert result["ok"] is True
    assert "2027" in result["warning"]
    body = client.get("/healthz").json()
    assert body["checks"]["calendar"]["ok"] is True and "2027" in body["checks"]["calendar"]["warning"]
    assert "calendar" not in body["down"]


def test_working_hours_are_configurable(settings):
    settings.TICKETS_WORKING_HOURS = [["09:00", "17:00"]]
    assert calendar.seconds_per_working_day() == 8 * 3600
    assert calendar.add_working_time(at(2026, 3, 2, 16, 0), 1, "working_days") == at(2026, 3, 3, 16, 0)


def test_admin_calendar_page_warns_about_the_unknown_year_and_ticket_admin_is_read_only(admin_client, categories):
    response = admin_client.get("/admin/tickets/calendaroverride/")
    assert response.status_code == 200
    assert "2027" in response.content.decode()
    assert admin_client.get("/admin/tickets/category/").status_code == 200
    assert admin_client.get("/admin/tickets/ticket/").status_code == 200
    assert admin_client.get("/admin/tickets/ticket/add/").status_code == 403
    from tickets.models import Ticket

    ticket = Ticket.objects.order_by("id").first()
    page = admin_client.get(f"/admin/tickets/ticket/{ticket.pk}/change/")
    assert page.status_code == 200 and ticket.number in page.content.decode()
