"""Joint punishment (失信联合惩戒, M3.4): the measures departments declare, and the credit
checks (信用核查) that apply them wherever a firm is put forward (docs/credit-measures.md).

- measure_declare / measure_withdraw: a regulator declares a measure for their own
  department (administrators for any department); both are audited and publish
  "measure.declared" / "measure.withdrawn". A withdrawal ends the measure the day before
  it is withdrawn, so that what applied on an earlier day can still be answered.
- measures_applying(entity_or_uscc, on=, context=): which measures apply to a firm on a
  day, each with the reason (the list case, or the credit class and since when). A read.
- credit_check(...): the same answer stored as a CreditCheck with its outcome (clear,
  flagged, blocked) and the decision it was made for; a USCC the register does not know
  is checked too (clear, no entity), a malformed one is refused naming the field.
- credit_check_settle: link a stored check to what was decided with it (a supplier on a
  list, a refusal), in its own transaction so that a refusal never loses the check.
- procurement hooks: the "penalties" and "blacklist" facts of supplier standings and the
  credit screen of supplier_add (registered by CreditConfig.ready()).
- measures_seed: the demo's measures, in the style of the joint punishment memoranda.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from django.core.exceptions import ValidationError
from django.db import transaction
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext as _

from zhijian.core import audit, events
from zhijian.core.access import Denied, scope_of
from zhijian.core.identifiers import normalise_uscc
from zhijian.core.validators import uscc_messages
from zhijian.registry.models import Department, MarketEntity

from ..choices import CheckContext, CheckOutcome, MeasureCode, MeasureEffect, MeasureTrigger
from ..models import BlacklistEntry, CreditCheck, CreditRating, Measure, Penalty, RatingChange

#: The classes each class trigger applies to (the letters of docs/credit-classification.md).
TRIGGER_CLASSES = {
    MeasureTrigger.CLASS_D: ("D",),
    MeasureTrigger.CLASS_C_OR_D: ("C", "D"),
}
SUPPLIER_OBJECT = "procurement.supplier"
MIN_REASON = 5

MEASURE_FIELDS = ["department", "code", "trigger", "effect", "contexts", "description",
                  "legal_basis", "effective_from", "effective_until", "active"]


# --- declaring measures -----------------------------------------------------------------------

def _declaring_department(actor, department_id) -> Department:
    scope = scope_of(actor)
    if scope.is_admin:
        dept = (Department.objects.filter(pk=department_id).first()
                if str(department_id or "").isdigit() else None)
        if dept is None:
            raise ValidationError({"department": _(
                "Choose the department that declares the measure.")})
        return dept
    if not scope.is_regulator:
        raise Denied(_("Only a regulator declares joint punishment measures, for their own "
                       "department."))
    if department_id not in (None, "") and str(department_id) != str(scope.org_id):
        raise Denied(_("You can declare measures only for your own department."),
                     field="department")
    return Department.objects.get(pk=scope.org_id)


def _may_change(actor, measure: Measure) -> None:
    scope = scope_of(actor)
    if not (scope.is_admin or (scope.is_regulator and scope.org_id == measure.department_id)):
        raise Denied(_("Only the department that declared a measure (or an administrator) "
                       "can withdraw it."))


def _date(value, field: str, message: str) -> dt.date | None:
    if value in (None, ""):
        return None
    if isinstance(value, dt.datetime):
        return timezone.localdate(value)
    if isinstance(value, dt.date):
        return value
    try:
        return dt.date.fromisoformat(str(value))
    except ValueError:
        raise ValidationError({field: message}) from None


def _clean_contexts(contexts) -> list[str]:
    if isinstance(contexts, str):
        contexts = [contexts]
    values = [str(c).strip() for c in (contexts or []) if str(c).strip()]
    unknown = sorted(set(values) - set(CheckContext.values))
    if not values or unknown:
        raise ValidationError({"contexts": _(
            "Choose where the measure applies, from: %(keys)s.") % {
            "keys": ", ".join(CheckContext.values)}})
    # Keep the order of CheckContext, once each.
    return [c for c in CheckContext.values if c in values]


def _overlaps(qs, start: dt.date, end: dt.date | None):
    """Measures of `qs` whose period meets [start, end] (end None: open-ended)."""
    qs = qs.filter(Q(effective_until__isnull=True) | Q(effective_until__gte=start))
    return qs if end is None else qs.filter(effective_from__lte=end)


@transaction.atomic
def measure_declare(*, actor, code, trigger, effect, contexts, legal_basis, description="",
                    effective_from, effective_until=None, department_id=None) -> Measure:
    """Declare a joint punishment measure of a department: what it does (code, effect), to
    whom (trigger), where (contexts), on which legal basis and from when."""
    department = _declaring_department(actor, department_id)
    if code not in MeasureCode.values:
        raise ValidationError({"code": _("Choose a measure from the list.")})
    if trigger not in MeasureTrigger.values:
        raise ValidationError({"trigger": _(
            "Choose to whom the measure applies: listed firms, class D, or class C or D.")})
    if effect not in MeasureEffect.values:
        raise ValidationError({"effect": _(
            "Choose the effect: refuse, or allow with closer scrutiny.")})
    contexts = _clean_contexts(contexts)
    legal_basis = (legal_basis or "").strip()
    if not legal_basis:
        raise ValidationError({"legal_basis": _(
            "Give the legal basis of the measure: the law, regulation or policy document "
            "and its article.")})
    start = _date(effective_from, "effective_from",
                  _("Give the day the measure takes effect as YYYY-MM-DD."))
    if start is None:
        raise ValidationError({"effective_from": _(
            "Give the day the measure takes effect; a measure without an effective date "
            "cannot be applied.")})
    end = _date(effective_until, "effective_until",
                _("Give the last day of the measure as YYYY-MM-DD, or leave it empty."))
    if end is not None and end < start:
        raise ValidationError({"effective_until": _(
            "The last day of the measure is before the day it takes effect.")})
    clash = _overlaps(Measure.objects.filter(department=department, code=code, trigger=trigger,
                                             active=True), start, end).first()
    if clash is not None:
        raise ValidationError({"code": _(
            "%(department)s already has this measure for the same firms from %(day)s; "
            "withdraw it first or choose other dates.") % {
            "department": department.name, "day": clash.effective_from.isoformat()}})
    measure = Measure.objects.create(
        department=department, code=code, trigger=trigger, effect=effect, contexts=contexts,
        legal_basis=legal_basis, description=(description or "").strip(),
        effective_from=start, effective_until=end, created_by=actor)
    audit.record(measure, action="measure.declared", actor=actor, before=None,
                 division=department.division_id)
    events.publish("measure.declared", aggregate=measure, payload={
        "measure": measure.pk, "department": department.pk, "code": code,
        "trigger": trigger, "effect": effect, "contexts": contexts})
    return measure


@transaction.atomic
def measure_withdraw(*, actor, measure_id, reason: str, on: dt.date | None = None) -> Measure:
    """Withdraw a measure from `on` (today by default): it is in force until the day
    before; one that has not taken effect yet never applies (active becomes false)."""
    measure = (Measure.objects.select_for_update().select_related("department")
               .filter(pk=measure_id).first() if str(measure_id).isdigit() else None)
    if measure is None:
        raise ValidationError({"measure": _("No joint punishment measure has this number.")})
    _may_change(actor, measure)
    reason = (reason or "").strip()
    if len(reason) < MIN_REASON:
        raise ValidationError({"reason": _(
            "Say why the measure is withdrawn (at least %(n)d characters).") % {
            "n": MIN_REASON}})
    on = on or timezone.localdate()
    last = on - dt.timedelta(days=1)
    if not measure.active or (measure.effective_until is not None
                              and measure.effective_until <= last):
        raise ValidationError({"measure": _("This measure is no longer in force.")})
    before = audit.snapshot(measure, MEASURE_FIELDS)
    if measure.effective_from >= on:
        measure.active = False
    else:
        measure.effective_until = last
    measure.save(update_fields=["active", "effective_until"])
    audit.record(measure, action="measure.withdrawn", actor=actor, before=before,
                 reason=reason, division=measure.department.division_id)
    events.publish("measure.withdrawn", aggregate=measure, payload={
        "measure": measure.pk, "department": measure.department_id, "on": on.isoformat()})
    return measure


def measure_state(measure: Measure, on: dt.date) -> str:
    """"in_force", "scheduled", "ended" or "withdrawn" on a day (for the pages)."""
    if not measure.active:
        return "withdrawn"
    if measure.effective_from > on:
        return "scheduled"
    if measure.effective_until is not None and measure.effective_until < on:
        return "ended"
    return "in_force"


# --- which measures apply ---------------------------------------------------------------------

@dataclass(frozen=True)
class Standing:
    """What a firm's credit is on a day, as far as measures care."""

    entity: MarketEntity | None
    entry: BlacklistEntry | None = None
    risk_class: str = ""
    class_since: dt.date | None = None


