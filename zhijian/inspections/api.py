"""REST API of random inspections (双随机一公开) under /api/v1/: plans, their draws (public,
with the verifiable bundle), the inspection tasks and the public results.

Reads go through access.py, writes through services.py, errors use the API's one error
format (zhijian.core.api.service_call): a service's ValidationError is 400 naming the
field, Denied is 403, a record the caller may not see is 404 like one that does not
exist. The endpoints have their own router (`router`), mounted by config/api_urls.py.
"""

from __future__ import annotations

from django.db.models import Prefetch, Q
from django.http import HttpResponse
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django_filters import rest_framework as filters
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiResponse, extend_schema, extend_schema_field
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

from zhijian.core.api import service_call
from zhijian.core.divisions import prefix as division_prefix
from zhijian.registry.models import Department, ProductCategory

from . import access, draw, services
from .choices import (
    DrawStatus,
    ItemResult,
    LicenceFilter,
    Outcome,
    PlanKind,
    PlanStatus,
    TaskStatus,
)
from .models import ChecklistItem, Draw, Evidence, InspectionPlan, Task, TaskItem, TaskMember

_CHOICE_FIELDS: dict[str, type] = {}


def choice_field(choices, component: str, **kw) -> serializers.ChoiceField:
    """A ChoiceField whose enum is its own named schema component: "status" and "kind"
    mean different choice sets in different records of the API."""
    if component not in _CHOICE_FIELDS:
        values = list(choices.values) + ([""] if kw.get("allow_blank") else [])
        _CHOICE_FIELDS[component] = extend_schema_field(
            {"type": "string", "enum": values}, component_name=component,
        )(type(component, (serializers.ChoiceField,), {}))
    return _CHOICE_FIELDS[component](choices=choices.choices, **kw)


def bundle_url(request, draw_id: int) -> str:
    path = reverse("draw-bundle", kwargs={"pk": draw_id})
    return request.build_absolute_uri(path) if request is not None else path


class PublicReadThrottle(AnonRateThrottle):
    """Anonymous reads of draws and results: the rate of the public entity search
    (setting "public"), counted separately from it."""

    scope = "public-inspections"

    def get_rate(self):
        return self.THROTTLE_RATES.get("public", "600/min")


# --- plans -----------------------------------------------------------------------------------

class ChecklistEntrySerializer(serializers.Serializer):
    department = serializers.PrimaryKeyRelatedField(queryset=Department.objects.all())
    text = serializers.CharField(max_length=300)


class ChecklistItemSerializer(serializers.ModelSerializer):
    class Meta:
        model = ChecklistItem
        fields = ["id", "department", "position", "text"]


class InspectionPlanSerializer(serializers.ModelSerializer):
    """A plan as its readers see it."""

    kind = choice_field(PlanKind, "PlanKindEnum", read_only=True)
    status = choice_field(PlanStatus, "PlanStatusEnum", read_only=True)
    lead_department_name = serializers.CharField(source="lead_department.name", read_only=True)
    categories = serializers.SlugRelatedField(slug_field="code", many=True, read_only=True)
    checklist = ChecklistItemSerializer(source="items", many=True, read_only=True)
    current_draw = serializers.SerializerMethodField()

    class Meta:
        model = InspectionPlan
        fields = ["id", "code", "title", "kind", "status", "lead_department",
                  "lead_department_name", "departments", "categories", "division_prefixes",
                  "entity_types", "licence_filter", "period_start", "period_end", "ratios",
                  "stratify_by_city", "exclusion_months", "team_size", "workload_cap",
                  "task_days", "checklist", "current_draw", "created_at"]
        read_only_fields = fields

    @extend_schema_field(OpenApiTypes.INT)
    def get_current_draw(self, plan) -> int | None:
        live = getattr(plan, "live_draws", None)
        if live is None:
            d = plan.current_draw
            return d.pk if d else None
        return live[0].pk if live else None


