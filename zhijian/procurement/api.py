"""REST API of purchasing and acceptance (M2.5) under /api/v1/: qualified-supplier lists
and their suppliers (with appeals against removal), deliveries (with acceptance checks,
witness inspections and referrals to the competent department), acceptance checks as
stored, and referrals.

Reads go through access.py, writes through services.py, errors use the API's one error
format (zhijian.core.api.service_call): a service's ValidationError is 400 naming the
field, Denied is 403, a record the caller may not see is 404 like one that does not
exist. The endpoints have their own router (`router`), mounted by config/api_urls.py.
"""

from __future__ import annotations

from django.utils.translation import gettext_lazy
from django_filters import rest_framework as filters
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import extend_schema, extend_schema_field
from rest_framework import decorators, mixins, serializers, viewsets
from rest_framework.response import Response
from rest_framework.routers import SimpleRouter

from zhijian.core.access import scope_of
from zhijian.core.api import service_call
from zhijian.inspections.api import choice_field
from zhijian.registry.models import Lab, MarketEntity, Product, ProductCategory

from . import access, services
from .choices import AppealStatus, DeliveryStatus, Standing, WitnessResult
from .models import (
    AcceptanceCheck,
    Appeal,
    Delivery,
    Referral,
    Supplier,
    SupplierList,
    WitnessInspection,
)


class ReasonSerializer(serializers.Serializer):
    """One reason of a standing (docs/supplier-standing.md) and what it means."""

    code = serializers.CharField()
    rule = serializers.CharField()
    count = serializers.IntegerField()
    points = serializers.IntegerField()
    hard = serializers.BooleanField()
    detail = serializers.DictField()
    text = serializers.SerializerMethodField()

    def get_text(self, reason) -> str:
        return services.reason_text(reason)


# --- lists -----------------------------------------------------------------------------------

class SupplierListSerializer(serializers.ModelSerializer):
    user_unit_name = serializers.CharField(source="user_unit.name", read_only=True)
    category = serializers.CharField(source="category.code", read_only=True)
    category_name = serializers.CharField(source="category.name", read_only=True)

    class Meta:
        model = SupplierList
        fields = ["id", "user_unit", "user_unit_name", "category", "category_name",
                  "created_at"]
        read_only_fields = fields


class SupplierListCreateSerializer(serializers.Serializer):
    category = serializers.SlugRelatedField(
        slug_field="code", queryset=ProductCategory.objects.all(),
        help_text=gettext_lazy("product category code, e.g. electrical.cable"))


class SupplierListViewSet(mixins.ListModelMixin, mixins.RetrieveModelMixin,
                          viewsets.GenericViewSet):
    """A user unit's qualified-supplier lists, one per product category: the unit itself
    and administrators see them; the unit opens them."""

    serializer_class = SupplierListSerializer
    ordering_fields = ["created_at", "id"]

    def get_queryset(self):
        return access.lists_visible_to(self.request.user).select_related(
            "user_unit", "category").order_by("category__code", "id")

    @extend_schema(request=SupplierListCreateSerializer,
                   responses={201: SupplierListSerializer})
    def create(self, request, *args, **kwargs):
        ser = SupplierListCreateSerializer(data=request.data)
        ser.is_valid(raise_exception=True)
        sl = service_call(services.supplier_list_create, actor=request.user,
                          category_id=ser.validated_data["category"].pk)
        return Response(self.get_serializer(self.get_queryset().get(pk=sl.pk)).data,
                        status=201)


# --- appeals (read) -------------------------------------------------------------------------

class AppealSerializer(serializers.ModelSerializer):
    status = choice_field(AppealStatus, "AppealStatusEnum", read_only=True)
    entity = serializers.IntegerField(source="supplier.entity_id", read_only=True)
    entity_name = serializers.CharField(source="supplier.entity.name", read_only=True)
    user_unit_name = serializers.CharField(source="supplier.supplier_list.user_unit.name",
                                           read_only=True)
    category = serializers.CharField(source="supplier.supplier_list.category.code",
                                     read_only=True)

    class Meta:
        model = Appeal
        fields = ["id", "supplier", "entity", "entity_name", "user_unit_name", "category",
                  "grounds", "filed_at", "status", "decision", "decided_at",
                  "set_aside_rules", "set_aside_until"]
        read_only_fields = fields


def _appeals(user):
    return access.appeals_visible_to(user).select_related(
        "supplier__entity", "supplier__supplier_list__user_unit",
        "supplier__supplier_list__category").order_by("-filed_at", "-id")


