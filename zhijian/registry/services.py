"""Writes to the registers. Each function runs in one transaction, checks the actor's
right to act, validates, writes, appends the audit entry and publishes the domain event."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field

from django.core.exceptions import ValidationError
from django.db import transaction
from django.db.models import Q
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from zhijian.core import audit, events
from zhijian.core.access import Denied, scope_of
from zhijian.core.canonical import to_jsonable
from zhijian.core.models import Division
from zhijian.core.services import apply_fields, clean_instance, current_division, save_audited
from zhijian.core.validators import uscc_messages

from . import access
from .choices import SECTORLESS_KINDS, EntityStatus, EntityType, RiskClass
from .models import (
    AccreditationScope,
    Department,
    Inspector,
    Lab,
    MarketEntity,
    Product,
    ProductCategory,
    Responsibility,
    UserUnit,
)

ENTITY_FIELDS = {
    "uscc", "name", "entity_type", "division", "address", "legal_representative",
    "chief_quality_officer", "contact_phone", "registered_on", "status", "categories",
    "risk_class", "licence_holder",
}


def _division(data: dict) -> None:
    if "division" in data and not isinstance(data["division"], Division):
        data["division"] = current_division(data["division"])
    elif isinstance(data.get("division"), Division) and data["division"].valid_to is not None:
        current_division(data["division"].code)


def _normalise_uscc(data: dict) -> None:
    if isinstance(data.get("uscc"), str):
        data["uscc"] = data["uscc"].strip().upper()


def _self_service_only(data: dict, allowed: set[str]) -> None:
    """An organisation edits only the "self" fields of its own record; the rest is the
    regulator's. Refused as a permission problem naming the first such field."""
    extra = sorted(set(data) - set(allowed))
    if extra:
        raise Denied(
            _("This field is kept by the regulator; your organisation cannot change it."),
            field=extra[0],
        )


def _category_codes(values) -> set[str]:
    values = list(values or [])
    codes = {v.code for v in values if isinstance(v, ProductCategory)}
    pks = [v for v in values if not isinstance(v, ProductCategory)]
    if pks:
        codes |= set(ProductCategory.objects.filter(pk__in=pks).values_list("code", flat=True))
    return codes


# gettext_lazy by its own name: makemessages extracts only the names it knows.
_SECTOR_MESSAGE = gettext_lazy(
    "Your department supervises only its own sectors: give product categories within them."
)


def _require_sectors(scope, categories, before: set[str] | None = None) -> None:
    """A sector department (e.g. housing: building materials) registers and changes only
    entities in its sectors, and cannot move an entity out of them."""
    if scope.sectors is None:
        return
    codes = _category_codes(categories)
    changed = codes if before is None else codes ^ before
    if not codes & scope.sectors or not changed <= scope.sectors:
        raise Denied(str(_SECTOR_MESSAGE), field="categories")


# --- market entities ----------------------------------------------------------------------

@transaction.atomic
def entity_register(*, actor, data: dict) -> MarketEntity:
    data = dict(data)
    _normalise_uscc(data)
    _division(data)
    if "division" not in data:
        raise ValidationError({"division": _("This field is required.")})
    scope = access.require_regulator_for_division(actor, data["division"].code)
    _require_sectors(scope, data.get("categories"))
    entity = MarketEntity()
    m2m = apply_fields(entity, data, ENTITY_FIELDS)
    clean_instance(entity)
    return save_audited(
        entity, actor=actor, action="entity.registered", event="entity.registered",
        before=None, m2m=m2m, division=entity.division_id,
        payload={"division": entity.division_id},
    )


