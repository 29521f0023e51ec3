from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class TraceabilityConfig(AppConfig):
    name = "zhijian.traceability"
    verbose_name = _("Traceability")
    default_auto_field = "django.db.models.BigAutoField"
