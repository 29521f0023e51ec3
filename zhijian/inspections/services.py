"""Writes of the random-inspection module. Each function runs in one transaction, checks
the actor's right to act, writes, audits and publishes its domain event; the draw itself
is the pure module `draw.py`."""

from __future__ import annotations

import datetime as dt
import re
from collections import defaultdict

from django.core.exceptions import ValidationError
from django.db import transaction
from django.db.models import Count, Max, Q
from django.utils import timezone
from django.utils.translation import gettext as _

from zhijian.core import audit, calendar, events, rules
from zhijian.core.access import Denied, scope_of
from zhijian.core.models import Division
from zhijian.core.services import upload_sha256
from zhijian.registry.choices import EntityStatus, EntityType, RiskClass
from zhijian.registry.models import Department, Inspector, MarketEntity, ProductCategory

from . import access, draw
from .choices import (
    OPEN_STATUSES,
    PROBLEM_OUTCOMES,
    DrawStatus,
    ItemResult,
    LicenceFilter,
    Outcome,
    PlanStatus,
    TaskStatus,
)
from .models import (
    ChecklistItem,
    Draw,
    Evidence,
    InspectionPlan,
    InspectorConflict,
    Task,
    TaskItem,
    TaskMember,
)

PLAN_FIELDS = [
    "title", "kind", "lead_department", "division_prefixes", "entity_types", "licence_filter",
    "period_start", "period_end", "ratios", "stratify_by_city", "exclusion_months",
    "team_size", "workload_cap", "task_days",
]
CLASSES = [c.value for c in RiskClass]
MIN_DICE = 10
MAX_EVIDENCE_BYTES = 20 * 1024 * 1024


def _snapshot(plan: InspectionPlan) -> dict:
    return {
        **audit.snapshot(plan, PLAN_FIELDS + ["code", "status"]),
        "departments": sorted(plan.departments.values_list("code", flat=True)),
        "categories": sorted(plan.categories.values_list("code", flat=True)),
        "checklist": [[i.department.code, i.text] for i in plan.items.select_related("department")],
    }


# --- plans ------------------------------------------------------------------------------------

def _validate_plan(data: dict, departments: list[Department], categories: list, checklist):
    errors: dict[str, str] = {}
    if not categories:
        errors["categories"] = _("Choose at least one product category: the scope is empty.")
    prefixes = data.get("division_prefixes") or []
    if not prefixes:
        errors["division_prefixes"] = _("Choose at least one city or county: the scope is empty.")
    else:
        known = set(Division.objects.current().filter(
            code__in=[p.ljust(6, "0") for p in prefixes]).values_list("code", flat=True))
        bad = [p for p in prefixes if p.ljust(6, "0") not in known]
        if bad:
            errors["division_prefixes"] = _(
                "%(codes)s is not a current division code; use a 2-, 4- or 6-digit GB/T 2260 "
                "code of the province, a city or a county.") % {"codes": ", ".join(bad)}
    types = data.get("entity_types") or []
    if set(types) - set(EntityType.values):
        errors["entity_types"] = _("Unknown entity type: choose among %(types)s.") % {
            "types": ", ".join(EntityType.values)}
    ratios = data.get("ratios")
    if not isinstance(ratios, dict) or set(ratios) != set(CLASSES):
        errors["ratios"] = _("Give a sampling ratio for each class A, B, C and D.")
    elif any(not isinstance(v, int) or isinstance(v, bool) or not 0 <= v <= 10000
             for v in ratios.values()):
        errors["ratios"] = _("Each ratio must be between 0 % and 100 %.")
    elif not any(ratios.values()):
        errors["ratios"] = _("At least one class needs a ratio above 0 %: nothing would be drawn.")
    start, end = data.get("period_start"), data.get("period_end")
    if start and end and end < start:
        errors["period_end"] = _("The period ends before it starts.")
    minimum = rules.value("inspections.min_team_size", start or timezone.localdate())
    if (data.get("team_size") or 0) < minimum:
        errors["team_size"] = _("At least %(n)d inspectors must visit each firm.") % {"n": minimum}
    if (data.get("workload_cap") or 0) < 1:
        errors["workload_cap"] = _("Each inspector must be able to take at least one firm.")
    lead = data.get("lead_department")
    if lead is not None:
        own = lead.division.prefix
        outside = [p for p in prefixes if not p.startswith(own)]
        if outside and "division_prefixes" not in errors:  # an unknown code is said first
            errors["division_prefixes"] = _(
                "%(codes)s is outside the lead department's jurisdiction (%(own)s…).") % {
                "codes": ", ".join(outside), "own": own}
        strangers = [d.name for d in departments
                     if not (d.division.prefix.startswith(own) or own.startswith(d.division.prefix))]
        if strangers:
            errors["departments"] = _(
                "%(names)s works outside the lead department's jurisdiction.") % {
                "names": "、".join(strangers)}
    if lead and lead not in departments:
        errors["departments"] = _("The lead department must take part in the plan.")
    kinds = [d.kind for d in departments]
    if len(set(kinds)) != len(kinds):
        errors["departments"] = _(
            "Join one department per kind; the most local one of that kind serves each firm.")
    covered = {d for d, _text in checklist}
    missing = [d.name for d in departments if d.pk not in covered]
    if not checklist:
        errors["checklist"] = _("Add at least one checklist item.")
    elif missing:
        errors["checklist"] = _("Each participating department needs checklist items: "
                                "%(names)s has none.") % {"names": "、".join(missing)}
    if errors:
        raise ValidationError(errors)