@transaction.atomic
def entity_update(*, actor, entity_id: int, data: dict, reason: str = "") -> MarketEntity:
    entity = access.get_or_404(
        access.entities_visible_to(actor).select_for_update(), entity_id
    )
    if not access.can_edit_entity(actor, entity):
        raise Denied(_("You cannot change this entity."))
    data = dict(data)
    scope = scope_of(actor)
    allowed = ENTITY_FIELDS - {"uscc"}
    if scope.role == "enterprise":
        allowed = access.ENTITY_SELF_FIELDS
        _self_service_only(data, allowed)
    _normalise_uscc(data)
    _division(data)
    if "division" in data and not scope.covers_division(data["division"].code):
        raise Denied(_("Division %(code)s is outside your jurisdiction.")
                     % {"code": data["division"].code}, field="division")
    before = audit.snapshot(entity)
    if "categories" in data and scope.is_regulator:
        old = set(entity.categories.values_list("code", flat=True))
        _require_sectors(scope, data["categories"], before=old)
    m2m = apply_fields(entity, data, allowed)
    clean_instance(entity)
    return save_audited(
        entity, actor=actor, action="entity.updated", event="entity.updated", before=before,
        m2m=m2m, reason=reason, division=entity.division_id,
        payload={"division": entity.division_id, "previous_division": before["division_id"]},
    )


# --- bulk import ---------------------------------------------------------------------------

IMPORT_COLUMNS = [
    "uscc", "name", "entity_type", "division", "address", "legal_representative",
    "chief_quality_officer", "contact_phone", "registered_on", "categories", "risk_class",
    "licence_holder",
]
REQUIRED_COLUMNS = {"uscc", "name", "division", "legal_representative"}


@dataclass
class RowError:
    row: int
    field: str
    message: str


@dataclass
class ImportReport:
    total: int = 0
    created: int = 0
    errors: list[RowError] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return not self.errors


_MAX = {f.name: f.max_length for f in MarketEntity._meta.concrete_fields if f.max_length}
_ENTITY_TYPES = frozenset(EntityType.values)
_RISK_CLASSES = frozenset(RiskClass.values)
_TRUE = {"1", "true", "yes", "y", "是", "t"}
_FALSE = {"", "0", "false", "no", "n", "否", "f"}


def _parse_row(i: int, raw: dict, ctx: dict, errors: list[RowError]) -> dict | None:
    row = {k: (str(v).strip() if v is not None else "") for k, v in raw.items()}
    n_err = len(errors)

    def err(f, m):
        errors.append(RowError(i, f, str(m)))

    for col in REQUIRED_COLUMNS:
        if not row.get(col):
            err(col, _("This field is required."))
    for col, limit in _MAX.items():
        if col in row and len(row[col]) > limit:
            err(col, _("At most %(n)s characters (this has %(m)s).") % {"n": limit, "m": len(row[col])})
    uscc = row.get("uscc", "").upper()
    if uscc:
        for m in uscc_messages(uscc):
            err("uscc", m)
        if uscc in ctx["seen"]:
            err("uscc", _("Duplicate of row %(row)s in this file.") % {"row": ctx["seen"][uscc]})
        ctx["seen"].setdefault(uscc, i)
    div = row.get("division", "")
    if div and div not in ctx["divisions"]:
        succ = ctx["abolished"].get(div)
        if succ:
            err("division", _("Division %(code)s was abolished; use %(new)s.") % {"code": div, "new": succ})
        else:
            err("division", _("“%(code)s” is not an administrative division code of the province.") % {"code": div})
    elif div and ctx["prefix"] and not div.startswith(ctx["prefix"]):
        err("division", _("Division %(code)s is outside your jurisdiction.") % {"code": div})
    etype = row.get("entity_type") or EntityType.ENTERPRISE
    if etype not in _ENTITY_TYPES:
        err("entity_type", _("Use one of: %(values)s.") % {"values": ", ".join(EntityType.values)})
    risk = row.get("risk_class") or RiskClass.B
    if risk not in _RISK_CLASSES:
        err("risk_class", _("Use one of: %(values)s.") % {"values": ", ".join(RiskClass.values)})
    reg = None
    if row.get("registered_on"):
        try:
            reg = dt.date.fromisoformat(row["registered_on"])
        except ValueError:
            err("registered_on", _("Enter a date as YYYY-MM-DD."))
    cats = [c for c in row.get("categories", "").replace(",", ";").split(";") if c.strip()]
    cats = [c.strip() for c in cats]
    bad = [c for c in cats if c not in ctx["categories"]]
    if bad:
        err("categories", _("Unknown product category codes: %(codes)s.") % {"codes": ", ".join(bad)})
    elif ctx.get("sectors") is not None and (not cats or not set(cats) <= ctx["sectors"]):
        err("categories", _SECTOR_MESSAGE)
    lic = row.get("licence_holder", "").lower()
    if lic not in _TRUE | _FALSE:
        err("licence_holder", _("Use true or false."))
    if len(errors) > n_err:
        return None
    return {
        "uscc": uscc, "name": row["name"], "entity_type": str(etype), "division_id": div,
        "address": row.get("address", ""), "legal_representative": row["legal_representative"],
        "chief_quality_officer": row.get("chief_quality_officer", ""),
        "contact_phone": row.get("contact_phone", ""), "registered_on": reg,
        "risk_class": str(risk), "licence_holder": lic in _TRUE, "categories": cats,
        "status": EntityStatus.ACTIVE,
    }


