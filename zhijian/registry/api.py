"""REST API of the registers (/api/v1/). Reads go through access.py; writes through
services.py; errors use the one error format of drf-standardized-errors."""

from __future__ import annotations

import csv
import io

from django.core.exceptions import ValidationError as DjangoValidationError
from django.db.models import Prefetch
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django_filters import rest_framework as filters
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, extend_schema, inline_serializer
from rest_framework import (
    decorators,
    exceptions,
    mixins,
    parsers,
    permissions,
    serializers,
    viewsets,
)
from rest_framework.response import Response
from rest_framework.throttling import ScopedRateThrottle
from rest_framework.validators import UniqueValidator

from zhijian.accounts.models import User
from zhijian.core.api import service_call
from zhijian.core.models import Division
from zhijian.core.pagination import PublicSearchPagination
from zhijian.core.services import current_division
from zhijian.core.validators import validate_uscc

from . import access, services
from .choices import Level, Qualification, RiskClass
from .history import record_history
from .matrix import analyse
from .models import (
    AccreditationScope,
    Department,
    Inspector,
    Lab,
    MarketEntity,
    Product,
    ProductCategory,
    Responsibility,
    Standard,
    UserUnit,
)

DIVISIONS = Division.objects.all()
CATEGORIES = ProductCategory.objects.all()
STANDARDS = Standard.objects.all()


def codes_field(queryset, **kw):
    return serializers.SlugRelatedField(slug_field="code", queryset=queryset, **kw)


class DivisionField(serializers.SlugRelatedField):
    """A GB/T 2260 code that records may be filed under now: an unknown code and an
    abolished one (naming its successor) are refused with the services' own messages."""

    def __init__(self, **kw):
        super().__init__(slug_field="code", queryset=DIVISIONS, **kw)

    def to_internal_value(self, data):
        if not isinstance(data, str | int):
            self.fail("invalid")
        try:
            return current_division(data)
        except DjangoValidationError as exc:
            raise serializers.ValidationError(exc.message_dict["division"]) from exc


class VisibleEntityField(serializers.PrimaryKeyRelatedField):
    """An entity id among those the caller may see: another jurisdiction's entity gets
    the same answer as an id that does not exist."""

    def get_queryset(self):
        request = self.context.get("request")
        return access.entities_visible_to(getattr(request, "user", None))


# --- serializers ---------------------------------------------------------------------------

def reason_field():
    """The reason for a change, stored in the audit log with it (docs/api.md, Writing)."""
    return serializers.CharField(
        required=False, allow_blank=True, max_length=500, write_only=True,
        help_text="Why the record is changed; stored in the audit log with the change.")


class DivisionSerializer(serializers.ModelSerializer):
    class Meta:
        model = Division
        fields = ["code", "name", "name_en", "level", "parent", "valid_from", "valid_to",
                  "successor"]


class CategorySerializer(serializers.ModelSerializer):
    parent = serializers.SlugRelatedField(slug_field="code", read_only=True)

    class Meta:
        model = ProductCategory
        fields = ["code", "name", "name_en", "parent", "ccc", "key_material", "licence_required",
                  "qualification"]


class StandardSerializer(serializers.ModelSerializer):
    categories = serializers.SlugRelatedField(slug_field="code", many=True, read_only=True)

    class Meta:
        model = Standard
        fields = ["code", "title", "title_en", "categories"]


class DepartmentSerializer(serializers.ModelSerializer):
    division = DivisionField()
    sectors = codes_field(CATEGORIES, many=True, required=False)

    class Meta:
        model = Department
        fields = ["id", "code", "name", "name_en", "kind", "level", "division", "all_sectors",
                  "sectors", "phone"]


class ResponsibilitySerializer(serializers.ModelSerializer):
    category = codes_field(CATEGORIES)
    reason = reason_field()

    class Meta:
        model = Responsibility
        fields = ["id", "category", "level", "kind", "role", "legal_basis", "reason"]
        validators = []  # the service upserts (category, level, kind)


class EntitySerializer(serializers.ModelSerializer):
    division = DivisionField()
    categories = codes_field(CATEGORIES, many=True, required=False)
    # The class that counts: the credit rating's, or risk_class (the initial class) while
    # the entity has not been rated (MarketEntity.credit_class).
    credit_class = serializers.CharField(read_only=True, help_text=gettext_lazy(
        "The entity's credit class: its credit rating's class, or the initial risk class "
        "before its first rating."))

    class Meta:
        model = MarketEntity
        fields = ["id", "uscc", "name", "entity_type", "division", "address",
                  "legal_representative", "chief_quality_officer", "contact_phone",
                  "registered_on", "status", "categories", "risk_class", "credit_class",
                  "licence_holder", "created_at", "updated_at"]
        read_only_fields = ["created_at", "updated_at"]
        extra_kwargs = {"uscc": {"validators": [
            validate_uscc,
            UniqueValidator(MarketEntity.objects.all(),
                            message=gettext_lazy("An entity with this code is already registered.")),
        ]}}


