"""Writes of supervisory sampling (监督抽查). Each function runs in one transaction, checks
the actor's right to act, writes, audits and publishes its domain event. The chain of
custody is checked by the pure module `custody.py`; docs/sampling.md describes it all.

Plans and samples belong to a department: only its officers plan, sample, hand over
(as holders) and decide the follow-up of nonconforming results. The lab is assigned by
the department when the sample is recorded; nothing lets the firm choose or change it.
"""

from __future__ import annotations

import datetime as dt
from decimal import Decimal, InvalidOperation

from django.contrib.auth import get_user_model
from django.core.exceptions import ValidationError
from django.db import transaction
from django.db.models import Max
from django.utils import timezone
from django.utils.formats import date_format
from django.utils.translation import gettext as _

from zhijian.core import audit, calendar, events, rules
from zhijian.core.access import Denied, not_found, scope_of
from zhijian.core.models import Division
from zhijian.core.services import upload_sha256
from zhijian.registry.choices import LabStatus
from zhijian.registry.models import (
    AccreditationScope,
    Department,
    Lab,
    ProductCategory,
)
from zhijian.reports.choices import ReportKind, ReportStatus
from zhijian.reports.models import Report

from . import access, custody
from .choices import (
    Channel,
    DisposalKind,
    DisposalStatus,
    SampleStatus,
    SamplingPlanStatus,
)
from .models import Disposal, Handover, Sample, SamplePhoto, SamplingPlan

PLAN_FIELDS = ["title", "department", "division_prefixes", "online", "period_start",
               "period_end", "target_count"]
SAMPLE_FIELDS = ["channel", "entity", "producer", "product", "product_name", "model",
                 "category", "batch", "quantity", "unit", "place", "seal_number",
                 "sampled_at"]
MAX_PHOTO_BYTES = 10 * 1024 * 1024
PHOTO_TYPES = {b"\xff\xd8\xff": "image/jpeg", b"\x89PNG\r\n\x1a\n": "image/png"}
#: sample statuses after which the chain of custody is closed
RESULT_STATUSES = (SampleStatus.REPORTED, SampleStatus.PUBLISHED)


def _day(value: dt.date) -> str:
    return date_format(value, "Y-m-d")


def _now(now: dt.datetime | None) -> dt.datetime:
    """Signed times are kept to the second, so that what is signed is what is stored."""
    return (now or timezone.now()).replace(microsecond=0)


def _rule_stamp(rule, provisional: bool) -> str:
    return f"{rule.version}/{calendar.data_version()}" + ("/provisional" if provisional else "")


# --- plans ------------------------------------------------------------------------------------

def _plan_snapshot(plan: SamplingPlan) -> dict:
    return {
        **audit.snapshot(plan, PLAN_FIELDS + ["code", "status"]),
        "categories": sorted(plan.categories.values_list("code", flat=True)),
        "entities": sorted(plan.entities.values_list("uscc", flat=True)),
    }


def _require_department(actor, department: Department, *, admin: bool = True,
                        message: str | None = None, field: str | None = None) -> None:
    scope = scope_of(actor)
    if admin and scope.is_admin:
        return
    if not scope.is_regulator or actor.department_id != department.pk:
        raise Denied(message or _("Only officers of %(department)s can do this.")
                     % {"department": department.name}, field=field)


def _department_categories(department: Department) -> set[str] | None:
    if department.all_sectors:
        return None
    return ProductCategory.objects.expand(department.sectors.values_list("code", flat=True))