# --- suppliers -------------------------------------------------------------------------------

class SupplierSerializer(serializers.ModelSerializer):
    """A list entry: the supplier's standing as last computed, with its reasons."""

    user_unit = serializers.IntegerField(source="supplier_list.user_unit_id", read_only=True)
    user_unit_name = serializers.CharField(source="supplier_list.user_unit.name",
                                           read_only=True)
    category = serializers.CharField(source="supplier_list.category.code", read_only=True)
    entity_uscc = serializers.CharField(source="entity.uscc", read_only=True)
    entity_name = serializers.CharField(source="entity.name", read_only=True)
    standing = choice_field(Standing, "SupplierStandingEnum", read_only=True)
    reasons = ReasonSerializer(many=True, read_only=True)
    note = serializers.SerializerMethodField()

    class Meta:
        model = Supplier
        fields = ["id", "supplier_list", "user_unit", "user_unit_name", "category", "entity",
                  "entity_uscc", "entity_name", "standing", "score", "reasons",
                  "rule_version", "computed_at", "override_rules", "override_until", "note",
                  "added_at"]
        read_only_fields = fields

    @extend_schema_field(OpenApiTypes.STR)
    def get_note(self, supplier) -> str | None:
        """The user unit's own note: not shown to the supplier."""
        request = self.context.get("request")
        scope = scope_of(request.user if request else None)
        return supplier.note if (scope.is_admin or scope.role == "user_unit") else None


class ScreenSerializer(serializers.Serializer):
    """A check made before the listing (the credit check of joint punishment measures)."""

    name = serializers.CharField()
    ref = serializers.CharField(help_text=gettext_lazy("the stored check's id"))
    refused = serializers.BooleanField()
    flagged = serializers.BooleanField()
    flags = serializers.ListField(child=serializers.CharField(),
                                  help_text=gettext_lazy("why the supplier is flagged"))


class SupplierAddedSerializer(SupplierSerializer):
    screens = ScreenSerializer(many=True, read_only=True)

    class Meta(SupplierSerializer.Meta):
        fields = [*SupplierSerializer.Meta.fields, "screens"]


class SupplierCreateSerializer(serializers.Serializer):
    supplier_list = serializers.IntegerField(help_text=gettext_lazy("list id"))
    entity = serializers.SlugRelatedField(
        slug_field="uscc", queryset=MarketEntity.objects.all(),
        help_text=gettext_lazy("the supplier's unified social credit code"))
    note = serializers.CharField(required=False, allow_blank=True, default="",
                                 max_length=2000)


class AppealFileSerializer(serializers.Serializer):
    grounds = serializers.CharField(max_length=5000)


class SupplierFilter(filters.FilterSet):
    category = filters.CharFilter(field_name="supplier_list__category__code",
                                  label=gettext_lazy("category code of the list"))

    class Meta:
        model = Supplier
        fields = ["supplier_list", "standing", "category"]


class SupplierViewSet(mixins.ListModelMixin, mixins.RetrieveModelMixin,
                      viewsets.GenericViewSet):
    """Suppliers on qualified-supplier lists with their standing and its reasons: the user
    unit sees its lists' entries, an enterprise the entries naming it, administrators all.
    The unit puts suppliers on its lists; a removed supplier appeals."""

    serializer_class = SupplierSerializer
    filterset_class = SupplierFilter
    ordering_fields = ["score", "computed_at", "id"]

    def get_queryset(self):
        return access.suppliers_visible_to(self.request.user).select_related(
            "supplier_list__user_unit", "supplier_list__category", "entity").order_by(
            "supplier_list__category__code", "entity__name", "id")

    @extend_schema(request=SupplierCreateSerializer, responses={201: SupplierAddedSerializer})
    def create(self, request, *args, **kwargs):
        """Put a supplier on a list; refused, with the reasons, when a joint punishment
        measure refuses it (the credit check stays stored) or a hard rule trips; a
        flagging measure lets it on with its reasons in `screens`."""
        ser = SupplierCreateSerializer(data=request.data)
        ser.is_valid(raise_exception=True)
        d = ser.validated_data
        s = service_call(services.supplier_add, actor=request.user,
                         list_id=d["supplier_list"], entity_id=d["entity"].pk, note=d["note"])
        data = self.get_serializer(self.get_queryset().get(pk=s.pk)).data
        data["screens"] = ScreenSerializer(getattr(s, "screens", []), many=True).data
        return Response(data, status=201)

    @extend_schema(request=AppealFileSerializer, responses={201: AppealSerializer})
    @decorators.action(detail=True, methods=["post"], filter_backends=[], pagination_class=None)
    def appeal(self, request, pk=None):
        """The removed supplier appeals against its removal (its own enterprise users)."""
        supplier = self.get_object()
        ser = AppealFileSerializer(data=request.data)
        ser.is_valid(raise_exception=True)
        appeal = service_call(services.appeal_file, actor=request.user,
                              supplier_id=supplier.pk, grounds=ser.validated_data["grounds"])
        return Response(AppealSerializer(_appeals(request.user).get(pk=appeal.pk)).data,
                        status=201)