class EntityUpdateSerializer(EntitySerializer):
    reason = reason_field()

    class Meta(EntitySerializer.Meta):
        fields = [*EntitySerializer.Meta.fields, "reason"]
        read_only_fields = ["uscc", "created_at", "updated_at"]


class EntityPublicSerializer(serializers.ModelSerializer):
    """What anyone may see of an entity: its business registration."""

    division = serializers.CharField(source="division_id", read_only=True)
    division_name = serializers.CharField(read_only=True)  # with_division_name()

    class Meta:
        model = MarketEntity
        fields = ["uscc", "name", "entity_type", "division", "division_name", "status",
                  "registered_on"]


class ProductSerializer(serializers.ModelSerializer):
    entity = VisibleEntityField()
    category = codes_field(CATEGORIES)
    standards = codes_field(STANDARDS, many=True, required=False)

    class Meta:
        model = Product
        fields = ["id", "entity", "name", "model", "category", "standards", "gtin", "created_at"]
        read_only_fields = ["created_at"]


class ScopeSerializer(serializers.ModelSerializer):
    standard = codes_field(STANDARDS)

    class Meta:
        model = AccreditationScope
        fields = ["id", "standard", "parameter", "valid_from", "valid_to"]


class ScopeEndSerializer(serializers.Serializer):
    valid_to = serializers.DateField(help_text="The last day on which the line is valid.")
    reason = serializers.CharField(max_length=500, allow_blank=True,
                                   help_text="Why the line ends; stored in the audit log.")


class LabSerializer(serializers.ModelSerializer):
    """A laboratory. `monthly_capacity` is given only to regulators and the laboratory
    itself (access.can_see_lab_capacity), as on the web pages."""

    division = DivisionField()
    scopes = ScopeSerializer(many=True, read_only=True)

    class Meta:
        model = Lab
        fields = ["id", "name", "uscc", "division", "address", "cma_number", "cnas_number",
                  "status", "monthly_capacity", "scopes", "created_at"]
        read_only_fields = ["created_at"]
        extra_kwargs = {"monthly_capacity": {"help_text": (
            "Reports per month the laboratory can issue. Not public: present only for "
            "regulators, administrators and the laboratory itself.")}}

    def to_representation(self, instance):
        data = super().to_representation(instance)
        request = self.context.get("request")
        if not access.can_see_lab_capacity(getattr(request, "user", None), instance):
            data.pop("monthly_capacity", None)
        return data


class UserUnitSerializer(serializers.ModelSerializer):
    division = DivisionField()
    categories = codes_field(CATEGORIES, many=True, required=False)

    class Meta:
        model = UserUnit
        fields = ["id", "name", "uscc", "division", "sector", "categories", "contact_phone",
                  "created_at"]
        read_only_fields = ["created_at"]


class InspectorSerializer(serializers.ModelSerializer):
    department = serializers.PrimaryKeyRelatedField(queryset=Department.objects.all())
    # Keys are checked by the service (Inspector.clean), whose message names the field.
    qualifications = serializers.ListField(
        child=serializers.CharField(max_length=60), required=False,
        help_text="Qualification keys: " + ", ".join(Qualification.values) + ".")

    user = serializers.SlugRelatedField(
        slug_field="username", queryset=User.objects.filter(role="regulator"), required=False,
        allow_null=True, help_text="username of the inspector's own sign-in (a regulator "
        "account of the same department); needed to work inspection tasks")

    class Meta:
        model = Inspector
        fields = ["id", "name", "badge_number", "department", "qualifications", "active",
                  "user"]


# Changes (PATCH) of every register carry an optional `reason` for the audit log.

class ProductUpdateSerializer(ProductSerializer):
    reason = reason_field()

    class Meta(ProductSerializer.Meta):
        fields = [*ProductSerializer.Meta.fields, "reason"]


class LabUpdateSerializer(LabSerializer):
    reason = reason_field()

    class Meta(LabSerializer.Meta):
        fields = [*LabSerializer.Meta.fields, "reason"]


