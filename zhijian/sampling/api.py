"""REST API of supervisory sampling under /api/v1/: sampling plans, samples with their
chain of custody (give and receive hand-overs) and photos, disposal tasks after a
nonconforming result, batch results for mutual recognition (regulators) and the public
sampling results.

Reads go through access.py, writes through services.py, errors use the API's one error
format (zhijian.core.api.service_call): a service's ValidationError is 400 naming the
field, Denied is 403, a record the caller may not see is 404 like one that does not
exist. The endpoints have their own router (`router`), mounted by config/api_urls.py.
"""

from __future__ import annotations

import datetime as dt

from django.contrib.auth import get_user_model
from django.db.models import Count, Prefetch, Q
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django_filters import rest_framework as filters
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, extend_schema, extend_schema_field
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
from rest_framework.routers import SimpleRouter
from rest_framework.throttling import AnonRateThrottle

from zhijian.core import rules
from zhijian.core.api import service_call
from zhijian.core.divisions import prefix as division_prefix
from zhijian.inspections.api import choice_field
from zhijian.registry.models import Department, Lab, MarketEntity, Product, ProductCategory
from zhijian.reports.choices import Conclusion, ReportStatus, Verdict
from zhijian.reports.models import Report, ReportItem

from . import access, services
from .choices import (
    Channel,
    DisposalKind,
    DisposalStatus,
    Result,
    SampleStatus,
    SamplingPlanStatus,
)
from .models import Disposal, Handover, Sample, SamplePhoto, SamplingPlan


class PublicReadThrottle(AnonRateThrottle):
    """Anonymous reads of sampling results: the rate of the public entity search (setting
    "public"), counted separately from it."""

    scope = "public-sampling"

    def get_rate(self):
        return self.THROTTLE_RATES.get("public", "600/min")


def verify_path(number: str) -> str:
    """The public verification page of a report (portal, built by the reports app)."""
    return f"/verify/{number}/"


class EntityRefSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    uscc = serializers.CharField()
    name = serializers.CharField()


# --- plans -----------------------------------------------------------------------------------

class SamplingPlanSerializer(serializers.ModelSerializer):
    """A sampling plan as its readers see it."""

    status = choice_field(SamplingPlanStatus, "SamplingPlanStatusEnum", read_only=True)
    department_name = serializers.CharField(source="department.name", read_only=True)
    categories = serializers.SlugRelatedField(slug_field="code", many=True, read_only=True)
    entities = serializers.SlugRelatedField(slug_field="uscc", many=True, read_only=True)
    sample_count = serializers.IntegerField(read_only=True)

    class Meta:
        model = SamplingPlan
        fields = ["id", "code", "title", "status", "department", "department_name",
                  "categories", "division_prefixes", "entities", "online", "period_start",
                  "period_end", "target_count", "sample_count", "created_at"]
        read_only_fields = fields


class SamplingPlanWriteSerializer(serializers.Serializer):
    """The fields of a plan its department sets while it is a draft. On PATCH send only
    what changes; categories and entities, when sent, replace the old ones whole."""

    title = serializers.CharField(max_length=200)
    department = serializers.PrimaryKeyRelatedField(
        queryset=Department.objects.all(), required=False,
        help_text=gettext_lazy("defaults to the officer's own department"))
    categories = serializers.SlugRelatedField(slug_field="code", many=True,
                                              queryset=ProductCategory.objects.all())
    division_prefixes = serializers.ListField(child=serializers.CharField(max_length=6))
    entities = serializers.SlugRelatedField(
        slug_field="uscc", many=True, queryset=MarketEntity.objects.all(), required=False,
        help_text=gettext_lazy("USCCs of the firms named in the plan (none: any firm in "
                               "scope)"))
    online = serializers.BooleanField(required=False)
    period_start = serializers.DateField()
    period_end = serializers.DateField()
    target_count = serializers.IntegerField(min_value=0, max_value=100000, required=False)


class PlanFilter(filters.FilterSet):
    class Meta:
        model = SamplingPlan
        fields = ["status"]