def entities_import(
    *,
    actor,
    rows: Iterable[dict],
    batch_size: int = 2000,
    progress: Callable[[int], None] | None = None,
) -> ImportReport:
    """Validate every row, then write all of them or none (M3.7 full record keeping).

    Each created entity gets its own audit entry; one `entities.imported` event carries
    the counts per division for the subscribers.
    """
    scope = access.require_regulator(actor)
    ctx = {
        "seen": {},
        "prefix": scope.prefix,
        "sectors": scope.sectors,
        "divisions": set(Division.objects.current().values_list("code", flat=True)),
        "abolished": dict(
            Division.objects.filter(valid_to__isnull=False).values_list("code", "successor_id")
        ),
        "categories": dict(ProductCategory.objects.values_list("code", "pk")),
    }
    report = ImportReport()
    parsed = []
    for i, raw in enumerate(rows, start=2):  # row 1 is the header line of a CSV file
        report.total += 1
        p = _parse_row(i, raw, ctx, report.errors)
        if p is not None:
            parsed.append((i, p))
    # Codes already registered: checked in chunks against the database.
    usccs = [p["uscc"] for _, p in parsed]
    existing = set()
    for k in range(0, len(usccs), 900):
        existing.update(
            MarketEntity.objects.filter(uscc__in=usccs[k:k + 900]).values_list("uscc", flat=True)
        )
    for i, p in parsed:
        if p["uscc"] in existing:
            report.errors.append(RowError(i, "uscc", _("An entity with this code is already registered.")))
    if report.errors or not parsed:
        report.errors.sort(key=lambda e: e.row)
        return report

    through = MarketEntity.categories.through
    per_division: dict[str, int] = {}
    with transaction.atomic():
        for k in range(0, len(parsed), batch_size):
            chunk = [p for _, p in parsed[k:k + batch_size]]
            objs = [MarketEntity(**{f: v for f, v in p.items() if f != "categories"}) for p in chunk]
            MarketEntity.objects.bulk_create(objs, batch_size=batch_size)
            if not all(o.pk for o in objs):  # backends without RETURNING: read the ids back
                ids = dict(MarketEntity.objects.filter(uscc__in=[o.uscc for o in objs])
                           .values_list("uscc", "pk"))
                for o in objs:
                    o.pk = ids[o.uscc]
            links = [
                through(marketentity_id=o.pk, productcategory_id=ctx["categories"][c])
                for o, p in zip(objs, chunk, strict=True) for c in p["categories"]
            ]
            through.objects.bulk_create(links, batch_size=batch_size)
            changes = []
            for o, p in zip(objs, chunk, strict=True):
                after = {f: to_jsonable(v) for f, v in p.items() if f != "categories"}
                after["id"] = o.pk
                after["categories"] = sorted(str(ctx["categories"][c]) for c in p["categories"])
                changes.append(audit.Change("entity.registered", "registry.marketentity",
                                            str(o.pk), None, after, "import", o.division_id))
                per_division[o.division_id] = per_division.get(o.division_id, 0) + 1
            audit.append_many(changes, actor=actor)
            report.created += len(objs)
            if progress:
                progress(len(objs))
        anchor = objs[-1]
        events.publish("entities.imported", aggregate=anchor,
                       payload={"per_division": per_division, "count": report.created})
    return report


