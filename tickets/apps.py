from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class TicketsConfig(AppConfig):
    name = "tickets"
    label = "tickets"
    verbose_name = _("Tickets")

    def ready(self):
        from command_center.cache import forget_on_change
        from command_center.health import register_check
        from command_center.org import workspaces
        from command_center.org.models import Role
        from command_center.org.permissions import register_action

        from . import calendar, deadlines, selectors
        from .models import Assignment, CalendarOverride, Category
        from .roles import ACTIONS
        from .services import assignment_deadline_reached, assignments_deadline_batch

        for name, roles in ACTIONS.items():
            register_action(name, roles)
        workspaces.register(
            key="dept", label=_("Department workspace"), url_name="tickets:dept-inbox", roles=[Role.DEPARTMENT_STAFF],
            description=_("Sign, handle and reply to the tickets dispatched to your department."),
        )
        workspaces.register(
            key="console", label=_("Dispatcher console"), url_name="tickets:console", roles=[Role.DISPATCHER, Role.DUTY_CHIEF],
            description=_("Open, dispatch, urge and approve the cases at your center."),
        )
        register_check("calendar", calendar.health)
        forget_on_change(Category, lambda category: selectors.category_key(category.pk), uid="tickets.forget.category")
        forget_on_change(CalendarOverride, calendar.OVERRIDES_KEY, uid="tickets.forget.calendar")
        deadlines.register(
            deadlines.DeadlineKind(
                name="tickets.assignment",
                queryset=lambda: Assignment.objects.filter(state__in=Assignment.ACTIVE, next_scan_at__isnull=False),
                due_field="next_scan_at",
                handle=assignment_deadline_reached,
                handle_batch=assignments_deadline_batch,
            )
        )
