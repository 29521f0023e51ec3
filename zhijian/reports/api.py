"""REST API of signed test reports under /api/v1/: reports (draft, prepare and sign, or
issue with a platform-held key, revoke, PDF), the labs' signing keys, their instruments
and calibrations, and hazard reports to the regulator (M2.4, M4.2).

Reads go through access.py, writes through services.py and hazards.py, errors use the
API's one error format (zhijian.core.api.service_call): a service's ValidationError is 400
naming the field, Denied is 403, a record the caller may not see is 404 like one that
does not exist. The endpoints have their own router (`router`), mounted by
config/api_urls.py. docs/reports.md and docs/api.md describe them.
"""

from __future__ import annotations

from django.db.models import Prefetch, Q
from django.http import FileResponse
from django.urls import reverse
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django_filters import rest_framework as filters
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiResponse, extend_schema, extend_schema_field
from rest_framework import decorators, exceptions, mixins, serializers, viewsets
from rest_framework.response import Response
from rest_framework.routers import SimpleRouter

from zhijian.core.api import service_call
from zhijian.inspections.api import choice_field
from zhijian.registry.models import Lab, MarketEntity, Product, ProductCategory, Standard
from zhijian.sampling.models import Sample

from . import access, hazards, services
from .choices import (
    Conclusion,
    HazardStatus,
    KeyCustody,
    ReportKind,
    ReportStatus,
    RevocationGround,
    Verdict,
)
from .models import Calibration, HazardReport, Instrument, LabKey, Report, ReportItem

# --- shared pieces ------------------------------------------------------------------------------


class ReportPartySerializer(serializers.Serializer):
    id = serializers.IntegerField()
    uscc = serializers.CharField()
    name = serializers.CharField()
    division = serializers.CharField(source="division_id")


class CalibrationSerializer(serializers.ModelSerializer):
    class Meta:
        model = Calibration
        fields = ["id", "certificate_number", "calibrated_by", "calibrated_on", "valid_until"]
        read_only_fields = fields


class InstrumentSerializer(serializers.ModelSerializer):
    """A measuring instrument of a lab with its calibration certificates, newest first."""

    lab_name = serializers.CharField(source="lab.name", read_only=True)
    calibrations = CalibrationSerializer(many=True, read_only=True)

    class Meta:
        model = Instrument
        fields = ["id", "lab", "lab_name", "name", "model", "serial_number", "calibrations"]
        read_only_fields = fields


def _instrument_prefetch(path: str = "") -> list:
    return [Prefetch(f"{path}calibrations",
                     queryset=Calibration.objects.order_by("-calibrated_on", "-id"))]


# --- reports -------------------------------------------------------------------------------------

class ReportItemSerializer(serializers.ModelSerializer):
    verdict = choice_field(Verdict, "VerdictEnum", read_only=True)

    class Meta:
        model = ReportItem
        fields = ["position", "parameter", "requirement", "measured", "unit", "verdict"]
        read_only_fields = fields


class ReportInstrumentSerializer(serializers.ModelSerializer):
    calibrations = CalibrationSerializer(many=True, read_only=True)

    class Meta:
        model = Instrument
        fields = ["id", "name", "model", "serial_number", "calibrations"]
        read_only_fields = fields


class RevocationSerializer(serializers.Serializer):
    reason = serializers.CharField()
    ground = choice_field(RevocationGround, "RevocationGroundEnum", help_text=gettext_lazy(
        "error: an error, or withdrawn at the lab's request; false: a regulator found the "
        "report false or forged"))
    revoked_at = serializers.DateTimeField()
    statement = serializers.CharField(help_text=gettext_lazy(
        "the canonical JSON statement signed with the platform's audit key"))
    key_id = serializers.CharField()
    signature = serializers.CharField()