# --- products ------------------------------------------------------------------------------

PRODUCT_FIELDS = {"entity", "name", "model", "category", "standards", "gtin"}


@transaction.atomic
def product_register(*, actor, data: dict) -> Product:
    data = dict(data)
    entity = data.get("entity")
    if entity is None:
        raise ValidationError({"entity": _("This field is required.")})
    if not isinstance(entity, MarketEntity):
        entity = access.get_or_404(access.entities_visible_to(actor), entity)
        data["entity"] = entity
    elif not access.entities_visible_to(actor).filter(pk=entity.pk).exists():
        raise Denied(_("You cannot add products to this entity."), field="entity")
    if not access.can_edit_entity(actor, entity):
        raise Denied(_("You cannot add products to this entity."), field="entity")
    product = Product()
    m2m = apply_fields(product, data, PRODUCT_FIELDS)
    clean_instance(product)
    return save_audited(product, actor=actor, action="product.registered",
                        event="product.registered", before=None, m2m=m2m,
                        division=entity.division_id)


@transaction.atomic
def product_update(*, actor, product_id: int, data: dict, reason: str = "") -> Product:
    product = access.get_or_404(access.products_visible_to(actor).select_for_update(), product_id)
    if not access.can_edit_entity(actor, product.entity):
        raise Denied(_("You cannot change this product."))
    before = audit.snapshot(product)
    m2m = apply_fields(product, dict(data), PRODUCT_FIELDS - {"entity"})
    clean_instance(product)
    return save_audited(product, actor=actor, action="product.updated", event="product.updated",
                        before=before, m2m=m2m, reason=reason,
                        division=product.entity.division_id)


# --- laboratories and scopes ---------------------------------------------------------------

LAB_FIELDS = {"name", "uscc", "division", "address", "cma_number", "cnas_number", "status",
              "monthly_capacity"}


@transaction.atomic
def lab_register(*, actor, data: dict) -> Lab:
    data = dict(data)
    _normalise_uscc(data)
    _division(data)
    if "division" not in data:
        raise ValidationError({"division": _("This field is required.")})
    access.require_regulator_for_division(actor, data["division"].code)
    lab = Lab()
    apply_fields(lab, data, LAB_FIELDS)
    clean_instance(lab)
    return save_audited(lab, actor=actor, action="lab.registered", event="lab.registered",
                        before=None, division=lab.division_id)


@transaction.atomic
def lab_update(*, actor, lab_id: int, data: dict, reason: str = "") -> Lab:
    lab = access.get_or_404(access.labs_visible_to(actor).select_for_update(), lab_id)
    if not access.can_edit_lab(actor, lab):
        raise Denied(_("You cannot change this laboratory."))
    data = dict(data)
    allowed = LAB_FIELDS - {"uscc"}
    scope = scope_of(actor)
    if scope.role == "lab":
        allowed = access.LAB_SELF_FIELDS
        _self_service_only(data, allowed)
    _division(data)
    if "division" in data and not scope.covers_division(data["division"].code):
        raise Denied(_("Division %(code)s is outside your jurisdiction.")
                     % {"code": data["division"].code}, field="division")
    before = audit.snapshot(lab)
    apply_fields(lab, data, allowed)
    clean_instance(lab)
    event = "lab.suspended" if (before["status"] != lab.status and lab.status != "active") else "lab.updated"
    return save_audited(lab, actor=actor, action="lab.updated", event=event, before=before,
                        reason=reason, division=lab.division_id)