def _validate_plan(data: dict, categories: list, entities: list) -> None:
    errors: dict[str, str] = {}
    department: Department = data["department"]
    if not (data.get("title") or "").strip():
        errors["title"] = _("Give the plan a title.")
    if not categories:
        errors["categories"] = _("Choose at least one product category: the scope is empty.")
    else:
        allowed = _department_categories(department)
        outside = [c.name for c in categories if allowed is not None and c.code not in allowed]
        if outside:
            errors["categories"] = _(
                "%(names)s is outside the sectors %(department)s supervises; choose "
                "categories within them.") % {"names": "、".join(outside),
                                              "department": department.name}
    prefixes = data.get("division_prefixes") or []
    own = department.division.prefix
    if not prefixes:
        errors["division_prefixes"] = _("Choose at least one city or county: the scope is empty.")
    else:
        known = set(Division.objects.current().filter(
            code__in=[str(p).ljust(6, "0") for p in prefixes]).values_list("code", flat=True))
        bad = [str(p) for p in prefixes if str(p).ljust(6, "0") not in known
               or len(str(p)) not in (2, 4, 6)]
        outside = [p for p in prefixes if not str(p).startswith(own)]
        if bad:
            errors["division_prefixes"] = _(
                "%(codes)s is not a current division code; use a 2-, 4- or 6-digit GB/T 2260 "
                "code of the province, a city or a county.") % {"codes": ", ".join(bad)}
        elif outside:
            errors["division_prefixes"] = _(
                "%(codes)s is outside the jurisdiction of %(department)s (%(own)s…); choose "
                "divisions within it.") % {"codes": ", ".join(outside),
                                           "department": department.name, "own": own}
    start, end = data.get("period_start"), data.get("period_end")
    if not start:
        errors["period_start"] = _("Give the first day of the sampling period.")
    if not end:
        errors["period_end"] = _("Give the last day of the sampling period.")
    if start and end and end < start:
        errors["period_end"] = _("The period ends before it starts.")
    if (data.get("target_count") or 0) < 0:
        errors["target_count"] = _("The number of samples planned cannot be negative.")
    if entities and "division_prefixes" not in errors:
        strangers = [e.name for e in entities
                     if not any(e.division_id.startswith(str(p)) for p in prefixes)]
        if strangers:
            errors["entities"] = _(
                "%(names)s is outside the plan's divisions; name firms within them or add "
                "their division.") % {"names": "、".join(strangers)}
    if errors:
        raise ValidationError(errors)


def _next_code(model, prefix: str, width: int) -> str:
    last = (model.objects.select_for_update().filter(code__startswith=prefix)
            .aggregate(m=Max("code"))["m"])
    return f"{prefix}{int(last[len(prefix):]) + 1 if last else 1:0{width}d}"


@transaction.atomic
def sampling_plan_save(*, actor, data: dict, categories: list, entities=(),
                       plan: SamplingPlan | None = None) -> SamplingPlan:
    """Create a draft sampling plan or change one (only while it is a draft). The
    department defaults to the actor's; divisions must lie within its jurisdiction and
    categories within its sectors; named firms within the plan's divisions."""
    data = {k: v for k, v in data.items() if k in PLAN_FIELDS}
    if plan is not None:
        plan = SamplingPlan.objects.select_for_update().select_related(
            "department__division").get(pk=plan.pk)
        _require_department(actor, plan.department)
        if "department" in data and data["department"] != plan.department:
            raise ValidationError({"department": _(
                "A plan stays with the department that made it.")})
        if plan.status != SamplingPlanStatus.DRAFT:
            raise ValidationError(_("Plan %(code)s is no longer a draft and cannot be "
                                    "changed.") % {"code": plan.code})
        before = _plan_snapshot(plan)
    else:
        department = data.get("department")
        if department is None and scope_of(actor).is_regulator:
            department = actor.department
        if department is None:
            raise ValidationError({"department": _("Choose the department that plans the "
                                                   "sampling.")})
        _require_department(actor, department, field="department",
                            message=_("Only officers of %(department)s can plan its "
                                      "sampling.") % {"department": department.name})
        data["department"] = department
        plan = SamplingPlan(created_by=actor)
        before = None
    for name, value in data.items():
        setattr(plan, name, value)
    plan.title = (plan.title or "").strip()
    plan.division_prefixes = [str(p) for p in (plan.division_prefixes or [])]
    entities = list(entities)
    merged = {name: getattr(plan, name, None) for name in PLAN_FIELDS}
    _validate_plan(merged, list(categories), entities)
    if not plan.code:
        plan.code = _next_code(SamplingPlan, f"CJ{plan.period_start.year}-", 4)
    plan.save()
    plan.categories.set(categories)
    plan.entities.set(entities)
    audit.append(audit.Change(
        "sampling_plan.created" if before is None else "sampling_plan.updated",
        "sampling.samplingplan", str(plan.pk), before, _plan_snapshot(plan),
        division=plan.department.division_id), actor=actor)
    return plan


