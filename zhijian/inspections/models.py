"""双随机一公开: random inspection plans, their verifiable draws, the inspection tasks and
their published results (MISSION M3.2, with M3.1 flying inspections, M3.3 joint plans and
M3.4 class-differentiated ratios)."""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from .choices import (
    OPEN_STATUSES,
    DrawStatus,
    ItemResult,
    LicenceFilter,
    Outcome,
    PlanKind,
    PlanStatus,
    TaskStatus,
)


class PlanQuerySet(models.QuerySet):
    def with_department(self, department_id: int):
        return self.filter(departments__id=department_id).distinct()

    def overlapping(self, start, end):
        """Plans whose inspection period meets the days from `start` to `end`."""
        return self.filter(period_start__lte=end, period_end__gte=start)


class InspectionPlan(models.Model):
    """A random inspection plan (双随机抽查计划): scope, checklist, period and sampling ratio
    per class. Several departments may join one plan so that a selected firm gets one
    visit covering every checklist (联合抽查, 进一次门、查多项事)."""

    code = models.CharField(_("plan number"), max_length=30, unique=True)
    title = models.CharField(_("title"), max_length=200)
    kind = models.CharField(_("kind"), max_length=10, choices=PlanKind.choices,
                            default=PlanKind.ROUTINE)
    lead_department = models.ForeignKey(
        "registry.Department", on_delete=models.PROTECT, related_name="led_plans",
        verbose_name=_("lead department"),
    )
    departments = models.ManyToManyField(
        "registry.Department", related_name="inspection_plans",
        verbose_name=_("participating departments"),
    )
    categories = models.ManyToManyField(
        "registry.ProductCategory", related_name="+", verbose_name=_("product categories"),
    )
    division_prefixes = models.JSONField(
        _("divisions"), default=list,
        help_text=_("GB/T 2260 codes of the cities or counties in scope"),
    )
    entity_types = models.JSONField(_("entity types"), default=list, blank=True,
                                    help_text=_("empty: every type"))
    licence_filter = models.CharField(_("production licence"), max_length=12,
                                      choices=LicenceFilter.choices, default=LicenceFilter.ANY)
    period_start = models.DateField(_("period starts"))
    period_end = models.DateField(_("period ends"))
    ratios = models.JSONField(
        _("sampling ratio per class"),
        help_text=_("basis points per class: 300 = 3 %, 10000 = all"),
    )
    stratify_by_city = models.BooleanField(
        _("stratify by city"), default=False,
        help_text=_("draw each city's share separately, so that every city is covered"),
    )
    exclusion_months = models.PositiveSmallIntegerField(
        _("skip entities inspected within (months)"), default=12)
    team_size = models.PositiveSmallIntegerField(_("inspectors per firm"), default=2)
    workload_cap = models.PositiveSmallIntegerField(_("maximum firms per inspector"),
                                                    default=10)
    task_days = models.PositiveSmallIntegerField(
        _("working days to complete a task"), default=20)
    status = models.CharField(_("status"), max_length=12, choices=PlanStatus.choices,
                              default=PlanStatus.DRAFT)
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True,
                                   on_delete=models.SET_NULL, related_name="+")
    created_at = models.DateTimeField(default=timezone.now)

    objects = PlanQuerySet.as_manager()

    class Meta:
        ordering = ["-created_at", "-id"]
        verbose_name = _("random inspection plan")
        verbose_name_plural = _("random inspection plans")
        constraints = [
            models.CheckConstraint(name="plan_period_in_order",
                                   condition=Q(period_end__gte=models.F("period_start"))),
        ]

    def __str__(self) -> str:
        return f"{self.code} {self.title}"

    @property
    def current_draw(self) -> Draw | None:
        return self.draws.exclude(status=DrawStatus.SUPERSEDED).order_by("-number").first()


class ChecklistItem(models.Model):
    """One item of a participating department's checklist (检查事项)."""

    plan = models.ForeignKey(InspectionPlan, on_delete=models.CASCADE, related_name="items")
    department = models.ForeignKey("registry.Department", on_delete=models.PROTECT,
                                   related_name="+", verbose_name=_("department"))
    position = models.PositiveSmallIntegerField(_("position"))
    text = models.CharField(_("checklist item"), max_length=300)

    class Meta:
        ordering = ["plan_id", "position"]
        constraints = [models.UniqueConstraint(fields=["plan", "position"],
                                               name="checklist_position_unique")]
        verbose_name = _("checklist item")
        verbose_name_plural = _("checklist items")

    def __str__(self) -> str:
        return self.text


class InspectorConflict(models.Model):
    """A declared conflict of interest (回避): the inspector is never drawn for the firm."""

    inspector = models.ForeignKey("registry.Inspector", on_delete=models.CASCADE,
                                  related_name="conflicts", verbose_name=_("inspector"))
    entity = models.ForeignKey("registry.MarketEntity", on_delete=models.CASCADE,
                               related_name="inspector_conflicts", verbose_name=_("entity"))
    reason = models.CharField(_("reason"), max_length=200)
    declared_at = models.DateTimeField(default=timezone.now)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["inspector", "entity"],
                                               name="conflict_once")]
        verbose_name = _("declared conflict of interest")
        verbose_name_plural = _("declared conflicts of interest")


