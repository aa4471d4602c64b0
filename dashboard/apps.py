from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _

WALL_ROLES = ("dispatcher", "duty_chief", "leader")
STATS_ROLES = ("leader", "duty_chief")


class DashboardConfig(AppConfig):
    name = "dashboard"
    label = "dashboard"
    verbose_name = _("Dashboard")

    def ready(self):
        from org import demo as org_demo

        from . import demo_history

        org_demo.register("dashboard", history=demo_history.load_history)
        from org import workspaces
        from org.permissions import register_action

        register_action("dashboard.wall", WALL_ROLES)
        register_action("dashboard.stats", STATS_ROLES)
        workspaces.register(
            key="wall", label=_("Command center wall"), url_name="dashboard:wall", roles=WALL_ROLES,
            description=_("The whole jurisdiction live: map, key figures, charts and the live feed."),
        )
        workspaces.register(
            key="stats", label=_("Leaders' statistics"), url_name="dashboard:stats", roles=STATS_ROLES,
            description=_("Satisfaction, closure and timeliness by region, department, category and period; rankings and Excel."),
        )