def _transition(*, actor, plan_id: int, source: str, target: str, event: str,
                refusal: str) -> SamplingPlan:
    if not access.plans_visible_to(actor).filter(pk=plan_id).exists():
        not_found()
    plan = SamplingPlan.objects.select_for_update().select_related(
        "department__division").get(pk=plan_id)
    _require_department(actor, plan.department)
    if plan.status != source:
        raise ValidationError(refusal % {"code": plan.code,
                                         "status": plan.get_status_display()})
    before = {"status": plan.status}
    plan.status = target
    plan.save(update_fields=["status"])
    audit.append(audit.Change(event, "sampling.samplingplan", str(plan.pk), before,
                              {"status": target}, division=plan.department.division_id),
                 actor=actor)
    events.publish(event, aggregate=plan, payload={"department": plan.department_id})
    return plan


@transaction.atomic
def sampling_plan_activate(*, actor, plan_id: int) -> SamplingPlan:
    """Start sampling under a draft plan; it can no longer be changed."""
    return _transition(actor=actor, plan_id=plan_id, source=SamplingPlanStatus.DRAFT,
                       target=SamplingPlanStatus.ACTIVE, event="sampling_plan.activated",
                       refusal=_("Plan %(code)s is %(status)s; only a draft can be "
                                 "activated."))


@transaction.atomic
def sampling_plan_close(*, actor, plan_id: int) -> SamplingPlan:
    """End sampling under an active plan; samples already taken go on to the lab."""
    return _transition(actor=actor, plan_id=plan_id, source=SamplingPlanStatus.ACTIVE,
                       target=SamplingPlanStatus.CLOSED, event="sampling_plan.closed",
                       refusal=_("Plan %(code)s is %(status)s; only an active plan can be "
                                 "closed."))


# --- samples ----------------------------------------------------------------------------------

def lab_problem(lab: Lab, category: ProductCategory, day: dt.date) -> str | None:
    """Why a lab cannot be assigned a sample of this category on this day, or None: it
    must be active and hold an accreditation scope line valid on the day for a standard
    of the category (or of a category above it)."""
    if lab.status != LabStatus.ACTIVE:
        return _("%(lab)s is %(status)s and cannot be assigned samples; assign an active "
                 "lab.") % {"lab": lab.name, "status": lab.get_status_display()}
    parts = category.code.split(".")
    lineage = [".".join(parts[:i]) for i in range(1, len(parts) + 1)]
    if not AccreditationScope.objects.valid_on(day).filter(
            lab=lab, standard__categories__code__in=lineage).exists():
        return _("%(lab)s holds no accreditation scope line valid on %(day)s for a standard "
                 "of %(category)s; assign a lab accredited to test it.") % {
            "lab": lab.name, "day": _day(day), "category": category.name}
    return None


def recognised_result(producer_id: int, batch: str, day: dt.date) -> tuple[Report | None, object]:
    """Mutual recognition (M3.3): the latest issued supervisory report for this batch
    issued within the recognition period before `day`, and the rule used."""
    rule = rules.get("sampling.recognition_days", day)
    report = (Report.objects.filter(
        kind=ReportKind.SUPERVISORY, status=ReportStatus.ISSUED, producer_id=producer_id,
        batch=batch, issued_on__lte=day,
        issued_on__gte=day - dt.timedelta(days=rule.value))
        .select_related("lab").order_by("-issued_on", "-id").first())
    return report, rule


