from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class AlertsConfig(AppConfig):
    name = "alerts"
    label = "alerts"
    verbose_name = _("Risk alerts")

    def ready(self):
        from org import demo as org_demo

        from . import demo

        org_demo.register("alerts", load=demo.load_demo)
        from org import workspaces
        from org.models import Role
        from org.permissions import register_action
        from tickets import deadlines

        from . import hooks, rules
        from .models import DUE_STATES, Alert
        from .services import alert_deadline_reached

        center = (Role.DISPATCHER, Role.DUTY_CHIEF)
        register_action("alerts.view", roles=(*center, Role.DEPARTMENT_STAFF, Role.LEADER))
        register_action("alerts.assign", roles=center)
        register_action("alerts.verify", roles=(Role.DEPARTMENT_STAFF,))
        register_action("alerts.handle", roles=(Role.DEPARTMENT_STAFF,))
        register_action("alerts.evaluate", roles=center)
        register_action("alerts.close", roles=center)
        register_action("alerts.analyse", roles=(*center, Role.LEADER))
        workspaces.register(
            key="alerts", label=_("Risk alerts"), url_name="alerts:list",
            roles=(*center, Role.DEPARTMENT_STAFF, Role.LEADER),
            description=_("Warnings raised by the risk models: assign, verify, handle, evaluate; stop matching analysis."),
        )
        deadlines.register(
            deadlines.DeadlineKind(
                name="alerts.alert",
                queryset=lambda: Alert.objects.filter(state__in=DUE_STATES, next_scan_at__isnull=False),
                due_field="next_scan_at",
                handle=alert_deadline_reached,
                select_related=("rule",),
            )
        )
        hooks.connect()
        rules.load()