def _require_lead(actor, plan: InspectionPlan | None, lead: Department) -> None:
    scope = scope_of(actor)
    if scope.is_admin:
        return
    if not scope.is_regulator or actor.department_id != lead.pk:
        raise Denied(_("Only officers of the lead department can plan and change this "
                       "inspection."), field="lead_department")
    if plan is not None and plan.lead_department_id != actor.department_id:
        raise Denied(_("Only officers of the lead department can change this plan."))


@transaction.atomic
def plan_save(*, actor, data: dict, departments: list[Department], categories: list,
              checklist: list[tuple[int, str]], plan: InspectionPlan | None = None,
              ) -> InspectionPlan:
    """Create a draft plan or change one. `checklist` is [(department id, item text)]."""
    data = {k: v for k, v in data.items() if k in PLAN_FIELDS}
    lead = data.get("lead_department") or (plan.lead_department if plan else None)
    if lead is None:
        raise ValidationError({"lead_department": _("Choose the lead department.")})
    _require_lead(actor, plan, lead)
    if plan is not None:
        plan = InspectionPlan.objects.select_for_update().get(pk=plan.pk)
        if plan.status != PlanStatus.DRAFT:
            raise ValidationError(_("A published plan cannot be changed; redraw it with a "
                                    "reason instead."))
        before = _snapshot(plan)
    else:
        before = None
        plan = InspectionPlan(created_by=actor)
    for name, value in data.items():
        setattr(plan, name, value)
    merged = {name: getattr(plan, name, None) for name in PLAN_FIELDS}
    merged["lead_department"] = lead
    _validate_plan(merged, departments, categories, checklist)
    if not plan.code:
        plan.code = _next_code(plan.period_start.year)
    plan.full_clean(exclude=["departments", "categories"])
    plan.save()
    plan.departments.set(departments)
    plan.categories.set(categories)
    plan.items.all().delete()
    ChecklistItem.objects.bulk_create(
        ChecklistItem(plan=plan, department_id=d, position=i, text=text.strip())
        for i, (d, text) in enumerate(checklist, start=1))
    audit.append(audit.Change(
        "plan.created" if before is None else "plan.updated", "inspections.inspectionplan",
        str(plan.pk), before, _snapshot(plan), division=lead.division_id), actor=actor)
    return plan


def _next_code(year: int) -> str:
    prefix = f"SJ-{year}-"
    last = (InspectionPlan.objects.select_for_update().filter(code__startswith=prefix)
            .aggregate(m=Max("code"))["m"])
    return f"{prefix}{int(last[len(prefix):]) + 1 if last else 1:04d}"


@transaction.atomic
def plan_publish(*, actor, plan: InspectionPlan, now: dt.datetime | None = None) -> Draw:
    """Freeze the target register and the inspector pool and publish their commitment.
    Refused, with the firms and reasons, if some firm could never be given a team.
    (`now`, here and below, defaults to the clock; the demo passes it to date its history.)"""
    plan = InspectionPlan.objects.select_for_update().get(pk=plan.pk)
    _require_lead(actor, plan, plan.lead_department)
    if plan.status != PlanStatus.DRAFT:
        raise ValidationError(_("This plan is already published."))
    d = _commit(plan, actor=actor, number=1, now=now)
    plan.status = PlanStatus.PUBLISHED
    plan.save(update_fields=["status"])
    audit.append(audit.Change("plan.published", "inspections.inspectionplan", str(plan.pk),
                              {"status": PlanStatus.DRAFT},
                              {"status": plan.status, "commitment": d.commitment_sha256},
                              division=plan.lead_department.division_id), actor=actor)
    events.publish("plan.published", aggregate=plan, payload={"draw": d.pk})
    return d