class ReportSerializer(serializers.ModelSerializer):
    """A test report as its readers see it, with the result of verifying it once issued."""

    lab_name = serializers.CharField(source="lab.name", read_only=True)
    kind = choice_field(ReportKind, "ReportKindEnum", read_only=True)
    status = choice_field(ReportStatus, "ReportStatusEnum", read_only=True)
    conclusion = choice_field(Conclusion, "ConclusionEnum", read_only=True)
    sample_code = serializers.CharField(source="sample.code", read_only=True, default=None)
    producer = ReportPartySerializer(read_only=True)
    client = ReportPartySerializer(read_only=True, allow_null=True)
    category = serializers.SlugRelatedField(slug_field="code", read_only=True)
    standard = serializers.SlugRelatedField(slug_field="code", read_only=True)
    standard_title = serializers.CharField(source="standard.title", read_only=True)
    supersedes = serializers.SlugRelatedField(slug_field="number", read_only=True)
    superseded_by = serializers.SerializerMethodField()
    items = ReportItemSerializer(many=True, read_only=True)
    instruments = ReportInstrumentSerializer(many=True, read_only=True)
    key_id = serializers.CharField(source="key.key_id", read_only=True, default=None)
    custody = serializers.SerializerMethodField()
    pdf_url = serializers.SerializerMethodField()
    revocation = serializers.SerializerMethodField()
    verification = serializers.SerializerMethodField()

    class Meta:
        model = Report
        fields = ["id", "number", "lab", "lab_name", "kind", "status", "sample", "sample_code",
                  "producer", "client", "product", "product_name", "model", "category", "batch",
                  "quantity_covered", "unit", "standard", "standard_title", "received_on",
                  "tested_from", "tested_to", "issued_on", "conclusion", "remarks",
                  "authorised_by", "supersedes", "superseded_by", "items", "instruments",
                  "key_id", "custody", "signature", "signed_at", "pdf_sha256", "pdf_url",
                  "revocation", "verification"]
        read_only_fields = fields

    def get_superseded_by(self, report) -> str | None:
        newer = getattr(report, "superseded_by", None)
        return newer.number if newer is not None else None

    @extend_schema_field({"type": "string", "enum": [*KeyCustody.values, ""]})
    def get_custody(self, report) -> str:
        return report.key.custody if report.key_id else ""

    @extend_schema_field(OpenApiTypes.URI)
    def get_pdf_url(self, report) -> str | None:
        if not report.pdf:
            return None
        path = reverse("report-pdf", kwargs={"pk": report.pk})
        request = self.context.get("request")
        return request.build_absolute_uri(path) if request is not None else path

    @extend_schema_field(RevocationSerializer(allow_null=True))
    def get_revocation(self, report):
        revocation = getattr(report, "revocation", None)
        return RevocationSerializer(revocation).data if revocation is not None else None

    @extend_schema_field(OpenApiTypes.OBJECT)
    def get_verification(self, report) -> dict | None:
        """What anyone verifying the report number is told (null for a draft): found,
        genuine, valid, custody, custody_note and each check with its message."""
        if report.status == ReportStatus.DRAFT:
            return None
        known = self.context.get("verifications") or {}
        v = known.get(report.number) or services.report_verify(report.number)
        return v.as_dict()


class ReportItemInputSerializer(serializers.Serializer):
    parameter = serializers.CharField(max_length=80)
    requirement = serializers.CharField(max_length=200)
    measured = serializers.CharField(max_length=80)
    unit = serializers.CharField(max_length=20, required=False, allow_blank=True, default="")
    verdict = choice_field(Verdict, "VerdictEnum")


