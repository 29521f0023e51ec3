"""REST API of recalls under /api/v1/: recalls (propose, open, dismiss, refresh, complete,
and their items), recall items (progress) and recall notices (acknowledge).

Reads go through access.py, writes through services.py, errors use the API's one error
format (zhijian.core.api.service_call): a service's ValidationError is 400 naming the
field, Denied is 403, a record the caller may not see is 404 like one that does not
exist. The endpoints have their own router (`router`), mounted by config/api_urls.py.
"""

from __future__ import annotations

from django.db.models import Count, Q
from django.utils.translation import gettext_lazy
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import extend_schema, extend_schema_field
from rest_framework import decorators, mixins, serializers, viewsets
from rest_framework.response import Response
from rest_framework.routers import SimpleRouter

from zhijian.core.api import service_call
from zhijian.inspections.api import choice_field
from zhijian.registry.models import MarketEntity, ProductCategory

from . import access, services
from .choices import (
    CLOSED_ITEM_STATUSES,
    ItemStatus,
    NoticeRole,
    RecallStatus,
    Severity,
    SourceKind,
    StopKind,
)
from .models import Recall, RecallItem, RecallNotice, RecallSource

# --- items -----------------------------------------------------------------------------------

class RecallItemSerializer(serializers.ModelSerializer):
    recall_number = serializers.CharField(source="recall.number", read_only=True)
    kind = choice_field(StopKind, "RecallStopKindEnum", read_only=True)
    status = choice_field(ItemStatus, "RecallItemStatusEnum", read_only=True)
    place_name = serializers.SerializerMethodField()
    holder_name = serializers.SerializerMethodField()

    class Meta:
        model = RecallItem
        fields = ["id", "recall", "recall_number", "tier", "identifier", "place",
                  "place_name", "party", "holder_entity", "holder_unit", "holder_name",
                  "kind", "listed", "uom", "located", "removed", "replaced", "destroyed",
                  "status", "note", "event", "event_time", "updated_at"]
        read_only_fields = fields

    @extend_schema_field(OpenApiTypes.STR)
    def get_place_name(self, item) -> str:
        return item.place_ref.name if item.place_ref_id else ""

    @extend_schema_field(OpenApiTypes.STR)
    def get_holder_name(self, item) -> str:
        holder = item.holder
        return holder.name if holder is not None else ""


class ProgressSerializer(serializers.Serializer):
    status = choice_field(ItemStatus, "RecallItemStatusEnum")
    located = serializers.DecimalField(max_digits=16, decimal_places=3, required=False,
                                       allow_null=True, default=None)
    removed = serializers.DecimalField(max_digits=16, decimal_places=3, required=False,
                                       allow_null=True, default=None)
    replaced = serializers.DecimalField(max_digits=16, decimal_places=3, required=False,
                                        allow_null=True, default=None)
    destroyed = serializers.DecimalField(max_digits=16, decimal_places=3, required=False,
                                         allow_null=True, default=None)
    note = serializers.CharField(max_length=5000, required=False, allow_blank=True,
                                 default="")


def _items(user):
    return access.items_visible_to(user).select_related(
        "recall", "place_ref", "holder_entity", "holder_unit").order_by(
        "recall_id", "tier", "place", "identifier", "kind")


# --- recalls ---------------------------------------------------------------------------------


class SourceSerializer(serializers.ModelSerializer):
    kind = choice_field(SourceKind, "RecallSourceKindEnum", read_only=True)

    class Meta:
        model = RecallSource
        fields = ["kind", "reference", "object_id", "event", "added_at"]
        read_only_fields = fields


class RateSerializer(serializers.Serializer):
    """The correction rate of one tier and unit (tier null: all tiers), progress.py."""

    tier = serializers.IntegerField(allow_null=True)
    uom = serializers.CharField()
    listed = serializers.DecimalField(max_digits=20, decimal_places=3)
    removed = serializers.DecimalField(max_digits=20, decimal_places=3)
    corrected = serializers.DecimalField(max_digits=20, decimal_places=3)
    removal_rate = serializers.DecimalField(max_digits=5, decimal_places=1, allow_null=True)
    correction_rate = serializers.DecimalField(max_digits=5, decimal_places=1,
                                               allow_null=True)
    items = serializers.IntegerField()
    closed = serializers.IntegerField()


