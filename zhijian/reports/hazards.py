"""Hazard reports (M2.4): a laboratory that finds a serious quality or safety hazard while
testing reports it at once to the department responsible for the product in the
producer's division (检验检测机构发现重大质量安全隐患应及时报告). The department is the
one the responsibility matrix names (Department.objects.responsible_for); officers of that
department acknowledge it.

Events: "hazard.reported" {hazard, lab, entity, category, department} and
"hazard.acknowledged" {hazard, lab, entity, category, department}; `category` is the
category code, the others are ids.
"""

from __future__ import annotations

from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from zhijian.core import audit, events
from zhijian.core.access import Denied, scope_of
from zhijian.registry.models import Department, MarketEntity, ProductCategory

from .choices import HazardStatus
from .models import HazardReport, Report

MAX_DESCRIPTION = 5000


def _payload(hazard: HazardReport) -> dict:
    return {"hazard": hazard.pk, "lab": hazard.lab_id, "entity": hazard.entity_id,
            "category": hazard.category.code, "department": hazard.department_id}


@transaction.atomic
def hazard_report(*, actor, report_id: int | None = None, entity_id: int | None = None,
                  category_id: int | None = None, description: str) -> HazardReport:
    """A lab user reports a serious hazard, from one of the lab's reports (the producer
    and category are the report's) or naming the market entity and the category. It goes
    to the department responsible for the category in the entity's division."""
    scope = scope_of(actor)
    if scope.role != "lab":
        raise Denied(_("Only a laboratory's own users report hazards found in testing."))
    errors: dict[str, list[str]] = {}
    entity = category = report = None
    if report_id is not None:
        report = (Report.objects.select_related("producer", "category")
                  .filter(pk=report_id, lab_id=scope.org_id).first())
        if report is None:
            errors["report"] = [_("Your laboratory has no report with this id; choose one "
                                  "of your own reports.")]
        else:
            entity, category = report.producer, report.category
    else:
        entity = MarketEntity.objects.filter(pk=entity_id).first() if entity_id else None
        if entity is None:
            errors["entity"] = [_("Name the market entity whose product has the hazard.")]
        category = (ProductCategory.objects.filter(pk=category_id).first()
                    if category_id else None)
        if category is None:
            errors["category"] = [_("Choose the product category.")]
    description = (description or "").strip()
    if not description:
        errors["description"] = [_("Describe the hazard: what you found, in which "
                                   "product and batch, and why it is serious.")]
    elif len(description) > MAX_DESCRIPTION:
        errors["description"] = [_("Keep the description within %(max)d characters.")
                                 % {"max": MAX_DESCRIPTION}]
    if errors:
        raise ValidationError(errors)
    department = Department.objects.responsible_for(category.code, entity.division_id)
    if department is None:
        raise ValidationError({"department": _(
            "No department is responsible for %(category)s in division %(division)s, so "
            "the report cannot be routed; ask the provincial market supervision bureau to "
            "complete the responsibility matrix.")
            % {"category": category.code, "division": entity.division_id}})
    hazard = HazardReport.objects.create(
        lab_id=scope.org_id, report=report, entity=entity, category=category,
        department=department, description=description, reported_by=actor,
        reported_at=timezone.now())
    audit.record(hazard, action="hazard.reported", actor=actor, before=None,
                 division=entity.division_id)
    events.publish("hazard.reported", aggregate=hazard, payload=_payload(hazard))
    return hazard


@transaction.atomic
def hazard_acknowledge(*, actor, hazard_id: int) -> HazardReport:
    """An officer of the receiving department confirms the department has the report."""
    hazard = (HazardReport.objects.select_for_update().select_related("category", "entity")
              .filter(pk=hazard_id).first())
    if hazard is None:
        raise ValidationError({"hazard": _("No such hazard report.")})
    scope = scope_of(actor)
    if not (scope.is_regulator and scope.org_id == hazard.department_id):
        raise Denied(_("Only officers of the department the hazard was reported to may "
                       "acknowledge it."))
    if hazard.status != HazardStatus.OPEN:
        raise ValidationError({"status": _("The hazard report has already been "
                                           "acknowledged.")})
    before = audit.snapshot(hazard)
    hazard.status = HazardStatus.ACKNOWLEDGED
    hazard.acknowledged_by = actor
    hazard.acknowledged_at = timezone.now()
    hazard.save(update_fields=["status", "acknowledged_by", "acknowledged_at"])
    audit.record(hazard, action="hazard.acknowledged", actor=actor, before=before,
                 division=hazard.entity.division_id)
    events.publish("hazard.acknowledged", aggregate=hazard, payload=_payload(hazard))
    return hazard
