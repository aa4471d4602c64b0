"""The closed loop and every side path, through the services, as the people in DESIGN.md take them."""

import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import connection, transaction
from django.db.utils import DatabaseError

from realtime.models import OutboxEvent
from tickets import services
from tickets.models import Assignment, Light, State, Ticket, TicketEvent, TicketPhoto, TicketRequest

from .conftest import inside, photo
from tests.conftest import current_version

pytestmark = pytest.mark.django_db


def actions(ticket):
    return list(TicketEvent.objects.filter(ticket=ticket).order_by("id").values_list("action", flat=True))


def test_create_fills_number_grid_and_region_chain(new_ticket, grid1, chunhui, wangjiang):
    t = new_ticket()
    assert t.number.startswith(f"{wangjiang.code[:6]}") and len(t.number) == 19
    assert (t.grid, t.community, t.town, t.district_id) == (grid1, chunhui, wangjiang, wangjiang.parent_id)
    assert t.region_path == chunhui.path and t.center == wangjiang and t.state == State.NEW
    assert OutboxEvent.objects.filter(topic="ticket.created", data__id=t.pk).exists()
    second = new_ticket()
    assert int(second.number[-5:]) == int(t.number[-5:]) + 1


def test_point_outside_every_grid_lands_in_the_nearest_community(categories, worker):
    from django.contrib.gis.geos import Point

    t = services.ticket_create(by=worker, source="grid", category=categories["1101"], title="城外垃圾", description="",
                               location=Point(119.97, 31.81, srid=4326))  # beyond the city edge, within its margin
    assert t.grid is None and t.community.level == 4
    assert "最近的社区" in t.placement_note or "nearest community" in t.placement_note


def test_main_path_to_closure_with_verification_by_the_grid_worker(dispatched, zf_staff, worker):
    t = dispatched()
    lead = t.assignments.get()
    assert (t.state, lead.state, lead.light) == (State.DISPATCHED, "dispatched", Light.GREEN)
    assert lead.sign_due_at < lead.handle_due_at and lead.next_scan_at == lead.warn_at
    a = services.ticket_sign(assignment=lead, by=zf_staff, version=t.version)
    assert a.ticket.state == State.HANDLING
    a = services.ticket_reply(assignment=a, by=zf_staff, reply="已清理", photos=[photo()], version=a.ticket.version)
    t = Ticket.objects.get(pk=t.pk)
    assert t.state == State.VERIFYING and t.verifier == worker
    assert TicketPhoto.objects.filter(ticket=t, kind="after").count() == 1
    t = services.ticket_verify(ticket=t, by=worker, passed=True, note="已核实", version=t.version)
    assert t.state == State.CLOSED and t.closed_at
    assert actions(t) == ["created", "opened", "dispatched", "signed", "replied", "closed"]
    ev = TicketEvent.objects.filter(ticket=t).order_by("id")
    assert [(e.from_state, e.to_state) for e in ev][1:] == [
        ("new", "open"), ("open", "dispatched"), ("dispatched", "handling"), ("handling", "verifying"), ("verifying", "closed")]


def test_verification_falls_to_the_dispatcher_when_the_grid_has_no_worker(categories, town_dispatcher, zf, zf_staff, wangjiang):
    from grid.models import Grid, GridWorker

    empty = Grid.objects.filter(community__parent=wangjiang).exclude(pk__in=GridWorker.objects.values("grid")).order_by("code").first()
    t = services.ticket_create(by=town_dispatcher, source="inspection", category=categories["1101"], title="巡查发现垃圾",
                               description="", location=inside(empty))
    t = services.ticket_open(ticket=t, by=town_dispatcher, version=current_version(t))
    t = services.ticket_dispatch(ticket=t, by=town_dispatcher, lead=zf, version=current_version(t))
    a = services.ticket_sign(assignment=t.assignments.get(), by=zf_staff, version=current_version(t.assignments.get()))
    services.ticket_reply(assignment=a, by=zf_staff, reply="已清理", version=current_version(a))
    t.refresh_from_db()
    assert t.state == State.VERIFYING
    assert t.verifier.role == "dispatcher" and t.verifier.region_id == wangjiang.pk


