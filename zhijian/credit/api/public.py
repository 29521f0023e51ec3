"""Public credit data in the REST API (docs/credit-public.md):

- GET /api/v1/public/credit/reports/<uscc>/ — the public credit report of one firm
  (anyone; throttled; a credit service key is counted per key);
- GET /api/v1/credit/export/records/?since=<cursor> — the change feed of credit records
  in the export format (administrators, regulators, credit service keys with scope
  credit.public).

Both accept "Authorization: Bearer zjc_..." (zhijian.credit.tokens); no other endpoint
does.
"""

from __future__ import annotations

from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, OpenApiResponse, extend_schema
from rest_framework import permissions, viewsets
from rest_framework.response import Response
from rest_framework.routers import SimpleRouter
from rest_framework.settings import api_settings
from rest_framework.throttling import AnonRateThrottle

from zhijian.core.access import get_or_404
from zhijian.core.api import service_call
from zhijian.core.identifiers import normalise_uscc
from zhijian.registry.models import MarketEntity

from .. import export
from ..tokens import (
    RegulatorOrCreditToken,
    ServiceTokenAuthentication,
    ServiceTokenThrottle,
    service_token,
)


class PublicCreditThrottle(AnonRateThrottle):
    """Anonymous reads of credit reports: the rate of the other public reads (setting
    "public"), counted separately; requests with a service key are counted per key
    (ServiceTokenThrottle) instead."""

    scope = "public-credit"

    def get_rate(self):
        return self.THROTTLE_RATES.get("public", "600/min")

    def get_cache_key(self, request, view):
        if service_token(request) is not None:
            return None
        return super().get_cache_key(request, view)


class PublicCreditReportViewSet(viewsets.ViewSet):
    """The public credit report of a firm: registration facts, public credit records in
    force (penalties with decision number, authority, date and basis), commitments, the
    serious-dishonesty listing while listed, the joint punishment measures that apply.
    The credit class is not public (国市监信发〔2022〕6号)."""

    permission_classes = [permissions.AllowAny]
    authentication_classes = [ServiceTokenAuthentication]
    throttle_classes = [PublicCreditThrottle, ServiceTokenThrottle]
    lookup_field = "uscc"
    lookup_value_regex = "[0-9A-Za-z]{1,18}"

    @extend_schema(operation_id="public_credit_report", responses={200: OpenApiResponse(
        OpenApiTypes.OBJECT, description="the report, docs/credit-public.md")})
    def retrieve(self, request, uscc=None):
        entity = get_or_404(MarketEntity.objects.select_related("division"),
                            normalise_uscc(uscc or ""), field="uscc")
        return Response(export.public_report(entity))


class CreditExportViewSet(viewsets.ViewSet):
    """The change feed of credit records for the provincial public credit platform:
    records changed after the cursor `since`, in (updated_at, id) order, up to 1,000 a
    page, each validating against schemas/credit-record-export.schema.json."""

    permission_classes = [RegulatorOrCreditToken]
    authentication_classes = [ServiceTokenAuthentication,
                              *api_settings.DEFAULT_AUTHENTICATION_CLASSES]
    throttle_classes = [ServiceTokenThrottle]

    @extend_schema(operation_id="credit_export_records", parameters=[
        OpenApiParameter("since", OpenApiTypes.STR, description=(
            "the `next` cursor of the previous page; leave out to start from the first "
            "record")),
        OpenApiParameter("limit", OpenApiTypes.INT, description="page size, 1 to 1000")],
        responses={200: OpenApiResponse(OpenApiTypes.OBJECT, description=(
            "a page of the feed, schemas/credit-record-export.schema.json"))})
    def list(self, request):
        params = request.query_params
        limit = params.get("limit") or None
        if limit is not None:
            try:
                limit = int(limit)
            except ValueError:
                limit = 0
        return Response(service_call(export.feed, since=params.get("since") or None,
                                     limit=limit))


router = SimpleRouter()
router.register("public/credit/reports", PublicCreditReportViewSet,
                basename="public-credit-report")
router.register("credit/export/records", CreditExportViewSet, basename="credit-export")