def _refuse_overlapping_line(line: AccreditationScope) -> None:
    """One lab holds a standard and parameter once at any date: a second line for the
    same pair whose dates overlap an existing one is a duplicate."""
    others = AccreditationScope.objects.filter(
        lab_id=line.lab_id, standard_id=line.standard_id, parameter=line.parameter,
    ).filter(Q(valid_to__isnull=True) | Q(valid_to__gte=line.valid_from)).exclude(pk=line.pk)
    if line.valid_to is not None:
        others = others.filter(valid_from__lte=line.valid_to)
    other = others.order_by("valid_from").first()
    if other is not None:
        raise ValidationError({"standard": _(
            "The laboratory already has the line %(line)s (%(start)s – %(end)s), which "
            "overlaps these dates. End that line first, or choose dates after it."
        ) % {"line": f"{other.standard.code} {other.parameter or _('all parameters')}",
             "start": other.valid_from.isoformat(),
             "end": other.valid_to.isoformat() if other.valid_to else _("open-ended")}})


def _require_scope_regulator(actor, lab: Lab) -> None:
    scope = scope_of(actor)
    if not (scope.is_admin or (scope.is_regulator and scope.covers_division(lab.division_id))):
        raise Denied(_("Only the regulator of the laboratory's division can change its scope."))


@transaction.atomic
def lab_scope_add(*, actor, lab_id: int, data: dict) -> AccreditationScope:
    # The lab row is locked so that two concurrent adds cannot both pass the overlap check.
    lab = access.get_or_404(access.labs_visible_to(actor).select_for_update(), lab_id)
    _require_scope_regulator(actor, lab)
    line = AccreditationScope(lab=lab)
    apply_fields(line, dict(data), {"standard", "parameter", "valid_from", "valid_to"})
    clean_instance(line)
    _refuse_overlapping_line(line)
    return save_audited(line, actor=actor, action="lab.scope_added", event="lab.scope_changed",
                        before=None, division=lab.division_id)


@transaction.atomic
def lab_scope_end(*, actor, scope_id: int, valid_to: dt.date | None,
                  reason: str) -> AccreditationScope:
    """End a line of a lab's accredited scope on `valid_to` (the last day it is valid):
    the accreditation body narrowed or withdrew it. The line stays in the register."""
    lab_id = access.get_or_404(AccreditationScope.objects.all(), scope_id).lab_id
    # Locked in the order lab_scope_add locks: the lab, then the line.
    lab = access.get_or_404(access.labs_visible_to(actor).select_for_update(), lab_id)
    line = AccreditationScope.objects.select_for_update().get(pk=scope_id)
    _require_scope_regulator(actor, lab)
    errors = {}
    if valid_to is None:
        errors["valid_to"] = _("Give the last day on which the line is valid.")
    elif valid_to < line.valid_from:
        errors["valid_to"] = _("The end date cannot be before the start date.")
    elif line.valid_to is not None and valid_to > line.valid_to:
        errors["valid_to"] = _(
            "The line already ends on %(end)s; it can be ended earlier, not extended. "
            "Add a new line to extend it.") % {"end": line.valid_to.isoformat()}
    if not (reason or "").strip():
        errors["reason"] = _("Give the reason for ending this scope line.")
    if errors:
        raise ValidationError(errors)
    before = audit.snapshot(line)
    line.valid_to = valid_to
    clean_instance(line)
    return save_audited(line, actor=actor, action="lab.scope_ended", event="lab.scope_changed",
                        before=before, reason=reason, division=lab.division_id)


# --- user units ----------------------------------------------------------------------------

USER_UNIT_FIELDS = {"name", "uscc", "division", "sector", "categories", "contact_phone"}


