"""The demo's random inspections (双随机、一公开, MISSION M3.2), worked end to end through
`zhijian.inspections.services`: each plan is saved, published (its register and pool
frozen and committed), drawn with dice derived from the demo seed, and its inspections
recorded, signed by both inspectors, completed and published, with a few left open.
No inspection row is written directly.

Three plans (docs/demo.md):

* XIAN_CABLES — the Xi'an market bureau's random inspection of wires and cables, by
  risk class; the story's cable maker, if drawn, is ordered to rectify.
* BUILDING — a province-wide joint plan of market supervision and housing for building
  materials, stratified by city; its first draw is superseded by a redraw after an
  inspector of the housing department retires.
* FLYING — a flying inspection (飞行检查) of every electrical firm in Xi'an; the cable
  maker's visit opens a case. Its open tasks are the `inspector` login's work.

The first two are dated in spring 2026 (fixed times, so their draws — commitment, seed,
selection and teams — are the same in every build with the same seed and entity count;
their open tasks are overdue). The flying inspection is dated in the week before the
build, so that its open tasks are current; it draws every firm in scope, so what it
selects is also fixed, but its seed, ranks and teams change with the build date.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from dataclasses import dataclass
from zoneinfo import ZoneInfo

from django.conf import settings
from django.db import transaction
from django.utils import timezone

from zhijian.accounts.models import User
from zhijian.inspections import draw as draw_module
from zhijian.inspections import services
from zhijian.inspections.choices import DrawStatus, ItemResult, Outcome
from zhijian.inspections.models import InspectionPlan, Task
from zhijian.registry import services as registry
from zhijian.registry.models import Department, Inspector, ProductCategory

from . import names
from .plan import PASSWORD, PERSONAS, STORY, rng_for
from .services import inspector_account_create

INSPECTOR_PERSONA = next(p for p in PERSONAS if p.inspector)
IN_PROGRESS = "in_progress"  # recorded by the team, not yet signed


# --- the plans, as data ----------------------------------------------------------------------

@dataclass(frozen=True)
class Finding:
    item: int  # 1-based position in the checklist
    text: str


@dataclass(frozen=True)
class PlanSpec:
    key: str
    title: str
    kind: str
    actor: str  # username of the lead department's officer
    lead: str  # department code
    departments: tuple[str, ...]
    categories: tuple[str, ...]
    divisions: tuple[str, ...]
    ratios: dict[str, int]
    checklist: tuple[tuple[str, str], ...]  # (department code, item)
    period: tuple[dt.date, dt.date]
    published: dt.datetime
    seeded: dt.datetime
    witnesses: str
    findings: tuple[Finding, ...]  # rectification findings to choose from
    stratify_by_city: bool = False
    exclusion_months: int = 12
    task_days: int = 20
    open_share: float = 0.15  # tasks left open (overdue when the dates are past)
    problem_share: float = 0.15  # of the completed: rectification ordered
    not_found_share: float = 0.0
    maker_outcome: str = ""  # what happens if the story's cable maker is drawn
    maker_finding: tuple[tuple[int, ...], str] = ((), "")
    redraw: tuple[dt.datetime, str, str] | None = None  # (when, reason, retiring dept)
    persona: bool = False  # the inspector login takes one open task
    visit_days: tuple[int, int] = (2, 20)  # visits this many days after the seed


def _at(day: dt.date, hour: int, minute: int = 0) -> dt.datetime:
    return dt.datetime(day.year, day.month, day.day, hour, minute,
                       tzinfo=ZoneInfo(settings.TIME_ZONE))


def plan_specs(seed: int, today: dt.date) -> list[PlanSpec]:
    """The three plans; the flying inspection is dated relative to `today`."""
    rng = rng_for(seed, "inspections:witnesses")

    def witnesses() -> str:
        return f"公证员 {names.person(rng)}；社会监督员 {names.person(rng)}"

    xian, province, housing = "610100-market", "610000-market", "610000-housing"
    flying_day = today - dt.timedelta(days=6)
    return [
        PlanSpec(
            key="xian_cables", kind="routine", actor="xian", lead=xian, departments=(xian,),
            title="2026年西安市电线电缆产品质量双随机抽查",
            categories=("electrical.cable",), divisions=("6101",),
            # Raised from the province's annual 3/5/10/100 % after the metro cable
            # affair (a special campaign), so that the small demo register yields a few.
            ratios={"A": 2000, "B": 3000, "C": 5000, "D": 10000},
            checklist=(
                (xian, "生产许可证在有效期内，生产地址和产品单元与许可一致"),
                (xian, "出厂检验记录完整，导体电阻等出厂检验项目齐全"),
                (xian, "出厂检验报告由资质认定能力范围覆盖相应参数的检验检测机构出具"),
                (xian, "铜杆、绝缘料等原材料进货查验记录完整"),
                (xian, "产品标志和合格证标明执行标准、规格型号"),
            ),
            period=(dt.date(2026, 3, 1), dt.date(2026, 6, 30)),
            published=_at(dt.date(2026, 3, 2), 9, 30), seeded=_at(dt.date(2026, 3, 9), 10),
            witnesses=witnesses(),
            findings=(Finding(2, "部分批次出厂检验记录缺少导体电阻检测数据"),
                      Finding(4, "原材料进货查验记录不完整，缺少铜杆供货方检验报告"),
                      Finding(5, "产品合格证未标明执行标准编号")),
            maker_outcome=Outcome.RECTIFICATION,
            maker_finding=((3,), "出厂检验报告的导体电阻项目由资质认定能力范围不含该参数的"
                                 f"{STORY['lab']['name']}出具，已责令限期整改。"),
        ),
        PlanSpec(
            key="building", kind="routine", actor="province", lead=province,
            departments=(province, housing),
            title="2026年全省建筑材料产品质量部门联合双随机抽查",
            categories=("building",), divisions=("61",), stratify_by_city=True,
            ratios={"A": 300, "B": 500, "C": 1000, "D": 10000},
            checklist=(
                (province, "钢筋、水泥等实行生产许可证管理的产品许可证在有效期内"),
                (province, "产品出厂检验报告与所供批次一致"),
                (housing, "供应工程项目的材料进场见证取样、送检记录完整"),
                (housing, "供货台账与工程项目材料进场验收记录一致"),
            ),
            period=(dt.date(2026, 5, 1), dt.date(2026, 8, 31)),
            published=_at(dt.date(2026, 5, 11), 9, 30), seeded=_at(dt.date(2026, 5, 18), 10),
            witnesses=witnesses(),
            findings=(Finding(2, "个别批次出厂检验报告与实际供货批次不对应"),
                      Finding(3, "见证取样记录缺少见证人签字"),
                      Finding(4, "供货台账与进场验收记录存在出入")),
            not_found_share=0.05,
            redraw=(_at(dt.date(2026, 5, 12), 15),
                    "省住房和城乡建设厅一名检查人员退休，检查人员名录已更新，重新冻结并公布",
                    housing),
        ),
        PlanSpec(
            key="flying", kind="flying", actor="xian", lead=xian, departments=(xian,),
            title=f"{flying_day.year}年西安市电工电器产品飞行检查",
            categories=("electrical",), divisions=("6101",),
            ratios={"A": 10000, "B": 10000, "C": 10000, "D": 10000},
            exclusion_months=0, task_days=10,
            checklist=(
                (xian, "现场核对在产、在售产品的规格型号和标志"),
                (xian, "核对产品执行标准和出厂检验记录"),
                (xian, "核查检验报告的出具机构及其资质认定能力范围"),
            ),
            period=(flying_day, flying_day + dt.timedelta(days=60)),
            published=_at(flying_day, 9), seeded=_at(flying_day, 9, 30),
            witnesses=witnesses(),
            findings=(Finding(1, "部分在售产品标志不全，缺少额定电压、额定电流标注"),
                      Finding(2, "出厂检验记录未按批次保存")),
            open_share=0.4, problem_share=0.2,
            maker_outcome=Outcome.CASE_OPENED,
            maker_finding=((2, 3), "现场抽检YJV-0.6/1kV 3×95+1×50电力电缆，导体直流电阻实测值超过"
                                   "GB/T 3956-2008规定的最大值；随货检验报告由资质认定能力范围"
                                   f"不含导体电阻的{STORY['lab']['name']}出具。已立案调查，"
                                   "涉事批次已就地封存。"),
            persona=True, visit_days=(1, 5),
        ),
    ]


def dice_for(seed: int, key: str) -> str:
    """Fifteen rolls of a die, the same for every build with this seed."""
    rng = rng_for(seed, f"inspections:{key}:dice")
    return " ".join(str(rng.randint(1, 6)) for _ in range(15))


# --- building them -------------------------------------------------------------------------

class _Skip(Exception):
    """Nothing of this plan's scope is in the register (a very small demo)."""