def test_failed_verification_sends_it_back_as_rework(dispatched, zf_staff, worker):
    t = dispatched()
    a = services.ticket_sign(assignment=t.assignments.get(), by=zf_staff, version=current_version(t.assignments.get()))
    services.ticket_reply(assignment=a, by=zf_staff, reply="已处理", version=current_version(a))
    t.refresh_from_db()
    with pytest.raises(ValidationError):
        services.ticket_verify(ticket=t, by=worker, passed=False, note="", version=t.version)
    t = services.ticket_verify(ticket=t, by=worker, passed=False, note="摊位仍在", version=t.version)
    a.refresh_from_db()
    assert (t.state, t.rework_count, a.state) == (State.HANDLING, 1, "signed")
    services.ticket_reply(assignment=a, by=zf_staff, reply="再次清理", version=current_version(a))
    t.refresh_from_db()
    t = services.ticket_verify(ticket=t, by=worker, passed=True, version=t.version)
    assert t.state == State.CLOSED
    assert "reworked" in actions(t)


def test_only_the_verifier_grid_worker_may_verify(dispatched, zf_staff, chunhui):
    from tests.conftest import make_user

    other = make_user("gw_other", "gridworker", region=chunhui)
    t = dispatched()
    a = services.ticket_sign(assignment=t.assignments.get(), by=zf_staff, version=current_version(t.assignments.get()))
    services.ticket_reply(assignment=a, by=zf_staff, reply="ok", version=current_version(a))
    t.refresh_from_db()
    with pytest.raises(PermissionDenied):
        services.ticket_verify(ticket=t, by=other, passed=True, version=t.version)


def test_whistle_lead_and_assisting_phase_ends_when_all_answered_or_released(dispatched, zf_staff, sq, sq_staff, town_dispatcher):
    from org.models import Department

    third = Department.objects.get(code="329900-CG")
    t = dispatched(assisting=[sq, third])
    lead = t.assignments.get(role="lead")
    assist = t.assignments.get(department=sq)
    other = t.assignments.get(department=third)
    services.ticket_sign(assignment=lead, by=zf_staff, version=current_version(lead))
    services.ticket_sign(assignment=assist, by=sq_staff, version=current_version(assist))
    services.ticket_reply(assignment=lead, by=zf_staff, reply="主办完成", version=current_version(lead))
    t.refresh_from_db()
    assert t.state == State.HANDLING  # assisting shares still open
    services.ticket_reply(assignment=assist, by=sq_staff, reply="协办完成", version=current_version(assist))
    t.refresh_from_db()
    assert t.state == State.HANDLING
    services.ticket_release(assignment=other, by=town_dispatcher, note="无需协办", version=current_version(other))
    t.refresh_from_db()
    assert t.state == State.VERIFYING


def test_department_cannot_sign_another_departments_share(dispatched, sq_staff):
    t = dispatched()
    with pytest.raises(PermissionDenied):
        services.ticket_sign(assignment=t.assignments.get(), by=sq_staff, version=current_version(t.assignments.get()))
    assert t.assignments.get().state == "dispatched"


def test_cancel_a_new_case_needs_a_reason_and_a_center_role(new_ticket, town_dispatcher, zf_staff):
    t = new_ticket()
    with pytest.raises(ValidationError):
        services.ticket_cancel(ticket=t, by=town_dispatcher, reason=" ", version=current_version(t))
    with pytest.raises(PermissionDenied):
        services.ticket_cancel(ticket=t, by=zf_staff, reason="不是问题", version=current_version(t))
    t = services.ticket_cancel(ticket=t, by=town_dispatcher, reason="重复来电", version=current_version(t))
    assert t.state == State.CANCELLED
    with pytest.raises(services.TransitionRefused):
        services.ticket_open(ticket=t, by=town_dispatcher, version=current_version(t))


def test_return_goes_back_to_the_dispatcher_after_approval(dispatched, zf_staff, town_dispatcher):
    t = dispatched()
    a = t.assignments.get()
    r = services.ticket_request(ticket=t, by=zf_staff, kind="return", reason="不属于本部门职责", assignment=a, version=current_version(t))
    assert r.decision == "pending" and Ticket.objects.get(pk=t.pk).state == State.DISPATCHED
    with pytest.raises(services.TransitionRefused):
        services.ticket_request(ticket=t, by=zf_staff, kind="return", reason="再次", assignment=a, version=current_version(t))
    services.ticket_decide(request=r, by=town_dispatcher, approve=True, version=current_version(r))
    t.refresh_from_db()
    a.refresh_from_db()
    assert (t.state, a.state, a.return_reason, a.next_scan_at) == (State.OPEN, "returned", "不属于本部门职责", None)
    assert actions(t)[-2:] == ["return_requested", "returned"]