class Infeasible(ValidationError):
    """The pool cannot serve the register; `failures` as in draw.feasibility()."""

    def __init__(self, failures: list[dict]):
        self.failures = failures
        super().__init__(_("%(n)d firms in scope could never be given a full inspector team; "
                           "add or qualify inspectors, or narrow the scope, then publish "
                           "again.") % {"n": len(failures)})


def _commit(plan: InspectionPlan, *, actor, number: int, redraw_of: Draw | None = None,
            reason: str = "", now: dt.datetime | None = None) -> Draw:
    today = timezone.localdate(now)
    frame = frame_build(plan, today)
    pool = pool_build(plan, frame)
    if not frame["entities"]:
        raise ValidationError(_("No entity is in the scope of this plan (after exclusions): "
                                "widen the categories or divisions."))
    failures = draw.feasibility(frame, pool)
    if failures:
        raise Infeasible(failures)
    snapshot = plan_snapshot(plan)
    if redraw_of is not None:
        snapshot["redraw_of"] = {"commitment": redraw_of.commitment_sha256,
                                 "number": redraw_of.number, "reason": reason}
    now = now or timezone.now()
    commitment = {**draw.commitment(snapshot, frame, pool), "published_at": now.isoformat()}
    return Draw.objects.create(
        plan=plan, number=number, plan_snapshot=snapshot, frame=frame, pool=pool,
        commitment=commitment, commitment_sha256=commitment["sha256"], committed_at=now,
        committed_by=actor, redraw_of=redraw_of, redraw_reason=reason,
        rule_versions=snapshot["rules"])


def plan_snapshot(plan: InspectionPlan) -> dict:
    on = plan.period_start
    return {
        "code": plan.code, "title": plan.title, "kind": plan.kind,
        "lead_department": plan.lead_department.code,
        "departments": sorted(plan.departments.values_list("code", flat=True)),
        "categories": sorted(plan.categories.values_list("code", flat=True)),
        "divisions": sorted(plan.division_prefixes),
        "entity_types": sorted(plan.entity_types), "licence_filter": plan.licence_filter,
        "period": [plan.period_start.isoformat(), plan.period_end.isoformat()],
        "ratios_bp": {k: plan.ratios[k] for k in CLASSES},
        "stratify_by_city": plan.stratify_by_city,
        "exclusion_months": plan.exclusion_months, "task_days": plan.task_days,
        "checklist": [[i.department.code, i.text] for i in plan.items.select_related("department")],
        "rules": {"inspections.min_team_size":
                  rules.get("inspections.min_team_size", on).version},
    }


# --- the frozen register and pool -------------------------------------------------------------

def scope_entities(plan: InspectionPlan):
    """Entities in the plan's scope, before exclusions."""
    codes = ProductCategory.objects.expand(plan.categories.values_list("code", flat=True))
    q = Q()
    for prefix in plan.division_prefixes:
        q |= Q(division__code__startswith=prefix)
    qs = MarketEntity.objects.filter(q, status=EntityStatus.ACTIVE).filter(
        pk__in=MarketEntity.categories.through.objects.filter(
            productcategory__code__in=codes).values("marketentity_id"))
    if plan.entity_types:
        qs = qs.filter(entity_type__in=plan.entity_types)
    if plan.licence_filter == LicenceFilter.HOLDERS:
        qs = qs.filter(licence_holder=True)
    elif plan.licence_filter == LicenceFilter.NON_HOLDERS:
        qs = qs.filter(licence_holder=False)
    return qs, codes