class SamplingPlanViewSet(mixins.ListModelMixin, mixins.RetrieveModelMixin,
                          viewsets.GenericViewSet):
    """Supervisory sampling plans: administrators, and regulators whose jurisdiction
    covers the plan's department, see them; its officers write, activate and close them."""

    http_method_names = ["get", "post", "patch", "head", "options"]
    serializer_class = SamplingPlanSerializer
    filterset_class = PlanFilter
    ordering_fields = ["code", "created_at", "period_start"]

    def get_queryset(self):
        return access.plans_visible_to(self.request.user).select_related(
            "department").prefetch_related(
            Prefetch("categories", queryset=ProductCategory.objects.only("id", "code")),
            Prefetch("entities", queryset=MarketEntity.objects.only("id", "uscc")),
        ).annotate(sample_count=Count("samples")).order_by("-created_at", "-id")

    def _read(self, plan: SamplingPlan, status: int = 200) -> Response:
        fresh = self.get_queryset().get(pk=plan.pk)
        return Response(SamplingPlanSerializer(fresh, context=self.get_serializer_context()
                                               ).data, status=status)

    @extend_schema(request=SamplingPlanWriteSerializer, responses={201: SamplingPlanSerializer})
    def create(self, request, *args, **kwargs):
        """Create a draft plan (officers of the department)."""
        ser = SamplingPlanWriteSerializer(data=request.data)
        ser.is_valid(raise_exception=True)
        data = dict(ser.validated_data)
        categories = data.pop("categories")
        entities = data.pop("entities", [])
        plan = service_call(services.sampling_plan_save, actor=request.user, data=data,
                            categories=categories, entities=entities)
        return self._read(plan, 201)

    @extend_schema(request=SamplingPlanWriteSerializer, responses={200: SamplingPlanSerializer})
    def partial_update(self, request, *args, **kwargs):
        """Change a draft plan."""
        plan = self.get_object()
        ser = SamplingPlanWriteSerializer(data=request.data, partial=True)
        ser.is_valid(raise_exception=True)
        data = dict(ser.validated_data)
        categories = data.pop("categories", None)
        entities = data.pop("entities", None)
        plan = service_call(
            services.sampling_plan_save, actor=request.user, data=data, plan=plan,
            categories=list(plan.categories.all()) if categories is None else categories,
            entities=list(plan.entities.all()) if entities is None else entities)
        return self._read(plan)

    @extend_schema(request=None, responses={200: SamplingPlanSerializer})
    @decorators.action(detail=True, methods=["post"], filter_backends=[], pagination_class=None)
    def activate(self, request, pk=None):
        """Start sampling under a draft plan (it can then no longer be changed)."""
        plan = self.get_object()
        plan = service_call(services.sampling_plan_activate, actor=request.user,
                            plan_id=plan.pk)
        return self._read(plan)

    @extend_schema(request=None, responses={200: SamplingPlanSerializer})
    @decorators.action(detail=True, methods=["post"], filter_backends=[], pagination_class=None)
    def close(self, request, pk=None):
        """End sampling under an active plan."""
        plan = self.get_object()
        plan = service_call(services.sampling_plan_close, actor=request.user, plan_id=plan.pk)
        return self._read(plan)


# --- samples ---------------------------------------------------------------------------------

class HandoverSerializer(serializers.ModelSerializer):
    given_by = serializers.CharField(source="given_by.username", read_only=True)
    received_by = serializers.CharField(source="received_by.username", read_only=True)

    class Meta:
        model = Handover
        fields = ["id", "position", "given_by", "received_by", "given_at", "note",
                  "giver_digest", "received_at", "seal_intact", "seal_number_seen",
                  "receiver_digest"]
        read_only_fields = fields


class PhotoSerializer(serializers.ModelSerializer):
    uploaded_by = serializers.CharField(source="uploaded_by.username", read_only=True)

    class Meta:
        model = SamplePhoto
        fields = ["id", "sha256", "uploaded_by", "uploaded_at"]
        read_only_fields = fields