class ReportDraftSerializer(serializers.Serializer):
    """A new report, recorded as a draft by a user of the lab (an administrator names the
    lab). With a sample, the producer, batch, category and product name come from it."""

    lab = serializers.PrimaryKeyRelatedField(
        queryset=Lab.objects.all(), required=False,
        help_text=gettext_lazy("administrators only: the laboratory the report is for"))
    number = serializers.CharField(max_length=40)
    kind = choice_field(ReportKind, "ReportKindEnum", required=False)
    sample = serializers.PrimaryKeyRelatedField(queryset=Sample.objects.all(), required=False,
                                                allow_null=True)
    producer = serializers.SlugRelatedField(
        slug_field="uscc", queryset=MarketEntity.objects.all(), required=False,
        allow_null=True, help_text=gettext_lazy("the producer's USCC"))
    client = serializers.SlugRelatedField(
        slug_field="uscc", queryset=MarketEntity.objects.all(), required=False,
        allow_null=True, help_text=gettext_lazy("the client's USCC, for a commissioned test"))
    product = serializers.PrimaryKeyRelatedField(queryset=Product.objects.all(),
                                                 required=False, allow_null=True)
    product_name = serializers.CharField(max_length=120, required=False, allow_blank=True)
    model = serializers.CharField(max_length=120, required=False, allow_blank=True)
    category = serializers.SlugRelatedField(
        slug_field="code", queryset=ProductCategory.objects.all(), required=False,
        allow_null=True, help_text=gettext_lazy("product category code"))
    batch = serializers.CharField(max_length=60, required=False, allow_blank=True)
    quantity_covered = serializers.DecimalField(max_digits=14, decimal_places=3)
    unit = serializers.CharField(max_length=10)
    standard = serializers.SlugRelatedField(
        slug_field="code", queryset=Standard.objects.all(),
        help_text=gettext_lazy("the standard's number, e.g. GB/T 3956-2008"))
    received_on = serializers.DateField()
    tested_from = serializers.DateField()
    tested_to = serializers.DateField()
    conclusion = choice_field(Conclusion, "ConclusionEnum")
    remarks = serializers.CharField(required=False, allow_blank=True, max_length=5000)
    authorised_by = serializers.CharField(max_length=50)
    supersedes = serializers.SlugRelatedField(
        slug_field="number", queryset=Report.objects.all(), required=False, allow_null=True,
        help_text=gettext_lazy("the number of the lab's issued report this one replaces"))
    items = ReportItemInputSerializer(many=True)
    instruments = serializers.ListField(child=serializers.IntegerField(), help_text=gettext_lazy(
        "ids of the lab's instruments used, each within calibration for the whole test"))

    def validate(self, attrs):
        if attrs.get("sample") is None:
            errors = {}
            if attrs.get("category") is None:
                errors["category"] = [_("Choose the product category (or name the sample).")]
            if not (attrs.get("product_name") or "").strip():
                errors["product_name"] = [_("Give the product name (or name the sample).")]
            if errors:
                raise serializers.ValidationError(errors)
        return attrs


class PrepareSerializer(serializers.Serializer):
    key_id = serializers.CharField(max_length=16, required=False, allow_blank=True, default="",
                                   help_text=gettext_lazy(
                                       "the lab's current key to sign with; empty: the newest"))


class PayloadSerializer(serializers.Serializer):
    payload = serializers.CharField(help_text=gettext_lazy(
        "the exact UTF-8 text to sign with Ed25519 (RFC 8785 canonical JSON)"))
    key_id = serializers.CharField()
    pdf_sha256 = serializers.CharField()


class SignSerializer(serializers.Serializer):
    signature = serializers.CharField(max_length=200, help_text=gettext_lazy(
        "the Ed25519 signature over the payload, 128 hexadecimal digits"))


class RevokeSerializer(serializers.Serializer):
    reason = serializers.CharField(max_length=2000, help_text=gettext_lazy(
        "why the report is revoked; the revocation and its reason are public"))
    ground = choice_field(RevocationGround, "RevocationGroundEnum", required=False,
                          default=RevocationGround.ERROR, help_text=gettext_lazy(
                              "error (default): an error, or withdrawn at the lab's request; "
                              "false: found false or forged (regulators only)"))


class ReportFilter(filters.FilterSet):
    q = filters.CharFilter(method="search", label=gettext_lazy(
        "report number, producer name or USCC, or batch number"))
    producer = filters.CharFilter(field_name="producer__uscc",
                                  label=gettext_lazy("the producer's USCC"))
    batch = filters.CharFilter(field_name="batch", label=gettext_lazy("batch number"))
    issued_from = filters.DateFilter(field_name="issued_on", lookup_expr="gte",
                                     label=gettext_lazy("issued on or after"))
    issued_to = filters.DateFilter(field_name="issued_on", lookup_expr="lte",
                                   label=gettext_lazy("issued on or before"))

    class Meta:
        model = Report
        fields = ["q", "status", "kind", "conclusion", "lab", "producer", "batch",
                  "issued_from", "issued_to"]

    def search(self, qs, name, value):
        value = value.strip()[:60]
        if not value:
            return qs
        return qs.filter(Q(number__icontains=value) | Q(batch__icontains=value)
                         | Q(producer__name__contains=value)
                         | Q(producer__uscc__startswith=value.upper()))