class InspectionPlanWriteSerializer(serializers.Serializer):
    """The fields of a plan that its lead department sets while it is a draft. On PATCH
    send only what changes; departments, categories and checklist, when sent, replace the
    old ones whole."""

    title = serializers.CharField(max_length=200)
    kind = choice_field(PlanKind, "PlanKindEnum", required=False)
    lead_department = serializers.PrimaryKeyRelatedField(queryset=Department.objects.all())
    departments = serializers.PrimaryKeyRelatedField(queryset=Department.objects.all(),
                                                     many=True)
    categories = serializers.SlugRelatedField(slug_field="code", many=True,
                                              queryset=ProductCategory.objects.all())
    division_prefixes = serializers.ListField(child=serializers.CharField(max_length=6))
    entity_types = serializers.ListField(child=serializers.CharField(max_length=20),
                                         required=False)
    licence_filter = serializers.ChoiceField(choices=LicenceFilter.choices, required=False)
    period_start = serializers.DateField()
    period_end = serializers.DateField()
    ratios = serializers.DictField(child=serializers.IntegerField(),
                                   help_text=gettext_lazy(
                                       "basis points per class A–D: 300 = 3 %, 10000 = all"))
    stratify_by_city = serializers.BooleanField(required=False)
    exclusion_months = serializers.IntegerField(min_value=0, max_value=120, required=False)
    team_size = serializers.IntegerField(min_value=0, max_value=20, required=False)
    workload_cap = serializers.IntegerField(min_value=0, max_value=1000, required=False)
    task_days = serializers.IntegerField(min_value=1, max_value=365, required=False)
    checklist = ChecklistEntrySerializer(many=True)


def _plan_call(validated: dict, plan: InspectionPlan | None) -> dict:
    """plan_save's arguments from the validated input (missing parts of a PATCH keep the
    plan's own)."""
    data = dict(validated)
    departments = data.pop("departments", None)
    categories = data.pop("categories", None)
    checklist = data.pop("checklist", None)
    if checklist is not None:
        checklist = [(c["department"].pk, c["text"]) for c in checklist]
    if plan is not None:
        if departments is None:
            departments = list(plan.departments.all())
        if categories is None:
            categories = list(plan.categories.all())
        if checklist is None:
            checklist = [(i.department_id, i.text) for i in plan.items.all()]
    return {"data": data, "departments": departments, "categories": categories,
            "checklist": checklist, "plan": plan}


class PlanFilter(filters.FilterSet):
    class Meta:
        model = InspectionPlan
        fields = ["status", "kind"]


class SeedSerializer(serializers.Serializer):
    dice = serializers.CharField(max_length=200, help_text=gettext_lazy(
        "the dice rolls, digits 1 to 6 (at least 10), as rolled before the witnesses"))
    beacon = serializers.CharField(max_length=200, required=False, allow_blank=True,
                                   default="", help_text=gettext_lazy(
                                       "a public random value published after the commitment"))
    witnesses = serializers.CharField(max_length=300)


class RedrawSerializer(serializers.Serializer):
    reason = serializers.CharField(max_length=500)


class DrawSerializer(serializers.ModelSerializer):
    """A draw: its commitment, the public inputs of its seed and the counts drawn."""

    plan_code = serializers.CharField(source="plan.code", read_only=True)
    plan_title = serializers.CharField(source="plan.title", read_only=True)
    status = choice_field(DrawStatus, "DrawStatusEnum", read_only=True)
    counts = serializers.SerializerMethodField()
    selected = serializers.SerializerMethodField()
    bundle_url = serializers.SerializerMethodField()

    class Meta:
        model = Draw
        fields = ["id", "plan", "plan_code", "plan_title", "number", "status",
                  "commitment_sha256", "commitment", "committed_at", "dice", "beacon",
                  "witnesses", "seed", "seeded_at", "counts", "selected", "failures",
                  "redraw_of", "redraw_reason", "rule_versions", "bundle_url"]
        read_only_fields = fields

    def to_representation(self, instance):
        # A flying inspection's seed and selection wait until its visits are over.
        return super().to_representation(
            instance if instance.disclosed() else instance.masked())

    @extend_schema_field(serializers.ListField(child=serializers.DictField()))
    def get_counts(self, d) -> list | None:
        """Per stratum: population, ratio (basis points) and number drawn."""
        return d.result["counts"] if d.result else None

    def get_selected(self, d) -> int | None:
        return len(d.result["selected"]) if d.result else None

    @extend_schema_field(OpenApiTypes.URI)
    def get_bundle_url(self, d) -> str | None:
        return bundle_url(self.context.get("request"), d.pk) if d.seed else None


