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
        from org import demo as org_demo

        from . import demo, demo_history

        org_demo.register("hotline", load=demo.load_demo, history=demo_history.load_history)
        from org import errors

        from .open311 import error_for

        errors.register_renderer("/open311/", error_for)  # bad input refused before a view: the spec's error list
        from org import workspaces
        from org.models import Role
        from org.permissions import register_action
        from tickets import deadlines, hooks

        from .models import ReturnVisit
        from .services import on_ticket_closed, return_visit_overdue

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
        hooks.on_closed("hotline.return_visit", on_ticket_closed)
        # the per-process copies of small tables (org.cache.per_process) forget an edited row
        from org.cache import forget_on_change
        from tickets.models import Category

        from .models import ContactTimeLimit, Open311Service
        from .open311 import SERVICES_KEY
        from .services import TIME_LIMITS_KEY

        forget_on_change(ContactTimeLimit, TIME_LIMITS_KEY, uid="hotline.forget.time_limits")
        forget_on_change(Open311Service, SERVICES_KEY, uid="hotline.forget.services")
        forget_on_change(Category, SERVICES_KEY, uid="hotline.forget.services_category")
