"""Joint punishment in the REST API (docs/credit-measures.md):

- /api/v1/credit/measures/ — the measures departments declared (regulators and
  administrators); POST declares one for the caller's department, POST
  .../{id}/withdraw/ withdraws it.
- /api/v1/credit/checks/ — credit checks: POST checks a firm put forward (USCC, context,
  reference) and stores the result; GET lists the checks the caller or their department
  made (administrators: all).
- /api/v1/public/credit/measures/?uscc=…&context=… — anyone: which measures apply to this
  USCC now and why (the list-triggered ones; the credit class is not public), throttled.

Errors use the API's one error format (zhijian.core.api.service_call).
"""

from __future__ import annotations

from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework import decorators, exceptions, mixins, permissions, serializers, viewsets
from rest_framework.response import Response
from rest_framework.routers import SimpleRouter
from rest_framework.settings import api_settings
from rest_framework.throttling import AnonRateThrottle

from zhijian.core.access import scope_of
from zhijian.core.api import service_call
from zhijian.inspections.api import choice_field

from ..choices import CheckContext, CheckOutcome, MeasureCode, MeasureEffect, MeasureTrigger
from ..models import CreditCheck, Measure
from ..services import measures as services
from ..tokens import (
    HasCreditScope,
    ServiceTokenAuthentication,
    ServiceTokenThrottle,
    service_token,
)


class IsRegulator(permissions.BasePermission):
    message = gettext_lazy("This endpoint is for regulators.")

    def has_permission(self, request, view):
        scope = scope_of(request.user)
        return scope.is_admin or scope.is_regulator


# --- measures ---------------------------------------------------------------------------------

class CreditMeasureSerializer(serializers.ModelSerializer):
    department_name = serializers.CharField(source="department.name", read_only=True)
    code = choice_field(MeasureCode, "CreditMeasureCodeEnum", read_only=True)
    trigger = choice_field(MeasureTrigger, "CreditMeasureTriggerEnum", read_only=True)
    effect = choice_field(MeasureEffect, "CreditMeasureEffectEnum", read_only=True)
    contexts = serializers.ListField(child=serializers.CharField(), read_only=True)
    state = serializers.SerializerMethodField()

    class Meta:
        model = Measure
        fields = ["id", "department", "department_name", "code", "trigger", "effect",
                  "contexts", "description", "legal_basis", "effective_from",
                  "effective_until", "active", "state", "created_at"]
        read_only_fields = fields

    def get_state(self, measure) -> str:
        return services.measure_state(measure, timezone.localdate())


class CreditMeasureDeclareSerializer(serializers.Serializer):
    department = serializers.IntegerField(required=False, allow_null=True, default=None,
                                          help_text=gettext_lazy(
                                              "administrators: the declaring department's id; "
                                              "regulators: their own (may be left out)"))
    code = choice_field(MeasureCode, "CreditMeasureCodeEnum")
    trigger = choice_field(MeasureTrigger, "CreditMeasureTriggerEnum")
    effect = choice_field(MeasureEffect, "CreditMeasureEffectEnum")
    contexts = serializers.ListField(child=choice_field(CheckContext, "CreditCheckContextEnum"),
                                     allow_empty=False)
    legal_basis = serializers.CharField(max_length=300)
    description = serializers.CharField(required=False, allow_blank=True, default="",
                                        max_length=2000)
    effective_from = serializers.DateField()
    effective_until = serializers.DateField(required=False, allow_null=True, default=None)


class CreditMeasureWithdrawSerializer(serializers.Serializer):
    reason = serializers.CharField(max_length=2000)


