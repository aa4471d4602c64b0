from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class TicketsConfig(AppConfig):
    name = "tickets"
    label = "tickets"
    verbose_name = _("Tickets")

    def ready(self):
        from command_center.health import register_check
        from command_center.org.permissions import register_action

        from . import calendar, deadlines
        from .models import Assignment
        from .roles import ACTIONS
        from .services import assignment_deadline_reached

        for name, roles in ACTIONS.items():
            register_action(name, roles)
        register_check("calendar", calendar.health)
        deadlines.register(
            deadlines.DeadlineKind(
                name="tickets.assignment",
                queryset=lambda: Assignment.objects.filter(state__in=Assignment.ACTIVE, next_scan_at__isnull=False),
                due_field="next_scan_at",
                handle=assignment_deadline_reached,
            )
        )