def _sample_errors(plan: SamplingPlan, data: dict, lab: Lab | None) -> dict[str, str]:
    errors: dict[str, str] = {}
    sampled_at = data.get("sampled_at")
    day = None
    if not isinstance(sampled_at, dt.datetime):
        errors["sampled_at"] = _("Give the date and time the sample was taken.")
    elif sampled_at > timezone.now() + dt.timedelta(minutes=5):
        errors["sampled_at"] = _("The sampling time is in the future; enter when the sample "
                                 "was taken.")
    else:
        day = timezone.localdate(sampled_at)
        if not plan.period_start <= day <= plan.period_end:
            errors["sampled_at"] = _(
                "The sample was taken on %(day)s, outside the plan's period (%(start)s – "
                "%(end)s).") % {"day": _day(day), "start": _day(plan.period_start),
                                "end": _day(plan.period_end)}
    entity = data.get("entity")
    if entity is None:
        errors["entity"] = _("Choose the firm the sample was taken from.")
    else:
        named = set(plan.entities.values_list("pk", flat=True))
        if named and entity.pk not in named:
            errors["entity"] = _("%(name)s is not among the firms named in plan %(code)s; "
                                 "sample a named firm.") % {"name": entity.name,
                                                             "code": plan.code}
        elif not any(entity.division_id.startswith(p) for p in plan.division_prefixes):
            errors["entity"] = _("%(name)s is in %(division)s, outside the plan's divisions "
                                 "(%(prefixes)s).") % {
                "name": entity.name, "division": entity.division_id,
                "prefixes": ", ".join(plan.division_prefixes)}
    producer = data.get("producer")
    if producer is None:
        errors["producer"] = _("Choose the producer named on the product or its label.")
    category = data.get("category")
    if category is None:
        errors["category"] = _("Choose the product category of the sample.")
    else:
        codes = ProductCategory.objects.expand(plan.categories.values_list("code", flat=True))
        if category.code not in codes:
            errors["category"] = _("%(category)s is not in the categories of plan %(code)s; "
                                   "choose one of: %(allowed)s.") % {
                "category": category.name, "code": plan.code,
                "allowed": "、".join(plan.categories.order_by("code").values_list(
                    "name", flat=True))}
    product = data.get("product")
    if product is not None and producer is not None and product.entity_id != producer.pk:
        errors["product"] = _("%(product)s is not a product of %(producer)s; choose one of "
                              "the producer's products or leave it empty.") % {
            "product": str(product), "producer": producer.name}
    for name, message in [
        ("product_name", _("Give the product name as on the product or its label.")),
        ("batch", _("Give the batch number as on the product or its label.")),
        ("unit", _("Give the unit of the quantity, for example m, kg or pieces.")),
        ("seal_number", _("Give the number of the seal put on the sample.")),
    ]:
        if not (data.get(name) or "").strip():
            errors[name] = message
    quantity = data.get("quantity")
    try:
        positive = quantity is not None and Decimal(quantity) > 0
    except (InvalidOperation, TypeError, ValueError):
        positive = False
    if not positive:
        errors["quantity"] = _("Give the quantity taken, more than 0.")
    channel = data.get("channel") or Channel.ON_SITE
    if channel not in Channel.values:
        errors["channel"] = _("Choose on site or online purchase.")
    elif channel == Channel.ONLINE:
        if not plan.online:
            errors["channel"] = _("Plan %(code)s does not include online purchases; record "
                                  "an on-site sample or use a plan that does.") % {
                "code": plan.code}
        if not (data.get("shop") or "").strip():
            errors["shop"] = _("Give the name of the online shop the sample was bought "
                               "from.")
        if not (data.get("order_number") or "").strip():
            errors["order_number"] = _("Give the order number of the online purchase.")
    elif not (data.get("place") or "").strip():
        errors["place"] = _("Give the address where the sample was taken.")
    if lab is None:
        errors["lab"] = _("Choose the lab the department assigns to test the sample.")
    elif category is not None and day is not None and "category" not in errors:
        problem = lab_problem(lab, category, day)
        if problem:
            errors["lab"] = problem
    return errors