class SampleSerializer(serializers.ModelSerializer):
    """A sample as the list shows it: where and from whom, the batch, the assigned lab,
    status, result and the mutual-recognition flag."""

    plan_code = serializers.CharField(source="plan.code", read_only=True)
    channel = choice_field(Channel, "SampleChannelEnum", read_only=True)
    entity = EntityRefSerializer(read_only=True)
    producer = EntityRefSerializer(read_only=True)
    category = serializers.CharField(source="category.code", read_only=True)
    division = serializers.CharField(source="division_id", read_only=True)
    sampled_by = serializers.CharField(source="sampled_by.username", read_only=True)
    lab_name = serializers.CharField(source="lab.name", read_only=True)
    status = choice_field(SampleStatus, "SampleStatusEnum", read_only=True)
    result = choice_field(Result, "SampleResultEnum", read_only=True, allow_blank=True)
    report_number = serializers.CharField(source="report.number", read_only=True,
                                          default=None)
    report_revoked = serializers.SerializerMethodField()
    duplicate_of = serializers.CharField(source="duplicate_of.number", read_only=True,
                                         default=None)

    class Meta:
        model = Sample
        fields = ["id", "code", "plan", "plan_code", "channel", "entity", "producer",
                  "product", "product_name", "model", "category", "batch", "quantity", "unit",
                  "place", "division", "seal_number", "sampled_at", "sampled_by", "lab",
                  "lab_name", "status", "received_at", "result", "result_on", "publish_by",
                  "published_at", "report_number", "report_revoked", "duplicate_of",
                  "duplicate_reason", "rule_version"]
        read_only_fields = fields

    def get_report_revoked(self, sample) -> bool:
        return sample.report_revoked_at is not None


class SampleDetailSerializer(SampleSerializer):
    """A sample with its chain of custody (every hand-over with both signatures), the
    problems found in it, its holder and its photos."""

    handovers = HandoverSerializer(many=True, read_only=True)
    photos = PhotoSerializer(many=True, read_only=True)
    custody_intact = serializers.SerializerMethodField()
    custody_problems = serializers.SerializerMethodField()

    class Meta(SampleSerializer.Meta):
        fields = [*SampleSerializer.Meta.fields, "custody_intact", "custody_problems",
                  "handovers", "photos"]
        read_only_fields = fields

    def _problems(self, sample) -> list[str]:
        if not hasattr(sample, "_problems"):
            sample._problems = sample.custody_problems()
        return sample._problems

    def get_custody_intact(self, sample) -> bool:
        return not self._problems(sample)

    def get_custody_problems(self, sample) -> list[str]:
        return self._problems(sample)


class SampleWriteSerializer(serializers.Serializer):
    """A sample taken under an active plan. The lab is assigned by the department here;
    nothing lets the firm choose or change it."""

    plan = serializers.PrimaryKeyRelatedField(queryset=SamplingPlan.objects.all())
    channel = choice_field(Channel, "SampleChannelEnum", required=False,
                           default=Channel.ON_SITE)
    entity = serializers.SlugRelatedField(
        slug_field="uscc", queryset=MarketEntity.objects.all(),
        help_text=gettext_lazy("USCC of the firm (or online shop) the sample was taken from"))
    producer = serializers.SlugRelatedField(
        slug_field="uscc", queryset=MarketEntity.objects.all(), required=False,
        help_text=gettext_lazy("USCC of the producer; defaults to the firm"))
    product = serializers.PrimaryKeyRelatedField(queryset=Product.objects.all(),
                                                 required=False, allow_null=True)
    product_name = serializers.CharField(max_length=120, allow_blank=True)
    model = serializers.CharField(max_length=120, required=False, allow_blank=True, default="")
    category = serializers.SlugRelatedField(slug_field="code",
                                            queryset=ProductCategory.objects.all())
    batch = serializers.CharField(max_length=60, allow_blank=True)
    quantity = serializers.DecimalField(max_digits=12, decimal_places=3)
    unit = serializers.CharField(max_length=10, allow_blank=True)
    place = serializers.CharField(max_length=200, required=False, allow_blank=True, default="")
    shop = serializers.CharField(max_length=120, required=False, allow_blank=True, default="",
                                 help_text=gettext_lazy("online purchase: the shop"))
    order_number = serializers.CharField(max_length=70, required=False, allow_blank=True,
                                         default="", help_text=gettext_lazy(
                                             "online purchase: the order number"))
    seal_number = serializers.CharField(max_length=40, allow_blank=True)
    sampled_at = serializers.DateTimeField()
    lab = serializers.PrimaryKeyRelatedField(queryset=Lab.objects.all())
    duplicate_reason = serializers.CharField(
        required=False, allow_blank=True, default="", max_length=2000,
        help_text=gettext_lazy("why a batch with a recognised result is sampled again"))


class GiveSerializer(serializers.Serializer):
    to_user = serializers.SlugRelatedField(
        slug_field="username", queryset=get_user_model().objects.filter(is_active=True),
        help_text=gettext_lazy("username of the person who takes the sample"))
    note = serializers.CharField(max_length=300, required=False, allow_blank=True, default="")