def _entity(entity_or_uscc) -> MarketEntity | None:
    if isinstance(entity_or_uscc, MarketEntity):
        return entity_or_uscc
    code = normalise_uscc(str(entity_or_uscc or ""))
    return MarketEntity.objects.filter(uscc=code).first() if code else None


def listed_entry(entity, on: dt.date) -> BlacklistEntry | None:
    """The list case of the entity in force on `on`, if any: listed from listed_on up to
    the day before listed_until (the day the listing ends and the case is removed)."""
    return (BlacklistEntry.objects.listed()
            .filter(entity=entity, listed_on__isnull=False, listed_on__lte=on)
            .filter(Q(listed_until__isnull=True) | Q(listed_until__gt=on))
            .select_related("department").order_by("listed_on", "pk").first())


def current_class(entity) -> tuple[str, dt.date | None]:
    """The entity's current class and the day it has been in it since (None: unknown)."""
    rating = CreditRating.objects.filter(entity=entity).first()
    letter = rating.risk_class if rating is not None else (entity.risk_class or "")
    change = (RatingChange.objects.filter(entity=entity, to_class=letter)
              .exclude(from_class=letter).order_by("-computed_at", "-id").first())
    if change is not None:
        return letter, change.on
    return letter, rating.on if rating is not None else None