class ReportViewSet(mixins.ListModelMixin, mixins.RetrieveModelMixin, mixins.CreateModelMixin,
                    viewsets.GenericViewSet):
    """Test reports: a lab sees its own (drafts too); regulators the issued reports of
    producers or labs in their jurisdiction and every issued supervisory report; an
    enterprise the issued reports naming it as producer or client; a user unit those
    attached to its deliveries. A lab user drafts, prepares and signs (or issues with a
    platform-held key); the lab or a responsible regulator revokes."""

    http_method_names = ["get", "post", "head", "options"]
    serializer_class = ReportSerializer
    filterset_class = ReportFilter
    ordering_fields = ["issued_on", "number", "created_at"]

    def get_queryset(self):
        return access.reports_visible_to(self.request.user).select_related(
            "lab", "sample", "producer", "client", "category", "standard", "supersedes",
            "superseded_by", "key", "revocation").prefetch_related(
            Prefetch("items", queryset=ReportItem.objects.order_by("position")),
            Prefetch("instruments", queryset=Instrument.objects.order_by("serial_number")
                     .prefetch_related(*_instrument_prefetch())))

    def _read(self, report_id: int, status: int = 200) -> Response:
        fresh = self.get_queryset().get(pk=report_id)
        return Response(ReportSerializer(fresh, context=self.get_serializer_context()).data,
                        status=status)

    def list(self, request, *args, **kwargs):
        qs = self.filter_queryset(self.get_queryset())
        page = self.paginate_queryset(qs)
        rows = list(page if page is not None else qs)
        # One verification for the whole page, in a few queries (services.reports_verify).
        context = self.get_serializer_context() | {"verifications": services.reports_verify(
            [r.number for r in rows if r.status != ReportStatus.DRAFT])}
        data = ReportSerializer(rows, many=True, context=context).data
        return self.get_paginated_response(data) if page is not None else Response(data)

    @extend_schema(request=ReportDraftSerializer, responses={201: ReportSerializer})
    def create(self, request, *args, **kwargs):
        """Record a report as a draft (a user of the lab). Refused, naming the field: a
        standard or parameter outside the lab's accredited scope, an instrument of another
        lab or out of calibration, dates out of order, a conclusion the items contradict,
        a sample of another lab or with a broken chain of custody."""
        ser = ReportDraftSerializer(data=request.data)
        ser.is_valid(raise_exception=True)
        data = dict(ser.validated_data)
        items = data.pop("items")
        instrument_ids = data.pop("instruments")
        report = service_call(services.report_draft, actor=request.user, data=data,
                              items=items, instrument_ids=instrument_ids)
        return self._read(report.pk, 201)

    @extend_schema(request=PrepareSerializer, responses={200: PayloadSerializer})
    @decorators.action(detail=True, methods=["post"], filter_backends=[], pagination_class=None)
    def prepare(self, request, pk=None):
        """Fix the issue date and the signing key, render the PDF and answer the payload
        to sign with the lab's own key (then `sign`). May be repeated while a draft."""
        report = self.get_object()
        ser = PrepareSerializer(data=request.data)
        ser.is_valid(raise_exception=True)
        payload = service_call(services.report_prepare, actor=request.user,
                               report_id=report.pk, key_id=ser.validated_data["key_id"] or None)
        report.refresh_from_db()
        return Response({"payload": payload, "key_id": report.key.key_id,
                         "pdf_sha256": report.pdf_sha256})

    @extend_schema(request=SignSerializer, responses={200: ReportSerializer})
    @decorators.action(detail=True, methods=["post"], filter_backends=[], pagination_class=None)
    def sign(self, request, pk=None):
        """Send the Ed25519 signature over the prepared payload; the report is issued if it
        verifies with the key named in the payload."""
        report = self.get_object()
        ser = SignSerializer(data=request.data)
        ser.is_valid(raise_exception=True)
        service_call(services.report_sign, actor=request.user, report_id=report.pk,
                     signature_hex=ser.validated_data["signature"])
        return self._read(report.pk)

    @extend_schema(request=None, responses={200: ReportSerializer})
    @decorators.action(detail=True, methods=["post"], filter_backends=[], pagination_class=None)
    def issue(self, request, pk=None):
        """Render, sign with the key the platform holds for the lab and issue, in one
        step; the report and every verification say who holds the key."""
        report = self.get_object()
        service_call(services.report_issue, actor=request.user, report_id=report.pk)
        return self._read(report.pk)

    @extend_schema(request=RevokeSerializer, responses={200: ReportSerializer})
    @decorators.action(detail=True, methods=["post"], filter_backends=[], pagination_class=None)
    def revoke(self, request, pk=None):
        """Revoke an issued report with a public reason and its ground (the issuing lab,
        regulators whose jurisdiction covers the lab, administrators); only a regulator
        may give the ground "false" (found false or forged)."""
        report = self.get_object()
        ser = RevokeSerializer(data=request.data)
        ser.is_valid(raise_exception=True)
        service_call(services.report_revoke, actor=request.user, report_id=report.pk,
                     reason=ser.validated_data["reason"], ground=ser.validated_data["ground"])
        return self._read(report.pk)

    @extend_schema(responses={200: OpenApiResponse(OpenApiTypes.BINARY,
                                                   description="the report's PDF")})
    @decorators.action(detail=True, methods=["get"], filter_backends=[], pagination_class=None)
    def pdf(self, request, pk=None):
        """The report's PDF, as signed (its SHA-256 is in the signed payload)."""
        report = access.get_or_404(access.reports_visible_to(request.user), pk)
        if not report.pdf:
            raise exceptions.NotFound(_("The report has no PDF yet: it is made when the "
                                        "report is prepared for signing or issued."))
        response = FileResponse(report.pdf.open("rb"), content_type="application/pdf")
        name = report.number.replace("/", "_")
        response["Content-Disposition"] = f'inline; filename="{name}.pdf"'
        return response


