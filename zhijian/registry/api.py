"""REST API of the registers (/api/v1/). Reads go through access.py; writes through
services.py; errors use the one error format of drf-standardized-errors."""

from __future__ import annotations

import csv
import io

from django.db.models import Prefetch
from django.utils.translation import gettext as _
from django_filters import rest_framework as filters
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, extend_schema, inline_serializer
from rest_framework import decorators, mixins, parsers, permissions, serializers, viewsets
from rest_framework.response import Response
from rest_framework.throttling import ScopedRateThrottle

from zhijian.core import audit
from zhijian.core.api import service_call
from zhijian.core.models import Division

from . import access, services
from .choices import Level
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


# --- serializers ---------------------------------------------------------------------------

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
    division = codes_field(DIVISIONS)
    sectors = codes_field(CATEGORIES, many=True, required=False)

    class Meta:
        model = Department
        fields = ["id", "code", "name", "name_en", "kind", "level", "division", "all_sectors",
                  "sectors", "phone"]


class ResponsibilitySerializer(serializers.ModelSerializer):
    category = codes_field(CATEGORIES)

    class Meta:
        model = Responsibility
        fields = ["id", "category", "level", "kind", "role", "legal_basis"]
        validators = []  # the service upserts (category, level, kind)


class EntitySerializer(serializers.ModelSerializer):
    division = codes_field(DIVISIONS)
    categories = codes_field(CATEGORIES, many=True, required=False)

    class Meta:
        model = MarketEntity
        fields = ["id", "uscc", "name", "entity_type", "division", "address",
                  "legal_representative", "chief_quality_officer", "contact_phone",
                  "registered_on", "status", "categories", "risk_class", "licence_holder",
                  "created_at", "updated_at"]
        read_only_fields = ["created_at", "updated_at"]


class EntityUpdateSerializer(EntitySerializer):
    reason = serializers.CharField(required=False, allow_blank=True, max_length=500,
                                   write_only=True)

    class Meta(EntitySerializer.Meta):
        fields = [*EntitySerializer.Meta.fields, "reason"]
        read_only_fields = ["uscc", "created_at", "updated_at"]


class EntityPublicSerializer(serializers.ModelSerializer):
    """What anyone may see of an entity: its business registration."""

    division = serializers.SlugRelatedField(slug_field="code", read_only=True)
    division_name = serializers.CharField(source="division.name", read_only=True)

    class Meta:
        model = MarketEntity
        fields = ["uscc", "name", "entity_type", "division", "division_name", "status",
                  "registered_on"]


class ProductSerializer(serializers.ModelSerializer):
    entity = serializers.PrimaryKeyRelatedField(queryset=MarketEntity.objects.all())
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


class LabSerializer(serializers.ModelSerializer):
    division = codes_field(DIVISIONS)
    scopes = ScopeSerializer(many=True, read_only=True)

    class Meta:
        model = Lab
        fields = ["id", "name", "uscc", "division", "address", "cma_number", "cnas_number",
                  "status", "monthly_capacity", "scopes", "created_at"]
        read_only_fields = ["created_at"]


class UserUnitSerializer(serializers.ModelSerializer):
    division = codes_field(DIVISIONS)
    categories = codes_field(CATEGORIES, many=True, required=False)

    class Meta:
        model = UserUnit
        fields = ["id", "name", "uscc", "division", "sector", "categories", "contact_phone",
                  "created_at"]
        read_only_fields = ["created_at"]


class InspectorSerializer(serializers.ModelSerializer):
    department = serializers.PrimaryKeyRelatedField(queryset=Department.objects.all())
    qualifications = serializers.ListField(child=serializers.CharField(max_length=60),
                                           required=False)

    class Meta:
        model = Inspector
        fields = ["id", "name", "badge_number", "department", "qualifications", "active"]


class HistoryEntrySerializer(serializers.Serializer):
    seq = serializers.IntegerField()
    ts = serializers.CharField()
    actor = serializers.CharField()
    action = serializers.CharField()
    before = serializers.JSONField(allow_null=True)
    after = serializers.JSONField(allow_null=True)
    reason = serializers.CharField(allow_blank=True)
    hash = serializers.CharField()