def standing_of(entity_or_uscc, *, on: dt.date) -> Standing:
    entity = _entity(entity_or_uscc)
    if entity is None:
        return Standing(entity=None)
    letter, since = current_class(entity)
    return Standing(entity=entity, entry=listed_entry(entity, on), risk_class=letter,
                    class_since=since)


def _applies(measure: Measure, st: Standing) -> bool:
    if measure.trigger == MeasureTrigger.BLACKLIST:
        return st.entry is not None
    return st.risk_class in TRIGGER_CLASSES.get(measure.trigger, ())


def reason_text(measure: Measure, st: Standing, *, public: bool = False) -> str:
    """Why the measure applies. The public text never names the credit class: risk
    classes are for internal use (国市监信发〔2022〕6号)."""
    if measure.trigger == MeasureTrigger.BLACKLIST:
        e = st.entry
        params = {"since": e.listed_on.isoformat(), "case": e.pk,
                  "department": e.department.name,
                  "until": e.listed_until.isoformat() if e.listed_until else ""}
        if e.listed_until:
            return _("Listed as seriously dishonest since %(since)s until %(until)s by "
                     "%(department)s, case #%(case)s.") % params
        return _("Listed as seriously dishonest since %(since)s by %(department)s, "
                 "case #%(case)s.") % params
    if public:
        return _("Applies under the firm's credit risk classification, which is for "
                 "internal use and not disclosed.")
    if st.class_since is not None:
        return _("Credit class %(cls)s since %(since)s.") % {
            "cls": st.risk_class, "since": st.class_since.isoformat()}
    return _("Credit class %(cls)s.") % {"cls": st.risk_class}