def frame_build(plan: InspectionPlan, today: dt.date) -> dict:
    """The target register (§1 of docs/draw-algorithm.md): strata, entities, exclusions."""
    qs, codes = scope_entities(plan)
    departments = list(plan.departments.select_related("division"))
    sectors = {d.pk: (None if d.all_sectors else ProductCategory.objects.expand(
        d.sectors.values_list("code", flat=True))) for d in departments}
    kinds_order = [plan.lead_department.kind] + sorted(
        {d.kind for d in departments} - {plan.lead_department.kind})
    qualification = dict(ProductCategory.objects.filter(code__in=codes)
                         .exclude(qualification="").values_list("code", "qualification"))
    since = months_before(today, plan.exclusion_months)
    recent = dict(Task.objects.filter(status=TaskStatus.COMPLETED, completed_at__date__gte=since)
                  .values("entity_id").annotate(last=Max("completed_at"))
                  .values_list("entity_id", "last"))
    open_elsewhere = set(Task.objects.open().values_list("entity_id", flat=True))
    last_team = _last_teams()

    entity_categories: dict[int, list[str]] = defaultdict(list)
    for eid, code in MarketEntity.categories.through.objects.filter(
            marketentity__in=qs, productcategory__code__in=codes).values_list(
            "marketentity_id", "productcategory__code"):
        entity_categories[eid].append(code)

    entities, excluded = [], []
    classes = {c: plan.ratios[c] for c in CLASSES}
    strata_keys = set()
    # The stratum is the entity's credit class (its credit rating's class, or the initial
    # class before the first rating) as it stands now: the frame is built once, at the
    # draw, and stored with it, so a later re-rating does not change a published draw.
    for e in qs.with_credit_class().order_by("uscc").values(
            "pk", "uscc", "division_id", "credit_class"):
        uscc, division = e["uscc"], e["division_id"]
        if e["pk"] in open_elsewhere:
            excluded.append({"uscc": uscc, "reason": "open_task"})
            continue
        if e["pk"] in recent:
            excluded.append({"uscc": uscc, "reason": "inspected_recently",
                             "last": timezone.localtime(recent[e["pk"]]).date().isoformat()})
            continue
        cats = entity_categories[e["pk"]]
        serving = []
        for kind in kinds_order:
            local = [d for d in departments if d.kind == kind
                     and division.startswith(d.division.prefix)
                     and (sectors[d.pk] is None or sectors[d.pk].intersection(cats))]
            if local:
                serving.append(max(local, key=lambda d: len(d.division.prefix)).code)
        if not serving:
            excluded.append({"uscc": uscc, "reason": "no_department"})
            continue
        stratum = f"{division[:4]}00-{e['credit_class']}" if plan.stratify_by_city \
            else e["credit_class"]
        strata_keys.add(stratum)
        entities.append({
            "uscc": uscc, "stratum": stratum, "weight": 1, "division": division,
            "departments": serving,
            "requires": sorted({qualification[c] for c in cats if c in qualification}),
            "previous": last_team.get(e["pk"], []),
        })
    strata = [{"key": k, "ratio_bp": classes[k[-1]]} for k in sorted(strata_keys)]
    return {"strata": strata, "entities": entities, "excluded": excluded}


def months_before(day: dt.date, months: int) -> dt.date:
    """The same day `months` calendar months earlier (the last day of a shorter month)."""
    y, m = divmod(day.year * 12 + day.month - 1 - months, 12)
    m += 1
    for d in (day.day, 30, 29, 28):
        try:
            return dt.date(y, m, min(day.day, d))
        except ValueError:
            continue
    raise AssertionError("unreachable")


def _last_teams() -> dict[int, list[str]]:
    """Badges of the team of each entity's latest completed inspection (no inspector
    visits the same firm twice in a row)."""
    latest = (Task.objects.filter(status=TaskStatus.COMPLETED).values("entity_id")
              .annotate(last=Max("id")).values_list("last", flat=True))
    teams: dict[int, list[str]] = defaultdict(list)
    for eid, badge in TaskMember.objects.filter(task_id__in=latest).values_list(
            "task__entity_id", "inspector__badge_number"):
        teams[eid].append(badge)
    return {k: sorted(v) for k, v in teams.items()}