class UserUnitUpdateSerializer(UserUnitSerializer):
    reason = reason_field()

    class Meta(UserUnitSerializer.Meta):
        fields = [*UserUnitSerializer.Meta.fields, "reason"]


class InspectorUpdateSerializer(InspectorSerializer):
    reason = reason_field()

    class Meta(InspectorSerializer.Meta):
        fields = [*InspectorSerializer.Meta.fields, "reason"]


class DepartmentUpdateSerializer(DepartmentSerializer):
    reason = reason_field()

    class Meta(DepartmentSerializer.Meta):
        fields = [*DepartmentSerializer.Meta.fields, "reason"]


class HistoryEntrySerializer(serializers.Serializer):
    seq = serializers.IntegerField()
    ts = serializers.CharField()
    actor = serializers.CharField()
    action = serializers.CharField()
    object_type = serializers.CharField(
        help_text="registry.lab for the laboratory itself, registry.accreditationscope for "
                  "one of its scope lines")
    object_id = serializers.CharField()
    before = serializers.JSONField(allow_null=True)
    after = serializers.JSONField(allow_null=True)
    reason = serializers.CharField(allow_blank=True)
    hash = serializers.CharField()


# --- filters -------------------------------------------------------------------------------

def _division_prefix(value: str) -> str:
    from zhijian.core.divisions import prefix

    value = value.strip()
    return prefix(value) if len(value) == 6 and value.isdigit() else value


class EntityFilter(filters.FilterSet):
    q = filters.CharFilter(method="search", label=gettext_lazy("name or code"))
    division = filters.CharFilter(method="in_division",
                                  label=gettext_lazy("division code or prefix"))
    category = filters.CharFilter(method="in_category",
                                  label=gettext_lazy("product category code (with subcategories)"))
    credit_class = filters.ChoiceFilter(
        choices=RiskClass.choices, method="with_credit_class",
        label=gettext_lazy("credit class (the credit rating's, or the initial one before "
                           "the first rating)"))

    class Meta:
        model = MarketEntity
        fields = ["entity_type", "status", "risk_class", "licence_holder"]

    def with_credit_class(self, qs, name, value):
        return qs.with_credit_class().filter(credit_class=value)

    def search(self, qs, name, value):
        return qs.search(value)

    def in_division(self, qs, name, value):
        return qs.in_division(_division_prefix(value))

    def in_category(self, qs, name, value):
        codes = ProductCategory.objects.expand([value.strip()])
        return qs.filter(pk__in=MarketEntity.categories.through.objects.filter(
            productcategory__code__in=codes).values("marketentity_id"))


class ProductFilter(filters.FilterSet):
    # A plain number, not a choice among all entities: validating a choice would reveal
    # whether an entity outside the caller's jurisdiction exists.
    entity = filters.NumberFilter(field_name="entity_id", label=gettext_lazy("entity id"))
    category = filters.CharFilter(field_name="category__code",
                                  label=gettext_lazy("product category code"))

    class Meta:
        model = Product
        fields = ["entity", "category"]


class DivisionPrefixFilter(filters.FilterSet):
    division = filters.CharFilter(method="in_division",
                                  label=gettext_lazy("division code or prefix"))

    def in_division(self, qs, name, value):
        return qs.filter(division__code__startswith=_division_prefix(value))


class LabFilter(DivisionPrefixFilter):
    class Meta:
        model = Lab
        fields = ["status", "cma_number", "division"]


class UserUnitFilter(DivisionPrefixFilter):
    class Meta:
        model = UserUnit
        fields = ["sector", "division"]


class ResponsibilityFilter(filters.FilterSet):
    category = filters.CharFilter(field_name="category__code",
                                  label=gettext_lazy("product category code"))

    class Meta:
        model = Responsibility
        fields = ["level", "kind", "role", "category"]


# --- viewsets ------------------------------------------------------------------------------

class ServiceViewSet(mixins.ListModelMixin, mixins.RetrieveModelMixin, mixins.CreateModelMixin,
                     mixins.UpdateModelMixin, viewsets.GenericViewSet):
    """List/retrieve through access.py; create/update through a service."""

    http_method_names = ["get", "post", "patch", "head", "options"]
    update_serializer_class = None
    visible = None  # access function
    create_service = None
    update_service = None
    update_id_kw = "id"

    def get_queryset(self):
        return type(self).visible(self.request.user)

    def get_serializer_class(self):
        if self.action in {"partial_update", "update"} and self.update_serializer_class:
            return self.update_serializer_class
        return self.serializer_class

    def perform_create(self, serializer):
        data = dict(serializer.validated_data)
        serializer.instance = service_call(type(self).create_service, actor=self.request.user,
                                           data=data)

    def perform_update(self, serializer):
        data = dict(serializer.validated_data)
        reason = data.pop("reason", "")
        kw = {self.update_id_kw: serializer.instance.pk}
        serializer.instance = service_call(type(self).update_service, actor=self.request.user,
                                           data=data, reason=reason, **kw)