class PlanViewSet(mixins.ListModelMixin, mixins.RetrieveModelMixin, viewsets.GenericViewSet):
    """Random inspection plans (M3.2): administrators, and regulators whose jurisdiction
    holds a participating department, see them; officers of the lead department write
    them, publish them (freezing register and pool) and enter the seed."""

    http_method_names = ["get", "post", "patch", "head", "options"]
    serializer_class = InspectionPlanSerializer
    filterset_class = PlanFilter
    ordering_fields = ["code", "created_at", "period_start"]

    def get_queryset(self):
        return access.plans_visible_to(self.request.user).select_related(
            "lead_department").prefetch_related(
            Prefetch("departments", queryset=Department.objects.only("id")),
            Prefetch("categories", queryset=ProductCategory.objects.only("id", "code")),
            Prefetch("items", queryset=ChecklistItem.objects.order_by("position")),
            Prefetch("draws", to_attr="live_draws", queryset=Draw.objects.exclude(
                status=DrawStatus.SUPERSEDED).only("id", "plan_id").order_by("-number")))

    def _read(self, plan: InspectionPlan, status: int = 200) -> Response:
        fresh = self.get_queryset().get(pk=plan.pk)
        return Response(InspectionPlanSerializer(fresh, context=self.get_serializer_context()
                                                 ).data, status=status)

    @extend_schema(request=InspectionPlanWriteSerializer,
                   responses={201: InspectionPlanSerializer})
    def create(self, request, *args, **kwargs):
        """Create a draft plan (officers of the lead department)."""
        ser = InspectionPlanWriteSerializer(data=request.data)
        ser.is_valid(raise_exception=True)
        plan = service_call(services.plan_save, actor=request.user,
                            **_plan_call(ser.validated_data, None))
        return self._read(plan, 201)

    @extend_schema(request=InspectionPlanWriteSerializer,
                   responses={200: InspectionPlanSerializer})
    def partial_update(self, request, *args, **kwargs):
        """Change a draft plan; a published plan is frozen."""
        plan = self.get_object()
        ser = InspectionPlanWriteSerializer(data=request.data, partial=True)
        ser.is_valid(raise_exception=True)
        plan = service_call(services.plan_save, actor=request.user,
                            **_plan_call(ser.validated_data, plan))
        return self._read(plan)

    @extend_schema(request=None, responses={201: DrawSerializer})
    @decorators.action(detail=True, methods=["post"], filter_backends=[], pagination_class=None)
    def publish(self, request, pk=None):
        """Freeze the target register and the inspector pool and publish their commitment
        (the plan's first draw, waiting for its seed)."""
        plan = self.get_object()
        d = service_call(services.plan_publish, actor=request.user, plan=plan)
        return Response(DrawSerializer(d, context=self.get_serializer_context()).data,
                        status=201)

    def _live_draw(self, plan: InspectionPlan) -> Draw:
        d = plan.current_draw
        if d is None:
            if not access.can_manage_plan(self.request.user, plan):
                raise exceptions.PermissionDenied(
                    _("Only officers of the lead department can change this plan."))
            raise exceptions.ValidationError(
                {"non_field_errors": [_("This plan has no draw yet: publish it first.")]})
        return d

    @extend_schema(request=SeedSerializer, responses={200: DrawSerializer})
    @decorators.action(detail=True, methods=["post"], filter_backends=[], pagination_class=None)
    def seed(self, request, pk=None):
        """Enter the public inputs of the current draw's seed (dice rolled before
        witnesses, optionally a public beacon value) and draw."""
        plan = self.get_object()
        d = self._live_draw(plan)
        ser = SeedSerializer(data=request.data)
        ser.is_valid(raise_exception=True)
        d = service_call(services.draw_seed, actor=request.user, draw_id=d.pk,
                         **ser.validated_data)
        return Response(DrawSerializer(d, context=self.get_serializer_context()).data)

    @extend_schema(request=RedrawSerializer, responses={201: DrawSerializer})
    @decorators.action(detail=True, methods=["post"], filter_backends=[], pagination_class=None)
    def redraw(self, request, pk=None):
        """Supersede the current draw with a new commitment, with a published reason
        (refused once an inspection of the draw has started)."""
        plan = self.get_object()
        d = self._live_draw(plan)
        ser = RedrawSerializer(data=request.data)
        ser.is_valid(raise_exception=True)
        new = service_call(services.draw_redraw, actor=request.user, draw_id=d.pk,
                           reason=ser.validated_data["reason"])
        return Response(DrawSerializer(new, context=self.get_serializer_context()).data,
                        status=201)