class RecallSerializer(serializers.ModelSerializer):
    status = choice_field(RecallStatus, "RecallStatusEnum", read_only=True)
    severity = choice_field(Severity, "RecallSeverityEnum", read_only=True, allow_blank=True)
    maker_uscc = serializers.CharField(source="maker.uscc", read_only=True)
    maker_name = serializers.CharField(source="maker.name", read_only=True)
    category = serializers.CharField(source="category.code", read_only=True)
    department_name = serializers.CharField(source="department.name", read_only=True)
    batches = serializers.SlugRelatedField(slug_field="identifier", many=True, read_only=True,
                                           help_text=gettext_lazy(
                                               "canonical identifiers of the batches"))
    sources = SourceSerializer(many=True, read_only=True)
    item_count = serializers.IntegerField(read_only=True)
    closed_count = serializers.IntegerField(read_only=True)

    class Meta:
        model = Recall
        fields = ["id", "number", "status", "maker", "maker_uscc", "maker_name", "product",
                  "product_name", "category", "gtin", "lot", "batches", "department",
                  "department_name", "reason", "severity", "proposed_at", "opened_at",
                  "due_on", "rule_version", "completed_at", "completion_note",
                  "dismissed_at", "dismissal_reason", "impact_digest", "impact_computed_at",
                  "impact_truncated", "sources", "item_count", "closed_count"]
        read_only_fields = fields


class RecallDetailSerializer(RecallSerializer):
    rates = serializers.SerializerMethodField()

    class Meta(RecallSerializer.Meta):
        fields = [*RecallSerializer.Meta.fields, "rates"]
        read_only_fields = fields

    @extend_schema_field(RateSerializer(many=True))
    def get_rates(self, recall) -> list:
        """Over the items the caller sees."""
        request = self.context["request"]
        return RateSerializer(access.items_visible_to(request.user, recall).rates(),
                              many=True).data


class ProposeSerializer(serializers.Serializer):
    maker = serializers.SlugRelatedField(
        slug_field="uscc", queryset=MarketEntity.objects.all(),
        help_text=gettext_lazy("the maker's unified social credit code"))
    category = serializers.SlugRelatedField(
        slug_field="code", queryset=ProductCategory.objects.all(),
        help_text=gettext_lazy("product category code, e.g. electrical.cable"))
    lot = serializers.CharField(max_length=60)
    gtin = serializers.CharField(max_length=14, required=False, allow_blank=True, default="")
    reason = serializers.CharField(max_length=5000)


class OpenSerializer(serializers.Serializer):
    severity = choice_field(Severity, "RecallSeverityEnum")
    reason = serializers.CharField(max_length=5000, required=False, allow_blank=True,
                                   default="", help_text=gettext_lazy(
                                       "empty: the reason of the proposal"))
    gtin = serializers.CharField(max_length=14, required=False, allow_blank=True, default="",
                                 help_text=gettext_lazy("only when the recall has none"))


class DismissSerializer(serializers.Serializer):
    reason = serializers.CharField(max_length=5000)


class CompleteSerializer(serializers.Serializer):
    note = serializers.CharField(max_length=5000, required=False, allow_blank=True,
                                 default="", help_text=gettext_lazy(
                                     "required while items are still open"))


def _recalls(user):
    closed = Q(items__status__in=CLOSED_ITEM_STATUSES)
    return (Recall.objects.visible_to(user).select_related("maker", "category", "department")
            .prefetch_related("batches", "sources")
            .annotate(item_count=Count("items", distinct=True),
                      closed_count=Count("items", filter=closed, distinct=True))
            .order_by("-proposed_at", "-id"))


class RecallViewSet(mixins.ListModelMixin, mixins.RetrieveModelMixin,
                    viewsets.GenericViewSet):
    """Recalls of defective batches: regulators see those of their jurisdiction (and those
    reaching it), firms those that notify them, administrators all. The responsible
    department (and those above it) proposes, opens, dismisses, refreshes and completes."""

    filterset_fields = ["status", "severity", "lot", "maker"]
    ordering_fields = ["proposed_at", "opened_at", "id"]

    def get_queryset(self):
        return _recalls(self.request.user)

    def get_serializer_class(self):
        return RecallDetailSerializer if self.action != "list" else RecallSerializer

    def _read(self, pk: int, status: int = 200) -> Response:
        return Response(RecallDetailSerializer(self.get_queryset().get(pk=pk),
                                               context=self.get_serializer_context()).data,
                        status=status)

    @extend_schema(request=ProposeSerializer, responses={201: RecallDetailSerializer})
    def create(self, request, *args, **kwargs):
        """Propose a recall by hand (a regulator acting for the batch's department); a
        proposed or open recall of the same batch takes it as a further source."""
        ser = ProposeSerializer(data=request.data)
        ser.is_valid(raise_exception=True)
        d = ser.validated_data
        recall = service_call(services.recall_propose, actor=request.user,
                              source_kind=SourceKind.MANUAL, maker_id=d["maker"].pk,
                              category_code=d["category"].code, lot=d["lot"], gtin=d["gtin"],
                              reason=d["reason"])
        return self._read(recall.pk, 201)

    def _transition(self, request, fn, serializer_class=None):
        recall = self.get_object()
        data = {}
        if serializer_class is not None:
            ser = serializer_class(data=request.data)
            ser.is_valid(raise_exception=True)
            data = ser.validated_data
        service_call(fn, actor=request.user, recall_id=recall.pk, **data)
        return self._read(recall.pk)

    @extend_schema(request=OpenSerializer, responses={200: RecallDetailSerializer})
    @decorators.action(detail=True, methods=["post"], filter_backends=[], pagination_class=None)
    def open(self, request, pk=None):
        """Open a proposed recall: trace the batch forward, list every downstream holder and
        location (the items), notify the maker and every registered holder."""
        return self._transition(request, services.recall_open, OpenSerializer)

    @extend_schema(request=DismissSerializer, responses={200: RecallDetailSerializer})
    @decorators.action(detail=True, methods=["post"], filter_backends=[], pagination_class=None)
    def dismiss(self, request, pk=None):
        """Dismiss a proposal, with the reason."""
        return self._transition(request, services.recall_dismiss, DismissSerializer)

    @extend_schema(request=None, responses={200: RecallDetailSerializer})
    @decorators.action(detail=True, methods=["post"], filter_backends=[], pagination_class=None)
    def refresh(self, request, pk=None):
        """Trace again and add what was found since; recorded progress is kept."""
        return self._transition(request, services.recall_refresh)

    @extend_schema(request=CompleteSerializer, responses={200: RecallDetailSerializer})
    @decorators.action(detail=True, methods=["post"], filter_backends=[], pagination_class=None)
    def complete(self, request, pk=None):
        """Complete an open recall (a note is required while items are still open)."""
        return self._transition(request, services.recall_complete, CompleteSerializer)

    @extend_schema(responses={200: RecallItemSerializer(many=True)})
    @decorators.action(detail=True, methods=["get"], filter_backends=[])
    def items(self, request, pk=None):
        """The items of the impact list the caller sees (the maker and regulators all, a
        holder its own), by tier and place."""
        recall = self.get_object()
        qs = _items(request.user).filter(recall=recall)
        page = self.paginate_queryset(qs)
        return self.get_paginated_response(RecallItemSerializer(page, many=True).data)


