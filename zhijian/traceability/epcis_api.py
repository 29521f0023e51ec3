"""The EPCIS 2.0 REST binding under /epcis/ (JSON and JSON-LD only; docs/epcis.md).

    POST /epcis/capture                 an EPCISDocument -> 202, Location: /epcis/capture/{id}
    GET  /epcis/capture/{id}            the capture job
    POST /epcis/events                  one event -> 201, Location: /epcis/events/{eventID}
    GET  /epcis/events                  EPCISQueryDocument; the query parameters of query.py
    GET  /epcis/events/{eventID}        one event (by eventID, or by its event hash ID)
    GET  /epcis/epcs/{epc}/events       the events naming an EPC or EPC class (batch)
    GET  /epcis/eventTypes              the five event types

Errors are RFC 7807 problem documents, {"type", "title", "status", "detail", "problems":
[{"pointer", "code", "message"}]}, with the EPCIS exception as type; a refused capture
lists every problem, each with the JSON pointer of the field at fault. Every response
carries GS1-EPCIS-Version and GS1-CBV-Version. Authentication is a DRF token or the
session (CSRF-checked; token clients need no CSRF token). Reads go through access.py,
writes through services.py. The views are left out of the platform's OpenAPI schema
(/api/v1/schema/): the binding's schema is GS1's EPCIS 2.0 OpenAPI document.
"""

from __future__ import annotations

from urllib.parse import quote, urlencode

from django.core.exceptions import PermissionDenied
from django.http import Http404
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from rest_framework import exceptions, permissions
from rest_framework.renderers import JSONRenderer
from rest_framework.response import Response
from rest_framework.views import APIView

from zhijian.core.access import Denied

from . import access, query, services
from .choices import CaptureStatus
from .indexing import EVENT_TYPES
from .models import Capture

VERSION_HEADERS = {"GS1-EPCIS-Version": "2.0.0", "GS1-CBV-Version": "2.0.0"}
EPCIS_CONTEXT = "https://ref.gs1.org/standards/epcis/epcis-context.jsonld"
JSON_TYPES = ("application/json", "application/ld+json")
EXCEPTION_TYPES = {
    400: "epcisException:ValidationException",
    401: "epcisException:SecurityException",
    403: "epcisException:SecurityException",
    404: "epcisException:NoSuchResourceException",
    413: "epcisException:CaptureLimitExceededException",
    415: "epcisException:ValidationException",
}


class JSONLDRenderer(JSONRenderer):
    media_type = "application/ld+json"


def problem_response(status: int, title: str, detail: str = "", problems=(), *,
                     kind: str | None = None, headers: dict | None = None) -> Response:
    body = {"type": kind or EXCEPTION_TYPES.get(status, "about:blank"), "title": str(title),
            "status": status, "detail": str(detail)}
    if problems:
        body["problems"] = list(problems)
    return Response(body, status=status, headers=headers,
                    content_type="application/problem+json")


def _problems(refusal: services.CaptureRefused) -> list[dict]:
    return [{"pointer": p.pointer, "code": p.code, "message": services.message(p)}
            for p in refusal.problems]


def problem_handler(exc, context):
    """The binding's one error format for what DRF and Django raise."""
    if isinstance(exc, Http404):
        return problem_response(404, _("Not found"), _(
            "Nothing with this identifier exists that you may see."))
    if isinstance(exc, PermissionDenied):
        exc = exceptions.PermissionDenied()
    if not isinstance(exc, exceptions.APIException):
        return None
    titles = {401: _("Authentication required"), 403: _("Not allowed"),
              405: _("Method not allowed"), 406: _("Not acceptable")}
    response = problem_response(exc.status_code, titles.get(exc.status_code, _("Bad request")),
                                exc.detail if isinstance(exc.detail, str) else str(exc))
    if getattr(exc, "auth_header", None):
        response["WWW-Authenticate"] = exc.auth_header
    if getattr(exc, "wait", None):
        response["Retry-After"] = str(int(exc.wait))
    return response


class EpcisView(APIView):
    schema = None  # not in /api/v1/schema/ (see the module docstring)
    permission_classes = [permissions.IsAuthenticated]
    renderer_classes = [JSONRenderer, JSONLDRenderer]
    parser_classes: list = []  # the views read the raw body themselves

    def get_exception_handler(self):
        return problem_handler

    def finalize_response(self, request, response, *args, **kwargs):
        response = super().finalize_response(request, response, *args, **kwargs)
        for name, value in VERSION_HEADERS.items():
            response[name] = value
        return response


def _payload(request) -> bytes:
    """The request body, read up to the size limit (a larger body is refused unread)."""
    content_type = request.META.get("CONTENT_TYPE", "").split(";")[0].strip().lower()
    if content_type not in JSON_TYPES:
        raise _Unsupported(content_type)
    limit = services.max_bytes()
    try:
        declared = int(request.META.get("CONTENT_LENGTH") or 0)
    except ValueError:
        declared = 0
    if declared > limit:
        raise services.CaptureRefused([services.problem((), "size.too_large", size=declared,
                                                        limit=limit)])
    raw = request._request.read(limit + 1)
    if len(raw) > limit:
        raise services.CaptureRefused([services.problem((), "size.too_large", size=len(raw),
                                                        limit=limit)])
    return raw


class _Unsupported(Exception):
    def __init__(self, content_type: str):
        super().__init__(content_type)
        self.content_type = content_type