# --- signing keys ------------------------------------------------------------------------------

class LabKeySerializer(serializers.ModelSerializer):
    lab_name = serializers.CharField(source="lab.name", read_only=True)
    custody = choice_field(KeyCustody, "KeyCustodyEnum", read_only=True)
    registered_by = serializers.CharField(source="registered_by.username", read_only=True)

    class Meta:
        model = LabKey
        fields = ["key_id", "lab", "lab_name", "alg", "public_key", "custody", "registered_at",
                  "registered_by", "retired_at"]
        read_only_fields = fields


class LabChoiceSerializer(serializers.Serializer):
    lab = serializers.PrimaryKeyRelatedField(
        queryset=Lab.objects.all(), required=False,
        help_text=gettext_lazy("administrators only: the laboratory"))


class KeyRegisterSerializer(LabChoiceSerializer):
    public_key = serializers.CharField(max_length=200, help_text=gettext_lazy(
        "the raw Ed25519 public key, 64 hexadecimal digits"))


class KeyRetireSerializer(serializers.Serializer):
    reason = serializers.CharField(max_length=500, required=False, allow_blank=True, default="")


class LabKeyViewSet(mixins.ListModelMixin, mixins.RetrieveModelMixin, mixins.CreateModelMixin,
                    viewsets.GenericViewSet):
    """The public keys labs sign reports with: a lab sees and manages its own, regulators
    see those of labs in their jurisdiction. Registering a key the lab holds is the rule;
    a key the platform holds on the lab's behalf (`generate`) says so on every report."""

    http_method_names = ["get", "post", "head", "options"]
    serializer_class = LabKeySerializer
    lookup_field = "key_id"
    filterset_fields = ["lab", "custody"]
    ordering_fields = ["registered_at"]

    def get_queryset(self):
        return access.keys_visible_to(self.request.user).select_related("lab", "registered_by")

    def _read(self, key_id: str, status: int = 200) -> Response:
        fresh = self.get_queryset().get(key_id=key_id)
        return Response(LabKeySerializer(fresh).data, status=status)

    @extend_schema(request=KeyRegisterSerializer, responses={201: LabKeySerializer})
    def create(self, request, *args, **kwargs):
        """Register the public half of a key the lab holds itself."""
        ser = KeyRegisterSerializer(data=request.data)
        ser.is_valid(raise_exception=True)
        lab = ser.validated_data.get("lab")
        key = service_call(services.key_register, actor=request.user,
                           lab_id=lab.pk if lab else None,
                           public_key_hex=ser.validated_data["public_key"])
        return self._read(key.key_id, 201)

    @extend_schema(request=LabChoiceSerializer, responses={201: LabKeySerializer})
    @decorators.action(detail=False, methods=["post"], filter_backends=[],
                       pagination_class=None)
    def generate(self, request):
        """Create a key the platform holds on the lab's behalf (custody "platform"): the
        platform, not the lab, then holds the private key, and every report signed with
        it and every verification of such a report says so."""
        ser = LabChoiceSerializer(data=request.data)
        ser.is_valid(raise_exception=True)
        lab = ser.validated_data.get("lab")
        key = service_call(services.key_generate_custodial, actor=request.user,
                           lab_id=lab.pk if lab else None)
        return self._read(key.key_id, 201)

    @extend_schema(request=KeyRetireSerializer, responses={200: LabKeySerializer})
    @decorators.action(detail=True, methods=["post"], filter_backends=[], pagination_class=None)
    def retire(self, request, key_id=None):
        """Retire a key: no new report may be signed with it; older reports still verify."""
        key = self.get_object()
        ser = KeyRetireSerializer(data=request.data)
        ser.is_valid(raise_exception=True)
        service_call(services.key_retire, actor=request.user, key_id=key.key_id,
                     reason=ser.validated_data["reason"])
        return self._read(key.key_id)


