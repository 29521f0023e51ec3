"""Template context: the signed-in user's scope, for navigation by role."""

from django.conf import settings

from zhijian.core.access import scope_of


def navigation(request):
    return {"scope": scope_of(getattr(request, "user", None)),
            "site_name": settings.ZHIJIAN_SITE_NAME}