def _in_force(on: dt.date, context: str | None) -> list[Measure]:
    measures = list(Measure.objects.in_force(on).select_related("department")
                    .order_by("department__division_id", "department__kind", "code", "pk"))
    return [m for m in measures if context is None or context in (m.contexts or [])]


def applying(st: Standing, *, on: dt.date, context: str | None = None) -> list[Measure]:
    if st.entity is None or (st.entry is None and not any(
            st.risk_class in letters for letters in TRIGGER_CLASSES.values())):
        return []
    return [m for m in _in_force(on, context) if _applies(m, st)]


def measures_applying(entity_or_uscc, *, on: dt.date,
                      context: str | None = None) -> list[tuple[Measure, str]]:
    """The measures in force on `on` (in `context`, or anywhere) that apply to the firm,
    each with the reason; [] for a USCC the register does not know."""
    st = standing_of(entity_or_uscc, on=on)
    return [(m, reason_text(m, st)) for m in applying(st, on=on, context=context)]


def measure_row(measure: Measure, st: Standing) -> dict:
    """A measure as stored in a credit check and given by the API."""
    return {"measure": measure.pk, "code": measure.code, "trigger": measure.trigger,
            "department": measure.department.name, "department_id": measure.department_id,
            "effect": measure.effect, "legal_basis": measure.legal_basis,
            "reason": reason_text(measure, st),
            "public_reason": reason_text(measure, st, public=True)}


def outcome_of(measures: list[Measure]) -> str:
    effects = {m.effect for m in measures}
    if MeasureEffect.BLOCK in effects:
        return CheckOutcome.BLOCKED
    if MeasureEffect.FLAG in effects:
        return CheckOutcome.FLAGGED
    return CheckOutcome.CLEAR


# --- the public answer ------------------------------------------------------------------------

#: Measure triggers the public may learn of: the list is public (it is published), the
#: credit class is not (国市监信发〔2022〕6号 keeps risk classes for internal use), so
#: measures triggered by a class are left out of every public answer.
PUBLIC_TRIGGERS = (MeasureTrigger.BLACKLIST,)


def public_answer(entity_or_uscc, *, on: dt.date, context: str | None = None) -> dict:
    """What measures apply to a firm on `on` and why, as the public may know it: whether
    it is listed (since, until, by whom, case), and each list-triggered measure in force
    (in `context`, or anywhere) with department, effect, legal basis and reason."""
    st = standing_of(entity_or_uscc, on=on)
    measures = [m for m in applying(st, on=on, context=context)
                if m.trigger in PUBLIC_TRIGGERS]
    e = st.entry
    return {
        "uscc": st.entity.uscc if st.entity else normalise_uscc(str(entity_or_uscc or "")),
        "registered": st.entity is not None,
        "name": st.entity.name if st.entity else "",
        "on": on.isoformat(),
        "context": context or None,
        "listed": e is not None,
        "listed_since": e.listed_on.isoformat() if e else None,
        "listed_until": e.listed_until.isoformat() if e and e.listed_until else None,
        "listing_department": e.department.name if e else "",
        "listing_case": e.pk if e else None,
        "outcome": outcome_of(measures),
        "measures": [{"measure": m.pk, "code": m.code, "label": str(m.get_code_display()),
                      "department": m.department.name, "effect": m.effect,
                      "contexts": list(m.contexts), "legal_basis": m.legal_basis,
                      "effective_from": m.effective_from.isoformat(),
                      "effective_until": (m.effective_until.isoformat()
                                          if m.effective_until else None),
                      "reason": reason_text(m, st, public=True)} for m in measures],
    }


# --- credit checks ----------------------------------------------------------------------------

