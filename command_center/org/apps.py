from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class OrgConfig(AppConfig):
    name = "command_center.org"
    label = "org"
    verbose_name = _("Organisation")

    def ready(self):
        from command_center.cache import forget_on_change

        from .backends import department_key, region_key
        from .models import Department, Region

        # the signed-in user's region and department are per-process copies (backends.py): forget edited ones
        forget_on_change(Region, lambda region: region_key(region.pk), uid="org.forget.region")
        forget_on_change(Department, lambda department: department_key(department.pk), uid="org.forget.department")
