from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _

# who may do what on the hotline (registered with the permission layer in ready())
ACTIONS = {
    "hotline.take": ("hotline_agent", "duty_chief"),  # take contacts at the console
    "hotline.visit": ("hotline_agent", "duty_chief"),  # record return visits
    "hotline.chief_decide": ("duty_chief",),  # settle unsatisfied visits sent to the duty chief
    "hotline.contacts": ("hotline_agent", "duty_chief", "dispatcher", "leader"),  # look contacts up
    "hotline.kb_read": ("hotline_agent", "duty_chief", "dispatcher", "leader"),
    "hotline.kb_edit": ("duty_chief",),  # plus agents holding the hotline.edit_knowledge permission
    "hotline.kpis": ("leader", "duty_chief"),
}


class HotlineConfig(AppConfig):
    name = "hotline"
    label = "hotline"
    verbose_name = _("12345 hotline")

    def ready(self):
        from django.db.models.signals import post_save

        from command_center.org import workspaces
        from command_center.org.models import Role
        from command_center.org.permissions import register_action
        from tickets import deadlines
        from tickets.models import Ticket

        from .models import ReturnVisit
        from .services import on_ticket_saved, return_visit_overdue

        for name, roles in ACTIONS.items():
            register_action(name, roles)
        workspaces.register(
            key="hotline", label=_("12345 hotline console"), url_name="hotline:console", roles=[Role.HOTLINE_AGENT],
            description=_("Take calls and messages: locate, answer from the knowledge base, link duplicates, create tickets."),
        )
        workspaces.register(
            key="hotline-visits", label=_("Return visits"), url_name="hotline:visits", roles=[Role.HOTLINE_AGENT, Role.DUTY_CHIEF],
            description=_("Call citizens back after their ticket closed and record how satisfied they are."),
        )
        workspaces.register(
            key="hotline-kpis", label=_("Hotline figures"), url_name="hotline:kpis", roles=[Role.LEADER, Role.DUTY_CHIEF],
            description=_("Direct resolution, timeliness, satisfaction, return visits and repeat calls."),
        )
        deadlines.register(
            deadlines.DeadlineKind(
                name="hotline.return_visit",
                queryset=lambda: ReturnVisit.objects.filter(state=ReturnVisit.State.PENDING, next_scan_at__isnull=False),
                due_field="next_scan_at",
                handle=return_visit_overdue,
            )
        )
        post_save.connect(on_ticket_saved, sender=Ticket, dispatch_uid="hotline.return_visit_on_close")
        # the per-process copies of small tables (command_center.cache.per_process) forget an edited row
        from command_center.cache import forget_on_change
        from tickets.models import Category

        from .models import ContactTimeLimit, Open311Service
        from .open311 import SERVICES_KEY
        from .services import TIME_LIMITS_KEY

        forget_on_change(ContactTimeLimit, TIME_LIMITS_KEY, uid="hotline.forget.time_limits")
        forget_on_change(Open311Service, SERVICES_KEY, uid="hotline.forget.services")
        forget_on_change(Category, SERVICES_KEY, uid="hotline.forget.services_category")