class ReceiveSerializer(serializers.Serializer):
    seal_intact = serializers.BooleanField(help_text=gettext_lazy("was the seal intact?"))
    seal_number_seen = serializers.CharField(max_length=40, help_text=gettext_lazy(
        "the seal number as read on the sample"))


class SampleFilter(filters.FilterSet):
    plan = filters.CharFilter(field_name="plan__code", label=gettext_lazy("plan number"))
    uscc = filters.CharFilter(method="by_uscc", label=gettext_lazy("firm or producer USCC"))

    class Meta:
        model = Sample
        fields = ["plan", "status", "result", "lab", "batch", "uscc"]

    def by_uscc(self, qs, name, value):
        value = value.strip().upper()
        return qs.filter(Q(entity__uscc=value) | Q(producer__uscc=value)) if value else qs


def _sample_queryset(qs):
    return qs.select_related("plan", "entity", "producer", "category", "sampled_by", "lab",
                             "report", "duplicate_of")


class SampleViewSet(mixins.ListModelMixin, mixins.RetrieveModelMixin, mixins.CreateModelMixin,
                    viewsets.GenericViewSet):
    """Samples: administrators and regulators of the jurisdiction see them, the assigned
    lab its own, everyone in the chain of custody the samples they held, an enterprise its
    published results. Officers of the plan's department record them; the holder hands
    over, the named receiver receives."""

    serializer_class = SampleSerializer
    filterset_class = SampleFilter
    ordering_fields = ["sampled_at", "code"]

    def get_queryset(self):
        qs = _sample_queryset(access.samples_visible_to(self.request.user)).order_by(
            "-sampled_at", "-id")
        if self.action != "list":
            qs = qs.prefetch_related(
                Prefetch("handovers", queryset=Handover.objects.select_related(
                    "given_by", "received_by").order_by("position")),
                Prefetch("photos", queryset=SamplePhoto.objects.select_related("uploaded_by")))
        return qs

    def get_serializer_class(self):
        return SampleSerializer if self.action == "list" else SampleDetailSerializer

    def _read(self, sample_id: int, status: int = 200) -> Response:
        fresh = self.get_queryset().get(pk=sample_id)
        return Response(SampleDetailSerializer(
            fresh, context=self.get_serializer_context()).data, status=status)

    @extend_schema(request=SampleWriteSerializer, responses={201: SampleDetailSerializer})
    def create(self, request, *args, **kwargs):
        """Record a sample under an active plan (officers of its department)."""
        ser = SampleWriteSerializer(data=request.data)
        ser.is_valid(raise_exception=True)
        data = dict(ser.validated_data)
        plan, lab = data.pop("plan"), data.pop("lab")
        reason = data.pop("duplicate_reason")
        sample = service_call(services.sample_record, actor=request.user, plan_id=plan.pk,
                              data=data, lab_id=lab.pk, duplicate_reason=reason)
        return self._read(sample.pk, 201)

    @extend_schema(request=GiveSerializer, responses={201: HandoverSerializer})
    @decorators.action(detail=True, methods=["post"], filter_backends=[], pagination_class=None)
    def give(self, request, pk=None):
        """Hand the sample over (its current holder), signing the hand-over."""
        sample = self.get_object()
        ser = GiveSerializer(data=request.data)
        ser.is_valid(raise_exception=True)
        h = service_call(services.handover_give, actor=request.user, sample_id=sample.pk,
                         to_user_id=ser.validated_data["to_user"].pk,
                         note=ser.validated_data["note"])
        return Response(HandoverSerializer(h).data, status=201)

    @extend_schema(request=ReceiveSerializer, responses={200: HandoverSerializer})
    @decorators.action(detail=True, methods=["post"], filter_backends=[], pagination_class=None)
    def receive(self, request, pk=None):
        """Confirm receipt of the hand-over waiting for you, with the seal as found, and
        sign it."""
        sample = self.get_object()
        pending = sample.handovers.filter(received_at__isnull=True).order_by(
            "-position").first()
        if pending is None:
            raise exceptions.ValidationError({"non_field_errors": [
                _("No hand-over of this sample is waiting to be received.")]})
        ser = ReceiveSerializer(data=request.data)
        ser.is_valid(raise_exception=True)
        h = service_call(services.handover_receive, actor=request.user, handover_id=pending.pk,
                         **ser.validated_data)
        return Response(HandoverSerializer(h).data)

    @extend_schema(
        request={"multipart/form-data": {"type": "object", "properties": {
            "file": {"type": "string", "format": "binary"}}, "required": ["file"]}},
        responses={201: PhotoSerializer})
    @decorators.action(detail=True, methods=["post"], filter_backends=[], pagination_class=None,
                       parser_classes=[parsers.MultiPartParser])
    def photos(self, request, pk=None):
        """Upload a photo of the sample (multipart field `file`, JPEG or PNG, at most
        10 MB); it is kept with its SHA-256."""
        sample = self.get_object()
        upload = request.FILES.get("file")
        if upload is None:
            raise exceptions.ValidationError({"file": [_("Attach the photo.")]})
        photo = service_call(services.sample_photo_add, actor=request.user,
                             sample_id=sample.pk, upload=upload)
        return Response(PhotoSerializer(photo).data, status=201)


