from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class DatahubConfig(AppConfig):
    name = "datahub"
    label = "datahub"
    verbose_name = _("Data hub")

    def ready(self):
        from org import demo as org_demo

        from . import demo

        org_demo.register("datahub", load=demo.load_demo)
        from org.health import register_check
        from org import workspaces
        from org.permissions import register_action

        from .partitions import health_check

        register_action("datahub.view_catalog", roles=["data_officer", "leader"])
        register_action("datahub.request_access", roles=["data_officer"])
        register_action("datahub.decide_access", roles=["data_officer"])
        register_action("datahub.manage_tokens", roles=["data_officer"])
        register_action("datahub.register_resource", roles=["data_officer"])
        register_action("datahub.view_batches", roles=["data_officer"])  # scoped further in selectors.batches_of
        workspaces.register(
            key="datahub",
            label=_("Data hub"),
            url_name="datahub:catalog",
            roles=["data_officer", "leader"],
            description=_("Data resource catalog, department tokens and exchange volumes"),
        )
        register_check("datahub_partitions", health_check)