def clean_uscc(value) -> str:
    """The canonical USCC, or a ValidationError naming the field "uscc"."""
    code = normalise_uscc(str(value or ""))
    if not code:
        raise ValidationError({"uscc": _("Give the firm's unified social credit code "
                                         "(18 characters).")})
    problems = uscc_messages(code)
    if problems:
        raise ValidationError({"uscc": problems})
    return code


def _may_check(actor, token, context: str) -> None:
    if token is not None:
        return  # the service-token layer checked the token's scope
    scope = scope_of(actor)
    if scope.is_admin or scope.is_regulator:
        return
    if scope.role == "user_unit" and context == CheckContext.SUPPLIER_LISTING:
        return  # a user unit putting a supplier on its list
    raise Denied(_("Only regulators and authorised services make credit checks."))


@transaction.atomic
def credit_check(*, uscc, context, reference: str = "", on: dt.date | None = None,
                 actor=None, token=None, object_type: str = "", object_id: str = "",
                 decision: str = "") -> CreditCheck:
    """Check a firm put forward in `context` on `on` (today) and store the result: its
    class, whether it is listed, every measure that applies with its department, effect,
    legal basis and reason, and the outcome (blocked > flagged > clear)."""
    code = clean_uscc(uscc)
    if context not in CheckContext.values:
        raise ValidationError({"context": _(
            "Choose where the firm is put forward, from: %(keys)s.") % {
            "keys": ", ".join(CheckContext.values)}})
    _may_check(actor, token, context)
    on = on or timezone.localdate()
    st = standing_of(code, on=on)
    measures = applying(st, on=on, context=context)
    if token is not None:
        # A third-party service reads public data only: the list, not the class.
        measures = [m for m in measures if m.trigger in PUBLIC_TRIGGERS]
    check = CreditCheck.objects.create(
        context=context, uscc=code, entity=st.entity, reference=(reference or "").strip()[:100],
        on=on, checked_at=timezone.now(),
        requested_by=actor if getattr(actor, "is_authenticated", False) else None,
        token=token, risk_class=st.risk_class if st.entity and token is None else "",
        blacklisted=st.entry is not None, measures=[measure_row(m, st) for m in measures],
        outcome=outcome_of(measures), object_type=object_type, object_id=str(object_id or ""),
        decision=(decision or "").strip())
    division = st.entity.division_id if st.entity else ""
    audit.record(check, action="credit_check.made", actor=actor, before=None,
                 division=division)
    events.publish("credit_check.made", aggregate=check, payload={
        "check": check.pk, "uscc": code, "entity": st.entity.pk if st.entity else None,
        "context": context, "outcome": check.outcome})
    return check


@transaction.atomic
def credit_check_settle(*, check_id, decision: str, object_type: str = "",
                        object_id: str = "", actor=None) -> CreditCheck:
    """Store what was decided with a check and link it to the object it was made for."""
    check = CreditCheck.objects.select_for_update().get(pk=check_id)
    before = audit.snapshot(check, ["object_type", "object_id", "decision"])
    check.decision = (decision or "").strip()
    if object_type:
        check.object_type, check.object_id = object_type, str(object_id or "")
    check.save(update_fields=["decision", "object_type", "object_id"])
    audit.record(check, action="credit_check.settled", actor=actor, before=before,
                 division=check.entity.division_id if check.entity_id else "")
    return check


def checks_visible_to(user, qs=None):
    """An officer sees the checks they or their department made and every check of a
    firm in their jurisdiction (whoever put it forward: a user unit's listing, a
    tendering platform's key); administrators all; anyone else the checks they
    requested themselves (a user unit's supplier listings)."""
    qs = CreditCheck.objects.all() if qs is None else qs
    scope = scope_of(user)
    if scope.is_admin:
        return qs
    if scope.is_regulator:
        return qs.filter(Q(requested_by_id=scope.user_id)
                         | Q(requested_by__department_id=scope.org_id)
                         | Q(entity__division__code__startswith=scope.prefix))
    if scope.user_id is None:
        return qs.none()
    return qs.filter(requested_by_id=scope.user_id)


