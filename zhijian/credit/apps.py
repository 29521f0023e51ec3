from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class CreditConfig(AppConfig):
    name = "zhijian.credit"
    verbose_name = _("Quality credit")
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self) -> None:
        from . import handlers  # noqa: F401  (event subscribers register themselves)
        from .services.measures import register_procurement_hooks

        # Supplier standings count penalties and list cases; listings get a credit check.
        register_procurement_hooks()