@dataclass
class Built:
    plans: int = 0
    draws: int = 0
    tasks: int = 0
    completed: int = 0
    open: int = 0
    accounts: int = 0
    persona_task: int | None = None


def exists() -> bool:
    return InspectionPlan.objects.exists()


def inspections_build(*, seed: int, today: dt.date | None = None,
                      log: Callable[[str], None] = lambda _m: None) -> Built:
    """Create the demo's plans, draws and inspections in one transaction (skipped if the
    database already holds inspection plans)."""
    built = Built()
    if exists():
        log("random inspections: already in this database; keeping them")
        return built
    today = today or timezone.localdate()
    with transaction.atomic():
        admin = User.objects.get(username="admin")
        for spec in plan_specs(seed, today):
            try:
                with transaction.atomic():
                    _build_plan(spec, seed=seed, admin=admin, built=built, log=log)
            except _Skip:
                log(f"random inspections: {spec.title}: no entity in scope, skipped")
        if not User.objects.filter(username=INSPECTOR_PERSONA.username).exists():
            # No flying-inspection task to give it (a tiny demo): link the login to the
            # first Xi'an inspector without one, so that it still signs in.
            free = (Inspector.objects.filter(department__code=INSPECTOR_PERSONA.department,
                                             user__isnull=True, active=True)
                    .order_by("badge_number").first())
            _account(admin, free, built, persona=True)
    log(f"random inspections: {built.plans} plans, {built.draws} draws, {built.tasks} "
        f"inspections ({built.completed} completed and published, {built.open} open), "
        f"{built.accounts} inspector logins")
    return built


