"""/api/v1/ endpoints of credit records, penalty decisions and credit commitments.

Reads go through access.py (records: CreditRecord.objects.visible_to), writes through
services/records.py; a service's ValidationError is 400 naming the field, Denied is 403,
a record the caller may not see is 404 like one that does not exist.
"""

from __future__ import annotations

from django.utils.translation import gettext_lazy
from drf_spectacular.utils import extend_schema
from rest_framework import decorators, mixins, parsers, permissions, serializers, viewsets
from rest_framework.response import Response
from rest_framework.routers import SimpleRouter

from zhijian.core.api import service_call
from zhijian.inspections.api import choice_field
from zhijian.registry.models import MarketEntity

from .. import access
from ..choices import CommitmentOccasion, CommitmentStatus, PenaltyStatus, RecordKind, RecordStatus
from ..models import Commitment, CreditRecord, Penalty
from ..services import records as services

MULTIPART = [parsers.MultiPartParser, parsers.FormParser, parsers.JSONParser]


def _entity_field():
    return serializers.SlugRelatedField(
        slug_field="uscc", queryset=MarketEntity.objects.all(),
        help_text=gettext_lazy("the firm's unified social credit code"))


# --- records --------------------------------------------------------------------------------

class CreditRecordSerializer(serializers.ModelSerializer):
    kind = choice_field(RecordKind, "CreditRecordKindEnum", read_only=True)
    status = choice_field(RecordStatus, "CreditRecordStatusEnum", read_only=True)
    entity_uscc = serializers.CharField(source="entity.uscc", read_only=True)
    entity_name = serializers.CharField(source="entity.name", read_only=True)

    class Meta:
        model = CreditRecord
        fields = ["id", "entity", "entity_uscc", "entity_name", "kind", "date", "weight",
                  "expires_on", "repaired_on", "source_type", "source_id", "source_ref",
                  "summary", "evidence_sha256", "public", "status", "withdrawn_at",
                  "withdrawn_reason", "rule_version", "department", "created_at",
                  "updated_at"]
        read_only_fields = fields


class CreditRecordEnterSerializer(serializers.Serializer):
    entity = _entity_field()
    kind = choice_field(RecordKind, "CreditRecordKindEnum")
    date = serializers.DateField()
    summary = serializers.CharField(max_length=5000)
    source_ref = serializers.CharField(max_length=200, required=False, allow_blank=True,
                                       default="")
    evidence = serializers.FileField(required=False, allow_null=True, default=None,
                                     help_text=gettext_lazy("required: the evidence file"))
    weight = serializers.IntegerField(required=False, allow_null=True, default=None,
                                      min_value=0)
    expires_on = serializers.DateField(required=False, allow_null=True, default=None)
    public = serializers.BooleanField(required=False, default=False)


class CreditReasonSerializer(serializers.Serializer):
    reason = serializers.CharField(max_length=5000)


class CreditRecordViewSet(mixins.ListModelMixin, mixins.RetrieveModelMixin,
                          viewsets.GenericViewSet):
    """Credit records: regulators see those of their jurisdiction, a firm its own and the
    public ones, everyone else the public ones in force. Regulators enter records by hand
    (multipart, with the evidence file) and withdraw them with a reason."""

    serializer_class = CreditRecordSerializer
    filterset_fields = ["kind", "status", "entity", "public", "source_type"]
    ordering_fields = ["date", "id", "updated_at"]
    parser_classes = MULTIPART
    permission_classes = [permissions.IsAuthenticatedOrReadOnly]

    def get_queryset(self):
        return CreditRecord.objects.visible_to(self.request.user).select_related(
            "entity").order_by("-date", "-id")

    @extend_schema(request=CreditRecordEnterSerializer, responses={201: CreditRecordSerializer})
    def create(self, request, *args, **kwargs):
        ser = CreditRecordEnterSerializer(data=request.data)
        ser.is_valid(raise_exception=True)
        d = ser.validated_data
        record = service_call(services.record_enter, actor=request.user,
                              entity_id=d.pop("entity").pk, **d)
        return Response(self.get_serializer(self.get_queryset().get(pk=record.pk)).data,
                        status=201)

    @extend_schema(request=CreditReasonSerializer, responses={200: CreditRecordSerializer})
    @decorators.action(detail=True, methods=["post"], filter_backends=[],
                       pagination_class=None)
    def withdraw(self, request, pk=None):
        record = self.get_object()
        ser = CreditReasonSerializer(data=request.data)
        ser.is_valid(raise_exception=True)
        service_call(services.record_withdraw_by_officer, actor=request.user,
                     record_id=record.pk, reason=ser.validated_data["reason"])
        return Response(self.get_serializer(self.get_queryset().get(pk=record.pk)).data)