class DrawQuerySet(models.QuerySet):
    def public(self):
        """Every committed draw is public: the commitment from the moment it is made, the
        bundle once the seed is in."""
        return self.all()

    def drawn(self):
        """Draws that stand: seeded and drawn, not superseded by a redraw."""
        return self.filter(status=DrawStatus.DRAWN)

    def latest_drawn(self):
        return self.drawn().order_by("-seeded_at", "-id").first()


class Draw(models.Model):
    """One draw of a plan: the frozen register and pool with their commitment, the seed
    entered after it, and the result (the published bundle, docs/draw-algorithm.md). A
    redraw is a new Draw with a reason; the old one stays, marked superseded."""

    plan = models.ForeignKey(InspectionPlan, on_delete=models.PROTECT, related_name="draws")
    number = models.PositiveSmallIntegerField(_("draw number"))
    status = models.CharField(_("status"), max_length=12, choices=DrawStatus.choices,
                              default=DrawStatus.COMMITTED)
    plan_snapshot = models.JSONField()
    frame = models.JSONField()
    pool = models.JSONField()
    commitment = models.JSONField()
    commitment_sha256 = models.CharField(_("commitment"), max_length=64, unique=True)
    committed_at = models.DateTimeField(_("committed at"))
    committed_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True,
                                     on_delete=models.SET_NULL, related_name="+")
    dice = models.CharField(_("dice rolls"), max_length=200, blank=True)
    beacon = models.CharField(_("public beacon value"), max_length=200, blank=True)
    witnesses = models.CharField(_("witnesses"), max_length=300, blank=True)
    seed = models.CharField(_("seed"), max_length=64, blank=True)
    seeded_at = models.DateTimeField(_("seed entered at"), null=True, blank=True)
    seeded_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True,
                                  on_delete=models.SET_NULL, related_name="+")
    result = models.JSONField(null=True, blank=True)
    failures = models.JSONField(default=list, blank=True)
    redraw_of = models.OneToOneField("self", null=True, blank=True, on_delete=models.PROTECT,
                                     related_name="redrawn_as")
    redraw_reason = models.CharField(_("reason for the redraw"), max_length=500, blank=True)
    rule_versions = models.JSONField(default=dict)

    objects = DrawQuerySet.as_manager()

    class Meta:
        ordering = ["-committed_at", "-id"]
        constraints = [
            models.UniqueConstraint(fields=["plan", "number"], name="draw_number_unique"),
            models.UniqueConstraint(fields=["plan"], condition=~Q(status="superseded"),
                                    name="one_live_draw_per_plan"),
        ]
        verbose_name = _("draw")
        verbose_name_plural = _("draws")

    def __str__(self) -> str:
        return f"{self.plan.code} #{self.number}"

    def disclosed(self, today=None) -> bool:
        """Whether who was drawn is public. At once for a routine inspection; for a flying
        inspection (飞行检查, unannounced) only when the plan has no open task left or its
        period has ended, so that no firm is warned. Until then the public sees the
        commitment but neither the seed nor the result (with the frozen register, the seed
        would tell who was drawn)."""
        if self.plan.kind != PlanKind.FLYING:
            return True
        if (today or timezone.localdate()) > self.plan.period_end:
            return True
        return self.status != DrawStatus.COMMITTED and not self.plan.tasks.open().exists()

    def masked(self) -> Draw:
        """A copy for public display whose seed and result are withheld (see disclosed())."""
        from copy import copy

        masked = copy(self)
        masked.dice = masked.beacon = masked.witnesses = masked.seed = ""
        masked.seeded_at, masked.result, masked.failures = None, None, []
        # The frozen register and pool stay behind their published hashes: with a high
        # ratio, the register alone would say which firms will be visited.
        masked.frame = {"strata": [], "entities": [], "excluded": []}
        masked.pool = {"inspectors": [], "conflicts": [], "team_size": self.pool["team_size"],
                       "workload_cap": self.pool["workload_cap"]}
        masked.withheld = True
        return masked

    def bundle(self) -> dict:
        """Everything a third party needs to recompute this draw (docs/draw-algorithm.md)."""
        from .draw import FORMAT

        data = {
            "format": FORMAT,
            "plan": self.plan_snapshot,
            "frame": self.frame,
            "pool": self.pool,
            "commitment": self.commitment,
        }
        if self.seed:
            data["seed"] = {"dice": self.dice, "beacon": self.beacon,
                            "entered_at": self.seeded_at.isoformat(), "sha256": self.seed}
        if self.result is not None:
            data["result"] = self.result
        return data