# --- appeals ---------------------------------------------------------------------------------

class AppealDecideSerializer(serializers.Serializer):
    upheld = serializers.BooleanField()
    decision = serializers.CharField(max_length=5000, allow_blank=True)
    until = serializers.DateField(required=False, allow_null=True, default=None,
                                  help_text=gettext_lazy(
                                      "upheld: the day until which the hard rules that "
                                      "removed the supplier are set aside"))


class AppealViewSet(mixins.ListModelMixin, mixins.RetrieveModelMixin, viewsets.GenericViewSet):
    """Appeals against removal from a list: the supplier and the user unit see them; the
    unit decides."""

    serializer_class = AppealSerializer
    filterset_fields = ["status"]
    ordering_fields = ["filed_at", "id"]

    def get_queryset(self):
        return _appeals(self.request.user)

    @extend_schema(request=AppealDecideSerializer, responses={200: AppealSerializer})
    @decorators.action(detail=True, methods=["post"], filter_backends=[], pagination_class=None)
    def decide(self, request, pk=None):
        """Uphold (the removal is set aside until `until`, the supplier re-rated) or
        dismiss."""
        appeal = self.get_object()
        ser = AppealDecideSerializer(data=request.data)
        ser.is_valid(raise_exception=True)
        service_call(services.appeal_decide, actor=request.user, appeal_id=appeal.pk,
                     **ser.validated_data)
        return Response(self.get_serializer(self.get_queryset().get(pk=appeal.pk)).data)


# --- acceptance checks and referrals (read) --------------------------------------------------

class AcceptanceCheckSerializer(serializers.ModelSerializer):
    """An acceptance check exactly as stored: its findings and everything it checked."""

    delivery_number = serializers.CharField(source="delivery.number", read_only=True)
    checked_by = serializers.CharField(source="checked_by.username", read_only=True)

    class Meta:
        model = AcceptanceCheck
        fields = ["id", "delivery", "delivery_number", "checked_at", "checked_by", "accepted",
                  "findings", "checked", "rule_version", "note"]
        read_only_fields = fields


def _checks(user):
    return access.checks_visible_to(user).select_related("delivery", "checked_by").order_by(
        "-checked_at", "-id")


class ReferralSerializer(serializers.ModelSerializer):
    delivery_number = serializers.CharField(source="delivery.number", read_only=True)
    department_name = serializers.CharField(source="department.name", read_only=True)
    user_unit_name = serializers.CharField(source="delivery.user_unit.name", read_only=True)
    supplier_name = serializers.CharField(source="delivery.supplier.name", read_only=True)
    category = serializers.CharField(source="delivery.category.code", read_only=True)

    class Meta:
        model = Referral
        fields = ["id", "delivery", "delivery_number", "user_unit_name", "supplier_name",
                  "category", "department", "department_name", "text", "referred_at",
                  "acknowledged_at"]
        read_only_fields = fields


def _referrals(user):
    return access.referrals_visible_to(user).select_related(
        "delivery__user_unit", "delivery__supplier", "delivery__category",
        "department").order_by("-referred_at", "-id")


# --- deliveries ------------------------------------------------------------------------------

class WitnessSerializer(serializers.ModelSerializer):
    lab_name = serializers.CharField(source="lab.name", read_only=True)
    result = choice_field(WitnessResult, "WitnessResultEnum", read_only=True)
    report_number = serializers.SerializerMethodField()

    class Meta:
        model = WitnessInspection
        fields = ["id", "lab", "lab_name", "witness", "witnessed_on", "result",
                  "report_number", "recorded_at"]
        read_only_fields = fields

    def get_report_number(self, w) -> str:
        return w.report.number if w.report_id else ""