class MeasureViewSet(mixins.ListModelMixin, mixins.RetrieveModelMixin,
                     viewsets.GenericViewSet):
    """Joint punishment measures (失信联合惩戒措施) of every department, with their state
    today (in_force, scheduled, ended, withdrawn)."""

    serializer_class = CreditMeasureSerializer
    permission_classes = [permissions.IsAuthenticated, IsRegulator]
    filterset_fields = ["department", "code", "trigger", "effect", "active"]
    ordering_fields = ["effective_from", "id"]

    def get_queryset(self):
        return Measure.objects.select_related("department").order_by(
            "department__division_id", "department__kind", "code", "id")

    @extend_schema(request=CreditMeasureDeclareSerializer,
                   responses={201: CreditMeasureSerializer})
    def create(self, request, *args, **kwargs):
        """Declare a measure for the caller's department (administrators: any)."""
        ser = CreditMeasureDeclareSerializer(data=request.data)
        ser.is_valid(raise_exception=True)
        d = ser.validated_data
        m = service_call(services.measure_declare, actor=request.user,
                         department_id=d["department"], code=d["code"], trigger=d["trigger"],
                         effect=d["effect"], contexts=d["contexts"],
                         legal_basis=d["legal_basis"], description=d["description"],
                         effective_from=d["effective_from"],
                         effective_until=d["effective_until"])
        return Response(self.get_serializer(self.get_queryset().get(pk=m.pk)).data, status=201)

    @extend_schema(request=CreditMeasureWithdrawSerializer,
                   responses={200: CreditMeasureSerializer})
    @decorators.action(detail=True, methods=["post"], filter_backends=[], pagination_class=None)
    def withdraw(self, request, pk=None):
        """Withdraw a measure from today: it stays in force until yesterday (one that has
        not taken effect never applies)."""
        measure = self.get_object()
        ser = CreditMeasureWithdrawSerializer(data=request.data)
        ser.is_valid(raise_exception=True)
        service_call(services.measure_withdraw, actor=request.user, measure_id=measure.pk,
                     reason=ser.validated_data["reason"])
        return Response(self.get_serializer(self.get_queryset().get(pk=measure.pk)).data)


# --- credit checks ----------------------------------------------------------------------------

class CreditCheckMeasureSerializer(serializers.Serializer):
    measure = serializers.IntegerField()
    code = choice_field(MeasureCode, "CreditMeasureCodeEnum")
    trigger = choice_field(MeasureTrigger, "CreditMeasureTriggerEnum")
    department = serializers.CharField()
    department_id = serializers.IntegerField()
    effect = choice_field(MeasureEffect, "CreditMeasureEffectEnum")
    legal_basis = serializers.CharField()
    reason = serializers.CharField()
    public_reason = serializers.CharField(help_text=gettext_lazy(
        "the reason as the public may read it (no credit class)"))


class CreditCheckSerializer(serializers.ModelSerializer):
    context = choice_field(CheckContext, "CreditCheckContextEnum", read_only=True)
    outcome = choice_field(CheckOutcome, "CreditCheckOutcomeEnum", read_only=True)
    entity_name = serializers.CharField(source="entity.name", read_only=True, default="")
    measures = CreditCheckMeasureSerializer(many=True, read_only=True)
    requested_by = serializers.CharField(source="requested_by.username", read_only=True,
                                         default="")

    class Meta:
        model = CreditCheck
        fields = ["id", "uscc", "entity", "entity_name", "context", "reference", "on",
                  "checked_at", "requested_by", "token", "risk_class", "blacklisted",
                  "measures", "outcome", "object_type", "object_id", "decision"]
        read_only_fields = fields

    def to_representation(self, instance):
        data = super().to_representation(instance)
        if not self.context.get("sees_class", False):
            # User units and credit services: the class stays internal
            # (国市监信发〔2022〕6号); reasons as the public may read them.
            data["risk_class"] = ""
            for row in data["measures"]:
                row["reason"] = row["public_reason"]
        return data


class CreditCheckCreateSerializer(serializers.Serializer):
    uscc = serializers.CharField(max_length=40, help_text=gettext_lazy(
        "the unified social credit code of the firm put forward"))
    context = choice_field(CheckContext, "CreditCheckContextEnum")
    reference = serializers.CharField(required=False, allow_blank=True, default="",
                                      max_length=100, help_text=gettext_lazy(
                                          "the application or bid number"))
    decision = serializers.CharField(required=False, allow_blank=True, default="",
                                     max_length=2000)


class CreditCheckViewSet(mixins.ListModelMixin, mixins.RetrieveModelMixin,
                         viewsets.GenericViewSet):
    """Credit checks (信用核查): the stored result of checking a firm put forward for a
    supplier list, a licence, a tender, an honour or a subsidy."""

    serializer_class = CreditCheckSerializer
    filterset_fields = ["context", "outcome", "uscc", "blacklisted"]
    ordering_fields = ["checked_at", "id"]
    # A tendering or licensing system checks with its credit service key
    # (docs/credit-public.md); officers and user units with their own login.
    authentication_classes = [ServiceTokenAuthentication,
                              *api_settings.DEFAULT_AUTHENTICATION_CLASSES]
    permission_classes = [permissions.IsAuthenticated | HasCreditScope]
    throttle_classes = [*api_settings.DEFAULT_THROTTLE_CLASSES, ServiceTokenThrottle]

    def get_queryset(self):
        token = service_token(self.request)
        qs = (CreditCheck.objects.filter(token=token) if token is not None
              else services.checks_visible_to(self.request.user))
        return qs.select_related("entity", "requested_by").order_by("-checked_at", "-id")

    def get_serializer_context(self):
        context = super().get_serializer_context()
        context["sees_class"] = (service_token(self.request) is None
                                 and services.may_see_class(self.request.user))
        return context

    @extend_schema(request=CreditCheckCreateSerializer, responses={201: CreditCheckSerializer})
    def create(self, request, *args, **kwargs):
        """Check a firm and store the result: outcome blocked (a measure refuses),
        flagged (allowed with closer scrutiny) or clear; a USCC the register does not know
        is clear with no entity; a malformed one is refused naming `uscc`."""
        ser = CreditCheckCreateSerializer(data=request.data)
        ser.is_valid(raise_exception=True)
        d = ser.validated_data
        token = service_token(request)
        check = service_call(services.credit_check, actor=None if token else request.user,
                             token=token, uscc=d["uscc"], context=d["context"],
                             reference=d["reference"], decision=d["decision"])
        return Response(self.get_serializer(
            CreditCheck.objects.select_related("entity", "requested_by").get(pk=check.pk)
        ).data, status=201)


