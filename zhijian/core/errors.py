"""JSON errors for /api/ paths, translated HTML pages elsewhere.

The JSON bodies have the one error format of the API (drf-standardized-errors):
{"type": "client_error" | "server_error" | "validation_error",
 "errors": [{"code": ..., "detail": ..., "attr": ...}]}.
"""

from django.http import JsonResponse
from django.shortcuts import render
from django.utils.translation import gettext as _
from django.views.decorators.csrf import csrf_exempt


def _is_api(request) -> bool:
    return request.path.startswith("/api/") or request.path.startswith("/epcis/")


def _not_found_json():
    return JsonResponse(
        {"type": "client_error",
         "errors": [{"code": "not_found", "detail": _("Not found."), "attr": None}]},
        status=404,
    )


@csrf_exempt
def api_not_found(request, *args, **kwargs):
    """The catch-all of /api/v1/: unknown paths get the API's JSON 404."""
    return _not_found_json()


def handler404(request, exception=None):
    if _is_api(request):
        return _not_found_json()
    return render(request, "errors/404.html", status=404)


def handler500(request):
    if _is_api(request):
        return JsonResponse(
            {"type": "server_error",
             "errors": [{"code": "error", "detail": _("A server error occurred."), "attr": None}]},
            status=500,
        )
    return render(request, "errors/500.html", status=500)