@transaction.atomic
def sample_record(*, actor, plan_id: int, data: dict, lab_id: int | None,
                  duplicate_reason: str = "") -> Sample:
    """Record a sample taken under an active plan by an officer of its department (the
    sampler, its first holder), with the lab the department assigns. A batch with a
    recognised result (mutual recognition) is refused unless a reason is given; it is
    then recorded and flagged as a duplicate."""
    if not access.plans_visible_to(actor).filter(pk=plan_id).exists():
        not_found()
    plan = SamplingPlan.objects.select_for_update().select_related(
        "department__division").get(pk=plan_id)
    _require_department(actor, plan.department, admin=False,
                        message=_("Only officers of %(department)s take samples under its "
                                  "plans.") % {"department": plan.department.name})
    if plan.status != SamplingPlanStatus.ACTIVE:
        raise ValidationError(_("Plan %(code)s is %(status)s; samples are recorded only "
                                "while a plan is active.") % {
            "code": plan.code, "status": plan.get_status_display()})
    data = dict(data)
    if data.get("producer") is None and data.get("entity") is not None:
        data["producer"] = data["entity"]
    lab = Lab.objects.filter(pk=lab_id).first() if lab_id else None
    errors = _sample_errors(plan, data, lab)
    reason = (duplicate_reason or "").strip()
    duplicate, rule = None, None
    if not errors:
        day = timezone.localdate(data["sampled_at"])
        duplicate, rule = recognised_result(data["producer"].pk, data["batch"].strip(), day)
        if duplicate is not None and not reason:
            errors["batch"] = _(
                "Batch %(batch)s of %(producer)s already has a recognised supervisory result: "
                "report %(number)s by %(lab)s, issued on %(issued)s (recognised for %(days)s "
                "days). Give a reason to sample it again.") % {
                "batch": data["batch"].strip(), "producer": data["producer"].name,
                "number": duplicate.number, "lab": duplicate.lab.name,
                "issued": _day(duplicate.issued_on), "days": rule.value}
    if errors:
        raise ValidationError(errors)
    entity = data["entity"]
    channel = data.get("channel") or Channel.ON_SITE
    place = (data.get("place") or "").strip()
    if channel == Channel.ONLINE:
        place = f"{data['shop'].strip()} · {data['order_number'].strip()}"
    sample = Sample(
        plan=plan, channel=channel, entity=entity, producer=data["producer"],
        product=data.get("product"), product_name=data["product_name"].strip(),
        model=(data.get("model") or "").strip(), category=data["category"],
        batch=data["batch"].strip(), quantity=Decimal(data["quantity"]),
        unit=data["unit"].strip(), place=place[:200], division_id=entity.division_id,
        seal_number=data["seal_number"].strip(), sampled_at=data["sampled_at"],
        sampled_by=actor, lab=lab, duplicate_of=duplicate,
        duplicate_reason=reason if duplicate is not None else "",
        rule_version=rule.version,
    )
    sample.code = _next_code(Sample, f"CY{timezone.localdate(sample.sampled_at).year}-", 6)
    sample.save()
    audit.record(sample, action="sample.recorded", actor=actor, before=None,
                 reason=sample.duplicate_reason, division=sample.division_id)
    events.publish("sample.recorded", aggregate=sample, payload={
        "plan": plan.pk, "entity": entity.pk, "producer": sample.producer_id,
        "category": sample.category.code, "batch": sample.batch, "lab": lab.pk,
        "division": sample.division_id,
        "duplicate_of": duplicate.pk if duplicate is not None else None})
    return sample


def _lock_sample(actor, sample_id: int) -> Sample:
    visible = access.samples_visible_to(actor).filter(pk=sample_id).exists()
    if not visible:
        not_found()
    return (Sample.objects.select_for_update().select_related("plan__department", "lab")
            .get(pk=sample_id))


@transaction.atomic
def sample_photo_add(*, actor, sample_id: int, upload) -> SamplePhoto:
    """Keep a photo of the sample (JPEG or PNG, recognised by its first bytes, at most
    10 MB) with its SHA-256: officers of the sampling department and the assigned lab."""
    sample = _lock_sample(actor, sample_id)
    scope = scope_of(actor)
    if not ((scope.is_regulator and actor.department_id == sample.plan.department_id)
            or (scope.role == "lab" and actor.lab_id == sample.lab_id)):
        raise Denied(_("Only officers of the sampling department and users of the assigned "
                       "lab add photos of this sample."))
    if upload.size > MAX_PHOTO_BYTES:
        raise ValidationError({"file": _("The photo is larger than 10 MB; take a smaller "
                                         "one.")})
    head = upload.read(8)
    upload.seek(0)
    if not any(head.startswith(magic) for magic in PHOTO_TYPES):
        raise ValidationError({"file": _("Only JPEG and PNG photos are accepted; this file "
                                         "is neither.")})
    photo = SamplePhoto(sample=sample, sha256=upload_sha256(upload), uploaded_by=actor)
    photo.file.save((upload.name or "photo")[-100:], upload, save=False)
    photo.save()
    audit.append(audit.Change("sample.photo_added", "sampling.sample", str(sample.pk), None,
                              {"photo": photo.pk, "sha256": photo.sha256,
                               "size": upload.size}, division=sample.division_id),
                 actor=actor)
    return photo


# --- chain of custody -------------------------------------------------------------------------

def current_holder_id(sample: Sample) -> int | None:
    """The user who holds the sample: the sampler, then the receiver of the last received
    hand-over; None while a hand-over waits to be received."""
    last = sample.handovers.order_by("-position").first()
    if last is None:
        return sample.sampled_by_id
    return last.received_by_id if last.received_at is not None else None


