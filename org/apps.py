from django.apps import AppConfig
from django.urls import register_converter
from django.utils.translation import gettext_lazy as _

from .converters import IdConverter

# before any URLconf is loaded: every app's paths write ids as <id:pk>
register_converter(IdConverter, "id")


class OrgConfig(AppConfig):
    name = "org"
    label = "org"
    verbose_name = _("Organisation")