class DeliverySerializer(serializers.ModelSerializer):
    user_unit_name = serializers.CharField(source="user_unit.name", read_only=True)
    supplier_uscc = serializers.CharField(source="supplier.uscc", read_only=True)
    supplier_name = serializers.CharField(source="supplier.name", read_only=True)
    producer_uscc = serializers.CharField(source="producer.uscc", read_only=True)
    producer_name = serializers.CharField(source="producer.name", read_only=True)
    category = serializers.CharField(source="category.code", read_only=True)
    status = choice_field(DeliveryStatus, "DeliveryStatusEnum", read_only=True)
    reports = serializers.SlugRelatedField(slug_field="number", many=True, read_only=True,
                                           help_text=gettext_lazy(
                                               "the claimed numbers found on the platform"))
    witnesses = WitnessSerializer(many=True, read_only=True)

    class Meta:
        model = Delivery
        fields = ["id", "number", "user_unit", "user_unit_name", "supplier", "supplier_uscc",
                  "supplier_name", "producer", "producer_uscc", "producer_name", "product",
                  "product_name", "category", "batch", "quantity", "unit", "site",
                  "delivered_on", "claimed_numbers", "reports", "status", "witnesses",
                  "created_at"]
        read_only_fields = fields


class DeliveryCreateSerializer(serializers.Serializer):
    number = serializers.CharField(max_length=40, help_text=gettext_lazy(
        "delivery note number"))
    supplier = serializers.SlugRelatedField(slug_field="uscc",
                                            queryset=MarketEntity.objects.all())
    producer = serializers.SlugRelatedField(slug_field="uscc",
                                            queryset=MarketEntity.objects.all())
    product = serializers.PrimaryKeyRelatedField(queryset=Product.objects.all(),
                                                 required=False, allow_null=True,
                                                 default=None)
    product_name = serializers.CharField(max_length=120, required=False, allow_blank=True,
                                         default="")
    category = serializers.SlugRelatedField(slug_field="code",
                                            queryset=ProductCategory.objects.all())
    batch = serializers.CharField(max_length=60)
    quantity = serializers.DecimalField(max_digits=14, decimal_places=3)
    unit = serializers.CharField(max_length=10)
    site = serializers.CharField(max_length=200)
    delivered_on = serializers.DateField()
    report_numbers = serializers.ListField(
        child=serializers.CharField(max_length=40), allow_empty=True,
        help_text=gettext_lazy("every report number on the delivery papers"))


class WitnessInputSerializer(serializers.Serializer):
    lab = serializers.PrimaryKeyRelatedField(queryset=Lab.objects.all())
    witness = serializers.CharField(max_length=80)
    witnessed_on = serializers.DateField()
    result = choice_field(WitnessResult, "WitnessResultEnum")
    report_number = serializers.CharField(max_length=40, required=False, allow_blank=True,
                                          default="")


class CheckInputSerializer(serializers.Serializer):
    note = serializers.CharField(max_length=2000, required=False, allow_blank=True,
                                 default="")


class ReferInputSerializer(serializers.Serializer):
    text = serializers.CharField(max_length=5000, required=False, allow_blank=True,
                                 default="", help_text=gettext_lazy(
                                     "what happened; empty: the delivery and the blocking "
                                     "findings of its latest acceptance check"))


class DeliveryFilter(filters.FilterSet):
    category = filters.CharFilter(field_name="category__code")

    class Meta:
        model = Delivery
        fields = ["status", "batch", "category"]