def _receiver_problem(user, sample: Sample) -> str | None:
    scope = scope_of(user)
    if scope.is_regulator:
        return None
    if scope.role == "lab":
        if user.lab_id == sample.lab_id:
            return None
        return _("%(user)s works for another lab (%(other)s); only the assigned lab, "
                 "%(lab)s, receives this sample.") % {
            "user": user.get_username(), "other": user.lab.name, "lab": sample.lab.name}
    return _("%(user)s cannot receive samples: hand them only to regulators or to users of "
             "the assigned lab (%(lab)s).") % {"user": user.get_username(),
                                                 "lab": sample.lab.name}


@transaction.atomic
def handover_give(*, actor, sample_id: int, to_user_id: int | None, note: str = "",
                  now: dt.datetime | None = None) -> Handover:
    """The current holder hands the sample over and signs the hand-over."""
    sample = _lock_sample(actor, sample_id)
    last = sample.handovers.select_related("received_by").order_by("-position").first()
    if (last is not None and last.received_at is None
            and actor.pk in (last.given_by_id, last.received_by_id)):
        raise ValidationError(_("Hand-over %(position)s to %(user)s has not been received "
                                "yet; it must be received before the sample is handed on.")
                              % {"position": last.position,
                                 "user": last.received_by.get_username()})
    holder = current_holder_id(sample)
    if actor.pk != holder:
        raise Denied(_("Only the current holder of the sample can hand it over."))
    if sample.status in RESULT_STATUSES:
        raise ValidationError(_("The result of sample %(code)s is out; its chain of custody "
                                "is closed.") % {"code": sample.code})
    User = get_user_model()
    receiver = User.objects.filter(pk=to_user_id, is_active=True).first() if to_user_id else None
    if receiver is None:
        raise ValidationError({"to_user": _("Choose an active user to hand the sample to.")})
    if receiver.pk == actor.pk:
        raise ValidationError({"to_user": _("You already hold the sample; choose the person "
                                            "you hand it to.")})
    problem = _receiver_problem(receiver, sample)
    if problem:
        raise ValidationError({"to_user": problem})
    note = (note or "").strip()
    if len(note) > 300:
        raise ValidationError({"note": _("Keep the note within 300 characters.")})
    given_at = _now(now)
    h = Handover(sample=sample, position=(last.position + 1) if last else 1, given_by=actor,
                 received_by=receiver, given_at=given_at, note=note)
    h.giver_digest = custody.digest(custody.giver_statement(
        {"sample": sample.code, "seal_number": sample.seal_number}, h.as_chain_entry()))
    h.save()
    if sample.status == SampleStatus.SAMPLED:
        sample.status = SampleStatus.IN_TRANSIT
        sample.save(update_fields=["status"])
    audit.record(h, action="handover.given", actor=actor, before=None,
                 division=sample.division_id)
    events.publish("handover.given", aggregate=sample, payload={
        "handover": h.pk, "position": h.position, "giver": actor.pk, "receiver": receiver.pk})
    return h


@transaction.atomic
def handover_receive(*, actor, handover_id: int, seal_intact, seal_number_seen: str,
                     now: dt.datetime | None = None) -> Handover:
    """The named receiver confirms receipt, says how the seal was found and signs. A
    broken seal or another seal number is recorded and shows as a custody problem
    everywhere; it is never accepted silently."""
    h = (Handover.objects.select_related("sample", "given_by", "received_by")
         .filter(pk=handover_id).first())
    if h is None:
        not_found()
    sample = _lock_sample(actor, h.sample_id)
    h = Handover.objects.select_for_update().select_related("given_by", "received_by").get(
        pk=handover_id)
    if actor.pk != h.received_by_id:
        raise Denied(_("Only %(user)s, to whom the sample was handed, can confirm receipt.")
                     % {"user": h.received_by.get_username()})
    problem = _receiver_problem(actor, sample)
    if problem:
        raise Denied(problem)
    if h.received_at is not None:
        raise ValidationError(_("Hand-over %(position)s was already received.")
                              % {"position": h.position})
    errors = {}
    if not isinstance(seal_intact, bool):
        errors["seal_intact"] = _("Say whether the seal was intact.")
    seen = (seal_number_seen or "").strip()
    if not seen:
        errors["seal_number_seen"] = _("Read the seal number on the sample and enter it.")
    if errors:
        raise ValidationError(errors)
    before = audit.snapshot(h)
    received_at = max(_now(now), h.given_at)
    h.received_at, h.seal_intact, h.seal_number_seen = received_at, seal_intact, seen[:40]
    h.receiver_digest = custody.digest(custody.receiver_statement(
        {"sample": sample.code, "seal_number": sample.seal_number}, h.as_chain_entry()))
    h.save()
    audit.record(h, action="handover.received", actor=actor, before=before,
                 division=sample.division_id)
    events.publish("handover.received", aggregate=sample, payload={
        "handover": h.pk, "position": h.position, "receiver": actor.pk,
        "seal_intact": seal_intact, "seal_number_matches": seen == sample.seal_number})
    if scope_of(actor).role == "lab" and sample.received_at is None:
        sample.received_at = received_at
        sample.status = SampleStatus.RECEIVED
        sample.save(update_fields=["received_at", "status"])
        events.publish("sample.received", aggregate=sample, payload={
            "lab": sample.lab_id, "custody_intact": sample.custody_intact})
    return h


