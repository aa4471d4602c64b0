from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class OrgConfig(AppConfig):
    name = "command_center.org"
    label = "org"
    verbose_name = _("Organisation")

    def ready(self):
        from django.db.models.signals import post_delete, post_save

        from command_center.cache import forget_on_change

        from .backends import department_key, region_key
        from .models import Department, Region

        # the signed-in user's region and department are per-process copies (backends.py): forget edited ones
        for model, key in ((Region, region_key), (Department, department_key)):
            receiver = forget_on_change(lambda instance, key=key: key(instance.pk))
            post_save.connect(receiver, sender=model, weak=False, dispatch_uid=f"org.forget.{model.__name__}.save")
            post_delete.connect(receiver, sender=model, weak=False, dispatch_uid=f"org.forget.{model.__name__}.delete")