def _build_plan(spec: PlanSpec, *, seed: int, admin, built: Built, log) -> None:
    actor = User.objects.get(username=spec.actor)
    depts = {d.code: d for d in Department.objects.filter(code__in=spec.departments)}
    departments = [depts[c] for c in spec.departments]
    categories = list(ProductCategory.objects.filter(code__in=spec.categories))
    checklist = [(depts[c].pk, text) for c, text in spec.checklist]
    data = {
        "title": spec.title, "kind": spec.kind, "lead_department": depts[spec.lead],
        "division_prefixes": list(spec.divisions), "entity_types": [],
        "licence_filter": "any", "period_start": spec.period[0], "period_end": spec.period[1],
        "ratios": dict(spec.ratios), "stratify_by_city": spec.stratify_by_city,
        "exclusion_months": spec.exclusion_months, "team_size": 2, "workload_cap": 10,
        "task_days": spec.task_days,
    }
    plan = services.plan_save(actor=actor, data=data, departments=departments,
                              categories=categories, checklist=checklist)
    frame = services.frame_build(plan, timezone.localdate(spec.published))
    if not frame["entities"]:
        raise _Skip
    ratios = _bounded_ratios(frame, dict(spec.ratios))
    if ratios != spec.ratios:
        # A large demo register: the officer lowers the ratios so that the sample stays a
        # campaign a department can carry out (and the demo builds in minutes).
        plan = services.plan_save(actor=actor, data={"ratios": ratios},
                                  departments=departments, categories=categories,
                                  checklist=checklist, plan=plan)
        frame = services.frame_build(plan, timezone.localdate(spec.published))
    cap = _workload_cap(frame, services.pool_build(plan, frame), retiring=spec.redraw is not None)
    if cap > plan.workload_cap:
        # A large demo register: the officer raises the cap so that the pool can serve
        # the sample (otherwise the draw would fail for want of inspectors).
        plan = services.plan_save(actor=actor, data={"workload_cap": cap},
                                  departments=departments, categories=categories,
                                  checklist=checklist, plan=plan)
    built.plans += 1

    d = services.plan_publish(actor=actor, plan=plan, now=spec.published)
    built.draws += 1
    if spec.redraw is not None:
        when, reason, dept = spec.redraw
        retiring = (Inspector.objects.filter(department__code=dept, active=True)
                    .order_by("-badge_number").first())
        registry.inspector_update(actor=admin, inspector_id=retiring.pk,
                                  data={"active": False}, reason="退休")
        d = services.draw_redraw(actor=actor, draw_id=d.pk, reason=reason, now=when)
        built.draws += 1
    d = services.draw_seed(actor=actor, draw_id=d.pk, dice=dice_for(seed, spec.key),
                           witnesses=spec.witnesses, now=spec.seeded)
    if d.status != DrawStatus.DRAWN:
        log(f"random inspections: {plan.code} {plan.title}: the draw failed "
            f"({len(d.failures)} firms without a full team)")
        return
    tasks = list(Task.objects.filter(draw=d).select_related("entity")
                 .prefetch_related("members__inspector").order_by("entity__uscc"))
    built.tasks += len(tasks)
    outcomes = _outcomes(spec, seed, tasks)

    # The inspector login takes the first open task one of whose inspectors has no login
    # yet; the other inspectors of the tasks worked here (and, in that plan, of every
    # task, so that the login's colleague can sign) get a login named by the badge.
    if spec.persona:
        for t in tasks:
            free = [m.inspector for m in t.members.all() if m.inspector.user_id is None]
            if outcomes[t.pk] is None and free:
                _account(admin, free[0], built, persona=True)
                built.persona_task = t.pk
                break
    worked = [t for t in tasks if outcomes[t.pk] is not None]
    for inspector in Inspector.objects.filter(
            task_memberships__task__in=tasks if spec.persona else worked,
            user__isnull=True).distinct().order_by("badge_number"):
        _account(admin, inspector, built)
    items = list(plan.items.order_by("position"))
    visit_rng = rng_for(seed, f"inspections:{spec.key}:visits")
    completed = problems = 0
    for i, t in enumerate(worked):
        outcome, finding_items, summary = outcomes[t.pk]
        first, last = spec.visit_days
        day = timezone.localdate(spec.seeded) + dt.timedelta(days=first + i % (last - first + 1))
        visited = _at(day, 9 + visit_rng.randrange(6), visit_rng.randrange(60))
        members = list(User.objects.filter(inspector__task_memberships__task=t)
                       .order_by("inspector__task_memberships__slot"))
        results = {
            item.pk: ((ItemResult.NONCONFORMS, summary) if item.position in finding_items
                      else (ItemResult.CONFORMS, ""))
            for item in items} if outcome != Outcome.NOT_FOUND else {}
        services.task_record(actor=members[0], task_id=t.pk, items=results,
                             outcome=Outcome.NO_PROBLEM if outcome == IN_PROGRESS else outcome,
                             summary=summary, firm_representative=names.person(visit_rng)
                             if outcome != Outcome.NOT_FOUND else "", now=visited)
        if outcome == IN_PROGRESS:
            continue
        for k, user in enumerate(members):
            services.task_sign(actor=user, task_id=t.pk,
                               now=visited + dt.timedelta(minutes=90 + 5 * k))
        done = visited + dt.timedelta(hours=2)
        services.task_complete(actor=members[-1], task_id=t.pk, now=done)
        # What the disclosure subscriber does after the commit, dated as it would be.
        services.result_publish(t.pk, now=done + dt.timedelta(minutes=1))
        completed += 1
        problems += outcome in (Outcome.RECTIFICATION, Outcome.CASE_OPENED)
    open_tasks = Task.objects.filter(draw=d).open().count()
    built.completed += completed
    built.open += open_tasks
    log(f"random inspections: {plan.code} {plan.title}: drawn {len(tasks)}, inspected "
        f"{completed} ({problems} with problems), open {open_tasks}")