class HistoryMixin:
    """GET <record>/history/: the record's audit trail, oldest first (M3.7)."""

    @extend_schema(responses=HistoryEntrySerializer(many=True))
    @decorators.action(detail=True, methods=["get"], permission_classes=[
        permissions.IsAuthenticated], pagination_class=None, filter_backends=[])
    def history(self, request, pk=None):
        obj = self.get_object()
        if not access.can_see_history(request.user, obj):
            raise exceptions.PermissionDenied(
                _("Only regulators and the organisation itself can see this record's history."))
        rows = record_history(obj)
        return Response(HistoryEntrySerializer(rows, many=True).data)


class EntityViewSet(HistoryMixin, ServiceViewSet):
    """Market entities (M2.1, M3.4). Regulators see their jurisdiction (and sectors); an
    enterprise sees its own record."""

    serializer_class = EntitySerializer
    update_serializer_class = EntityUpdateSerializer
    filterset_class = EntityFilter
    ordering_fields = ["uscc", "name", "registered_on"]
    visible = staticmethod(access.entities_visible_to)
    create_service = staticmethod(services.entity_register)
    update_service = staticmethod(services.entity_update)
    update_id_kw = "entity_id"

    def get_queryset(self):
        return super().get_queryset().with_credit_class().select_related(
            "division").prefetch_related(
            Prefetch("categories", queryset=ProductCategory.objects.only("code")))

    @extend_schema(
        request={"multipart/form-data": inline_serializer(
            "EntityImport", {"file": serializers.FileField()})},
        responses={201: inline_serializer("EntityImportResult", {
            "total": serializers.IntegerField(), "created": serializers.IntegerField()})},
    )
    @decorators.action(detail=False, methods=["post"], url_path="import",
                       parser_classes=[parsers.MultiPartParser], filter_backends=[],
                       pagination_class=None)
    def import_csv(self, request):
        """Import entities from a UTF-8 CSV (columns in docs/api.md); all rows or none.
        A refused file answers 400 with one error per bad cell, `attr` = rows.<row>.<column>
        (row 1 is the header line)."""
        service_call(access.require_regulator, request.user)
        upload = request.FILES.get("file")
        if upload is None:
            raise serializers.ValidationError({"file": [_("Attach a CSV file.")]})
        try:
            text = upload.read().decode("utf-8-sig")
        except UnicodeDecodeError as exc:
            raise serializers.ValidationError(
                {"file": [_("The file is not UTF-8 text. Save it as CSV UTF-8.")]}) from exc
        reader = csv.DictReader(io.StringIO(text))
        missing = services.REQUIRED_COLUMNS - set(reader.fieldnames or [])
        if missing:
            raise serializers.ValidationError(
                {"file": [_("Missing columns: %(cols)s.") % {"cols": ", ".join(sorted(missing))}]})
        report = service_call(services.entities_import, actor=request.user, rows=reader)
        if report.total == 0:
            raise serializers.ValidationError({"file": [_("The file has no data rows.")]})
        if not report.ok:
            rows: dict[str, dict[str, list[str]]] = {}
            for e in report.errors:
                rows.setdefault(str(e.row), {}).setdefault(e.field, []).append(e.message)
            raise serializers.ValidationError({"rows": rows})
        return Response({"total": report.total, "created": report.created}, status=201)


class ProductViewSet(HistoryMixin, ServiceViewSet):
    """Products with the standards they declare (M2.1); visible with their entity."""

    serializer_class = ProductSerializer
    update_serializer_class = ProductUpdateSerializer
    filterset_class = ProductFilter
    ordering_fields = ["name", "created_at"]
    visible = staticmethod(access.products_visible_to)
    create_service = staticmethod(services.product_register)
    update_service = staticmethod(services.product_update)
    update_id_kw = "product_id"

    def get_queryset(self):
        return super().get_queryset().select_related("category").prefetch_related(
            Prefetch("standards", queryset=Standard.objects.only("code")))