# --- penalties ------------------------------------------------------------------------------

class PenaltySerializer(serializers.ModelSerializer):
    status = choice_field(PenaltyStatus, "PenaltyStatusEnum", read_only=True)
    entity_uscc = serializers.CharField(source="entity.uscc", read_only=True)
    entity_name = serializers.CharField(source="entity.name", read_only=True)
    department_name = serializers.CharField(source="department.name", read_only=True)

    class Meta:
        model = Penalty
        fields = ["id", "decision_number", "entity", "entity_uscc", "entity_name",
                  "department", "department_name", "decided_on", "violation", "legal_basis",
                  "fine", "heavy", "document_sha256", "paid_on", "status", "created_at"]
        read_only_fields = fields


class PenaltyRecordSerializer(serializers.Serializer):
    entity = _entity_field()
    decision_number = serializers.CharField(max_length=60)
    decided_on = serializers.DateField()
    violation = serializers.CharField(max_length=5000)
    legal_basis = serializers.CharField(max_length=300)
    fine = serializers.DecimalField(max_digits=14, decimal_places=2, required=False,
                                    allow_null=True, default=None, min_value=0)
    heavy = serializers.BooleanField(required=False, default=False)
    document = serializers.FileField(required=False, allow_null=True, default=None,
                                     help_text=gettext_lazy("required: the decision document"))


class PenaltyPaidSerializer(serializers.Serializer):
    paid_on = serializers.DateField()


class PenaltyViewSet(mixins.ListModelMixin, mixins.RetrieveModelMixin,
                     viewsets.GenericViewSet):
    """Administrative penalty decisions (行政处罚决定): public while in force; regulators of
    the firm's jurisdiction register them (multipart, with the decision document), record
    the payment of the fine and revoke them (the credit record is withdrawn)."""

    serializer_class = PenaltySerializer
    filterset_fields = ["status", "heavy", "entity"]
    ordering_fields = ["decided_on", "id"]
    parser_classes = MULTIPART
    permission_classes = [permissions.IsAuthenticatedOrReadOnly]

    def get_queryset(self):
        return access.penalties_visible_to(self.request.user, Penalty.objects.all()
                                           ).select_related("entity", "department").order_by(
            "-decided_on", "-id")

    def _read(self, pk, status=200):
        return Response(self.get_serializer(self.get_queryset().get(pk=pk)).data,
                        status=status)

    @extend_schema(request=PenaltyRecordSerializer, responses={201: PenaltySerializer})
    def create(self, request, *args, **kwargs):
        ser = PenaltyRecordSerializer(data=request.data)
        ser.is_valid(raise_exception=True)
        d = ser.validated_data
        penalty = service_call(services.penalty_record, actor=request.user,
                               entity_id=d.pop("entity").pk, **d)
        return self._read(penalty.pk, 201)

    @extend_schema(request=PenaltyPaidSerializer, responses={200: PenaltySerializer})
    @decorators.action(detail=True, methods=["post"], filter_backends=[],
                       pagination_class=None)
    def paid(self, request, pk=None):
        penalty = self.get_object()
        ser = PenaltyPaidSerializer(data=request.data)
        ser.is_valid(raise_exception=True)
        service_call(services.penalty_mark_paid, actor=request.user, penalty_id=penalty.pk,
                     paid_on=ser.validated_data["paid_on"])
        return self._read(penalty.pk)

    @extend_schema(request=CreditReasonSerializer, responses={200: PenaltySerializer})
    @decorators.action(detail=True, methods=["post"], filter_backends=[],
                       pagination_class=None)
    def revoke(self, request, pk=None):
        penalty = self.get_object()
        ser = CreditReasonSerializer(data=request.data)
        ser.is_valid(raise_exception=True)
        service_call(services.penalty_revoke, actor=request.user, penalty_id=penalty.pk,
                     reason=ser.validated_data["reason"])
        return self._read(penalty.pk)