class DeliveryViewSet(mixins.ListModelMixin, mixins.RetrieveModelMixin,
                      viewsets.GenericViewSet):
    """Deliveries to a user unit with the report numbers on their papers: the unit sees
    and writes its own; a department sees those referred to it; administrators all."""

    serializer_class = DeliverySerializer
    filterset_class = DeliveryFilter
    ordering_fields = ["delivered_on", "id"]

    def get_queryset(self):
        return access.deliveries_visible_to(self.request.user).select_related(
            "user_unit", "supplier", "producer", "category").prefetch_related(
            "reports", "witnesses__lab", "witnesses__report").order_by("-delivered_on", "-id")

    def _read(self, pk: int, status: int = 200) -> Response:
        return Response(self.get_serializer(self.get_queryset().get(pk=pk)).data,
                        status=status)

    @extend_schema(request=DeliveryCreateSerializer, responses={201: DeliverySerializer})
    def create(self, request, *args, **kwargs):
        """Record a delivery; every number given is kept, those found are linked. Refused
        for a supplier not on the unit's list for the category."""
        ser = DeliveryCreateSerializer(data=request.data)
        ser.is_valid(raise_exception=True)
        data = dict(ser.validated_data)
        numbers = data.pop("report_numbers")
        d = service_call(services.delivery_record, actor=request.user, data=data,
                         report_numbers=numbers)
        return self._read(d.pk, 201)

    @extend_schema(request=CheckInputSerializer, responses={201: AcceptanceCheckSerializer})
    @decorators.action(detail=True, methods=["post"], url_path="acceptance-check",
                       url_name="acceptance-check", filter_backends=[], pagination_class=None)
    def acceptance_check(self, request, pk=None):
        """Check the delivery now and decide: every report verified and matched, the
        quantities, the supplier's standing, the witness inspection of key materials."""
        delivery = self.get_object()
        ser = CheckInputSerializer(data=request.data)
        ser.is_valid(raise_exception=True)
        c = service_call(services.acceptance_check, actor=request.user,
                         delivery_id=delivery.pk, note=ser.validated_data["note"])
        return Response(AcceptanceCheckSerializer(_checks(request.user).get(pk=c.pk)).data,
                        status=201)

    @extend_schema(request=WitnessInputSerializer, responses={201: WitnessSerializer})
    @decorators.action(detail=True, methods=["post"], filter_backends=[], pagination_class=None)
    def witness(self, request, pk=None):
        """Record a witness inspection by a third-party lab."""
        delivery = self.get_object()
        ser = WitnessInputSerializer(data=request.data)
        ser.is_valid(raise_exception=True)
        d = ser.validated_data
        w = service_call(services.witness_record, actor=request.user, delivery_id=delivery.pk,
                         lab_id=d["lab"].pk, witness=d["witness"],
                         witnessed_on=d["witnessed_on"], result=d["result"],
                         report_number=d["report_number"])
        return Response(WitnessSerializer(w).data, status=201)

    @extend_schema(request=ReferInputSerializer, responses={201: ReferralSerializer})
    @decorators.action(detail=True, methods=["post"], filter_backends=[], pagination_class=None)
    def refer(self, request, pk=None):
        """Report the rejected delivery to the competent department in one step."""
        delivery = self.get_object()
        ser = ReferInputSerializer(data=request.data)
        ser.is_valid(raise_exception=True)
        r = service_call(services.delivery_refer, actor=request.user, delivery_id=delivery.pk,
                         text=ser.validated_data["text"])
        return Response(ReferralSerializer(_referrals(request.user).get(pk=r.pk)).data,
                        status=201)


# --- acceptance checks -----------------------------------------------------------------------

class AcceptanceCheckViewSet(viewsets.ReadOnlyModelViewSet):
    """Acceptance checks as they were stored, for whoever sees the delivery."""

    serializer_class = AcceptanceCheckSerializer
    filterset_fields = ["delivery", "accepted"]
    ordering_fields = ["checked_at", "id"]

    def get_queryset(self):
        return _checks(self.request.user)


# --- referrals -------------------------------------------------------------------------------

class ReferralViewSet(mixins.ListModelMixin, mixins.RetrieveModelMixin,
                      viewsets.GenericViewSet):
    """Rejected deliveries reported to a department: the user unit and the department see
    them; the department's officers acknowledge them."""

    serializer_class = ReferralSerializer
    ordering_fields = ["referred_at", "id"]

    def get_queryset(self):
        return _referrals(self.request.user)

    @extend_schema(request=None, responses={200: ReferralSerializer})
    @decorators.action(detail=True, methods=["post"], filter_backends=[], pagination_class=None)
    def acknowledge(self, request, pk=None):
        referral = self.get_object()
        service_call(services.referral_acknowledge, actor=request.user,
                     referral_id=referral.pk)
        return Response(self.get_serializer(self.get_queryset().get(pk=referral.pk)).data)


router = SimpleRouter()
router.register("supplier-lists", SupplierListViewSet, basename="supplier-list")
router.register("suppliers", SupplierViewSet, basename="supplier")
router.register("appeals", AppealViewSet, basename="appeal")
router.register("deliveries", DeliveryViewSet, basename="delivery")
router.register("acceptance-checks", AcceptanceCheckViewSet, basename="acceptance-check")
router.register("referrals", ReferralViewSet, basename="referral")