# --- disposals -------------------------------------------------------------------------------

class DisposalSerializer(serializers.ModelSerializer):
    """The follow-up of a nonconforming result by the department responsible for the firm."""

    sample_code = serializers.CharField(source="sample.code", read_only=True, default=None)
    report_number = serializers.CharField(source="report.number", read_only=True)
    entity = EntityRefSerializer(read_only=True)
    department_name = serializers.CharField(source="department.name", read_only=True)
    kind = choice_field(DisposalKind, "DisposalKindEnum", read_only=True, allow_blank=True)
    status = choice_field(DisposalStatus, "DisposalStatusEnum", read_only=True)
    is_overdue = serializers.SerializerMethodField()

    class Meta:
        model = Disposal
        fields = ["id", "sample", "sample_code", "report", "report_number", "entity",
                  "department", "department_name", "kind", "status", "due_on", "is_overdue",
                  "opened_at", "decision", "decided_at", "closing_note", "closed_at",
                  "rule_version"]
        read_only_fields = fields

    def get_is_overdue(self, d) -> bool:
        return d.status == DisposalStatus.OPEN and d.due_on < timezone.localdate()


class DecideSerializer(serializers.Serializer):
    kind = choice_field(DisposalKind, "DisposalKindEnum")
    decision = serializers.CharField(max_length=5000)


class CloseSerializer(serializers.Serializer):
    note = serializers.CharField(max_length=5000)


class DisposalViewSet(mixins.ListModelMixin, mixins.RetrieveModelMixin,
                      viewsets.GenericViewSet):
    """Disposal tasks (不合格后处置): regulators whose jurisdiction covers the responsible
    department see them; its officers decide the measure and close them."""

    serializer_class = DisposalSerializer
    filterset_fields = ["status", "kind"]
    ordering_fields = ["due_on", "opened_at"]

    def get_queryset(self):
        return access.disposals_visible_to(self.request.user).select_related(
            "sample", "report", "entity", "department").order_by("due_on", "id")

    def _read(self, pk: int) -> Response:
        return Response(DisposalSerializer(self.get_queryset().get(pk=pk)).data)

    @extend_schema(request=DecideSerializer, responses={200: DisposalSerializer})
    @decorators.action(detail=True, methods=["post"], filter_backends=[], pagination_class=None)
    def decide(self, request, pk=None):
        """Decide the measure: a rectification order or a case."""
        d = self.get_object()
        ser = DecideSerializer(data=request.data)
        ser.is_valid(raise_exception=True)
        service_call(services.disposal_decide, actor=request.user, disposal_id=d.pk,
                     **ser.validated_data)
        return self._read(d.pk)

    @extend_schema(request=CloseSerializer, responses={200: DisposalSerializer})
    @decorators.action(detail=True, methods=["post"], filter_backends=[], pagination_class=None)
    def close(self, request, pk=None):
        """Close a decided follow-up, saying how it ended."""
        d = self.get_object()
        ser = CloseSerializer(data=request.data)
        ser.is_valid(raise_exception=True)
        service_call(services.disposal_close, actor=request.user, disposal_id=d.pk,
                     note=ser.validated_data["note"])
        return self._read(d.pk)


# --- batch results (mutual recognition) ------------------------------------------------------