@transaction.atomic
def user_unit_register(*, actor, data: dict) -> UserUnit:
    data = dict(data)
    _normalise_uscc(data)
    _division(data)
    if "division" not in data:
        raise ValidationError({"division": _("This field is required.")})
    access.require_regulator_for_division(actor, data["division"].code)
    unit = UserUnit()
    m2m = apply_fields(unit, data, USER_UNIT_FIELDS)
    clean_instance(unit)
    return save_audited(unit, actor=actor, action="user_unit.registered",
                        event="user_unit.registered", before=None, m2m=m2m,
                        division=unit.division_id)


@transaction.atomic
def user_unit_update(*, actor, unit_id: int, data: dict, reason: str = "") -> UserUnit:
    unit = access.get_or_404(access.user_units_visible_to(actor).select_for_update(), unit_id)
    if not access.can_edit_user_unit(actor, unit):
        raise Denied(_("You cannot change this user unit."))
    data = dict(data)
    allowed = USER_UNIT_FIELDS - {"uscc"}
    scope = scope_of(actor)
    if scope.role == "user_unit":
        allowed = access.USER_UNIT_SELF_FIELDS
        _self_service_only(data, allowed)
    _division(data)
    if "division" in data and not scope.covers_division(data["division"].code):
        raise Denied(_("Division %(code)s is outside your jurisdiction.")
                     % {"code": data["division"].code}, field="division")
    before = audit.snapshot(unit)
    m2m = apply_fields(unit, data, allowed)
    clean_instance(unit)
    return save_audited(unit, actor=actor, action="user_unit.updated", event="user_unit.updated",
                        before=before, m2m=m2m, reason=reason, division=unit.division_id)


# --- departments, inspectors, responsibility matrix ---------------------------------------

DEPARTMENT_FIELDS = {"code", "name", "name_en", "kind", "level", "division", "all_sectors",
                     "sectors", "phone"}


def department_sectors_check(*, kind: str, all_sectors: bool, sectors) -> None:
    """A department supervises every sector or a list of them; one with neither would
    supervise nothing (SECTORLESS_KINDS excepted). Shared with the admin form."""
    if all_sectors or kind in SECTORLESS_KINDS or list(sectors or []):
        return
    raise ValidationError({"sectors": _(
        "Choose the sectors (product categories) the department supervises, or tick "
        "“supervises every sector”.")})


@transaction.atomic
def department_register(*, actor, data: dict, reason: str = "") -> Department:
    access.require_admin(actor)
    data = dict(data)
    _division(data)
    dept = Department()
    m2m = apply_fields(dept, data, DEPARTMENT_FIELDS)
    clean_instance(dept)
    department_sectors_check(kind=dept.kind, all_sectors=dept.all_sectors,
                             sectors=m2m.get("sectors"))
    return save_audited(dept, actor=actor, action="department.registered",
                        event="department.registered", before=None, m2m=m2m, reason=reason,
                        division=dept.division_id)


@transaction.atomic
def department_update(*, actor, department_id: int, data: dict, reason: str = "") -> Department:
    access.require_admin(actor)
    dept = access.get_or_404(Department.objects.select_for_update(), department_id)
    data = dict(data)
    _division(data)
    before = audit.snapshot(dept)
    m2m = apply_fields(dept, data, DEPARTMENT_FIELDS - {"code"})
    clean_instance(dept)
    department_sectors_check(kind=dept.kind, all_sectors=dept.all_sectors,
                             sectors=m2m["sectors"] if "sectors" in m2m else before["sectors"])
    return save_audited(dept, actor=actor, action="department.updated",
                        event="department.updated", before=before, m2m=m2m, reason=reason,
                        division=dept.division_id)


INSPECTOR_FIELDS = {"name", "badge_number", "department", "qualifications", "active", "user"}


def _check_inspector_account(inspector: Inspector) -> None:
    """An inspector signs in with a regulator account of their own department: that is
    what lets them record, sign and complete the inspections they are drawn for."""
    user = inspector.user
    if user is not None and (user.role != "regulator"
                             or user.department_id != inspector.department_id):
        raise ValidationError({"user": _(
            "Link a regulator account of the inspector's own department.")})


