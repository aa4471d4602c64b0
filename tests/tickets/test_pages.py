"""The console's tabs and the department inbox's filters show the right tickets to the right people."""

import pytest

from tickets import services
from tests.conftest import current_version

pytestmark = pytest.mark.django_db


def test_console_tabs(client, new_ticket, dispatched, town_dispatcher, zf_staff, worker, charlie):
    fresh = new_ticket()
    escalated = dispatched()
    escalated = services.ticket_escalate(ticket=escalated, by=town_dispatcher, note="难协调", version=current_version(escalated))
    late = dispatched()
    a = services.ticket_sign(assignment=late.assignments.get(), by=zf_staff, version=current_version(late.assignments.get()))
    services.ticket_request(ticket=late, by=zf_staff, kind="extension", reason="缺配件", assignment=a, extra_days=2, version=current_version(late))
    client.force_login(town_dispatcher)
    assert fresh.number in client.get("/console/").content.decode()
    assert late.number in client.get("/console/?tab=active").content.decode()
    requests = client.get("/console/?tab=requests").content.decode()
    assert late.number in requests and "缺配件" in requests
    # escalated to the district: no longer in the street's lists, but in the district dispatcher's
    assert escalated.number not in client.get("/console/?tab=active").content.decode()
    from tests.conftest import make_user

    district = make_user("jc_disp", "dispatcher", region=escalated.center)
    client.force_login(district)
    assert escalated.number in client.get("/console/?tab=escalated").content.decode()
    # search by number opens the ticket; an outsider's search finds nothing
    assert client.get(f"/console/?q={fresh.number}").status_code == 302
    client.force_login(charlie)
    assert client.get(f"/console/t/{fresh.pk}/").status_code == 404
    refused = client.get(f"/console/?q={fresh.number}")
    assert refused.status_code == 200 and "在您的范围内没有该编号的工单" in refused.content.decode()
    client.force_login(zf_staff)
    assert client.get("/console/").status_code == 403


def test_dept_inbox_filters_and_stale_form_shows_a_message(client, dispatched, zf_staff):
    t = dispatched()
    other = dispatched()
    a = t.assignments.get()
    services.ticket_sign(assignment=a, by=zf_staff, version=current_version(a))
    client.force_login(zf_staff)
    signed = client.get("/dept/?state=signed").content.decode()
    assert t.number in signed and other.number not in signed
    assert other.number in client.get(f"/dept/?q={other.number}").content.decode()
    # a form from before the signature (old version) is refused with a message, nothing changes
    response = client.post(f"/dept/a/{a.pk}/reply/", {"version": t.version, "reply": "已处理"}, follow=True)
    assert "已被他人修改" in response.content.decode()
    a.refresh_from_db()
    assert a.state == "signed"