# --- draws (public) --------------------------------------------------------------------------

class DrawFilter(filters.FilterSet):
    plan = filters.CharFilter(field_name="plan__code", label=gettext_lazy("plan number"))

    class Meta:
        model = Draw
        fields = ["plan", "status"]


class DrawViewSet(viewsets.ReadOnlyModelViewSet):
    """Every draw is public: its commitment from the moment it is made, the public inputs
    of its seed and the result once drawn, and the bundle with which anyone can recompute
    it (docs/draw-algorithm.md)."""

    serializer_class = DrawSerializer
    permission_classes = [permissions.AllowAny]
    throttle_classes = [PublicReadThrottle]
    filterset_class = DrawFilter
    ordering_fields = ["committed_at", "seeded_at"]

    def get_queryset(self):
        # The frame and pool can hold a million entities: only the bundle reads them.
        return access.draws_public().select_related("plan").defer(
            "plan_snapshot", "frame", "pool")

    @extend_schema(responses={200: OpenApiResponse(
        OpenApiTypes.OBJECT, description="the bundle, RFC 8785 canonical JSON")})
    @decorators.action(detail=True, methods=["get"], filter_backends=[], pagination_class=None)
    def bundle(self, request, pk=None):
        """The draw's bundle in canonical JSON: plan, frozen register and pool, commitment,
        seed and result. Check it with `python -m zhijian.verify draw bundle.json`."""
        d = access.get_or_404(access.draws_public().select_related("plan"), pk)
        if not d.disclosed():
            raise exceptions.NotFound(_("This flying inspection's seed and selection are "
                                        "published when its inspections are over."))
        if not d.seed:
            raise exceptions.NotFound(_("This draw has no seed yet; its bundle is published "
                                        "once the seed is entered."))
        response = HttpResponse(draw.canonical(d.bundle()),
                                content_type="application/json; charset=utf-8")
        response["Content-Disposition"] = (
            f'inline; filename="draw-{d.plan.code}-{d.number}.json"')
        return response


# --- tasks ------------------------------------------------------------------------------------

class TaskMemberSerializer(serializers.ModelSerializer):
    badge_number = serializers.CharField(source="inspector.badge_number", read_only=True)
    name = serializers.CharField(source="inspector.name", read_only=True)

    class Meta:
        model = TaskMember
        fields = ["slot", "badge_number", "name", "signed_at"]


class TaskItemSerializer(serializers.ModelSerializer):
    result = choice_field(ItemResult, "ItemResultEnum", read_only=True)

    class Meta:
        model = TaskItem
        fields = ["item", "result", "note"]


class EvidenceSerializer(serializers.ModelSerializer):
    class Meta:
        model = Evidence
        fields = ["id", "name", "size", "sha256", "content_type", "uploaded_at"]


class TaskEntitySerializer(serializers.Serializer):
    id = serializers.IntegerField()
    uscc = serializers.CharField()
    name = serializers.CharField()
    division = serializers.CharField(source="division_id")


class InspectionTaskSerializer(serializers.ModelSerializer):
    plan_code = serializers.CharField(source="plan.code", read_only=True)
    entity = TaskEntitySerializer(read_only=True)
    status = choice_field(TaskStatus, "TaskStatusEnum", read_only=True)
    outcome = choice_field(Outcome, "OutcomeEnum", read_only=True, allow_blank=True)
    is_overdue = serializers.BooleanField(read_only=True)
    team = TaskMemberSerializer(source="members", many=True, read_only=True)
    checklist = ChecklistItemSerializer(source="plan.items", many=True, read_only=True)
    items = TaskItemSerializer(source="item_results", many=True, read_only=True)
    evidence = EvidenceSerializer(many=True, read_only=True)

    class Meta:
        model = Task
        fields = ["id", "plan", "plan_code", "draw", "entity", "stratum", "rank", "status",
                  "is_overdue", "due_on", "started_at", "outcome", "summary",
                  "firm_representative", "completed_at", "record_sha256", "publish_due",
                  "published_at", "team", "checklist", "items", "evidence"]
        read_only_fields = fields