def _require_department_in_scope(actor, dept: Department) -> None:
    scope = scope_of(actor)
    if scope.is_admin:
        return
    if not scope.is_regulator:
        raise Denied(_("Only regulators can do this."))
    if scope.covers_division(dept.division_id):
        return
    raise Denied(_("This department is outside your jurisdiction."), field="department")


@transaction.atomic
def inspector_register(*, actor, data: dict) -> Inspector:
    data = dict(data)
    dept = data.get("department")
    if dept is None:
        raise ValidationError({"department": _("This field is required.")})
    if not isinstance(dept, Department):
        dept = access.get_or_404(Department.objects.all(), dept)
        data["department"] = dept
    _require_department_in_scope(actor, dept)
    inspector = Inspector()
    apply_fields(inspector, data, INSPECTOR_FIELDS)
    clean_instance(inspector)
    _check_inspector_account(inspector)
    return save_audited(inspector, actor=actor, action="inspector.registered",
                        event="inspector.registered", before=None, division=dept.division_id)


@transaction.atomic
def inspector_update(*, actor, inspector_id: int, data: dict, reason: str = "") -> Inspector:
    inspector = access.get_or_404(access.inspectors_visible_to(actor).select_for_update(),
                                  inspector_id)
    data = dict(data)
    if "department" in data and not isinstance(data["department"], Department):
        data["department"] = access.get_or_404(Department.objects.all(), data["department"])
    if "department" in data:
        _require_department_in_scope(actor, data["department"])
    before = audit.snapshot(inspector)
    apply_fields(inspector, data, INSPECTOR_FIELDS - {"badge_number"})
    clean_instance(inspector)
    _check_inspector_account(inspector)
    return save_audited(inspector, actor=actor, action="inspector.updated",
                        event="inspector.updated", before=before, reason=reason,
                        division=inspector.department.division_id)


@transaction.atomic
def responsibility_set(*, actor, category, level: str, kind: str, role: str,
                       legal_basis: str = "", reason: str = "") -> Responsibility:
    """Create or change one cell of the responsibility matrix (administrators only)."""
    access.require_admin(actor)
    if not isinstance(category, ProductCategory):
        category = ProductCategory.objects.filter(pk=category).first() or ProductCategory.objects.filter(code=category).first()
        if category is None:
            raise ValidationError({"category": _("Unknown product category.")})
    duty = Responsibility.objects.select_for_update().filter(
        category=category, level=level, kind=kind).first()
    before = audit.snapshot(duty) if duty else None
    duty = duty or Responsibility(category=category, level=level, kind=kind)
    duty.role = role
    duty.legal_basis = legal_basis
    clean_instance(duty)
    return save_audited(duty, actor=actor, action="responsibility.set",
                        event="responsibility.changed", before=before, reason=reason)


@transaction.atomic
def responsibility_remove(*, actor, responsibility_id: int, reason: str) -> None:
    access.require_admin(actor)
    duty = access.get_or_404(Responsibility.objects.select_for_update(), responsibility_id)
    if not reason:
        raise ValidationError({"reason": _("Give the reason for removing this duty.")})
    before = audit.snapshot(duty)
    pk = duty.pk
    duty.delete()
    duty.pk = pk
    audit.append(audit.Change("responsibility.deleted", "registry.responsibility", str(pk),
                              before, None, reason), actor=actor)
    events.publish("responsibility.changed", aggregate=duty, payload={"removed": pk})


@transaction.atomic
def reference_save(*, actor, instance, reason: str = "", m2m: dict | None = None) -> None:
    """Administrators' edits of reference data (categories, standards) from the admin.
    `m2m` (field name -> values) is set before the audit entry is written."""
    access.require_admin(actor)
    before = None
    if instance.pk:
        old = type(instance).objects.filter(pk=instance.pk).first()
        before = audit.snapshot(old) if old else None
    clean_instance(instance)
    label = instance._meta.model_name
    save_audited(instance, actor=actor, action=f"{label}.saved", event=None, before=before,
                 reason=reason, m2m=m2m)