# --- filters -------------------------------------------------------------------------------

class EntityFilter(filters.FilterSet):
    q = filters.CharFilter(method="search", label=_("name or code"))
    division = filters.CharFilter(method="in_division", label=_("division code or prefix"))
    category = filters.CharFilter(field_name="categories__code")

    class Meta:
        model = MarketEntity
        fields = ["entity_type", "status", "risk_class", "licence_holder"]

    def search(self, qs, name, value):
        return qs.search(value)

    def in_division(self, qs, name, value):
        from zhijian.core.divisions import prefix

        return qs.in_division(prefix(value) if len(value) == 6 else value)


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

    def _history(self, request, pk=None):
        obj = self.get_object()
        rows = audit.history(obj._meta.label_lower, obj.pk)
        return Response(HistoryEntrySerializer(rows, many=True).data)


class EntityViewSet(ServiceViewSet):
    """Market entities (M2.1, M3.4). Regulators see their jurisdiction; an enterprise
    sees its own record."""

    serializer_class = EntitySerializer
    update_serializer_class = EntityUpdateSerializer
    filterset_class = EntityFilter
    ordering_fields = ["uscc", "name", "registered_on"]
    visible = staticmethod(access.entities_visible_to)
    create_service = staticmethod(services.entity_register)
    update_service = staticmethod(services.entity_update)
    update_id_kw = "entity_id"

    def get_queryset(self):
        return super().get_queryset().select_related("division").prefetch_related(
            Prefetch("categories", queryset=ProductCategory.objects.only("code")))

    @extend_schema(responses=HistoryEntrySerializer(many=True))
    @decorators.action(detail=True, methods=["get"])
    def history(self, request, pk=None):
        return self._history(request, pk)

    @extend_schema(
        request={"multipart/form-data": inline_serializer(
            "EntityImport", {"file": serializers.FileField()})},
        responses=inline_serializer("EntityImportResult", {
            "total": serializers.IntegerField(), "created": serializers.IntegerField(),
            "errors": serializers.ListField(child=serializers.DictField())}),
    )
    @decorators.action(detail=False, methods=["post"], url_path="import",
                       parser_classes=[parsers.MultiPartParser])
    def import_csv(self, request):
        """Import entities from a UTF-8 CSV (columns in docs/api.md); all rows or none."""
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
        body = {"total": report.total, "created": report.created,
                "errors": [e.__dict__ for e in report.errors]}
        return Response(body, status=201 if report.ok else 400)


class ProductViewSet(ServiceViewSet):
    serializer_class = ProductSerializer
    filterset_fields = ["entity", "category__code"]
    visible = staticmethod(access.products_visible_to)
    create_service = staticmethod(services.product_register)
    update_service = staticmethod(services.product_update)
    update_id_kw = "product_id"

    def get_queryset(self):
        return super().get_queryset().select_related("category").prefetch_related("standards")

    @decorators.action(detail=True, methods=["get"])
    def history(self, request, pk=None):
        return self._history(request, pk)


class LabViewSet(ServiceViewSet):
    serializer_class = LabSerializer
    filterset_fields = ["status", "cma_number"]
    visible = staticmethod(access.labs_visible_to)
    create_service = staticmethod(services.lab_register)
    update_service = staticmethod(services.lab_update)
    update_id_kw = "lab_id"

    def get_queryset(self):
        return super().get_queryset().select_related("division").prefetch_related(
            Prefetch("scopes", queryset=AccreditationScope.objects.select_related("standard")))

    @extend_schema(request=ScopeSerializer, responses={201: ScopeSerializer})
    @decorators.action(detail=True, methods=["post"])
    def scopes(self, request, pk=None):
        lab = self.get_object()
        ser = ScopeSerializer(data=request.data)
        ser.is_valid(raise_exception=True)
        line = service_call(services.lab_scope_add, actor=request.user, lab_id=lab.pk,
                            data=dict(ser.validated_data))
        return Response(ScopeSerializer(line).data, status=201)

    @decorators.action(detail=True, methods=["get"])
    def history(self, request, pk=None):
        return self._history(request, pk)