def test_extension_needs_the_duty_chief(dispatched, zf_staff, town_dispatcher, duty_chief):
    t = dispatched()
    a = services.ticket_sign(assignment=t.assignments.get(), by=zf_staff, version=current_version(t.assignments.get()))
    before = a.handle_due_at
    r = services.ticket_request(ticket=t, by=zf_staff, kind="extension", reason="需采购配件", assignment=a, extra_days=2, version=current_version(t))
    with pytest.raises(PermissionDenied):
        services.ticket_decide(request=r, by=town_dispatcher, approve=True, version=current_version(r))
    services.ticket_decide(request=r, by=duty_chief, approve=True, version=current_version(r))
    a.refresh_from_db()
    t.refresh_from_db()
    assert a.handle_due_at > before and t.due_at == a.handle_due_at
    assert TicketRequest.objects.get(pk=r.pk).decision == "approved"


def test_suspension_pauses_the_clock_and_resume_moves_deadlines(dispatched, town_dispatcher, duty_chief):
    import datetime as dt

    from django.utils import timezone

    t = dispatched()
    a = t.assignments.get()
    r = services.ticket_request(ticket=t, by=town_dispatcher, kind="suspend", reason="等待产权单位确认", version=current_version(t))
    services.ticket_decide(request=r, by=duty_chief, approve=True, version=current_version(r))
    t.refresh_from_db()
    a.refresh_from_db()
    assert t.state == State.SUSPENDED and a.paused_at and a.next_scan_at is None
    # pretend the ticket was suspended three days ago (calendar days)
    Assignment.objects.filter(pk=a.pk).update(paused_at=a.paused_at - dt.timedelta(days=3))
    due_before = a.handle_due_at
    t = services.ticket_resume(ticket=t, by=town_dispatcher, version=t.version)
    a.refresh_from_db()
    assert t.state == State.DISPATCHED and a.paused_at is None and a.next_scan_at is not None
    assert a.handle_due_at > due_before  # the suspended time was not counted
    assert a.handle_due_at > timezone.now()


def test_void_an_open_ticket_through_an_approved_cancellation(dispatched, town_dispatcher, town_dispatcher2):
    t = dispatched()
    r = services.ticket_request(ticket=t, by=town_dispatcher, kind="cancel", reason="重复立案", version=current_version(t))
    services.ticket_decide(request=r, by=town_dispatcher2, approve=True, version=current_version(r))
    t.refresh_from_db()
    assert t.state == State.CANCELLED and t.assignments.get().state == "cancelled"


def test_rejected_request_changes_nothing_but_the_record(dispatched, zf_staff, town_dispatcher):
    t = dispatched()
    r = services.ticket_request(ticket=t, by=zf_staff, kind="return", reason="不归我们", assignment=t.assignments.get(), version=current_version(t))
    services.ticket_decide(request=r, by=town_dispatcher, approve=False, note="属于执法队职责", version=current_version(r))
    t.refresh_from_db()
    assert t.state == State.DISPATCHED and actions(t)[-1] == "return_rejected"


def test_manual_urge_and_escalation_to_the_district_center(dispatched, town_dispatcher, wangjiang):
    t = dispatched()
    t = services.ticket_urge(ticket=t, by=town_dispatcher, note="请尽快处理", version=t.version)
    assert t.urge_count == 1 and t.assignments.get().urged_at
    t = services.ticket_escalate(ticket=t, by=town_dispatcher, note="跨部门难协调", version=t.version)
    assert t.center_id == wangjiang.parent_id and t.level == 2 and t.escalation_count == 1
    assert OutboxEvent.objects.filter(topic="ticket.escalated", data__id=t.pk).exists()


def test_merge_as_duplicate(new_ticket, town_dispatcher):
    first, second = new_ticket(), new_ticket()
    with pytest.raises(ValidationError):
        services.ticket_merge(ticket=first, into=first, by=town_dispatcher, version=current_version(first))
    second = services.ticket_merge(ticket=second, into=first, by=town_dispatcher, note="同一摊位", version=current_version(second))
    assert second.state == State.MERGED and second.duplicate_of == first