class RecallItemViewSet(mixins.ListModelMixin, mixins.RetrieveModelMixin,
                        viewsets.GenericViewSet):
    """Items of impact lists with their progress. The holder records progress on its own
    items, the maker on those whose holder is not registered, the responsible department
    on any. Quantities are totals so far and never go back."""

    serializer_class = RecallItemSerializer
    filterset_fields = ["recall", "status", "tier"]
    ordering_fields = ["tier", "id"]

    def get_queryset(self):
        return _items(self.request.user)

    @extend_schema(request=ProgressSerializer, responses={200: RecallItemSerializer})
    @decorators.action(detail=True, methods=["post"], filter_backends=[],
                       pagination_class=None)
    def progress(self, request, pk=None):
        """Record progress: the totals located, removed, replaced, destroyed so far and the
        status reached (a closing status completes the recall when it is the last)."""
        item = self.get_object()
        ser = ProgressSerializer(data=request.data)
        ser.is_valid(raise_exception=True)
        service_call(services.item_update, actor=request.user, item_id=item.pk,
                     **ser.validated_data)
        return Response(self.get_serializer(self.get_queryset().get(pk=item.pk)).data)


# --- notices ---------------------------------------------------------------------------------

class NoticeSerializer(serializers.ModelSerializer):
    recall_number = serializers.CharField(source="recall.number", read_only=True)
    role = choice_field(NoticeRole, "RecallNoticeRoleEnum", read_only=True)
    addressee = serializers.SerializerMethodField()

    class Meta:
        model = RecallNotice
        fields = ["id", "recall", "recall_number", "role", "entity", "user_unit", "addressee",
                  "sent_at", "due_on", "acknowledged_at"]
        read_only_fields = fields

    @extend_schema_field(OpenApiTypes.STR)
    def get_addressee(self, notice) -> str:
        return notice.addressee.name


class RecallNoticeViewSet(mixins.ListModelMixin, mixins.RetrieveModelMixin,
                          viewsets.GenericViewSet):
    """Recall notices: a firm sees and acknowledges its own; regulators see those of the
    recalls they see."""

    serializer_class = NoticeSerializer
    filterset_fields = ["recall"]
    ordering_fields = ["sent_at", "id"]

    def get_queryset(self):
        return access.notices_visible_to(self.request.user).select_related(
            "recall", "entity", "user_unit").order_by("-sent_at", "-id")

    @extend_schema(request=None, responses={200: NoticeSerializer})
    @decorators.action(detail=True, methods=["post"], filter_backends=[], pagination_class=None)
    def acknowledge(self, request, pk=None):
        notice = self.get_object()
        service_call(services.notice_acknowledge, actor=request.user, notice_id=notice.pk)
        return Response(self.get_serializer(self.get_queryset().get(pk=notice.pk)).data)


router = SimpleRouter()
router.register("recalls", RecallViewSet, basename="recall")
router.register("recall-items", RecallItemViewSet, basename="recall-item")
router.register("recall-notices", RecallNoticeViewSet, basename="recall-notice")