class UserUnitViewSet(ServiceViewSet):
    serializer_class = UserUnitSerializer
    filterset_fields = ["sector"]
    visible = staticmethod(access.user_units_visible_to)
    create_service = staticmethod(services.user_unit_register)
    update_service = staticmethod(services.user_unit_update)
    update_id_kw = "unit_id"

    def get_queryset(self):
        return super().get_queryset().select_related("division").prefetch_related("categories")

    @decorators.action(detail=True, methods=["get"])
    def history(self, request, pk=None):
        return self._history(request, pk)


class InspectorViewSet(ServiceViewSet):
    serializer_class = InspectorSerializer
    filterset_fields = ["department", "active"]
    visible = staticmethod(access.inspectors_visible_to)
    create_service = staticmethod(services.inspector_register)
    update_service = staticmethod(services.inspector_update)
    update_id_kw = "inspector_id"


class DepartmentViewSet(ServiceViewSet):
    """The public directory of departments; administrators maintain it."""

    serializer_class = DepartmentSerializer
    filterset_fields = ["kind", "level", "division"]
    permission_classes = [permissions.IsAuthenticatedOrReadOnly]
    visible = staticmethod(access.departments_visible_to)
    create_service = staticmethod(services.department_register)
    update_service = staticmethod(services.department_update)
    update_id_kw = "department_id"

    def get_queryset(self):
        return super().get_queryset().select_related("division").prefetch_related("sectors")


class ResponsibilityViewSet(mixins.ListModelMixin, mixins.CreateModelMixin,
                            mixins.DestroyModelMixin, viewsets.GenericViewSet):
    """The responsibility matrix (M2.3): public to read, administrators change it."""

    serializer_class = ResponsibilitySerializer
    permission_classes = [permissions.IsAuthenticatedOrReadOnly]
    queryset = Responsibility.objects.select_related("category")
    filterset_fields = ["level", "kind", "role", "category__code"]

    def perform_create(self, serializer):
        d = serializer.validated_data
        serializer.instance = service_call(
            services.responsibility_set, actor=self.request.user, category=d["category"],
            level=d["level"], kind=d["kind"], role=d["role"], legal_basis=d.get("legal_basis", ""))

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
    @decorators.action(detail=False, methods=["get"])
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
    pagination_class = None


class CategoryViewSet(viewsets.ReadOnlyModelViewSet):
    serializer_class = CategorySerializer
    permission_classes = [permissions.AllowAny]
    queryset = ProductCategory.objects.select_related("parent")
    lookup_field = "code"
    pagination_class = None


class StandardViewSet(viewsets.ReadOnlyModelViewSet):
    serializer_class = StandardSerializer
    permission_classes = [permissions.AllowAny]
    queryset = Standard.objects.prefetch_related("categories")
    lookup_field = "code"
    lookup_value_regex = "[^/]+"


class PublicEntityViewSet(viewsets.ReadOnlyModelViewSet):
    """Public search of market entities by name or USCC: registration facts only."""

    serializer_class = EntityPublicSerializer
    permission_classes = [permissions.AllowAny]
    authentication_classes = []
    throttle_classes = [ScopedRateThrottle]
    throttle_scope = "public"
    lookup_field = "uscc"
    filterset_class = None
    filter_backends = []

    def get_queryset(self):
        return MarketEntity.objects.select_related("division").only(
            "uscc", "name", "entity_type", "division__code", "division__name", "status",
            "registered_on").order_by("uscc")

    @extend_schema(parameters=[OpenApiParameter("q", OpenApiTypes.STR,
                                                description="name fragment or code prefix")])
    def list(self, request, *args, **kwargs):
        q = request.query_params.get("q", "").strip()[:60]
        if len(q) < 2:
            raise serializers.ValidationError({"q": [_("Enter at least 2 characters.")]})
        qs = self.get_queryset().search(q)
        page = self.paginate_queryset(qs)
        return self.get_paginated_response(self.get_serializer(page, many=True).data)