# --- commitments ----------------------------------------------------------------------------

class CommitmentSerializer(serializers.ModelSerializer):
    occasion = choice_field(CommitmentOccasion, "CommitmentOccasionEnum", read_only=True)
    status = choice_field(CommitmentStatus, "CommitmentStatusEnum", read_only=True)
    entity_uscc = serializers.CharField(source="entity.uscc", read_only=True)
    entity_name = serializers.CharField(source="entity.name", read_only=True)

    class Meta:
        model = Commitment
        fields = ["id", "entity", "entity_uscc", "entity_name", "occasion", "reference",
                  "text", "template_version", "text_sha256", "signatory", "signed_at",
                  "status", "breached_on", "breach_reason"]
        read_only_fields = fields


class CommitmentSignSerializer(serializers.Serializer):
    occasion = choice_field(CommitmentOccasion, "CommitmentOccasionEnum")
    reference = serializers.CharField(max_length=100, required=False, allow_blank=True,
                                      default="")
    signatory = serializers.CharField(max_length=50)


class CommitmentBreachSerializer(serializers.Serializer):
    breached_on = serializers.DateField()
    reason = serializers.CharField(max_length=5000)
    evidence = serializers.FileField(required=False, allow_null=True, default=None,
                                     help_text=gettext_lazy("required: the evidence file"))


class CommitmentViewSet(mixins.ListModelMixin, mixins.RetrieveModelMixin,
                        viewsets.GenericViewSet):
    """Credit commitments (信用承诺), public. A firm signs the statement in force for the
    occasion (sign); a regulator of its jurisdiction finds one breached (breach,
    multipart with the evidence)."""

    serializer_class = CommitmentSerializer
    filterset_fields = ["status", "occasion", "entity"]
    ordering_fields = ["signed_at", "id"]
    parser_classes = MULTIPART
    permission_classes = [permissions.IsAuthenticatedOrReadOnly]

    def get_queryset(self):
        return access.commitments_visible_to(self.request.user, Commitment.objects.all()
                                             ).select_related("entity").order_by(
            "-signed_at", "-id")

    def _read(self, pk, status=200):
        return Response(self.get_serializer(self.get_queryset().get(pk=pk)).data,
                        status=status)

    @extend_schema(request=CommitmentSignSerializer, responses={201: CommitmentSerializer})
    @decorators.action(detail=False, methods=["post"], filter_backends=[],
                       pagination_class=None)
    def sign(self, request):
        ser = CommitmentSignSerializer(data=request.data)
        ser.is_valid(raise_exception=True)
        commitment = service_call(services.commitment_sign, actor=request.user,
                                  **ser.validated_data)
        return self._read(commitment.pk, 201)

    @extend_schema(request=CommitmentBreachSerializer, responses={200: CommitmentSerializer})
    @decorators.action(detail=True, methods=["post"], filter_backends=[],
                       pagination_class=None)
    def breach(self, request, pk=None):
        commitment = self.get_object()
        ser = CommitmentBreachSerializer(data=request.data)
        ser.is_valid(raise_exception=True)
        service_call(services.commitment_breach, actor=request.user,
                     commitment_id=commitment.pk, **ser.validated_data)
        return self._read(commitment.pk)


router = SimpleRouter()
router.register("credit/records", CreditRecordViewSet, basename="credit-record")
router.register("credit/penalties", PenaltyViewSet, basename="credit-penalty")
router.register("credit/commitments", CommitmentViewSet, basename="credit-commitment")
