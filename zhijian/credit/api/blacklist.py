"""/api/v1/credit/blacklist-cases/ and /api/v1/credit/repairs/: the serious-dishonesty list
and credit repair (docs/credit-blacklist.md).

Reads go through access.blacklist_visible_to / repairs_visible_to (regulators: the firms
of their jurisdiction; a firm: its own; others: nothing, 404), writes through
services/blacklist.py with the API's one error format (service_call): 400 naming the
field, 403 for a role or jurisdiction that may not act.
"""

from __future__ import annotations

from django.utils.translation import gettext_lazy
from drf_spectacular.utils import extend_schema
from rest_framework import decorators, mixins, permissions, serializers, viewsets
from rest_framework.response import Response
from rest_framework.routers import SimpleRouter

from zhijian.core.api import service_call
from zhijian.inspections.api import choice_field
from zhijian.registry.models import MarketEntity

from .. import access
from ..choices import BlacklistStatus, RemovalReason, RepairStatus
from ..models import BlacklistEntry, RepairApplication
from ..services import blacklist as services


class BlacklistCriterionSerializer(serializers.Serializer):
    criterion = serializers.CharField()
    records = serializers.ListField(child=serializers.IntegerField())
    reasons = serializers.CharField(required=False)


class BlacklistCaseSerializer(serializers.ModelSerializer):
    status = choice_field(BlacklistStatus, "BlacklistCaseStatusEnum", read_only=True)
    removal_reason = choice_field(RemovalReason, "BlacklistRemovalReasonEnum", read_only=True,
                                  allow_blank=True)
    entity_uscc = serializers.CharField(source="entity.uscc", read_only=True)
    entity_name = serializers.CharField(source="entity.name", read_only=True)
    department_name = serializers.CharField(source="department.name", read_only=True)
    criteria = BlacklistCriterionSerializer(many=True, read_only=True)

    class Meta:
        model = BlacklistEntry
        fields = ["id", "status", "entity", "entity_uscc", "entity_name", "department",
                  "department_name", "criteria", "rule_version", "proposed_at", "notice_text",
                  "noticed_at", "objection_deadline", "objection_text", "objection_at",
                  "decided_at", "decision_reasons", "listed_on", "listed_until",
                  "published_at", "removed_on", "removal_reason"]
        read_only_fields = fields


class BlacklistProposeSerializer(serializers.Serializer):
    entity = serializers.SlugRelatedField(
        slug_field="uscc", queryset=MarketEntity.objects.all(),
        help_text=gettext_lazy("the firm's unified social credit code"))
    records = serializers.ListField(child=serializers.IntegerField(), allow_empty=False,
                                    help_text=gettext_lazy("ids of the firm's credit records"))
    reasons = serializers.CharField(max_length=5000)


class BlacklistNoticeSerializer(serializers.Serializer):
    notice_text = serializers.CharField(max_length=20000, required=False, allow_blank=True,
                                        default="", help_text=gettext_lazy(
                                            "empty: the notice generated from the criteria"))


class BlacklistObjectionSerializer(serializers.Serializer):
    text = serializers.CharField(max_length=20000)


class BlacklistDecisionSerializer(serializers.Serializer):
    listed = serializers.BooleanField(help_text=gettext_lazy("true: list; false: do not list"))
    reasons = serializers.CharField(max_length=5000)


def _cases(user):
    return access.blacklist_visible_to(user).select_related(
        "entity", "department").order_by("-proposed_at", "-id")


class BlacklistCaseViewSet(mixins.ListModelMixin, mixins.RetrieveModelMixin,
                           viewsets.GenericViewSet):
    """Serious-dishonesty list cases (严重违法失信名单): regulators see those of the firms in
    their jurisdiction, a firm its own. The deciding market supervision department (and
    those above it) proposes, serves the notice and decides; the firm objects."""

    serializer_class = BlacklistCaseSerializer
    permission_classes = [permissions.IsAuthenticated]
    filterset_fields = ["status", "entity", "department"]
    ordering_fields = ["proposed_at", "listed_on", "id"]

    def get_queryset(self):
        return _cases(self.request.user)

    def _read(self, pk, status=200):
        return Response(self.get_serializer(self.get_queryset().get(pk=pk)).data,
                        status=status)

    @extend_schema(request=BlacklistProposeSerializer, responses={201: BlacklistCaseSerializer})
    def create(self, request, *args, **kwargs):
        """An officer proposes a case with the reasons and the records it rests on."""
        ser = BlacklistProposeSerializer(data=request.data)
        ser.is_valid(raise_exception=True)
        d = ser.validated_data
        entry = service_call(services.blacklist_propose, entity=d["entity"],
                             actor=request.user, record_ids=d["records"], reasons=d["reasons"])
        return self._read(entry.pk, 201)

    def _act(self, request, fn, ser_class, **extra):
        entry = self.get_object()
        ser = ser_class(data=request.data)
        ser.is_valid(raise_exception=True)
        service_call(fn, entry_id=entry.pk, actor=request.user, **ser.validated_data, **extra)
        return self._read(entry.pk)

    @extend_schema(request=BlacklistNoticeSerializer, responses={200: BlacklistCaseSerializer})
    @decorators.action(detail=True, methods=["post"], filter_backends=[], pagination_class=None)
    def notice(self, request, pk=None):
        """Serve the notice now; the firm may object until the deadline (working days)."""
        return self._act(request, services.blacklist_notice, BlacklistNoticeSerializer)

    @extend_schema(request=BlacklistObjectionSerializer,
                   responses={200: BlacklistCaseSerializer})
    @decorators.action(detail=True, methods=["post"], url_path="object",
                       filter_backends=[], pagination_class=None)
    def object_(self, request, pk=None):
        """The firm states its case and objects, before the deadline."""
        return self._act(request, services.objection_file, BlacklistObjectionSerializer)

    @extend_schema(request=BlacklistDecisionSerializer,
                   responses={200: BlacklistCaseSerializer})
    @decorators.action(detail=True, methods=["post"], filter_backends=[], pagination_class=None)
    def decide(self, request, pk=None):
        """List (after the objection period, or once the firm objected) or do not list."""
        return self._act(request, services.blacklist_decide, BlacklistDecisionSerializer)