# --- results (event subscribers call these; each is idempotent) -------------------------------

def sample_result_record(report_id: int) -> Sample | None:
    """Take the result of an issued report onto its sample: result, date, the publication
    deadline (rule sampling.publication_working_days, counted in working days from the day
    the result was produced). Idempotent."""
    report = Report.objects.filter(pk=report_id).first()
    if report is None or report.sample_id is None or report.issued_on is None:
        return None
    with transaction.atomic():
        sample = Sample.objects.select_for_update().get(pk=report.sample_id)
        if sample.report_id == report.pk:
            return sample
        before = audit.snapshot(sample, ["report", "result", "result_on", "status",
                                         "publish_by"])
        rule = rules.get("sampling.publication_working_days", report.issued_on)
        sample.report = report
        sample.report_revoked_at = None
        sample.result = report.conclusion
        sample.result_on = report.issued_on
        sample.publish_by, provisional = calendar.deadline(report.issued_on, rule.value)
        sample.publication_rule = _rule_stamp(rule, provisional)
        if sample.published_at is None:
            sample.status = SampleStatus.REPORTED
        sample.save(update_fields=["report", "report_revoked_at", "result", "result_on",
                                   "publish_by", "publication_rule", "status"])
        audit.append(audit.Change(
            "sample.result_recorded", "sampling.sample", str(sample.pk), before,
            audit.snapshot(sample, ["report", "result", "result_on", "status", "publish_by",
                                    "publication_rule"]), division=sample.division_id),
            actor=None)
    return sample


def sample_result_publish(sample_id: int, now: dt.datetime | None = None) -> bool:
    """Put a sample's result on the portal's sampling-results list. Idempotent."""
    now = now or timezone.now()
    with transaction.atomic():
        done = Sample.objects.filter(pk=sample_id, published_at__isnull=True).exclude(
            result="").update(published_at=now, status=SampleStatus.PUBLISHED)
        if done:
            audit.append(audit.Change("sample.published", "sampling.sample", str(sample_id),
                                      None, {"published_at": now.isoformat()}), actor=None)
    return bool(done)


def samples_publish_due(now: dt.datetime | None = None) -> int:
    """Publish every result not yet published whose publication date has come (run
    hourly by Celery beat; idempotent). Returns how many were published."""
    now = now or timezone.now()
    due = Sample.objects.filter(published_at__isnull=True, publish_by__lte=timezone.localdate(now)
                                ).exclude(result="").values_list("pk", flat=True)
    return sum(sample_result_publish(pk, now=now) for pk in list(due))


def sample_report_revoked(report_id: int, now: dt.datetime | None = None) -> int:
    """Mark the result of every sample that shows this report as revoked. Idempotent."""
    now = now or timezone.now()
    count = 0
    with transaction.atomic():
        for pk, division in Sample.objects.filter(
                report_id=report_id, report_revoked_at__isnull=True).values_list(
                "pk", "division_id"):
            Sample.objects.filter(pk=pk).update(report_revoked_at=now)
            audit.append(audit.Change("sample.report_revoked", "sampling.sample", str(pk),
                                      None, {"report": report_id,
                                             "report_revoked_at": now.isoformat()},
                                      division=division), actor=None)
            count += 1
    return count