def may_see_class(user) -> bool:
    scope = scope_of(user)
    return scope.is_admin or scope.is_regulator


# --- procurement: facts for supplier standings, and the listing screen ------------------------

def procurement_facts(*, entity_id: int, user_unit_id: int, on: dt.date) -> dict[str, list]:
    """The FACT_PROVIDER of procurement.services: administrative penalties in force and
    the entity's list cases (with "until")."""
    penalties = [{"date": day, "ref": number}
                 for number, day in Penalty.objects.filter(
                     entity_id=entity_id, status="in_force").values_list(
                     "decision_number", "decided_on")]
    # procurement.standing counts an entry up to and including "until"; a listing ends
    # the day before listed_until (the day the case is removed).
    listed = [{"date": since, "until": until - dt.timedelta(days=1) if until else None,
               "ref": _("list case #%(n)s") % {"n": pk}}
              for pk, since, until in BlacklistEntry.objects.listed().filter(
                  entity_id=entity_id, listed_on__isnull=False).values_list(
                  "pk", "listed_on", "listed_until")]
    return {"penalties": penalties, "blacklist": listed}


def _measure_line(row: dict, *, public: bool) -> str:
    return _("%(measure)s (%(department)s; %(basis)s): %(reason)s") % {
        "measure": MeasureCode(row["code"]).label, "department": row["department"],
        "basis": row["legal_basis"], "reason": row["public_reason" if public else "reason"]}


def check_lines(check: CreditCheck, *, public: bool = True, effect: str | None = None) -> list:
    return [_measure_line(r, public=public) for r in check.measures
            if effect is None or r["effect"] == effect]


def supplier_listing_screen(*, actor, supplier_list, entity, on: dt.date):
    """The LISTING_SCREEN of procurement.services.supplier_add: a credit check in context
    supplier_listing, committed in its own transaction before the listing is tried."""
    from zhijian.procurement.services import ScreenResult

    check = credit_check(uscc=entity.uscc, context=CheckContext.SUPPLIER_LISTING,
                         reference=_("list %(list)s (%(category)s)") % {
                             "list": supplier_list.pk,
                             "category": supplier_list.category.code},
                         on=on, actor=actor)

    def settle(*, supplier=None, decision: str) -> None:
        credit_check_settle(check_id=check.pk, decision=decision, actor=actor,
                            object_type=SUPPLIER_OBJECT if supplier is not None else "",
                            object_id=supplier.pk if supplier is not None else "")

    return ScreenResult(
        name=_("credit check #%(n)s") % {"n": check.pk},
        refused=check.outcome == CheckOutcome.BLOCKED,
        flagged=check.outcome == CheckOutcome.FLAGGED,
        refusals=check_lines(check, effect=MeasureEffect.BLOCK),
        flags=check_lines(check, effect=MeasureEffect.FLAG),
        settle=settle, ref=check.pk)


def register_procurement_hooks() -> None:
    """Called by CreditConfig.ready(): once only, however often it runs."""
    from zhijian.procurement import services as procurement

    if procurement_facts not in procurement.FACT_PROVIDERS:
        procurement.FACT_PROVIDERS.append(procurement_facts)
    if supplier_listing_screen not in procurement.LISTING_SCREENS:
        procurement.LISTING_SCREENS.append(supplier_listing_screen)


# --- seed --------------------------------------------------------------------------------------

GPL_22 = ("《中华人民共和国政府采购法》第二十二条（供应商参加政府采购活动应当具有良好的商业信誉；"
          "参加政府采购活动前三年内，在经营活动中没有重大违法记录）")
TENDER_79 = "《中华人民共和国招标投标法实施条例》第七十九条（国家建立招标投标信用制度）"
GUOBAN_49 = ("《国务院办公厅关于进一步完善失信约束制度构建诚信建设长效机制的指导意见》"
             "（国办发〔2020〕49号）")