def pool_build(plan: InspectionPlan, frame: dict) -> dict:
    inspectors = (Inspector.objects.filter(department__in=plan.departments.all(), active=True)
                  .select_related("department__division")
                  .annotate(open_tasks=Count("task_memberships", filter=Q(
                      task_memberships__task__status__in=[TaskStatus.ASSIGNED,
                                                          TaskStatus.IN_PROGRESS])))
                  .order_by("badge_number"))
    pool = [{"badge": i.badge_number, "department": i.department.code,
             "jurisdiction": i.department.division.prefix,
             "qualifications": sorted(i.qualifications), "load": i.open_tasks}
            for i in inspectors]
    usccs = {e["uscc"] for e in frame["entities"]}
    conflicts = sorted(
        ({"badge": b, "uscc": u} for b, u in InspectorConflict.objects.filter(
            inspector__in=inspectors).values_list("inspector__badge_number", "entity__uscc")
         if u in usccs), key=lambda c: (c["uscc"], c["badge"]))
    return {"team_size": plan.team_size, "workload_cap": plan.workload_cap,
            "inspectors": pool, "conflicts": conflicts}


# --- the seed and the draw --------------------------------------------------------------------

def normalise_dice(text: str) -> str:
    """Dice rolls as typed ("3 5 1, 6…") to the digits alone; refused unless every roll is
    1–6 and there are enough of them (10 rolls ≈ 26 bits; the beacon adds more)."""
    rolls = re.sub(r"[\s,，;；]+", "", text or "")
    if not rolls or not set(rolls) <= set("123456"):
        raise ValidationError({"dice": _("Enter the dice rolls as digits 1 to 6, for example "
                                         "“3 5 1 6 2 4 4 1 5 3”.")})
    if len(rolls) < MIN_DICE:
        raise ValidationError({"dice": _("Roll at least %(n)d dice; %(got)d entered.") % {
            "n": MIN_DICE, "got": len(rolls)}})
    return rolls


@transaction.atomic
def draw_seed(*, actor, draw_id: int, dice: str, beacon: str = "", witnesses: str = "",
              now: dt.datetime | None = None) -> Draw:
    """Enter the public inputs after the commitment, compute the seed and draw. If the
    teams cannot be formed the draw is recorded as failed with the reasons, and no task
    exists; a redraw is then needed."""
    d = Draw.objects.select_for_update().select_related("plan__lead_department").get(pk=draw_id)
    _require_lead(actor, d.plan, d.plan.lead_department)
    if d.status != DrawStatus.COMMITTED:
        raise ValidationError(_("This draw already has its seed; a draw is never made twice. "
                                "Redraw with a reason if it must be repeated."))
    rolls = normalise_dice(dice)
    beacon = (beacon or "").strip()
    if not witnesses.strip():
        raise ValidationError({"witnesses": _("Name the witnesses present when the dice were "
                                              "rolled.")})
    now = now or timezone.now()
    if now <= d.committed_at:
        raise ValidationError(_("The seed must be entered after the commitment was published."))
    d.dice, d.beacon, d.witnesses = rolls, beacon, witnesses.strip()
    d.seed = draw.seed_digest(d.commitment_sha256, rolls, beacon)
    d.seeded_at, d.seeded_by = now, actor
    try:
        d.result = draw.draw(d.seed, d.frame, d.pool)
    except draw.AssignmentError as exc:
        d.status, d.failures = DrawStatus.FAILED, exc.failures
    else:
        d.status = DrawStatus.DRAWN
        _create_tasks(d, now)
        d.plan.status = PlanStatus.DRAWN
        d.plan.save(update_fields=["status"])
    d.save()
    audit.append(audit.Change(
        f"draw.{d.status}", "inspections.draw", str(d.pk), {"status": DrawStatus.COMMITTED},
        {"status": d.status, "seed": d.seed, "dice": d.dice, "beacon": d.beacon,
         "witnesses": d.witnesses, "selected": len((d.result or {}).get("selected", [])),
         "failures": len(d.failures)},
        division=d.plan.lead_department.division_id), actor=actor)
    events.publish("draw.performed" if d.status == DrawStatus.DRAWN else "draw.failed",
                   aggregate=d, payload={"plan": d.plan_id})
    return d


def _create_tasks(d: Draw, now: dt.datetime | None = None) -> None:
    plan = d.plan
    due, _provisional = calendar.deadline(max(timezone.localdate(now), plan.period_start),
                                          plan.task_days)
    due = min(due, plan.period_end) if plan.period_end >= timezone.localdate(now) else due
    selected = d.result["selected"]
    entities = dict(MarketEntity.objects.filter(uscc__in=[s["uscc"] for s in selected])
                    .values_list("uscc", "pk"))
    inspectors = dict(Inspector.objects.filter(
        badge_number__in={b for s in selected for b in s["inspectors"]})
        .values_list("badge_number", "pk"))
    tasks = Task.objects.bulk_create(
        Task(draw=d, plan=plan, entity_id=entities[s["uscc"]], stratum=s["stratum"],
             rank=s["rank"], due_on=due) for s in selected)
    TaskMember.objects.bulk_create(
        TaskMember(task=t, inspector_id=inspectors[b], slot=i)
        for t, s in zip(tasks, selected, strict=True) for i, b in enumerate(s["inspectors"]))


