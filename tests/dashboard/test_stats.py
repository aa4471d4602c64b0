"""Leaders' statistics: every figure recomputed from the ticket timeline alone; drill-down, Excel, scope and refusal."""

import datetime as dt
import io
from collections import defaultdict

import pytest
from django.utils import timezone
from openpyxl import load_workbook

from dashboard import stats
from tests.conftest import make_user
from tickets.models import Ticket, TicketEvent

from .conftest import days_ago

pytestmark = pytest.mark.django_db


@pytest.fixture
def history(loop, hg_loop):
    """Tickets of 望江街道 and 海港区 along every path the figures count."""
    t = {}
    t["on_time"] = loop.close(loop.dispatch(loop.create(n=0, title="按期办结")))
    loop.rate(t["on_time"], "satisfied")
    late = loop.dispatch(loop.create(n=1, title="超期办结", at=days_ago(12)), at=days_ago(12))
    t["late"] = loop.close(late)
    loop.rate(t["late"], "unsatisfied")
    reworked = loop.reply(loop.sign(loop.dispatch(loop.create(n=2, title="返工后办结"))))
    t["reworked"] = loop.verify(loop.reply(loop.verify(reworked, passed=False)))
    returned = loop.give_back(loop.dispatch(loop.create(n=3, title="退单后改派")))
    t["returned"] = loop.sign(loop.dispatch(returned, lead=loop.sq))
    t["extended"] = loop.extend(loop.sign(loop.dispatch(loop.create(n=4, title="延期办理"))))
    t["new"] = loop.create(n=5, code="2201", source="hotline", title="热线新诉求")
    t["elsewhere"] = hg_loop.close(hg_loop.dispatch(hg_loop.create(n=0, title="海港区办结")))
    return t


def period():
    today = timezone.localdate()
    return {"start": (today - dt.timedelta(days=30)).isoformat(), "end": today.isoformat()}


# ------------------------------------------------------------------------------------------ recomputation from the timeline


def _parse(iso):
    return dt.datetime.fromisoformat(iso)


def figures_from_timeline(tickets) -> tuple[dict, dict]:
    """Ticket and department figures from TicketEvent rows only (plus each ticket's fixed place), independently
    of the columns the statistics read."""
    totals = defaultdict(int)
    departments = defaultdict(lambda: defaultdict(int))
    for ticket in tickets:
        events = list(TicketEvent.objects.filter(ticket=ticket).order_by("id"))
        actions = [e.action for e in events]
        if events[-1].to_state == "merged":
            continue
        due, closed_at, satisfaction, state = None, None, "", ""
        shares = []  # one per dispatch: [lead id, handle due, replied at, returned]
        for e in events:
            state = e.to_state or state
            if e.action == "dispatched":
                due = _parse(e.data["handle_due_at"])
                shares.append({"lead": e.data["lead"], "due": due, "replied": None, "returned": False, "extended": False,
                               "at": e.at})
            elif e.action in ("extended", "reworked"):
                due = _parse(e.data["handle_due_at"])
                shares[-1]["due"] = due
                shares[-1]["extended"] |= e.action == "extended"
                if e.action == "reworked":  # the reply did not hold: the share is being handled again
                    shares[-1]["replied"] = None
            elif e.action == "returned":
                shares[-1]["returned"] = True
            elif e.action == "replied" and e.data.get("role") == "lead":
                shares[-1]["replied"] = e.at
            elif e.action in ("closed", "self_resolved"):
                closed_at = e.at
            elif e.action == "reopened":
                closed_at = None
            elif e.action == "rated":
                satisfaction = e.data["satisfaction"]
        dispatched = "dispatched" in actions
        closed = state == "closed"
        totals["received"] += 1
        totals["closed"] += closed
        totals["on_time"] += closed and (due is None or closed_at <= due)
        totals["rated"] += bool(satisfaction)
        totals["satisfied"] += satisfaction in ("satisfied", "basically")
        totals["dispatched"] += dispatched
        totals["reworked"] += dispatched and "reworked" in actions
        totals["returned"] += dispatched and "returned" in actions
        totals["extended"] += dispatched and "extended" in actions
        totals["direct"] += closed and not dispatched
        for share in shares:
            d = departments[share["lead"]]
            d["volume"] += 1
            replied_now = share["replied"] is not None and not share["returned"]
            d["closed"] += replied_now
            d["on_time"] += replied_now and share["replied"] <= share["due"]
            d["returned"] += share["returned"]
            d["reworked"] += "reworked" in actions
            d["extended"] += share["extended"]  # an extension is granted to the share being handled then
    return dict(totals), {k: dict(v) for k, v in departments.items()}


