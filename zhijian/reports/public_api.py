"""Public verification of test reports in the REST API (anonymous, throttled):

    GET /api/v1/public/reports/{number}/verify/       every check, as on the portal page
    GET /api/v1/public/reports/{number}/bundle/       the bundle of the offline verifier
    GET /api/v1/public/reports/{number}/revocation/   the signed revocation statement

A draft or unknown number is 404 in the API's one error format, with the message the
portal shows.
"""

from __future__ import annotations

from django.http import HttpResponse
from django.utils.translation import gettext as _
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, OpenApiResponse, extend_schema
from rest_framework import decorators, exceptions, permissions, serializers, viewsets
from rest_framework.response import Response
from rest_framework.routers import SimpleRouter
from rest_framework.throttling import AnonRateThrottle

from zhijian.core import canonical
from zhijian.portal import reports as portal

from . import services
from .choices import KeyCustody
from .models import Report


class PublicReportThrottle(AnonRateThrottle):
    """Anonymous report verification: the rate of the other public reads (setting
    "public"), counted separately from them."""

    scope = "public-reports"

    def get_rate(self):
        return self.THROTTLE_RATES.get("public", "600/min")


class CheckSerializer(serializers.Serializer):
    key = serializers.ChoiceField(choices=["found", "signature", "accreditation", "lab_status",
                                           "calibration", "revocation", "superseded"],
                                  help_text="which check")
    ok = serializers.BooleanField()
    code = serializers.CharField(help_text="what was found (a stable message key)")
    params = serializers.DictField(help_text="the message's parameters")
    message = serializers.CharField(help_text="the finding, in the request's language")


class VerificationSerializer(serializers.Serializer):
    number = serializers.CharField()
    found = serializers.BooleanField()
    genuine = serializers.BooleanField(help_text="signed with the lab's registered key, and "
                                                 "the record equals what was signed")
    valid = serializers.BooleanField(help_text="genuine, and every other check holds")
    custody = serializers.ChoiceField(choices=KeyCustody.values,
                                      help_text="who holds the signing key")
    custody_note = serializers.CharField(allow_blank=True)
    checks = CheckSerializer(many=True)


NUMBER = OpenApiParameter("number", OpenApiTypes.STR, OpenApiParameter.PATH,
                          description="the report number as printed")


def _issued(number: str):
    v = services.report_verify(number)
    if not v.found:
        raise exceptions.NotFound(_("No issued report has the number %(number)s on the "
                                    "platform.") % {"number": number})
    return v, Report.objects.select_related("key").get(pk=v.report_id)


def _json(data: dict, filename: str) -> HttpResponse:
    response = HttpResponse(canonical.canonical_text(data),
                            content_type="application/json; charset=utf-8")
    response["Content-Disposition"] = f'inline; filename="{filename}"'
    return response


class PublicReportViewSet(viewsets.GenericViewSet):
    """Anyone may verify a test report: scanning its QR code or typing its number on the
    portal does the same (docs/report-signing.md)."""

    permission_classes = [permissions.AllowAny]
    authentication_classes = []
    throttle_classes = [PublicReportThrottle]
    pagination_class = None
    filter_backends = []
    serializer_class = VerificationSerializer
    lookup_field = "number"
    lookup_value_regex = r"[^/]+"  # report numbers may contain "."

    @extend_schema(parameters=[NUMBER], responses={200: VerificationSerializer})
    @decorators.action(detail=True, methods=["get"])
    def verify(self, request, number=None):
        """Every check of the report, in order: found, signature, accreditation on the
        issue day, lab status, calibration, revocation, supersession; `genuine` and
        `valid` sum them up."""
        v, _report = _issued(number)
        return Response(v.as_dict())

    @extend_schema(parameters=[NUMBER], responses={200: OpenApiResponse(
        OpenApiTypes.OBJECT, description="the bundle, RFC 8785 canonical JSON: payload, "
                                         "signature, public_key, key_id and, for a revoked "
                                         "report, revocation")})
    @decorators.action(detail=True, methods=["get"])
    def bundle(self, request, number=None):
        """What the offline verifier (GET /verify/offline.py on the portal; standard library
        only) checks: `python3 offline.py bundle.json [report.pdf]`."""
        _v, report = _issued(number)
        return _json(portal.report_bundle_data(report), portal.bundle_name(report.number))

    @extend_schema(parameters=[NUMBER], responses={200: OpenApiResponse(
        OpenApiTypes.OBJECT, description="number, reason, ground (error | false; null for "
                                         "a statement signed before grounds were "
                                         "recorded), revoked_at, and the statement "
                                         "signed with the platform key key_id")})
    @decorators.action(detail=True, methods=["get"])
    def revocation(self, request, number=None):
        """The public, signed revocation of a revoked report; 404 for any other report."""
        _v, report = _issued(number)
        data = portal.revocation_data(report)
        if data is None:
            raise exceptions.NotFound(_("Report %(number)s has not been revoked.")
                                      % {"number": report.number})
        return _json(data, portal.bundle_name(report.number).replace(".json",
                                                                     ".revocation.json"))


router = SimpleRouter()
router.register("public/reports", PublicReportViewSet, basename="public-report")