class BatchResultSerializer(serializers.ModelSerializer):
    """A supervisory result for a batch, recognised by every department until
    `recognised_until` (rule sampling.recognition_days) while the report is current."""

    lab_name = serializers.CharField(source="lab.name", read_only=True)
    producer_uscc = serializers.CharField(source="producer.uscc", read_only=True)
    producer_name = serializers.CharField(source="producer.name", read_only=True)
    sample_code = serializers.CharField(source="sample.code", read_only=True, default=None)
    conclusion = choice_field(Conclusion, "BatchResultConclusionEnum", read_only=True)
    status = choice_field(ReportStatus, "BatchResultStatusEnum", read_only=True)
    recognised_until = serializers.SerializerMethodField()
    recognised = serializers.SerializerMethodField()
    verify_url = serializers.SerializerMethodField()

    class Meta:
        model = Report
        fields = ["number", "lab", "lab_name", "producer_uscc", "producer_name", "batch",
                  "product_name", "sample_code", "issued_on", "conclusion", "status",
                  "recognised_until", "recognised", "verify_url"]
        read_only_fields = fields

    @extend_schema_field(OpenApiTypes.DATE)
    def get_recognised_until(self, report) -> dt.date | None:
        if report.issued_on is None:
            return None
        days = rules.value("sampling.recognition_days", report.issued_on)
        return report.issued_on + dt.timedelta(days=days)

    def get_recognised(self, report) -> bool:
        until = self.get_recognised_until(report)
        return (report.status == ReportStatus.ISSUED and until is not None
                and timezone.localdate() <= until)

    @extend_schema_field(OpenApiTypes.URI)
    def get_verify_url(self, report) -> str:
        request = self.context.get("request")
        path = verify_path(report.number)
        return request.build_absolute_uri(path) if request is not None else path


class BatchResultViewSet(mixins.ListModelMixin, viewsets.GenericViewSet):
    """Mutual recognition of sampling results (抽检互认, M3.3): any regulator of any
    department looks up the supervisory results of a producer's batch."""

    serializer_class = BatchResultSerializer
    filter_backends: list = []
    pagination_class = None

    @extend_schema(parameters=[
        OpenApiParameter("uscc", str, required=True,
                         description="unified social credit code of the producer"),
        OpenApiParameter("batch", str, required=True, description="batch number")])
    def list(self, request, *args, **kwargs):
        """The supervisory results of one batch, newest first."""
        uscc = request.query_params.get("uscc", "").strip()
        batch = request.query_params.get("batch", "").strip()
        qs = service_call(access.batch_results, request.user, uscc, batch)
        errors = {}
        if not uscc:
            errors["uscc"] = [_("Give the producer's unified social credit code.")]
        if not batch:
            errors["batch"] = [_("Give the batch number.")]
        if errors:
            raise exceptions.ValidationError(errors)
        qs = qs.select_related("lab", "producer", "sample").order_by("-issued_on", "-id")
        return Response(self.get_serializer(qs, many=True).data)


# --- public results --------------------------------------------------------------------------

class FailingItemSerializer(serializers.ModelSerializer):
    class Meta:
        model = ReportItem
        fields = ["parameter", "requirement", "measured", "unit"]
        read_only_fields = fields


class PublicResultFilter(filters.FilterSet):
    q = filters.CharFilter(method="search", label=gettext_lazy("firm name or USCC"))
    category = filters.CharFilter(method="in_category", label=gettext_lazy(
        "product category code (its subcategories included)"))
    division = filters.CharFilter(method="in_division",
                                  label=gettext_lazy("division code or prefix"))
    result = filters.ChoiceFilter(choices=[(Result.PASS, Result.PASS.label),
                                           (Result.FAIL, Result.FAIL.label)])
    result_from = filters.DateFilter(field_name="result_on", lookup_expr="gte",
                                     label=gettext_lazy("result on or after"))
    result_to = filters.DateFilter(field_name="result_on", lookup_expr="lte",
                                   label=gettext_lazy("result on or before"))

    class Meta:
        model = Sample
        fields = ["q", "category", "division", "result", "result_from", "result_to"]

    def search(self, qs, name, value):
        value = value.strip()[:60]
        if not value:
            return qs
        firms = MarketEntity.objects.search(value).values("pk")
        return qs.filter(Q(entity__in=firms) | Q(producer__in=firms))

    def in_category(self, qs, name, value):
        return qs.filter(category__code__in=ProductCategory.objects.expand([value.strip()]))

    def in_division(self, qs, name, value):
        value = value.strip()
        if len(value) == 6 and value.isdigit():
            value = division_prefix(value)
        return qs.filter(division__code__startswith=value)