class LabViewSet(HistoryMixin, ServiceViewSet):
    """Testing laboratories and their accreditation scopes (M2.4): public to read;
    regulators of the lab's division register and change them; a lab keeps its own
    address and capacity."""

    serializer_class = LabSerializer
    update_serializer_class = LabUpdateSerializer
    filterset_class = LabFilter
    ordering_fields = ["name", "created_at"]
    permission_classes = [permissions.IsAuthenticatedOrReadOnly]
    visible = staticmethod(access.labs_visible_to)
    create_service = staticmethod(services.lab_register)
    update_service = staticmethod(services.lab_update)
    update_id_kw = "lab_id"

    def get_queryset(self):
        return super().get_queryset().select_related("division").prefetch_related(
            Prefetch("scopes", queryset=AccreditationScope.objects.select_related("standard")))

    @extend_schema(request=ScopeSerializer, responses={201: ScopeSerializer})
    @decorators.action(detail=True, methods=["post"], filter_backends=[], pagination_class=None)
    def scopes(self, request, pk=None):
        """Add a line to the lab's accreditation scope (regulator of its division)."""
        lab = self.get_object()
        ser = ScopeSerializer(data=request.data)
        ser.is_valid(raise_exception=True)
        line = service_call(services.lab_scope_add, actor=request.user, lab_id=lab.pk,
                            data=dict(ser.validated_data))
        return Response(ScopeSerializer(line).data, status=201)

    @extend_schema(request=ScopeEndSerializer, responses={200: ScopeSerializer})
    @decorators.action(detail=True, methods=["post"], url_path=r"scopes/(?P<scope_id>\d+)/end",
                       filter_backends=[], pagination_class=None)
    def scope_end(self, request, pk=None, scope_id=None):
        """End a line of the lab's accreditation scope on `valid_to`, with the reason
        (regulator of its division). The line stays, with its end date."""
        lab = self.get_object()
        line = access.get_or_404(access.scopes_visible_to(request.user).filter(lab=lab),
                                 scope_id)
        ser = ScopeEndSerializer(data=request.data)
        ser.is_valid(raise_exception=True)
        line = service_call(services.lab_scope_end, actor=request.user, scope_id=line.pk,
                            valid_to=ser.validated_data["valid_to"],
                            reason=ser.validated_data["reason"])
        return Response(ScopeSerializer(line).data)


class UserUnitViewSet(HistoryMixin, ServiceViewSet):
    """User units (M2.5): regulators of their division and the unit itself."""

    serializer_class = UserUnitSerializer
    update_serializer_class = UserUnitUpdateSerializer
    filterset_class = UserUnitFilter
    ordering_fields = ["name", "created_at"]
    visible = staticmethod(access.user_units_visible_to)
    create_service = staticmethod(services.user_unit_register)
    update_service = staticmethod(services.user_unit_update)
    update_id_kw = "unit_id"

    def get_queryset(self):
        return super().get_queryset().select_related("division").prefetch_related(
            Prefetch("categories", queryset=ProductCategory.objects.only("code")))


class InspectorViewSet(ServiceViewSet):
    """Inspectors of the departments in the caller's jurisdiction (the random-draw pool)."""

    serializer_class = InspectorSerializer
    update_serializer_class = InspectorUpdateSerializer
    filterset_fields = ["department", "active"]
    ordering_fields = ["name", "badge_number"]
    visible = staticmethod(access.inspectors_visible_to)
    create_service = staticmethod(services.inspector_register)
    update_service = staticmethod(services.inspector_update)
    update_id_kw = "inspector_id"


class DepartmentViewSet(ServiceViewSet):
    """The public directory of departments; administrators maintain it."""

    serializer_class = DepartmentSerializer
    update_serializer_class = DepartmentUpdateSerializer
    filterset_fields = ["kind", "level", "division"]
    ordering_fields = ["code", "name"]
    permission_classes = [permissions.IsAuthenticatedOrReadOnly]
    visible = staticmethod(access.departments_visible_to)
    create_service = staticmethod(services.department_register)
    update_service = staticmethod(services.department_update)
    update_id_kw = "department_id"

    def get_queryset(self):
        return super().get_queryset().select_related("division").prefetch_related(
            Prefetch("sectors", queryset=ProductCategory.objects.only("code")))