@transaction.atomic
def draw_redraw(*, actor, draw_id: int, reason: str, now: dt.datetime | None = None) -> Draw:
    """Supersede a draw with a new commitment (register and pool frozen again), visibly and
    with a reason. Refused once any inspection of the old draw has started."""
    old = Draw.objects.select_for_update().select_related("plan__lead_department").get(
        pk=draw_id)
    plan = old.plan
    _require_lead(actor, plan, plan.lead_department)
    reason = (reason or "").strip()
    if len(reason) < 10:
        raise ValidationError({"reason": _("Explain in at least 10 characters why the draw "
                                           "is repeated; the reason is published.")})
    if old.status == DrawStatus.SUPERSEDED:
        raise ValidationError(_("This draw was already superseded."))
    started = old.tasks.exclude(status=TaskStatus.ASSIGNED).count()
    if started:
        raise ValidationError(_("%(n)d inspections of this draw have started; it can no "
                                "longer be redrawn.") % {"n": started})
    old.tasks.update(status=TaskStatus.CANCELLED)
    old.status = DrawStatus.SUPERSEDED
    old.save(update_fields=["status"])
    new = _commit(plan, actor=actor, number=old.number + 1, redraw_of=old, reason=reason,
                  now=now)
    plan.status = PlanStatus.PUBLISHED
    plan.save(update_fields=["status"])
    audit.append(audit.Change("draw.redrawn", "inspections.draw", str(old.pk),
                              {"status": "live"},
                              {"status": DrawStatus.SUPERSEDED, "redrawn_as": new.pk},
                              reason=reason, division=plan.lead_department.division_id),
                 actor=actor)
    events.publish("draw.redrawn", aggregate=new, payload={"plan": plan.pk, "old": old.pk})
    return new


# --- conflicts --------------------------------------------------------------------------------

@transaction.atomic
def conflict_declare(*, actor, inspector: Inspector, entity: MarketEntity,
                     reason: str) -> InspectorConflict:
    """The inspector (or an officer of their department) declares a conflict of interest."""
    scope = scope_of(actor)
    own = getattr(actor, "inspector", None) is not None and actor.inspector.pk == inspector.pk
    if not (scope.is_admin or own or (scope.is_regulator
                                      and actor.department_id == inspector.department_id)):
        raise Denied(_("Only the inspector or an officer of their department can declare "
                       "this conflict."))
    if not (reason or "").strip():
        raise ValidationError({"reason": _("Say what the conflict of interest is.")})
    c, created = InspectorConflict.objects.get_or_create(
        inspector=inspector, entity=entity, defaults={"reason": reason.strip()})
    if created:
        audit.record(c, action="conflict.declared", actor=actor, before=None,
                     division=entity.division_id)
    return c


# --- tasks ------------------------------------------------------------------------------------

def _lock_task(actor, task_id: int) -> Task:
    task = Task.objects.select_for_update().select_related("plan", "entity").get(pk=task_id)
    access.require_task_member(actor, task)
    return task


def task_record_digest(task: Task) -> str:
    """SHA-256 of the canonical record the team signs: outcome, findings, item results and
    evidence digests. Any change after signing voids the signatures."""
    record = {
        "task": task.pk, "entity": task.entity.uscc, "plan": task.plan.code,
        "outcome": task.outcome, "summary": task.summary,
        "firm_representative": task.firm_representative,
        "items": [[r.item_id, r.result, r.note] for r in task.item_results.order_by("item_id")],
        "evidence": sorted(task.evidence.values_list("sha256", flat=True)),
    }
    return draw.digest(record)