def _account(admin, inspector: Inspector | None, built: Built, persona: bool = False) -> None:
    if inspector is None:
        return
    username = INSPECTOR_PERSONA.username if persona else inspector.badge_number
    inspector_account_create(actor=admin, inspector=inspector, username=username,
                             password=PASSWORD)
    built.accounts += 1


def _outcomes(spec: PlanSpec, seed: int, tasks: list[Task]) -> dict[int, tuple | None]:
    """Per task: None (left open), or (outcome, nonconforming item positions, summary);
    IN_PROGRESS means recorded (no problem so far) but not yet signed. A function of the seed and
    the firms drawn (by USCC), not of ranks or teams."""
    rng = rng_for(seed, f"inspections:{spec.key}:outcomes")
    plan: dict[int, tuple | None] = {}
    ordinary = []
    for t in tasks:
        if t.entity.name == STORY["maker"]["name"] and spec.maker_outcome:
            items, text = spec.maker_finding
            plan[t.pk] = (spec.maker_outcome, items, text)
            continue
        ordinary.append(t)
    for t in ordinary:
        r = rng.random()
        if r < spec.open_share:
            plan[t.pk] = None
        elif r < spec.open_share + spec.not_found_share and t.entity.entity_type != "enterprise":
            plan[t.pk] = (Outcome.NOT_FOUND, (), "登记住所无经营活动，经营者无法联系")
        elif rng.random() < spec.problem_share:
            finding = rng.choice(spec.findings)
            plan[t.pk] = (Outcome.RECTIFICATION, (finding.item,), finding.text + "，已责令限期整改。")
        else:
            plan[t.pk] = (Outcome.NO_PROBLEM, (), "")
    # At least one open task where there are two or more (an overdue one for the dated
    # plans, the inspector login's for the flying inspection) ...
    if ordinary and len(tasks) > 1 and all(plan[t.pk] is not None for t in ordinary):
        plan[ordinary[-1].pk] = None
    # ... and in the flying inspection one recorded, waiting for the signatures.
    if spec.persona:
        still_open = [t for t in ordinary if plan[t.pk] is None]
        if len(still_open) > 1:
            plan[still_open[-1].pk] = (IN_PROGRESS, (), "")
    return plan