class PublicSamplingResultSerializer(serializers.ModelSerializer):
    """A published sampling result: the firm, the producer, the product and batch, the
    result with the failing items, and the report with its public verification page."""

    entity_uscc = serializers.CharField(source="entity.uscc", read_only=True)
    entity_name = serializers.CharField(source="entity.name", read_only=True)
    producer_uscc = serializers.CharField(source="producer.uscc", read_only=True)
    producer_name = serializers.CharField(source="producer.name", read_only=True)
    category = serializers.CharField(source="category.code", read_only=True)
    category_name = serializers.CharField(source="category.name", read_only=True)
    division = serializers.CharField(source="division_id", read_only=True)
    division_name = serializers.CharField(source="division.name", read_only=True)
    department = serializers.CharField(source="plan.department.name", read_only=True)
    plan = serializers.CharField(source="plan.code", read_only=True)
    channel = choice_field(Channel, "SampleChannelEnum", read_only=True)
    result = choice_field(Result, "SampleResultEnum", read_only=True, allow_blank=True)
    report_number = serializers.CharField(source="report.number", read_only=True,
                                          default=None)
    report_revoked = serializers.SerializerMethodField()
    verify_url = serializers.SerializerMethodField()
    failing_items = serializers.SerializerMethodField()
    duplicate = serializers.SerializerMethodField()

    class Meta:
        model = Sample
        fields = ["id", "code", "plan", "department", "entity_uscc", "entity_name",
                  "producer_uscc", "producer_name", "product_name", "model", "category",
                  "category_name", "batch", "division", "division_name", "channel", "result",
                  "result_on", "published_at", "report_number", "report_revoked",
                  "verify_url", "failing_items", "duplicate"]
        read_only_fields = fields

    def get_report_revoked(self, sample) -> bool:
        return sample.report_revoked_at is not None

    @extend_schema_field(OpenApiTypes.URI)
    def get_verify_url(self, sample) -> str | None:
        if sample.report_id is None:
            return None
        request = self.context.get("request")
        path = verify_path(sample.report.number)
        return request.build_absolute_uri(path) if request is not None else path

    @extend_schema_field(FailingItemSerializer(many=True))
    def get_failing_items(self, sample) -> list:
        items = getattr(sample, "failing", None)
        if items is None:
            items = [] if sample.report_id is None else list(
                sample.report.items.filter(verdict=Verdict.FAIL).order_by("position"))
        return FailingItemSerializer(items, many=True).data

    def get_duplicate(self, sample) -> bool:
        return sample.duplicate_of_id is not None


def public_results_queryset():
    return access.results_public().select_related(
        "entity", "producer", "category", "division", "plan__department", "report"
    ).prefetch_related(Prefetch(
        "report__items", to_attr="failing_items_list",
        queryset=ReportItem.objects.filter(verdict=Verdict.FAIL).order_by("position"),
    )).order_by("-result_on", "-id")


class PublicSamplingResultViewSet(viewsets.ReadOnlyModelViewSet):
    """Published supervisory sampling results (抽检结果公示): anyone may search them by
    firm name or USCC, product category, division, result and date."""

    serializer_class = PublicSamplingResultSerializer
    permission_classes = [permissions.AllowAny]
    authentication_classes = []
    throttle_classes = [PublicReadThrottle]
    filterset_class = PublicResultFilter
    ordering_fields = ["result_on", "published_at"]

    def get_queryset(self):
        return public_results_queryset()

    def get_serializer(self, *args, **kwargs):
        rows = args[0] if args else None
        for s in ([rows] if isinstance(rows, Sample) else rows or []):
            if s.report_id is not None:
                s.failing = s.report.failing_items_list
        return super().get_serializer(*args, **kwargs)


router = SimpleRouter()
router.register("sampling-plans", SamplingPlanViewSet, basename="sampling-plan")
router.register("samples", SampleViewSet, basename="sample")
router.register("disposals", DisposalViewSet, basename="disposal")
router.register("batch-results", BatchResultViewSet, basename="batch-result")
router.register("public/sampling-results", PublicSamplingResultViewSet,
                basename="public-sampling-result")