@transaction.atomic
def task_record(*, actor, task_id: int, items: dict[int, tuple[str, str]], outcome: str,
                summary: str = "", firm_representative: str = "",
                now: dt.datetime | None = None) -> Task:
    """Save the checklist results and the outcome (as often as needed until completion)."""
    task = _lock_task(actor, task_id)
    if task.status not in OPEN_STATUSES:
        raise ValidationError(_("This task is closed."))
    if outcome and outcome not in Outcome.values:
        raise ValidationError({"outcome": _("Choose one of the listed outcomes.")})
    plan_items = set(task.plan.items.values_list("pk", flat=True))
    unknown = set(items) - plan_items
    if unknown:
        raise ValidationError({"items": _("Checklist item %(id)s is not in this plan.") % {
            "id": min(unknown)}})
    for item_id, (result, note) in items.items():
        if result not in ItemResult.values:
            raise ValidationError({f"item_{item_id}": _("Choose conforms, does not conform or "
                                                        "not applicable.")})
        if result == ItemResult.NONCONFORMS and not (note or "").strip():
            raise ValidationError({f"item_{item_id}": _("Describe what does not conform.")})
    before = _task_state(task)
    for item_id, (result, note) in items.items():
        TaskItem.objects.update_or_create(task=task, item_id=item_id,
                                          defaults={"result": result, "note": note.strip()})
    task.outcome, task.summary = outcome or "", summary.strip()
    task.firm_representative = firm_representative.strip()
    if task.status == TaskStatus.ASSIGNED:
        task.status, task.started_at = TaskStatus.IN_PROGRESS, now or timezone.now()
    task.save()
    _void_signatures(task)
    audit.append(audit.Change("task.recorded", "inspections.task", str(task.pk), before,
                              _task_state(task), division=task.entity.division_id),
                 actor=actor)
    return task


def _task_state(task: Task) -> dict:
    return {"status": task.status, "outcome": task.outcome, "summary": task.summary,
            "firm_representative": task.firm_representative,
            "items": {str(r.item_id): [r.result, r.note] for r in task.item_results.all()}}


def _void_signatures(task: Task) -> None:
    digest = task_record_digest(task)
    task.members.exclude(signed_digest=digest).exclude(signed_digest="").update(
        signed_at=None, signed_digest="")


@transaction.atomic
def evidence_add(*, actor, task_id: int, upload) -> Evidence:
    """Keep a photo or file with its SHA-256 (computed while reading it)."""
    task = _lock_task(actor, task_id)
    if task.status not in OPEN_STATUSES:
        raise ValidationError(_("This task is closed."))
    if upload.size > MAX_EVIDENCE_BYTES:
        raise ValidationError({"file": _("The file is larger than 20 MB; take a smaller photo "
                                         "or split the document.")})
    ev = Evidence(task=task, name=upload.name[:200], size=upload.size,
                  sha256=upload_sha256(upload),
                  content_type=getattr(upload, "content_type", "") or "", uploaded_by=actor)
    ev.file.save(upload.name[:100], upload, save=False)
    ev.save()
    if task.status == TaskStatus.ASSIGNED:
        task.status, task.started_at = TaskStatus.IN_PROGRESS, timezone.now()
        task.save(update_fields=["status", "started_at"])
    _void_signatures(task)
    audit.append(audit.Change("evidence.added", "inspections.task", str(task.pk), None,
                              {"evidence": ev.pk, "name": ev.name, "sha256": ev.sha256,
                               "size": ev.size}, division=task.entity.division_id),
                 actor=actor)
    return ev


@transaction.atomic
def task_sign(*, actor, task_id: int, now: dt.datetime | None = None) -> TaskMember:
    """A team member signs the current record (its digest)."""
    task = _lock_task(actor, task_id)
    member = task.members.filter(inspector__user=actor).first()
    if member is None:
        raise Denied(_("Only the inspectors drawn for this firm sign its record."))
    if task.status != TaskStatus.IN_PROGRESS:
        raise ValidationError(_("Record the inspection before signing it."))
    member.signed_digest, member.signed_at = task_record_digest(task), now or timezone.now()
    member.save(update_fields=["signed_digest", "signed_at"])
    audit.append(audit.Change("task.signed", "inspections.task", str(task.pk), None,
                              {"inspector": member.inspector.badge_number,
                               "digest": member.signed_digest},
                              division=task.entity.division_id), actor=actor)
    return member