# --- instruments and calibrations ------------------------------------------------------------

class InstrumentWriteSerializer(LabChoiceSerializer):
    name = serializers.CharField(max_length=120)
    model = serializers.CharField(max_length=80, required=False, allow_blank=True, default="")
    serial_number = serializers.CharField(max_length=60)


class CalibrationWriteSerializer(serializers.Serializer):
    certificate_number = serializers.CharField(max_length=60)
    calibrated_by = serializers.CharField(max_length=120, help_text=gettext_lazy(
        "the metrology institute"))
    calibrated_on = serializers.DateField()
    valid_until = serializers.DateField()


class InstrumentViewSet(mixins.ListModelMixin, mixins.RetrieveModelMixin,
                        mixins.CreateModelMixin, viewsets.GenericViewSet):
    """Measuring instruments of labs and their calibration certificates (M4.2): a lab sees
    and adds its own, regulators see those of labs in their jurisdiction. A report may use
    only instruments within calibration for the whole test."""

    http_method_names = ["get", "post", "head", "options"]
    serializer_class = InstrumentSerializer
    filterset_fields = ["lab", "serial_number"]
    ordering_fields = ["name", "serial_number"]

    def get_queryset(self):
        return access.instruments_visible_to(self.request.user).select_related(
            "lab").prefetch_related(*_instrument_prefetch())

    def _read(self, pk: int, status: int = 200) -> Response:
        return Response(InstrumentSerializer(self.get_queryset().get(pk=pk)).data,
                        status=status)

    @extend_schema(request=InstrumentWriteSerializer, responses={201: InstrumentSerializer})
    def create(self, request, *args, **kwargs):
        """Add an instrument (a user of the lab)."""
        ser = InstrumentWriteSerializer(data=request.data)
        ser.is_valid(raise_exception=True)
        data = dict(ser.validated_data)
        lab = data.pop("lab", None)
        instrument = service_call(services.instrument_add, actor=request.user,
                                  lab_id=lab.pk if lab else None, data=data)
        return self._read(instrument.pk, 201)

    @extend_schema(request=CalibrationWriteSerializer, responses={201: CalibrationSerializer})
    @decorators.action(detail=True, methods=["post"], filter_backends=[], pagination_class=None)
    def calibrations(self, request, pk=None):
        """Record a calibration or verification certificate of the instrument."""
        instrument = self.get_object()
        ser = CalibrationWriteSerializer(data=request.data)
        ser.is_valid(raise_exception=True)
        cal = service_call(services.calibration_add, actor=request.user,
                           instrument_id=instrument.pk, data=dict(ser.validated_data))
        return Response(CalibrationSerializer(cal).data, status=201)