#: Per payload kind (a document to /capture, an event to /events): the title of a refusal
#: and the answer to a body that is not JSON.
REFUSED = {
    "document": gettext_lazy("The EPCIS document was refused"),
    "event": gettext_lazy("The EPCIS event was refused"),
}
NOT_JSON = {
    "document": gettext_lazy("The body is sent as %(type)s. Send the EPCIS document as JSON, "
                             "with Content-Type application/json or application/ld+json."),
    "event": gettext_lazy("The body is sent as %(type)s. Send the EPCIS event as JSON, with "
                          "Content-Type application/json or application/ld+json."),
}


def _capture(request, service, kind: str):
    """Run a capture service; a refusal becomes its problem document."""
    try:
        access.capturer(request.user)
        raw = _payload(request)
        return service(actor=request.user, raw=raw), None
    except Denied as exc:
        return None, problem_response(403, _("Not allowed"), exc.message)
    except _Unsupported as exc:
        return None, problem_response(415, _("Unsupported media type"), NOT_JSON[kind] % {
            "type": exc.content_type or _("(no Content-Type)")})
    except services.CaptureRefused as exc:
        problems = _problems(exc)
        if exc.too_large:
            return None, problem_response(413, _("The document is too large"),
                                          problems[0]["message"], problems)
        return None, problem_response(400, REFUSED[kind], _(
            "%(count)s problem(s) found; nothing was stored. Each problem names the field "
            "at fault (pointer) and says what to do.") % {"count": len(problems)}, problems)


def _iso(moment) -> str | None:
    return moment.isoformat(timespec="milliseconds").replace("+00:00", "Z") if moment else None


def capture_job(capture: Capture) -> dict:
    """A capture job as the EPCIS 2.0 capture interface describes it, with the counts."""
    return {
        "captureID": str(capture.pk),
        "createdAt": _iso(capture.created_at),
        "finishedAt": _iso(capture.finished_at),
        "running": capture.status in (CaptureStatus.ACCEPTED, CaptureStatus.RUNNING),
        "success": capture.status == CaptureStatus.SUCCEEDED,
        "captureErrorBehaviour": "rollback",
        "errors": capture.errors,
        "status": capture.status,
        "kind": capture.kind,
        "eventCount": capture.event_count,
        "storedCount": capture.stored_count,
        "duplicateCount": capture.duplicate_count,
        "declaredCount": capture.declared_count,
        "documentSHA256": capture.document_sha256,
        "hashesDigest": capture.hashes_digest,
    }


def event_location(event_id: str) -> str:
    return f"/epcis/events/{quote(event_id, safe='')}"


class CaptureView(EpcisView):
    """POST /epcis/capture: capture an EPCISDocument, all its events or none."""

    def post(self, request):
        capture, refused = _capture(request, services.capture_document, "document")
        if refused is not None:
            return refused
        return Response(capture_job(capture), status=202,
                        headers={"Location": f"/epcis/capture/{capture.pk}"})


class CaptureJobView(EpcisView):
    """GET /epcis/capture/{captureID}: the capture job (404 if absent or not yours)."""

    def get(self, request, capture_id: str):
        return Response(capture_job(access.capture_or_404(request.user, capture_id)))


def _query_document(request, qs, where: str) -> Response:
    params = {name: request.GET.getlist(name) for name in request.GET}
    try:
        page = query.paginate(query.filter_events(qs, params), params, scope=where)
    except query.QueryError as exc:
        return problem_response(400, _("The query was refused"), exc.message,
                                [{"pointer": exc.parameter, "code": "query.parameter",
                                  "message": exc.message}],
                                kind="epcisException:QueryParameterException")
    body = {
        "@context": [EPCIS_CONTEXT],
        "type": "EPCISQueryDocument",
        "schemaVersion": "2.0",
        "creationDate": _iso(timezone.now()),
        "epcisBody": {"queryResults": {
            "queryName": "SimpleEventQuery",
            "resultsBody": {"eventList": query.render(page.events)},
        }},
    }
    headers = {}
    if page.next_token:
        following = request.GET.copy()
        following["nextPageToken"] = page.next_token
        headers["Link"] = f'<{request.path}?{urlencode(list(following.lists()), doseq=True)}>; ' \
                          'rel="next"'
    return Response(body, headers=headers)


class EventsView(EpcisView):
    """GET /epcis/events: query; POST /epcis/events: capture one event."""

    def get(self, request):
        return _query_document(request, access.events_visible_to(request.user), "events")

    def post(self, request):
        capture, refused = _capture(request, services.capture_event, "event")
        if refused is not None:
            return refused
        return Response(capture_job(capture), status=201,
                        headers={"Location": event_location(capture.event_ids[0])})


class EventView(EpcisView):
    """GET /epcis/events/{eventID}: one event, by eventID or by event hash ID."""

    def get(self, request, event_id: str):
        event = access.event_or_404(request.user, event_id)
        return Response(query.render([event])[0])


class EpcEventsView(EpcisView):
    """GET /epcis/epcs/{epc}/events: the events that name the EPC (URN or Digital Link,
    URL-encoded) in any role, or the EPC class (a batch) with its quantity."""

    def get(self, request, epc: str):
        qs = query.events_of_epc(access.events_visible_to(request.user), epc)
        return _query_document(request, qs, "epc:" + epc)


class EventTypesView(EpcisView):
    """GET /epcis/eventTypes: the event types this repository captures and returns."""

    def get(self, request):
        return Response(list(EVENT_TYPES))