# --- repairs ---------------------------------------------------------------------------------

class RepairConditionSerializer(serializers.Serializer):
    code = serializers.CharField()
    met = serializers.BooleanField()
    detail = serializers.CharField()


class CreditRepairSerializer(serializers.ModelSerializer):
    status = choice_field(RepairStatus, "CreditRepairStatusEnum", read_only=True)
    entity_name = serializers.CharField(source="entity.name", read_only=True)
    conditions = RepairConditionSerializer(many=True, read_only=True)

    class Meta:
        model = RepairApplication
        fields = ["id", "status", "entity", "entity_name", "entry", "submitted_at",
                  "rectification", "rectification_evidence", "penalty_paid_on", "commitment",
                  "training_certificate", "conditions", "rule_version", "decided_at",
                  "decision_reasons"]
        read_only_fields = fields


class CreditRepairApplySerializer(serializers.Serializer):
    entry = serializers.IntegerField(help_text=gettext_lazy("the listed case"))
    rectification = serializers.CharField(max_length=20000, required=False, allow_blank=True,
                                          default="")
    rectification_evidence = serializers.FileField(required=False, allow_null=True,
                                                   default=None)
    training_certificate = serializers.FileField(required=False, allow_null=True,
                                                 default=None)
    commitment = serializers.IntegerField(required=False, allow_null=True, default=None,
                                          help_text=gettext_lazy(
                                              "empty: the latest repair commitment"))


class CreditRepairDecisionSerializer(serializers.Serializer):
    approve = serializers.BooleanField()
    reasons = serializers.CharField(max_length=5000)


class CreditRepairViewSet(mixins.ListModelMixin, mixins.RetrieveModelMixin,
                          viewsets.GenericViewSet):
    """Credit repair applications (信用修复): the listed firm applies (multipart, with its
    evidence files) and an officer of the deciding department approves or refuses."""

    serializer_class = CreditRepairSerializer
    permission_classes = [permissions.IsAuthenticated]
    filterset_fields = ["status", "entry", "entity"]
    ordering_fields = ["submitted_at", "id"]

    def get_queryset(self):
        return access.repairs_visible_to(self.request.user).select_related(
            "entity").order_by("-submitted_at", "-id")

    @extend_schema(request={"multipart/form-data": CreditRepairApplySerializer},
                   responses={201: CreditRepairSerializer})
    def create(self, request, *args, **kwargs):
        """The listed firm applies for early removal; refused naming each unmet condition."""
        ser = CreditRepairApplySerializer(data=request.data)
        ser.is_valid(raise_exception=True)
        d = ser.validated_data
        entry = access.blacklist_visible_to(request.user).filter(pk=d["entry"]).first()
        if entry is None:
            raise serializers.ValidationError({"entry": [gettext_lazy(
                "Choose one of your firm's listed cases.")]})
        repair = service_call(services.repair_apply, entry_id=entry.pk, actor=request.user,
                              rectification=d["rectification"],
                              rectification_evidence=d["rectification_evidence"],
                              training_certificate=d["training_certificate"],
                              commitment_id=d["commitment"])
        return Response(self.get_serializer(self.get_queryset().get(pk=repair.pk)).data,
                        status=201)

    @extend_schema(request=CreditRepairDecisionSerializer,
                   responses={200: CreditRepairSerializer})
    @decorators.action(detail=True, methods=["post"], filter_backends=[], pagination_class=None)
    def decide(self, request, pk=None):
        """Approve (the case is removed, its listing record repaired) or refuse."""
        repair = self.get_object()
        ser = CreditRepairDecisionSerializer(data=request.data)
        ser.is_valid(raise_exception=True)
        service_call(services.repair_decide, repair_id=repair.pk, actor=request.user,
                     **ser.validated_data)
        return Response(self.get_serializer(self.get_queryset().get(pk=repair.pk)).data)


router = SimpleRouter()
router.register("credit/blacklist-cases", BlacklistCaseViewSet, basename="credit-blacklist-case")
router.register("credit/repairs", CreditRepairViewSet, basename="credit-repair")
