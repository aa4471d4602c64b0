from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class GridConfig(AppConfig):
    name = "grid"
    label = "grid"
    verbose_name = _("Grids")

    def ready(self):
        from command_center.org import workspaces
        from command_center.org.models import Role
        from command_center.org.permissions import register_action

        register_action("grid.mobile", roles=[Role.GRIDWORKER])
        register_action(
            "grid.map", roles=[Role.DISPATCHER, Role.DUTY_CHIEF, Role.LEADER, Role.HOTLINE_AGENT, Role.GRIDWORKER]
        )
        register_action("grid.performance", roles=[Role.DISPATCHER, Role.DUTY_CHIEF, Role.LEADER])
        workspaces.register(
            key="grid-mobile",
            label=_("Grid worker's phone workspace"),
            url_name="grid:m-home",
            roles=[Role.GRIDWORKER],
            description=_("Report incidents, verify fixes, check in and patrol your grid"),
        )