# --- hazard reports ---------------------------------------------------------------------------

class HazardSerializer(serializers.ModelSerializer):
    """A serious hazard a lab reported to the responsible department (M2.4)."""

    lab_name = serializers.CharField(source="lab.name", read_only=True)
    report_number = serializers.CharField(source="report.number", read_only=True, default=None)
    entity = ReportPartySerializer(read_only=True)
    category = serializers.SlugRelatedField(slug_field="code", read_only=True)
    department_name = serializers.CharField(source="department.name", read_only=True)
    status = choice_field(HazardStatus, "HazardStatusEnum", read_only=True)

    class Meta:
        model = HazardReport
        fields = ["id", "lab", "lab_name", "report", "report_number", "entity", "category",
                  "department", "department_name", "description", "status", "reported_at",
                  "acknowledged_at"]
        read_only_fields = fields


class HazardWriteSerializer(serializers.Serializer):
    report = serializers.IntegerField(required=False, allow_null=True, help_text=gettext_lazy(
        "one of your lab's reports: the producer and category are taken from it"))
    entity = serializers.SlugRelatedField(
        slug_field="uscc", queryset=MarketEntity.objects.all(), required=False,
        allow_null=True, help_text=gettext_lazy("without a report: the market entity's USCC"))
    category = serializers.SlugRelatedField(
        slug_field="code", queryset=ProductCategory.objects.all(), required=False,
        allow_null=True, help_text=gettext_lazy("without a report: the product category code"))
    description = serializers.CharField(max_length=hazards.MAX_DESCRIPTION)


class HazardViewSet(mixins.ListModelMixin, mixins.RetrieveModelMixin, mixins.CreateModelMixin,
                    viewsets.GenericViewSet):
    """Hazard reports: a lab files them and sees its own; officers of the department they
    went to (chosen by the responsibility matrix) and regulators above it see them, and
    the receiving department's officers acknowledge them."""

    http_method_names = ["get", "post", "head", "options"]
    serializer_class = HazardSerializer
    filterset_fields = ["status", "department", "lab"]
    ordering_fields = ["reported_at"]

    def get_queryset(self):
        return access.hazards_visible_to(self.request.user).select_related(
            "lab", "report", "entity", "category", "department")

    def _read(self, pk: int, status: int = 200) -> Response:
        return Response(HazardSerializer(self.get_queryset().get(pk=pk)).data, status=status)

    @extend_schema(request=HazardWriteSerializer, responses={201: HazardSerializer})
    def create(self, request, *args, **kwargs):
        """Report a serious hazard found in testing (a user of the lab), from one of the
        lab's reports or naming the entity and category; it goes to the department
        responsible for the category in the entity's division."""
        ser = HazardWriteSerializer(data=request.data)
        ser.is_valid(raise_exception=True)
        d = ser.validated_data
        hazard = service_call(
            hazards.hazard_report, actor=request.user, report_id=d.get("report"),
            entity_id=d["entity"].pk if d.get("entity") else None,
            category_id=d["category"].pk if d.get("category") else None,
            description=d["description"])
        return self._read(hazard.pk, 201)

    @extend_schema(request=None, responses={200: HazardSerializer})
    @decorators.action(detail=True, methods=["post"], filter_backends=[], pagination_class=None)
    def acknowledge(self, request, pk=None):
        """Acknowledge receipt (officers of the receiving department)."""
        hazard = self.get_object()
        service_call(hazards.hazard_acknowledge, actor=request.user, hazard_id=hazard.pk)
        return self._read(hazard.pk)


router = SimpleRouter()
router.register("reports", ReportViewSet, basename="report")
router.register("lab-keys", LabKeyViewSet, basename="lab-key")
router.register("instruments", InstrumentViewSet, basename="instrument")
router.register("hazard-reports", HazardViewSet, basename="hazard-report")
