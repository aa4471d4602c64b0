"""Reads: what each user may see, inboxes and queues, suggestions, masking of citizens' contacts."""

from django.db.models import Q, QuerySet

from org.cache import per_process
from org.models import Department, Region, Role
from org.permissions import can, visible

from .models import OPEN_STATES, Assignment, Category, State, Ticket, TicketEvent, TicketRequest

LIST_RELATED = ("category", "center")


def category_key(pk) -> str:
    return f"tickets:category:{pk}"


def category(pk: int) -> Category | None:
    """One category by id, from this process's copy (org.cache.per_process); None if there is none."""
    return per_process(category_key(pk), lambda: Category.objects.filter(pk=pk).first())


def tickets_visible_to(user) -> QuerySet[Ticket]:
    """Tickets in the user's region subtree, or dispatched to their department."""
    return visible(Ticket.objects.select_related(*LIST_RELATED), user)


def verification_tasks_for(user) -> QuerySet[Ticket]:
    """Tickets waiting for this user's on-site verification (核查); a center's dispatchers also take those
    with no verifier."""
    qs = Ticket.objects.filter(state=State.VERIFYING).select_related(*LIST_RELATED)
    if user.role in (Role.DISPATCHER, Role.DUTY_CHIEF) and user.region_id:
        return visible(qs.filter(Q(verifier=user) | Q(verifier__isnull=True, center=user.region_id)), user)
    return qs.filter(verifier=user)


def reports_by(user) -> QuerySet[Ticket]:
    """What the user reported, newest first."""
    return Ticket.objects.filter(Q(reporter=user) | Q(created_by=user)).select_related(*LIST_RELATED).order_by("-id")


def department_inbox(user, *, state: str = "", light: str = "", q: str = "", include_done: bool = False) -> QuerySet[Assignment]:
    """The department's shares, most urgent first. Scoped to the user's own department only."""
    if user.department_id is None:
        return Assignment.objects.none()
    qs = Assignment.objects.filter(department_id=user.department_id).select_related(
        "ticket", "ticket__category", "ticket__center"
    )
    if state:
        qs = qs.filter(state=state)
    elif not include_done:
        qs = qs.filter(state__in=Assignment.ACTIVE)
    if light:
        qs = qs.filter(light=light)
    if q:
        qs = qs.filter(Q(ticket__number__startswith=q) | Q(ticket__title__icontains=q) | Q(ticket__address__icontains=q))
    if state or include_done:
        return qs.order_by("-id")
    return qs.order_by("handle_due_at", "id")


def console_queue(user, *, state: str = State.NEW) -> QuerySet[Ticket]:
    """Tickets at the user's center in one state (new cases by default)."""
    if user.region_id is None:
        return Ticket.objects.none()
    qs = Ticket.objects.filter(center_id=user.region_id, state=state).select_related(*LIST_RELATED)
    return visible(qs, user).order_by("-urgent", "id")


def escalations_for(user) -> QuerySet[Ticket]:
    """Open tickets escalated to the user's center."""
    if user.region_id is None:
        return Ticket.objects.none()
    qs = Ticket.objects.filter(center_id=user.region_id, escalation_count__gt=0, state__in=OPEN_STATES)
    return visible(qs.select_related(*LIST_RELATED), user).order_by("due_at", "id")


def pending_requests_for(user) -> QuerySet[TicketRequest]:
    qs = TicketRequest.objects.filter(decision=TicketRequest.Decision.PENDING).select_related(
        "ticket", "ticket__category", "assignment__department", "requested_by"
    )
    qs = visible(qs, user)
    if user.region_id and user.role in (Role.DISPATCHER, Role.DUTY_CHIEF):
        qs = qs.filter(ticket__center_id=user.region_id)
    return qs.order_by("id")


def timeline(ticket: Ticket) -> QuerySet[TicketEvent]:
    return ticket.events.select_related("actor").order_by("id")


def center_departments(region: Region) -> QuerySet[Department]:
    """Departments a center may dispatch to: its own region's and every ancestor's."""
    codes = [c for c in region.path.split("/") if c]
    return Department.objects.filter(region__code__in=codes, is_active=True).select_related("region").order_by("region__level", "code")


def suggest_departments(ticket: Ticket) -> list[Department]:
    """Lead department candidates, best first: the category's lead department for the center's level,
    with the component's owner first (部件) or the local department first (事件)."""
    category: Category = ticket.category
    center = ticket.center
    candidates: list[Department] = []
    wanted = []
    for level in (center.level, *range(center.level - 1, 0, -1)):
        suffix = (category.lead_departments or {}).get(str(level))
        if not suffix:
            continue
        region_code = {
            Region.Level.TOWN: ticket.town.code[:9],
            Region.Level.DISTRICT: ticket.district.code[:6],
            Region.Level.CITY: ticket.region_path[:6],
            Region.Level.COMMUNITY: ticket.community.code[:9],
        }[level]
        wanted.append(f"{region_code}-{suffix}")
    by_code = {d.code: d for d in Department.objects.filter(code__in=wanted, is_active=True)}
    area = [by_code[c] for c in wanted if c in by_code]
    owner = [category.owner_department] if category.owner_department_id and category.owner_department.is_active else []
    ordered = owner + area if category.dispatch_rule == Category.Rule.OWNER_FIRST else area + owner
    for d in ordered:
        if d not in candidates:
            candidates.append(d)
    return candidates


def may_see_contact(user) -> bool:
    return can(user, "tickets.see_contact")


def mask_name(name: str) -> str:
    if not name:
        return ""
    return name[0] + "*" * max(1, len(name) - 1)


def mask_phone(phone: str) -> str:
    if not phone:
        return ""
    if len(phone) >= 8:
        return phone[:3] + "****" + phone[-4:]
    return "*" * len(phone)


def citizen_contact(ticket: Ticket, user) -> tuple[str, str]:
    """(name, phone) as this user may see them: in full for the roles that call citizens back, masked otherwise."""
    if may_see_contact(user):
        return ticket.citizen_name, ticket.citizen_phone
    return mask_name(ticket.citizen_name), mask_phone(ticket.citizen_phone)
