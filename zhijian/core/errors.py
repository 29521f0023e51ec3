"""JSON errors for /api/ paths, translated HTML pages elsewhere."""

from django.http import JsonResponse
from django.shortcuts import render
from django.utils.translation import gettext as _


def _is_api(request) -> bool:
    return request.path.startswith("/api/") or request.path.startswith("/epcis/")


def handler404(request, exception=None):
    if _is_api(request):
        return JsonResponse(
            {"type": "client_error",
             "errors": [{"code": "not_found", "detail": _("Not found."), "attr": None}]},
            status=404,
        )
    return render(request, "errors/404.html", status=404)


def handler500(request):
    if _is_api(request):
        return JsonResponse(
            {"type": "server_error",
             "errors": [{"code": "error", "detail": _("A server error occurred."), "attr": None}]},
            status=500,
        )
    return render(request, "errors/500.html", status=500)