def test_self_resolve_closes_at_grid_level_with_an_after_photo(new_ticket, worker, town_dispatcher):
    t = new_ticket()
    with pytest.raises(ValidationError):
        services.ticket_self_resolve(ticket=t, by=worker, note="已劝离", after_photo=None)
    with pytest.raises(PermissionDenied):
        services.ticket_self_resolve(ticket=t, by=town_dispatcher, note="x", after_photo=photo())
    t = services.ticket_self_resolve(ticket=t, by=worker, note="已劝离", after_photo=photo())
    assert t.state == State.CLOSED and t.photos.filter(kind="after").exists()


def test_reopen_after_an_unsatisfied_citizen(dispatched, zf_staff, worker, town_dispatcher):
    t = dispatched()
    a = services.ticket_sign(assignment=t.assignments.get(), by=zf_staff, version=current_version(t.assignments.get()))
    services.ticket_reply(assignment=a, by=zf_staff, reply="ok", version=current_version(a))
    t.refresh_from_db()
    t = services.ticket_verify(ticket=t, by=worker, passed=True, version=t.version)
    t = services.ticket_reopen(ticket=t, by=town_dispatcher, note="市民回访不满意：摊贩又回来了", version=t.version)
    assert t.state == State.OPEN and t.satisfaction == "unsatisfied"
    t = services.ticket_dispatch(ticket=t, by=town_dispatcher, lead=a.department, version=t.version)
    assert t.state == State.DISPATCHED and t.assignments.count() == 2


def test_stale_version_changes_nothing(new_ticket, town_dispatcher):
    t = new_ticket()
    old = t.version
    services.ticket_open(ticket=t, by=town_dispatcher, version=old)
    count = TicketEvent.objects.filter(ticket=t).count()
    with pytest.raises(services.StaleVersion):
        services.ticket_cancel(ticket=t, by=town_dispatcher, reason="x", version=old)
    t.refresh_from_db()
    assert t.state == State.OPEN and TicketEvent.objects.filter(ticket=t).count() == count


def test_timeline_rows_cannot_be_updated_or_deleted(new_ticket):
    t = new_ticket()
    event = TicketEvent.objects.filter(ticket=t).first()
    for sql in ("UPDATE tickets_ticketevent SET note = 'x' WHERE id = %s", "DELETE FROM tickets_ticketevent WHERE id = %s"):
        with pytest.raises(DatabaseError, match="append-only"):
            with transaction.atomic(), connection.cursor() as cursor:
                cursor.execute(sql, [event.pk])
    with pytest.raises(DatabaseError):
        with transaction.atomic():
            TicketEvent.objects.filter(pk=event.pk).update(note="changed")
    assert TicketEvent.objects.get(pk=event.pk).note == event.note


def test_every_transition_declares_its_roles():
    for model in (Ticket, Assignment):
        for tr in model._meta.get_field("state").get_all_transitions(model):
            if tr.name == "cancel" and model is Assignment:
                continue  # follows the ticket's own cancellation
            assert tr.permission is not None, f"{model.__name__}.{tr.name} declares no roles"


def test_another_caller_is_added_to_an_open_ticket_and_refused_on_a_closed_one(new_ticket, town_dispatcher, worker):
    from tests.conftest import make_user

    agent = make_user("agent_x", "hotline_agent", region=town_dispatcher.region)
    t = new_ticket()
    t = services.ticket_add_caller(ticket=t, by=agent, note="又一位市民来电反映")
    assert actions(t)[-1] == "caller_added" and t.caller_count == 2
    with pytest.raises(PermissionDenied):
        services.ticket_add_caller(ticket=t, by=worker, note="x")
    services.ticket_cancel(ticket=t, by=town_dispatcher, reason="重复", version=current_version(t))
    with pytest.raises(services.TransitionRefused):
        services.ticket_add_caller(ticket=t, by=agent, note="再次来电")


def test_system_intake_with_an_idempotency_key_is_deduplicated_too(categories, grid1):
    first = services.ticket_create(by=None, source="alert", category=categories["1401"], title="积水预警", description="",
                                   location=inside(grid1), idempotency_key="alert-77")
    again = services.ticket_create(by=None, source="alert", category=categories["1401"], title="积水预警", description="",
                                   location=inside(grid1), idempotency_key="alert-77")
    assert again.pk == first.pk and again.replayed
    # the database itself refuses a second system ticket with the same key (NULLS NOT DISTINCT)
    from django.db import IntegrityError

    clone = Ticket.objects.get(pk=first.pk)
    clone.pk, clone.number = None, "X" + first.number[1:]
    with pytest.raises(IntegrityError), transaction.atomic():
        clone.save(force_insert=True)
