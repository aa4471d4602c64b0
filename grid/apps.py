from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class GridConfig(AppConfig):
    name = "grid"
    label = "grid"
    verbose_name = _("Grids")

    def ready(self):
        from org import demo as org_demo

        from . import demo

        org_demo.register("grid", load=demo.load_demo)
        from org.models import Role
        from org.permissions import register_action

        register_action(
            "grid.map", roles=[Role.DISPATCHER, Role.DUTY_CHIEF, Role.LEADER, Role.HOTLINE_AGENT, Role.GRIDWORKER]
        )
        register_action("grid.performance", roles=[Role.DISPATCHER, Role.DUTY_CHIEF, Role.LEADER])