SAMR_LIST = "《市场监督管理严重违法失信名单管理办法》（2021年9月1日起施行）规定的管理措施"
SAMR_CLASS = ("《关于推进企业信用风险分类管理进一步提升监管效能的意见》（国市监信发〔2022〕6号）"
              "：对信用风险高的企业提高抽查比例和频次")

#: (department kind, code, trigger, effect, contexts, legal basis, description)
SEED = [
    ("market", MeasureCode.RESTRICT_LICENCE, MeasureTrigger.BLACKLIST, MeasureEffect.BLOCK,
     [CheckContext.LICENCE], f"{SAMR_LIST}；{GUOBAN_49}",
     "在审查行政许可时作为重要考量因素，不适用告知承诺制。"),
    ("market", MeasureCode.NO_HONOURS, MeasureTrigger.BLACKLIST, MeasureEffect.BLOCK,
     [CheckContext.HONOUR], SAMR_LIST, "不予授予市场监督管理部门荣誉称号等表彰奖励。"),
    ("market", MeasureCode.MORE_INSPECTIONS, MeasureTrigger.BLACKLIST, MeasureEffect.FLAG,
     [CheckContext.INSPECTION, CheckContext.LICENCE], SAMR_LIST,
     "列为重点监管对象，提高检查频次。"),
    ("market", MeasureCode.MORE_INSPECTIONS, MeasureTrigger.CLASS_C_OR_D, MeasureEffect.FLAG,
     [CheckContext.INSPECTION, CheckContext.LICENCE], SAMR_CLASS,
     "信用风险较高的企业提高抽查比例和频次。"),
    ("market", MeasureCode.BAR_TENDER, MeasureTrigger.BLACKLIST, MeasureEffect.BLOCK,
     [CheckContext.TENDER], f"{GPL_22}；{GUOBAN_49}",
     "限制参加政府采购活动。"),
    ("market", MeasureCode.BAR_SUPPLIER, MeasureTrigger.BLACKLIST, MeasureEffect.BLOCK,
     [CheckContext.SUPPLIER_LISTING], f"{SAMR_LIST}；{GUOBAN_49}",
     "不得列入用户单位合格供方名录。"),
    ("market", MeasureCode.BAR_SUPPLIER, MeasureTrigger.CLASS_D, MeasureEffect.FLAG,
     [CheckContext.SUPPLIER_LISTING], SAMR_CLASS, "列入名录时加强验收把关。"),
    ("market", MeasureCode.NO_SUBSIDY, MeasureTrigger.BLACKLIST, MeasureEffect.BLOCK,
     [CheckContext.SUBSIDY], GUOBAN_49, "限制申请财政性资金项目和政策性补贴。"),
    ("housing", MeasureCode.BAR_TENDER, MeasureTrigger.BLACKLIST, MeasureEffect.BLOCK,
     [CheckContext.TENDER], f"{TENDER_79}；{GUOBAN_49}",
     "在工程建设项目招标投标中限制参与投标。"),
    ("transport", MeasureCode.BAR_TENDER, MeasureTrigger.BLACKLIST, MeasureEffect.BLOCK,
     [CheckContext.TENDER], f"{TENDER_79}；{GUOBAN_49}",
     "在交通工程建设项目招标投标中限制参与投标。"),
]


def measures_seed(actor, departments, *, on: dt.date | None = None) -> list[Measure]:
    """Declare the demo's measures for those of `departments` whose kind SEED names
    (the provincial market regulator; housing and transport for tenders), effective
    `on` (today); a measure a department already has is left alone."""
    on = on or timezone.localdate()
    made = []
    for dept in departments:
        for kind, code, trigger, effect, contexts, basis, text in SEED:
            if dept.kind != kind or Measure.objects.filter(
                    department=dept, code=code, trigger=trigger, active=True).exists():
                continue
            made.append(measure_declare(
                actor=actor, department_id=dept.pk, code=code, trigger=trigger,
                effect=effect, contexts=[str(c) for c in contexts], legal_basis=basis,
                description=text, effective_from=on))
    return made