class TaskQuerySet(models.QuerySet):
    def open(self):
        return self.filter(status__in=OPEN_STATUSES)

    def overdue(self, today=None):
        return self.open().filter(due_on__lt=today or timezone.localdate())

    def published(self):
        return self.filter(status=TaskStatus.COMPLETED, published_at__isnull=False)

    def completed_between(self, start, end):
        """Inspections completed from `start` to `end` (dates, both included)."""
        return self.filter(status=TaskStatus.COMPLETED, completed_at__date__gte=start,
                           completed_at__date__lte=end)

    def publication_overdue(self, today=None):
        """Completed results past their legal publication date and still not published."""
        return self.filter(status=TaskStatus.COMPLETED, published_at__isnull=True,
                           publish_due__lt=today or timezone.localdate())

    def for_inspector_user(self, user):
        return self.filter(members__inspector__user=user).distinct()


class Task(models.Model):
    """One selected firm's inspection (检查任务): the team, the checklist results, the
    outcome, the evidence and the signatures; published when completed."""

    draw = models.ForeignKey(Draw, on_delete=models.PROTECT, related_name="tasks")
    plan = models.ForeignKey(InspectionPlan, on_delete=models.PROTECT, related_name="tasks")
    entity = models.ForeignKey("registry.MarketEntity", on_delete=models.PROTECT,
                               related_name="inspection_tasks", verbose_name=_("entity"))
    stratum = models.CharField(_("stratum"), max_length=40)
    rank = models.PositiveIntegerField(_("rank in stratum"))
    status = models.CharField(_("status"), max_length=12, choices=TaskStatus.choices,
                              default=TaskStatus.ASSIGNED)
    due_on = models.DateField(_("due on"))
    started_at = models.DateTimeField(null=True, blank=True)
    outcome = models.CharField(_("outcome"), max_length=16, choices=Outcome.choices,
                               blank=True)
    summary = models.TextField(_("findings"), blank=True)
    firm_representative = models.CharField(_("firm representative present"), max_length=50,
                                           blank=True)
    completed_at = models.DateTimeField(_("completed at"), null=True, blank=True)
    record_sha256 = models.CharField(_("record digest"), max_length=64, blank=True)
    publish_due = models.DateField(_("publication due"), null=True, blank=True)
    publication_rule = models.CharField(max_length=40, blank=True)
    published_at = models.DateTimeField(_("published at"), null=True, blank=True)

    objects = TaskQuerySet.as_manager()

    class Meta:
        ordering = ["due_on", "id"]
        constraints = [models.UniqueConstraint(fields=["draw", "entity"],
                                               name="task_once_per_draw")]
        indexes = [models.Index(fields=["status", "due_on"]),
                   models.Index(fields=["published_at"])]
        verbose_name = _("inspection task")
        verbose_name_plural = _("inspection tasks")

    def __str__(self) -> str:
        return f"{self.plan.code} {self.entity.name}"

    @property
    def is_overdue(self) -> bool:
        return self.status in OPEN_STATUSES \
            and self.due_on < timezone.localdate()


class TaskMember(models.Model):
    """An inspector drawn for a task, in the slot order of the draw."""

    task = models.ForeignKey(Task, on_delete=models.CASCADE, related_name="members")
    inspector = models.ForeignKey("registry.Inspector", on_delete=models.PROTECT,
                                  related_name="task_memberships")
    slot = models.PositiveSmallIntegerField()
    signed_at = models.DateTimeField(_("signed at"), null=True, blank=True)
    signed_digest = models.CharField(max_length=64, blank=True)

    class Meta:
        ordering = ["task_id", "slot"]
        constraints = [models.UniqueConstraint(fields=["task", "inspector"],
                                               name="member_once")]


class TaskItem(models.Model):
    """The result of one checklist item in one task."""

    task = models.ForeignKey(Task, on_delete=models.CASCADE, related_name="item_results")
    item = models.ForeignKey(ChecklistItem, on_delete=models.PROTECT, related_name="+")
    result = models.CharField(_("result"), max_length=16, choices=ItemResult.choices)
    note = models.CharField(_("note"), max_length=500, blank=True)

    class Meta:
        ordering = ["task_id", "item__position"]
        constraints = [models.UniqueConstraint(fields=["task", "item"],
                                               name="task_item_once")]


def evidence_path(instance: Evidence, filename: str) -> str:
    return f"inspections/{instance.task_id}/{instance.sha256}/{filename}"


class Evidence(models.Model):
    """A photo or file taken during the inspection, kept with its SHA-256."""

    task = models.ForeignKey(Task, on_delete=models.PROTECT, related_name="evidence")
    file = models.FileField(_("file"), upload_to=evidence_path, max_length=300)
    name = models.CharField(_("file name"), max_length=200)
    size = models.PositiveBigIntegerField()
    sha256 = models.CharField(max_length=64)
    content_type = models.CharField(max_length=100, blank=True)
    uploaded_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True,
                                    on_delete=models.SET_NULL, related_name="+")
    uploaded_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["task_id", "uploaded_at", "id"]
        verbose_name = _("evidence")
        verbose_name_plural = _("evidence")
