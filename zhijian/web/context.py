"""Template context: the signed-in user's scope, for navigation by role."""

from django.conf import settings

from zhijian.core.access import scope_of

ORG_ROLES = {"enterprise", "lab", "user_unit"}


def navigation(request):
    scope = scope_of(getattr(request, "user", None))
    if scope.is_admin or scope.is_regulator:
        nav_role = "staff"
    elif scope.role in ORG_ROLES:
        nav_role = "org"
    else:
        nav_role = "public"
    match = getattr(request, "resolver_match", None)
    section = ""
    app = getattr(match, "namespace", "") or ""
    if match is not None and match.url_name:
        section = f"{match.namespace}:{match.url_name.split('_')[0]}"
    return {"scope": scope, "nav_role": nav_role, "nav_section": section, "nav_app": app,
            "site_name": settings.ZHIJIAN_SITE_NAME}