def test_every_figure_can_be_recomputed_from_the_timeline(history, jc_leader):
    f = stats.parse_filter(jc_leader, period())
    scoped = Ticket.objects.filter(region_path__startswith=f.region.path, created_at__gte=f.start_at)
    expected_totals, expected_departments = figures_from_timeline(scoped)

    totals = stats.totals(f, jc_leader)
    assert {k: totals[k] for k in expected_totals} == expected_totals
    ours, _ = figures_from_timeline([v for k, v in history.items() if k != "elsewhere"])
    assert (ours["received"], ours["closed"], ours["on_time"], ours["reworked"], ours["returned"], ours["extended"],
            ours["rated"], ours["satisfied"]) == (6, 3, 2, 1, 1, 1, 2, 1)
    departments = {r["id"]: {k: r[k] for k in ("volume", "closed", "on_time", "returned", "reworked", "extended")}
                   for r in stats.by_department(f, jc_leader)}
    assert departments == expected_departments
    assert totals["closure_rate"] == round(100 * totals["closed"] / totals["received"], 1)


def test_composite_score_weights_volume_closure_timeliness_and_rework(history, jc_leader, loop):
    f = stats.parse_filter(jc_leader, period())
    rows = {r["id"]: r for r in stats.by_department(f, jc_leader)}
    zf = rows[loop.zf.pk]
    busiest = max(r["volume"] for r in rows.values())
    expected = round(
        0.1 * 100 * zf["volume"] / busiest + 0.3 * zf["closure_rate"] + 0.3 * zf["on_time_rate"]
        + 0.3 * (100 - zf["rework_rate"]), 1
    )
    assert zf["score"] == expected
    assert [r["rank"] for r in sorted(rows.values(), key=lambda r: -r["score"])] == list(range(1, len(rows) + 1))
    towns = stats.by_region(f, jc_leader)
    assert {r["name"] for r in towns} >= {"望江街道"} and all("score" in r for r in towns)


def test_a_district_leader_sees_only_the_district(history, jc_leader, city_leader, client):
    city = stats.totals(stats.parse_filter(city_leader, period()), city_leader)
    district = stats.totals(stats.parse_filter(jc_leader, period()), jc_leader)
    assert city["received"] == district["received"] + 1
    client.force_login(jc_leader)
    response = client.get("/stats/", {**period(), "region": "329903000000"})
    assert response.status_code == 400
    assert "不在您的权限范围" in response.content.decode() or "范围" in response.content.decode()


def test_the_page_shows_rankings_and_every_number_drills_down(history, jc_leader, client, django_assert_max_num_queries):
    client.force_login(jc_leader)
    page = client.get("/stats/", period())
    assert page.status_code == 200
    html = page.content.decode()
    assert "受理量" in html and "按期办结率" in html and "望江街道" in html
    with django_assert_max_num_queries(12):
        drill = client.get("/stats/tickets/", {**period(), "metric": "reworked"})
    assert drill.status_code == 200
    assert "返工后办结" in drill.content.decode() and "按期办结" not in drill.content.decode().split("<tbody>")[1]
    by_dept = client.get("/stats/tickets/", {**period(), "metric": "returned", "in_department": history["returned"].assignments.filter(state="returned").get().department_id})
    assert "退单后改派" in by_dept.content.decode()