class TaskItemInputSerializer(serializers.Serializer):
    item = serializers.IntegerField(help_text=gettext_lazy("checklist item id"))
    result = choice_field(ItemResult, "ItemResultEnum")
    note = serializers.CharField(max_length=500, required=False, allow_blank=True, default="")


class TaskRecordSerializer(serializers.Serializer):
    items = TaskItemInputSerializer(many=True, required=False, default=list)
    outcome = choice_field(Outcome, "OutcomeEnum", required=False, allow_blank=True,
                           default="")
    summary = serializers.CharField(required=False, allow_blank=True, default="",
                                    max_length=5000)
    firm_representative = serializers.CharField(required=False, allow_blank=True, default="",
                                                max_length=50)


class TaskFilter(filters.FilterSet):
    plan = filters.CharFilter(field_name="plan__code", label=gettext_lazy("plan number"))

    class Meta:
        model = Task
        fields = ["plan", "status"]


class TaskViewSet(mixins.ListModelMixin, mixins.RetrieveModelMixin, viewsets.GenericViewSet):
    """Inspection tasks: regulators see those of the plans they see, in their
    jurisdiction; drawn inspectors see theirs; an enterprise sees its own published
    results. Only the drawn inspectors record, sign and complete."""

    serializer_class = InspectionTaskSerializer
    filterset_class = TaskFilter
    ordering_fields = ["due_on", "id"]

    def get_queryset(self):
        return access.tasks_visible_to(self.request.user).select_related(
            "plan", "entity").prefetch_related(
            Prefetch("members", queryset=TaskMember.objects.select_related("inspector")),
            Prefetch("plan__items", queryset=ChecklistItem.objects.order_by("position")),
            Prefetch("item_results", queryset=TaskItem.objects.order_by("item__position")),
            "evidence")

    def _read(self, task_id: int) -> Response:
        fresh = self.get_queryset().get(pk=task_id)
        return Response(InspectionTaskSerializer(
            fresh, context=self.get_serializer_context()).data)

    @extend_schema(request=TaskRecordSerializer, responses={200: InspectionTaskSerializer})
    @decorators.action(detail=True, methods=["post"], filter_backends=[], pagination_class=None)
    def record(self, request, pk=None):
        """Save the checklist results, the outcome and the findings (as often as needed
        until completion; a change voids the signatures)."""
        task = self.get_object()
        ser = TaskRecordSerializer(data=request.data)
        ser.is_valid(raise_exception=True)
        d = ser.validated_data
        items = {i["item"]: (i["result"], i["note"]) for i in d["items"]}
        service_call(services.task_record, actor=request.user, task_id=task.pk, items=items,
                     outcome=d["outcome"], summary=d["summary"],
                     firm_representative=d["firm_representative"])
        return self._read(task.pk)

    @extend_schema(request=None, responses={200: InspectionTaskSerializer})
    @decorators.action(detail=True, methods=["post"], filter_backends=[], pagination_class=None)
    def sign(self, request, pk=None):
        """Sign the current record (each member of the team)."""
        task = self.get_object()
        service_call(services.task_sign, actor=request.user, task_id=task.pk)
        return self._read(task.pk)

    @extend_schema(request=None, responses={200: InspectionTaskSerializer})
    @decorators.action(detail=True, methods=["post"], filter_backends=[], pagination_class=None)
    def complete(self, request, pk=None):
        """Close the inspection once every member has signed this very record; the
        result is then published."""
        task = self.get_object()
        service_call(services.task_complete, actor=request.user, task_id=task.pk)
        return self._read(task.pk)

    @extend_schema(
        request={"multipart/form-data": {"type": "object", "properties": {
            "file": {"type": "string", "format": "binary"}}, "required": ["file"]}},
        responses={201: EvidenceSerializer})
    @decorators.action(detail=True, methods=["post"], filter_backends=[], pagination_class=None,
                       parser_classes=[parsers.MultiPartParser])
    def evidence(self, request, pk=None):
        """Upload a photo or document taken during the inspection (multipart field
        `file`, at most 20 MB); it is kept with its SHA-256."""
        task = self.get_object()
        upload = request.FILES.get("file")
        if upload is None:
            raise exceptions.ValidationError({"file": [_("Attach the file.")]})
        ev = service_call(services.evidence_add, actor=request.user, task_id=task.pk,
                          upload=upload)
        return Response(EvidenceSerializer(ev).data, status=201)


