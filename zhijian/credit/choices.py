"""Stable keys of the quality-credit module (docs/credit.md)."""

from django.db import models
from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext_lazy


class RecordKind(models.TextChoices):
    """Kinds of credit record: the keys of the dated rule credit.record_kinds."""

    SAMPLING_FAILED = "sampling_failed", _("Failed supervisory sampling")
    INSPECTION_PROBLEM = "inspection_problem", _("Inspection found problems")
    PENALTY = "penalty", _("Administrative penalty")
    PENALTY_HEAVY = "penalty_heavy", _("Heavy administrative penalty")
    RECALL_ORDERED = "recall_ordered", _("Recall ordered")
    COMMITMENT_BREACHED = "commitment_breached", _("Credit commitment breached")
    FAKE_REPORT = "fake_report", _("Forged or false test report")
    BLACKLIST_LISTED = "blacklist_listed", _("Listed as seriously dishonest")
    AWARD = "award", _("Quality award or honour")
    INSPECTION_CLEAN = "inspection_clean", _("Inspection without problems")
    SAMPLING_PASSED = "sampling_passed", _("Passed supervisory sampling")
    COMMITMENT_MADE = "commitment_made", _("Credit commitment signed")
    RECALL_VOLUNTARY = "recall_voluntary", _("Voluntary recall")


class RecordStatus(models.TextChoices):
    ACTIVE = "active", pgettext_lazy("credit record", "In force")
    WITHDRAWN = "withdrawn", pgettext_lazy("credit record", "Withdrawn")


class PenaltyStatus(models.TextChoices):
    IN_FORCE = "in_force", pgettext_lazy("penalty", "In force")
    REVOKED = "revoked", pgettext_lazy("penalty", "Revoked")


class CommitmentOccasion(models.TextChoices):
    """When a firm signs a credit commitment (信用承诺)."""

    REGISTRATION = "registration", _("Registration")
    LICENSING = "licensing", _("Licence application")
    TENDER = "tender", _("Tender bid")
    REPAIR = "repair", _("Credit repair")
    OTHER = "other", _("Other")


class CommitmentStatus(models.TextChoices):
    IN_FORCE = "in_force", pgettext_lazy("commitment", "In force")
    BREACHED = "breached", pgettext_lazy("commitment", "Breached")


class BlacklistStatus(models.TextChoices):
    """The life of a serious-dishonesty list case (严重违法失信名单), docs/credit.md."""

    PROPOSED = "proposed", pgettext_lazy("blacklist", "Proposed")
    NOTICED = "noticed", pgettext_lazy("blacklist", "Notice served")
    LISTED = "listed", pgettext_lazy("blacklist", "Listed")
    NOT_LISTED = "not_listed", pgettext_lazy("blacklist", "Not listed")
    REMOVED = "removed", pgettext_lazy("blacklist", "Removed")


#: status -> the statuses it may go to (one service per transition).
BLACKLIST_TRANSITIONS = {
    BlacklistStatus.PROPOSED: {BlacklistStatus.NOTICED, BlacklistStatus.NOT_LISTED},
    BlacklistStatus.NOTICED: {BlacklistStatus.LISTED, BlacklistStatus.NOT_LISTED},
    BlacklistStatus.LISTED: {BlacklistStatus.REMOVED},
    BlacklistStatus.NOT_LISTED: set(),
    BlacklistStatus.REMOVED: set(),
}

#: The statuses of a case that is still open (at most one per entity).
BLACKLIST_OPEN = (BlacklistStatus.PROPOSED, BlacklistStatus.NOTICED, BlacklistStatus.LISTED)


class RemovalReason(models.TextChoices):
    EXPIRED = "expired", _("The listing period ended")
    REPAIRED = "repaired", _("Credit repaired")
    REVOKED = "revoked", _("The decision was revoked")


class RepairStatus(models.TextChoices):
    SUBMITTED = "submitted", pgettext_lazy("repair", "Submitted")
    APPROVED = "approved", pgettext_lazy("repair", "Approved")
    REFUSED = "refused", pgettext_lazy("repair", "Refused")


class MeasureCode(models.TextChoices):
    """Joint punishment measures (失信联合惩戒措施) a department may declare."""

    BAR_TENDER = "bar_tender", _("Barred from public tenders")
    BAR_SUPPLIER = "bar_supplier", _("Not accepted as a qualified supplier")
    RESTRICT_LICENCE = "restrict_licence", _("Licence applications restricted")
    NO_HONOURS = "no_honours", _("No honours or awards")
    NO_SUBSIDY = "no_subsidy", _("No government subsidies")
    MORE_INSPECTIONS = "more_inspections", _("More frequent inspections")


class CheckContext(models.TextChoices):
    """Where a firm is put forward and its credit is checked (信用核查)."""

    SUPPLIER_LISTING = "supplier_listing", _("Qualified supplier list")
    LICENCE = "licence", _("Licence application")
    TENDER = "tender", _("Tender bid")
    HONOUR = "honour", _("Honour or award")
    SUBSIDY = "subsidy", _("Government subsidy")
    INSPECTION = "inspection", _("Inspection planning")


class MeasureTrigger(models.TextChoices):
    """What makes a measure apply to a firm."""

    BLACKLIST = "blacklist", _("Listed as seriously dishonest")
    CLASS_D = "class_d", _("Credit class D")
    CLASS_C_OR_D = "class_c_or_d", _("Credit class C or D")


class MeasureEffect(models.TextChoices):
    BLOCK = "block", _("Refuse")
    FLAG = "flag", _("Allow with closer scrutiny")


class CheckOutcome(models.TextChoices):
    CLEAR = "clear", _("No measure applies")
    FLAGGED = "flagged", _("Allowed with closer scrutiny")
    BLOCKED = "blocked", _("Refused by a joint punishment measure")