class ResponsibilityViewSet(mixins.ListModelMixin, mixins.CreateModelMixin,
                            mixins.DestroyModelMixin, viewsets.GenericViewSet):
    """The responsibility matrix (M2.3): public to read, administrators change it."""

    serializer_class = ResponsibilitySerializer
    permission_classes = [permissions.IsAuthenticatedOrReadOnly]
    queryset = Responsibility.objects.select_related("category")
    filterset_class = ResponsibilityFilter
    ordering_fields = ["level", "kind", "role"]

    def perform_create(self, serializer):
        d = serializer.validated_data
        serializer.instance = service_call(
            services.responsibility_set, actor=self.request.user, category=d["category"],
            level=d["level"], kind=d["kind"], role=d["role"], legal_basis=d.get("legal_basis", ""),
            reason=d.get("reason", ""))

    @extend_schema(parameters=[OpenApiParameter("reason", OpenApiTypes.STR, required=True)])
    def destroy(self, request, *args, **kwargs):
        obj = self.get_object()
        service_call(services.responsibility_remove, actor=request.user,
                     responsibility_id=obj.pk, reason=request.query_params.get("reason", ""))
        return Response(status=204)

    @extend_schema(responses=inline_serializer("MatrixReport", {
        "cells": serializers.IntegerField(),
        "blind_spots": serializers.ListField(child=serializers.DictField()),
        "overlaps": serializers.ListField(child=serializers.DictField())}))
    @decorators.action(detail=False, methods=["get"], filter_backends=[], pagination_class=None)
    def report(self, request):
        """Blind spots (no lead) and overlaps (two leads) over category × level."""
        cells, blind, overlap = matrix_report()
        return Response({
            "cells": len(cells),
            "blind_spots": [c.__dict__ for c in blind],
            "overlaps": [c.__dict__ for c in overlap],
        })


def matrix_report():
    duties = list(Responsibility.objects.values_list("category__code", "level", "kind", "role"))
    cats = list(ProductCategory.objects.values_list("code", flat=True))
    return analyse(cats, list(Level.values), duties)


class DivisionViewSet(viewsets.ReadOnlyModelViewSet):
    """GB/T 2260 divisions of the province, current and historical."""

    serializer_class = DivisionSerializer
    permission_classes = [permissions.AllowAny]
    queryset = Division.objects.all()
    filterset_fields = ["level", "parent"]
    ordering_fields = ["code"]
    pagination_class = None


class CategoryViewSet(viewsets.ReadOnlyModelViewSet):
    """The product catalogue. Codes nest by dots ("electrical.cable")."""

    serializer_class = CategorySerializer
    permission_classes = [permissions.AllowAny]
    queryset = ProductCategory.objects.select_related("parent")
    ordering_fields = ["code"]
    lookup_field = "code"
    lookup_value_regex = "[^/]+"  # codes contain dots
    pagination_class = None


class StandardViewSet(viewsets.ReadOnlyModelViewSet):
    """Product and test standards. Numbers contain "/" ("GB/T 3956-2008"); the detail URL
    takes the number as it is: /api/v1/standards/GB/T%203956-2008/."""

    serializer_class = StandardSerializer
    permission_classes = [permissions.AllowAny]
    queryset = Standard.objects.prefetch_related(
        Prefetch("categories", queryset=ProductCategory.objects.only("code")))
    lookup_field = "code"
    lookup_value_regex = ".+"
    ordering_fields = ["code"]


class PublicEntityViewSet(viewsets.ReadOnlyModelViewSet):
    """Public search of market entities by name or USCC: registration facts only.

    Pages are cursor-based and never counted: over a million entities a COUNT would cost
    more than the page itself (docs/api.md, "Public search")."""

    serializer_class = EntityPublicSerializer
    permission_classes = [permissions.AllowAny]
    authentication_classes = []
    throttle_classes = [ScopedRateThrottle]
    throttle_scope = "public"
    lookup_field = "uscc"
    filterset_class = None
    filter_backends = []
    pagination_class = PublicSearchPagination

    def get_queryset(self):
        return MarketEntity.objects.with_division_name().only(
            "uscc", "name", "entity_type", "division", "status", "registered_on",
            "search_key")  # search_key: the cursor position

    @extend_schema(parameters=[OpenApiParameter(
        "q", OpenApiTypes.STR, required=True,
        description="name fragment, code prefix or a whole code (at least 2 characters)")])
    def list(self, request, *args, **kwargs):
        q = request.query_params.get("q", "").strip()[:60]
        if len(q) < 2:
            raise serializers.ValidationError({"q": [_("Enter at least 2 characters.")]})
        qs = self.get_queryset().public_search(q)
        page = self.paginate_queryset(qs)
        return self.get_paginated_response(self.get_serializer(page, many=True).data)
