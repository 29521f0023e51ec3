from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class CoreConfig(AppConfig):
    name = "zhijian.core"
    label = "core"
    verbose_name = _("Platform kernel")

    def ready(self) -> None:
        from . import checks  # noqa: F401  (registers system checks)