# --- public results ---------------------------------------------------------------------------

def _category_and_ancestors(code: str) -> set[str]:
    """A plan on "electrical" covers "electrical.cable": results of plans on the category,
    a subcategory or a parent category."""
    parts = code.split(".")
    return {".".join(parts[:i]) for i in range(1, len(parts) + 1)} | \
        ProductCategory.objects.expand([code])


class ResultFilter(filters.FilterSet):
    q = filters.CharFilter(method="search", label=gettext_lazy("firm name or USCC"))
    category = filters.CharFilter(method="in_category", label=gettext_lazy(
        "product category code: results of plans on it, its subcategories or parents"))
    division = filters.CharFilter(method="in_division",
                                  label=gettext_lazy("division code or prefix"))
    completed_from = filters.DateFilter(field_name="completed_at", lookup_expr="date__gte",
                                        label=gettext_lazy("inspected on or after"))
    completed_to = filters.DateFilter(field_name="completed_at", lookup_expr="date__lte",
                                      label=gettext_lazy("inspected on or before"))
    plan = filters.CharFilter(field_name="plan__code", label=gettext_lazy("plan number"))

    class Meta:
        model = Task
        fields = ["q", "category", "division", "completed_from", "completed_to", "plan",
                  "outcome"]

    def search(self, qs, name, value):
        value = value.strip()[:60]
        if not value:
            return qs
        return qs.filter(Q(entity__name__contains=value)
                         | Q(entity__uscc__startswith=value.upper()))

    def in_category(self, qs, name, value):
        codes = _category_and_ancestors(value.strip())
        return qs.filter(plan__in=InspectionPlan.objects.filter(
            categories__code__in=codes).values("pk"))

    def in_division(self, qs, name, value):
        value = value.strip()
        if len(value) == 6 and value.isdigit():
            value = division_prefix(value)
        return qs.filter(entity__division__code__startswith=value)


class PublicResultSerializer(serializers.ModelSerializer):
    """A published inspection result (一公开) with what a citizen needs to check the draw
    that chose the firm."""

    plan = serializers.CharField(source="plan.code", read_only=True)
    plan_title = serializers.CharField(source="plan.title", read_only=True)
    department = serializers.CharField(source="plan.lead_department.name", read_only=True)
    bundle_url = serializers.SerializerMethodField()
    entity_uscc = serializers.CharField(source="entity.uscc", read_only=True)
    entity_name = serializers.CharField(source="entity.name", read_only=True)
    division = serializers.CharField(source="entity.division_id", read_only=True)
    division_name = serializers.CharField(source="entity.division.name", read_only=True)
    outcome = choice_field(Outcome, "OutcomeEnum", read_only=True, allow_blank=True)
    completed_on = serializers.SerializerMethodField()

    class Meta:
        model = Task
        fields = ["id", "plan", "plan_title", "department", "draw", "bundle_url",
                  "entity_uscc", "entity_name", "division", "division_name", "outcome",
                  "summary", "completed_on", "published_at", "record_sha256"]
        read_only_fields = fields

    @extend_schema_field(OpenApiTypes.URI)
    def get_bundle_url(self, task) -> str:
        return bundle_url(self.context.get("request"), task.draw_id)

    @extend_schema_field(OpenApiTypes.DATE)
    def get_completed_on(self, task):
        return timezone.localtime(task.completed_at).date() if task.completed_at else None


class PublicResultViewSet(viewsets.ReadOnlyModelViewSet):
    """Completed and published inspection results (一公开): anyone may search them, by firm
    name or USCC, product category, division and inspection date."""

    serializer_class = PublicResultSerializer
    permission_classes = [permissions.AllowAny]
    authentication_classes = []
    throttle_classes = [PublicReadThrottle]
    filterset_class = ResultFilter
    ordering_fields = ["published_at", "completed_at"]

    def get_queryset(self):
        return access.results_public().select_related(
            "plan__lead_department", "entity__division").order_by("-published_at", "-id")


router = SimpleRouter()
router.register("inspection-plans", PlanViewSet, basename="inspection-plan")
router.register("draws", DrawViewSet, basename="draw")
router.register("inspection-tasks", TaskViewSet, basename="inspection-task")
router.register("public/inspection-results", PublicResultViewSet,
                basename="public-inspection-result")
