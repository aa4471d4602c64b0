from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class FieldConfig(AppConfig):
    """The grid worker's phone workspace (/m/) and grid-worker performance: grids at work on tickets."""

    name = "field"
    label = "field"
    verbose_name = _("Grid workers in the field")

    def ready(self):
        from org import workspaces
        from org.models import Role
        from org.permissions import register_action

        register_action("field.mobile", roles=[Role.GRIDWORKER])

        workspaces.register(
            key="grid-mobile",
            label=_("Grid worker's phone workspace"),
            url_name="field:m-home",
            roles=[Role.GRIDWORKER],
            description=_("Report incidents, verify fixes, check in and patrol your grid"),
        )