def disposal_open(report_id: int, now: dt.datetime | None = None) -> Disposal | None:
    """After a nonconforming supervisory result: publish sample.nonconforming and open
    the follow-up for the department responsible for the producer (one per report;
    applying it twice changes nothing). Due within rule sampling.disposal_working_days."""
    report = Report.objects.select_related("category", "producer").filter(pk=report_id).first()
    if report is None or report.sample_id is None:
        return None
    with transaction.atomic():
        existing = Disposal.objects.filter(report=report).first()
        if existing is not None:
            return existing
        sample = Sample.objects.select_related("plan__department", "category", "producer"
                                               ).get(pk=report.sample_id)
        producer = sample.producer
        department = (Department.objects.responsible_for(sample.category.code,
                                                         producer.division_id)
                      or sample.plan.department)
        start = report.issued_on or timezone.localdate(now)
        rule = rules.get("sampling.disposal_working_days", start)
        due_on, provisional = calendar.deadline(start, rule.value)
        disposal = Disposal.objects.create(
            sample=sample, report=report, entity=producer, department=department,
            due_on=due_on, opened_at=now or timezone.now(),
            rule_version=_rule_stamp(rule, provisional))
        audit.record(disposal, action="disposal.opened", actor=None, before=None,
                     division=producer.division_id)
        events.publish("sample.nonconforming", aggregate=sample, payload={
            "sample": sample.pk, "entity": sample.entity_id, "producer": producer.pk,
            "category": sample.category.code, "batch": sample.batch, "report": report.pk,
            "division": producer.division_id})
    return disposal


# --- disposals --------------------------------------------------------------------------------

def _lock_disposal(actor, disposal_id: int) -> Disposal:
    if not access.disposals_visible_to(actor).filter(pk=disposal_id).exists():
        not_found()
    disposal = Disposal.objects.select_for_update().select_related(
        "department", "entity", "report").get(pk=disposal_id)
    _require_department(actor, disposal.department, admin=False,
                        message=_("Only officers of %(department)s decide this follow-up.")
                        % {"department": disposal.department.name})
    return disposal


@transaction.atomic
def disposal_decide(*, actor, disposal_id: int, kind: str, decision: str,
                    now: dt.datetime | None = None) -> Disposal:
    """The responsible department decides the measure: a rectification order or a case."""
    disposal = _lock_disposal(actor, disposal_id)
    if disposal.status != DisposalStatus.OPEN:
        raise ValidationError(_("This follow-up was already decided."))
    errors = {}
    if kind not in DisposalKind.values:
        errors["kind"] = _("Choose a rectification order or a case.")
    if not (decision or "").strip():
        errors["decision"] = _("Write down the decision: what the firm must do, or the "
                               "case number.")
    if errors:
        raise ValidationError(errors)
    before = audit.snapshot(disposal)
    disposal.kind, disposal.decision = kind, decision.strip()
    disposal.status, disposal.decided_by, disposal.decided_at = (
        DisposalStatus.DECIDED, actor, now or timezone.now())
    disposal.save()
    audit.record(disposal, action="disposal.decided", actor=actor, before=before,
                 division=disposal.entity.division_id)
    events.publish("disposal.decided", aggregate=disposal, payload={
        "kind": kind, "entity": disposal.entity_id, "report": disposal.report_id,
        "sample": disposal.sample_id, "department": disposal.department_id})
    return disposal


@transaction.atomic
def disposal_close(*, actor, disposal_id: int, note: str,
                   now: dt.datetime | None = None) -> Disposal:
    """Close a decided follow-up once the rectification is verified or the case ended."""
    disposal = _lock_disposal(actor, disposal_id)
    if disposal.status != DisposalStatus.DECIDED:
        raise ValidationError(_("Decide the measure before closing the follow-up.")
                              if disposal.status == DisposalStatus.OPEN
                              else _("This follow-up is already closed."))
    if not (note or "").strip():
        raise ValidationError({"note": _("Say how the follow-up ended: the rectification "
                                         "verified, or the outcome of the case.")})
    before = audit.snapshot(disposal)
    disposal.status, disposal.closed_at = DisposalStatus.CLOSED, now or timezone.now()
    disposal.closing_note = note.strip()
    disposal.save()
    audit.record(disposal, action="disposal.closed", actor=actor, before=before,
                 division=disposal.entity.division_id)
    events.publish("disposal.closed", aggregate=disposal, payload={
        "kind": disposal.kind, "entity": disposal.entity_id, "report": disposal.report_id,
        "sample": disposal.sample_id, "department": disposal.department_id})
    return disposal

