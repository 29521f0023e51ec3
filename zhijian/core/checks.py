"""System checks for deployment: the audit checkpoint key must be configured."""

from django.conf import settings
from django.core.checks import Warning, register


@register(deploy=True)
def audit_key_check(app_configs, **kwargs):
    if not settings.ZHIJIAN_AUDIT_KEY_FILE.exists():
        return [
            Warning(
                "The audit checkpoint signing key file does not exist.",
                hint="Run `zhijian audit keygen` or set ZHIJIAN_AUDIT_KEY_FILE.",
                id="zhijian.W001",
            )
        ]
    return []