MAX_DRAWN = 60


def _drawn(frame: dict, ratios: dict[str, int]) -> int:
    population: dict[str, int] = {}
    for e in frame["entities"]:
        population[e["stratum"]] = population.get(e["stratum"], 0) + 1
    return sum(draw_module.Stratum(k, ratios[k[-1]]).sample_size(n)
               for k, n in population.items())


def _bounded_ratios(frame: dict, ratios: dict[str, int]) -> dict[str, int]:
    """The plan's ratios, scaled down (each class alike, at least 0.01 %) when the register
    is so large that they would draw more than MAX_DRAWN firms."""
    drawn = _drawn(frame, ratios)
    if drawn <= MAX_DRAWN:
        return ratios
    return {k: max(1, v * MAX_DRAWN // drawn) if v else 0 for k, v in ratios.items()}


def _workload_cap(frame: dict, pool: dict, retiring: bool) -> int:
    """A workload cap with which no seed can leave a drawn firm without its team (10, the
    default, unless the register is large). A firm needing t slots of a department's n
    inspectors finds them unless n - t + 1 of them are at the cap (fewer if some were on
    its previous visit or retire before the draw); so the cap must exceed the slots the
    sample can take, plus the open load, divided by what remains."""
    population: dict[str, int] = {}
    for e in frame["entities"]:
        population[e["stratum"]] = population.get(e["stratum"], 0) + 1
    drawn = sum(draw_module.Stratum(s["key"], s["ratio_bp"]).sample_size(
        population.get(s["key"], 0)) for s in frame["strata"])
    team = pool["team_size"]
    department_of = {p["badge"]: p["department"] for p in pool["inspectors"]}
    slots: dict[str, int] = {}
    previous: dict[str, int] = {}
    for e in frame["entities"]:
        mine = list(e["departments"]) + [e["departments"][0]] * max(0, team - len(e["departments"]))
        for dept in set(mine):
            slots[dept] = max(slots.get(dept, 0), mine.count(dept))
        for dept in {department_of.get(b) for b in e["previous"]} - {None}:
            count = sum(department_of.get(b) == dept for b in e["previous"])
            previous[dept] = max(previous.get(dept, 0), count)
    cap = 10
    for dept, t in slots.items():
        members = [p for p in pool["inspectors"] if p["department"] == dept]
        load = sum(p["load"] for p in members)
        room = max(len(members) - int(retiring) - previous.get(dept, 0) - t + 1, 1)
        cap = max(cap, (drawn * t + load) // room + 1)
    return cap