@transaction.atomic
def task_complete(*, actor, task_id: int, now: dt.datetime | None = None) -> Task:
    """Close the inspection: every checklist item answered (unless the firm was not found),
    an outcome, and every team member's signature on this very record. The result is then
    due for publication within the legal period (rule inspections.publication_working_days)."""
    task = _lock_task(actor, task_id)
    if task.status != TaskStatus.IN_PROGRESS:
        raise ValidationError(_("Record the inspection before completing it."))
    if not task.outcome:
        raise ValidationError({"outcome": _("Choose the outcome of the inspection.")})
    if task.outcome != Outcome.NOT_FOUND:
        missing = task.plan.items.exclude(pk__in=task.item_results.values("item_id")).count()
        if missing:
            raise ValidationError({"items": _("%(n)d checklist items have no result yet.") % {
                "n": missing}})
    if task.outcome in PROBLEM_OUTCOMES and not task.summary:
        raise ValidationError({"summary": _("Describe the problems found.")})
    digest = task_record_digest(task)
    unsigned = [m.inspector.name for m in task.members.select_related("inspector")
                if m.signed_digest != digest]
    if unsigned:
        raise ValidationError(_("Not yet signed by %(names)s.") % {"names": "、".join(unsigned)})
    today = timezone.localdate(now)
    rule = rules.get("inspections.publication_working_days", today)
    task.status, task.completed_at, task.record_sha256 = (
        TaskStatus.COMPLETED, now or timezone.now(), digest)
    task.publish_due, provisional = calendar.deadline(today, rule.value)
    task.publication_rule = f"{rule.version}/{calendar.data_version()}" + (
        "/provisional" if provisional else "")
    task.save()
    audit.append(audit.Change("task.completed", "inspections.task", str(task.pk),
                              {"status": TaskStatus.IN_PROGRESS},
                              {"status": task.status, "outcome": task.outcome,
                               "record_sha256": digest,
                               "publish_due": task.publish_due.isoformat()},
                              division=task.entity.division_id), actor=actor)
    payload = {"plan": task.plan_id, "entity": task.entity_id, "outcome": task.outcome,
               "division": task.entity.division_id}
    events.publish("inspection.completed", aggregate=task, payload=payload)
    if task.outcome in PROBLEM_OUTCOMES:
        events.publish("inspection.problem_found", aggregate=task, payload=payload)
    if not task.plan.tasks.open().exists():
        task.plan.status = PlanStatus.CLOSED
        task.plan.save(update_fields=["status"])
    return task


def result_publish(task_id: int, now: dt.datetime | None = None) -> int:
    """Put completed results on the public portal (the disclosure subscriber calls this
    after `inspection.completed`). A routine inspection's result is published at once; a
    flying inspection's results wait until its draw is disclosed (no task open, or the
    period over: Draw.disclosed), then all are published together, so that no result
    warns a firm still to be visited. Idempotent; returns how many were published now."""
    now = now or timezone.now()
    task = Task.objects.select_related("draw__plan").get(pk=task_id)
    if not task.draw.disclosed(timezone.localdate(now)):
        return 0
    published = 0
    with transaction.atomic():
        for pk in task.draw.tasks.filter(status=TaskStatus.COMPLETED,
                                         published_at__isnull=True).values_list("pk", flat=True):
            if Task.objects.filter(pk=pk, published_at__isnull=True).update(published_at=now):
                audit.append(audit.Change("result.published", "inspections.task", str(pk),
                                          None, {"published_at": now.isoformat()}),
                             actor=None)
                published += 1
    return published


def results_publish_due(now: dt.datetime | None = None) -> int:
    """Publish what a flying inspection held back (run hourly by Celery beat; idempotent):
    every result of a draw that is now disclosed, and any result that has reached its
    legal publication date even though other visits are still open: the law's deadline
    comes before the wish not to warn the remaining firms."""
    now = now or timezone.now()
    pending = Task.objects.filter(status=TaskStatus.COMPLETED, published_at__isnull=True)
    done, seen = 0, set()
    for task_id, draw_id in pending.values_list("pk", "draw_id"):
        if draw_id not in seen:
            seen.add(draw_id)
            done += result_publish(task_id, now=now)
    for task_id in pending.filter(publish_due__lte=timezone.localdate(now)).values_list(
            "pk", flat=True):
        with transaction.atomic():
            if Task.objects.filter(pk=task_id, published_at__isnull=True).update(
                    published_at=now):
                audit.append(audit.Change("result.published", "inspections.task",
                                          str(task_id), None,
                                          {"published_at": now.isoformat(),
                                           "because": "publication date reached"}),
                             actor=None)
                done += 1
    return done