def test_every_table_exports_to_excel(history, jc_leader, client, loop):
    client.force_login(jc_leader)
    for table in ("departments", "regions", "categories", "totals"):
        response = client.get(f"/stats/export/{table}.xlsx", period())
        assert response.status_code == 200
        assert response["Content-Type"].startswith("application/vnd.openxmlformats")
        sheet = load_workbook(io.BytesIO(response.content)).active
        rows = list(sheet.iter_rows(values_only=True))
        assert len(rows) >= 2
    sheet = load_workbook(io.BytesIO(client.get("/stats/export/departments.xlsx", period()).content)).active
    header, *rows = list(sheet.iter_rows(values_only=True))
    assert header[:3] == ("排名", "部门", "综合得分")
    assert loop.zf.name in [r[1] for r in rows]
    drilled = client.get("/stats/tickets/", {**period(), "metric": "closed", "format": "xlsx"})
    numbers = [r[0] for r in list(load_workbook(io.BytesIO(drilled.content)).active.iter_rows(values_only=True))[1:]]
    assert {history[k].number for k in ("on_time", "late", "reworked")} <= set(numbers)
    assert history["new"].number not in numbers and history["elsewhere"].number not in numbers
    assert len(numbers) == stats.totals(stats.parse_filter(jc_leader, period()), jc_leader)["closed"]


def test_bad_filters_are_refused_in_chinese(jc_leader, client):
    client.force_login(jc_leader)
    response = client.get("/stats/", {"start": "2026-13-01"})
    assert response.status_code == 400 and "日期" in response.content.decode()
    response = client.get("/stats/", {"start": "2026-05-01", "end": "2026-04-01"})
    assert response.status_code == 400
    assert client.get("/stats/export/nothing.xlsx").status_code == 404
    assert client.get("/stats/tickets/", {"metric": "bogus"}).status_code == 400


def test_who_may_open_the_statistics_and_the_wall(client, alice, cg_staff, jc_leader):
    agent = make_user("agent_t", "hotline_agent", region=alice.region)
    client.force_login(alice)  # a dispatcher: the wall yes, the leaders' statistics no
    assert client.get("/wall/").status_code == 200
    assert client.get("/stats/").status_code == 403
    client.force_login(agent)
    assert client.get("/wall/").status_code == 403
    assert client.get("/api/dashboard/wall/snapshot/").status_code == 403
    client.force_login(cg_staff)
    assert client.get("/stats/export/departments.xlsx").status_code == 403
    client.force_login(jc_leader)
    assert client.get("/stats/").status_code == 200 and client.get("/wall/").status_code == 200
    client.logout()
    assert client.get("/api/dashboard/wall/snapshot/").status_code == 401
    assert client.get("/wall/").status_code == 302


def test_whole_months_and_edge_days_add_up_to_the_live_count(loop, jc_leader):
    for n, age in enumerate((5, 38, 45, 70, 95)):
        t = loop.dispatch(loop.create(n=n, title=f"{age}天前", at=days_ago(age)), at=days_ago(age))
        if n % 2 == 0:
            loop.close(t)
    loop.create(n=6, source="hotline", code="2201", title="热线今天")
    today = timezone.localdate()
    last_month_end = today.replace(day=1) - dt.timedelta(days=1)
    periods = [
        (today - dt.timedelta(days=100), today),  # partial month, whole months, partial month
        (last_month_end.replace(day=1) - dt.timedelta(days=31), last_month_end),  # ends on a month's last day
        (today.replace(day=1), today),  # this month only
    ]
    for start, end in periods:
        f = stats.parse_filter(jc_leader, {"start": start.isoformat(), "end": end.isoformat()})
        live = stats._ticket_counts(stats.tickets_in(f, jc_leader), None)[None]
        summed = stats.totals(f, jc_leader)
        assert {k: summed[k] for k in stats.COUNTS} == live, (start, end)
        by_town = stats.by_region(f, jc_leader)
        assert sum(r["received"] for r in by_town) == live["received"]


def test_the_page_report_totals_equal_the_direct_totals(history, jc_leader, city_leader):
    for user in (jc_leader, city_leader):
        f = stats.parse_filter(user, period())
        assert stats.report(f, user)["totals"] == stats.totals(f, user)


def test_a_stored_control_character_does_not_break_the_excel_export(history, jc_leader, client):
    """Rows stored before the input rules (or by a script) may hold characters XML cannot carry."""
    from tickets.models import Ticket

    Ticket.objects.filter(pk=history["on_time"].pk).update(title="按期\x1b办结\x0b")
    client.force_login(jc_leader)
    response = client.get("/stats/tickets/", {**period(), "metric": "closed", "format": "xlsx"})
    assert response.status_code == 200
    titles = [r[1] for r in list(load_workbook(io.BytesIO(response.content)).active.iter_rows(values_only=True))[1:]]
    assert "按期办结" in titles