# --- the public answer ------------------------------------------------------------------------

class PublicMeasuresThrottle(AnonRateThrottle):
    """Anonymous measure look-ups: the rate of the other public reads (setting "public"),
    counted separately from them."""

    scope = "public-credit-measures"

    def get_rate(self):
        return self.THROTTLE_RATES.get("public", "600/min")


class PublicCreditMeasureSerializer(serializers.Serializer):
    measure = serializers.IntegerField()
    code = choice_field(MeasureCode, "CreditMeasureCodeEnum")
    label = serializers.CharField()
    department = serializers.CharField()
    effect = choice_field(MeasureEffect, "CreditMeasureEffectEnum")
    contexts = serializers.ListField(child=serializers.CharField())
    legal_basis = serializers.CharField()
    effective_from = serializers.DateField()
    effective_until = serializers.DateField(allow_null=True)
    reason = serializers.CharField()


class PublicCreditMeasuresSerializer(serializers.Serializer):
    uscc = serializers.CharField()
    registered = serializers.BooleanField(help_text=gettext_lazy(
        "the firm is in the platform's register"))
    name = serializers.CharField()
    on = serializers.DateField()
    context = serializers.CharField(allow_null=True)
    listed = serializers.BooleanField(help_text=gettext_lazy(
        "listed as seriously dishonest (严重违法失信名单) today"))
    listed_since = serializers.DateField(allow_null=True)
    listed_until = serializers.DateField(allow_null=True)
    listing_department = serializers.CharField()
    listing_case = serializers.IntegerField(allow_null=True)
    outcome = choice_field(CheckOutcome, "CreditCheckOutcomeEnum")
    measures = PublicCreditMeasureSerializer(many=True)


USCC_PARAM = OpenApiParameter("uscc", OpenApiTypes.STR, OpenApiParameter.QUERY, required=True,
                              description="the unified social credit code (18 characters)")
CONTEXT_PARAM = OpenApiParameter("context", OpenApiTypes.STR, OpenApiParameter.QUERY,
                                 enum=CheckContext.values,
                                 description="where the firm is put forward; empty: anywhere")


class PublicMeasuresViewSet(viewsets.GenericViewSet):
    """Anyone (a tendering platform, a purchaser): which joint punishment measures apply
    to this USCC today, and why. Measures triggered by the credit class are not part of
    the answer: the class is for internal use (国市监信发〔2022〕6号)."""

    permission_classes = [permissions.AllowAny]
    # A credit service key (docs/credit-public.md) is accepted and counted per key.
    authentication_classes = [ServiceTokenAuthentication]
    throttle_classes = [PublicMeasuresThrottle, ServiceTokenThrottle]
    pagination_class = None
    filter_backends = []
    serializer_class = PublicCreditMeasuresSerializer

    @extend_schema(operation_id="public_credit_measures", parameters=[USCC_PARAM, CONTEXT_PARAM],
                   responses={200: PublicCreditMeasuresSerializer})
    def list(self, request):
        context = request.query_params.get("context") or None
        if context is not None and context not in CheckContext.values:
            raise exceptions.ValidationError({"context": [_(
                "Choose where the firm is put forward, from: %(keys)s.") % {
                "keys": ", ".join(CheckContext.values)}]})
        code = service_call(services.clean_uscc, request.query_params.get("uscc", ""))
        return Response(services.public_answer(code, on=timezone.localdate(),
                                               context=context))


router = SimpleRouter()
router.register("credit/measures", MeasureViewSet, basename="credit-measure")
router.register("credit/checks", CreditCheckViewSet, basename="credit-check")
router.register("public/credit/measures", PublicMeasuresViewSet,
                basename="public-credit-measures")
