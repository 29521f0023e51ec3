"""Quality credit (质量信用, M3.4; M2.2 and M3.2 through the class).

A market entity's credit is the sum of its credit records (CreditRecord): facts with a
date, a kind, a weight and an expiry under the dated rule credit.record_kinds, each
linked to its source (a failed sample, a forged report, an inspection, a penalty
decision, a recall, a breached commitment, an award) or entered by hand with evidence.
The pure scoring module (scoring.py, docs/credit-classification.md) turns them into a
class (A-D) that the platform keeps current (CreditRating) and whose every change it
keeps (RatingChange). Serious dishonesty goes through the list workflow
(BlacklistEntry) with credit repair (RepairApplication); departments declare joint
punishment measures (Measure) that every credit check (CreditCheck) applies. Outside
credit services read public data with their own tokens (ServiceToken). See
docs/credit.md.
"""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _

from .choices import (
    BLACKLIST_OPEN,
    BlacklistStatus,
    CheckContext,
    CheckOutcome,
    CommitmentOccasion,
    CommitmentStatus,
    MeasureCode,
    MeasureEffect,
    MeasureTrigger,
    PenaltyStatus,
    RecordKind,
    RecordStatus,
    RemovalReason,
    RepairStatus,
)

#: source_type of a record entered by hand (no source row; evidence is required).
MANUAL = "manual"


class CreditRecordQuerySet(models.QuerySet):
    def visible_to(self, user):
        from . import access

        return access.records_visible_to(user, self)

    def active(self):
        return self.filter(status=RecordStatus.ACTIVE)

    def public(self):
        return self.filter(public=True, status=RecordStatus.ACTIVE)


class CreditRecord(models.Model):
    """A credit record (信用记录): one fact about a market entity that counts for or
    against its quality credit while it is in force."""

    entity = models.ForeignKey("registry.MarketEntity", on_delete=models.PROTECT,
                               related_name="credit_records",
                               verbose_name=_("market entity"))
    kind = models.CharField(_("kind"), max_length=32, choices=RecordKind.choices)
    date = models.DateField(_("date of the fact"))
    weight = models.PositiveSmallIntegerField(
        _("weight"), null=True, blank=True,
        help_text=_("Points of this record; empty: the default of its kind under the rule."))
    expires_on = models.DateField(
        _("expires on"), null=True, blank=True,
        help_text=_("First day it no longer counts; empty: its date plus the kind's validity."))
    repaired_on = models.DateField(_("repaired on"), null=True, blank=True)
    # The source: a row of another module ("sampling.sample", "reports.report",
    # "inspections.task", "credit.penalty", "credit.commitment", "recalls.recall",
    # "credit.blacklistentry") or MANUAL.
    source_type = models.CharField(_("source type"), max_length=40)
    source_id = models.CharField(_("source id"), max_length=64, blank=True)
    source_ref = models.CharField(_("source"), max_length=200)
    summary = models.TextField(_("summary"), blank=True)
    evidence = models.FileField(_("evidence"), upload_to="credit/evidence/%Y/", blank=True)
    evidence_sha256 = models.CharField(_("evidence SHA-256"), max_length=64, blank=True)
    public = models.BooleanField(_("public"), default=False)
    status = models.CharField(_("status"), max_length=10, choices=RecordStatus.choices,
                              default=RecordStatus.ACTIVE)
    withdrawn_at = models.DateTimeField(_("withdrawn at"), null=True, blank=True)
    withdrawn_reason = models.TextField(_("reason for withdrawal"), blank=True)
    event = models.ForeignKey("core.OutboxEvent", null=True, blank=True,
                              on_delete=models.SET_NULL, related_name="+",
                              verbose_name=_("domain event"))
    rule_version = models.CharField(_("rule version"), max_length=20)
    department = models.ForeignKey("registry.Department", null=True, blank=True,
                                   on_delete=models.PROTECT, related_name="+",
                                   verbose_name=_("department"))
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True,
                                   on_delete=models.PROTECT, related_name="+")
    created_at = models.DateTimeField(auto_now_add=True)
    # Every change moves it: the change feed reads (updated_at, id) > cursor.
    updated_at = models.DateTimeField(auto_now=True, db_index=True)

    objects = CreditRecordQuerySet.as_manager()

    class Meta:
        ordering = ["entity_id", "-date", "-id"]
        verbose_name = _("credit record")
        verbose_name_plural = _("credit records")
        constraints = [
            # One record per source and kind: domain events are applied idempotently.
            models.UniqueConstraint(
                fields=["source_type", "source_id", "kind"], name="credit_record_once",
                condition=~Q(source_type=MANUAL)),
        ]
        indexes = [
            models.Index(fields=["entity", "date"], name="credit_record_entity_date"),
            models.Index(fields=["updated_at", "id"], name="credit_record_feed"),
        ]

    def __str__(self) -> str:
        return f"{self.get_kind_display()} {self.date} {self.source_ref}"


class CreditRating(models.Model):
    """The current quality-credit class of a market entity (one row per entity): the one
    source of the entity's class (MarketEntity.credit_class; MarketEntity.risk_class is
    only the initial class, used until the first rating)."""

    entity = models.OneToOneField("registry.MarketEntity", on_delete=models.CASCADE,
                                  primary_key=True, related_name="credit_rating",
                                  verbose_name=_("market entity"))
    risk_class = models.CharField(_("class"), max_length=1)
    score = models.SmallIntegerField(_("score"))
    on = models.DateField(_("rated on"))
    versions = models.JSONField(_("rule versions"), default=dict)
    trigger = models.CharField(_("trigger"), max_length=60)
    computed_at = models.DateTimeField(_("computed at"))

    class Meta:
        verbose_name = _("credit rating")
        verbose_name_plural = _("credit ratings")

    def __str__(self) -> str:
        return f"{self.entity_id} {self.risk_class} {self.score}"


class RatingChange(models.Model):
    """A change of a market entity's class or score, with what counted (history)."""

    entity = models.ForeignKey("registry.MarketEntity", on_delete=models.CASCADE,
                               related_name="rating_changes",
                               verbose_name=_("market entity"))
    on = models.DateField(_("rated on"))
    computed_at = models.DateTimeField(_("computed at"))
    from_class = models.CharField(_("previous class"), max_length=1, blank=True)
    to_class = models.CharField(_("class"), max_length=1)
    from_score = models.SmallIntegerField(_("previous score"), null=True, blank=True)
    to_score = models.SmallIntegerField(_("score"))
    versions = models.JSONField(_("rule versions"), default=dict)
    trigger = models.CharField(_("trigger"), max_length=60)
    # [[record id, signed points], ...] of the records that counted.
    counted = models.JSONField(_("records counted"), default=list)

    class Meta:
        ordering = ["entity_id", "-computed_at", "-id"]
        verbose_name = _("rating change")
        verbose_name_plural = _("rating changes")
        indexes = [models.Index(fields=["entity", "computed_at"],
                                name="credit_ratingchange_entity")]


class Penalty(models.Model):
    """An administrative penalty decision (行政处罚决定) against a market entity; public
    by law (《企业信息公示暂行条例》 art. 6) and a credit record while in force."""

    decision_number = models.CharField(_("decision number"), max_length=60, unique=True)
    entity = models.ForeignKey("registry.MarketEntity", on_delete=models.PROTECT,
                               related_name="penalties", verbose_name=_("market entity"))
    department = models.ForeignKey("registry.Department", on_delete=models.PROTECT,
                                   related_name="penalties", verbose_name=_("department"))
    decided_on = models.DateField(_("decided on"))
    violation = models.TextField(_("violation"))
    legal_basis = models.CharField(_("legal basis"), max_length=300)
    fine = models.DecimalField(_("fine (yuan)"), max_digits=14, decimal_places=2,
                               null=True, blank=True)
    heavy = models.BooleanField(_("heavy penalty"), default=False, help_text=_(
        "A heavier administrative penalty (较重行政处罚), which can lead to the list."))
    document = models.FileField(_("decision document"), upload_to="credit/penalties/%Y/")
    document_sha256 = models.CharField(_("document SHA-256"), max_length=64)
    paid_on = models.DateField(_("fine paid on"), null=True, blank=True)
    status = models.CharField(_("status"), max_length=10, choices=PenaltyStatus.choices,
                              default=PenaltyStatus.IN_FORCE)
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT,
                                   related_name="+")
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["-decided_on", "-id"]
        verbose_name = _("administrative penalty")
        verbose_name_plural = _("administrative penalties")

    def __str__(self) -> str:
        return self.decision_number


class Commitment(models.Model):
    """A credit commitment (信用承诺) a firm signs at registration, licensing, a tender
    or a repair; public, and a breach becomes a credit record."""

    entity = models.ForeignKey("registry.MarketEntity", on_delete=models.PROTECT,
                               related_name="commitments", verbose_name=_("market entity"))
    occasion = models.CharField(_("occasion"), max_length=16,
                                choices=CommitmentOccasion.choices)
    reference = models.CharField(_("reference"), max_length=100, blank=True, help_text=_(
        "The application, licence or bid number it was signed for."))
    text = models.TextField(_("statement"))
    template_version = models.CharField(_("statement version"), max_length=20)
    signatory = models.CharField(_("signed by"), max_length=50)
    signed_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT,
                                  related_name="+")
    signed_at = models.DateTimeField(_("signed at"))
    text_sha256 = models.CharField(_("statement SHA-256"), max_length=64)
    status = models.CharField(_("status"), max_length=10, choices=CommitmentStatus.choices,
                              default=CommitmentStatus.IN_FORCE)
    breached_on = models.DateField(_("breached on"), null=True, blank=True)
    breach_reason = models.TextField(_("breach"), blank=True)

    class Meta:
        ordering = ["-signed_at", "-id"]
        verbose_name = _("credit commitment")
        verbose_name_plural = _("credit commitments")

    def __str__(self) -> str:
        return f"{self.entity_id} {self.get_occasion_display()} {self.signed_at:%Y-%m-%d}"


class BlacklistEntryQuerySet(models.QuerySet):
    def open(self):
        return self.filter(status__in=BLACKLIST_OPEN)

    def listed(self):
        return self.filter(status=BlacklistStatus.LISTED)


class BlacklistEntry(models.Model):
    """A case of the serious-dishonesty list (严重违法失信名单, the quality blacklist):
    proposed when a rule criterion is met (or by an officer), noticed to the firm with an
    objection period, decided with reasons, published while listed, removed when its
    period ends or its credit is repaired."""

    entity = models.ForeignKey("registry.MarketEntity", on_delete=models.PROTECT,
                               related_name="blacklist_entries",
                               verbose_name=_("market entity"))
    department = models.ForeignKey("registry.Department", on_delete=models.PROTECT,
                                   related_name="blacklist_entries",
                                   verbose_name=_("deciding department"))
    status = models.CharField(_("status"), max_length=12, choices=BlacklistStatus.choices,
                              default=BlacklistStatus.PROPOSED)
    # [{"criterion": id, "records": [record ids]}] from scoring.blacklist_candidates, or
    # [{"criterion": "officer", "records": [...]}] for an officer's proposal.
    criteria = models.JSONField(_("criteria met"), default=list)
    rule_version = models.CharField(_("rule version"), max_length=20)
    proposed_at = models.DateTimeField(_("proposed at"))
    proposed_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True,
                                    on_delete=models.PROTECT, related_name="+")
    notice_text = models.TextField(_("notice"), blank=True)
    noticed_at = models.DateTimeField(_("notice served at"), null=True, blank=True)
    objection_deadline = models.DateField(_("objections until"), null=True, blank=True)
    objection_text = models.TextField(_("objection"), blank=True)
    objection_at = models.DateTimeField(_("objection filed at"), null=True, blank=True)
    decided_at = models.DateTimeField(_("decided at"), null=True, blank=True)
    decided_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True,
                                   on_delete=models.PROTECT, related_name="+")
    decision_reasons = models.TextField(_("reasons for the decision"), blank=True)
    listed_on = models.DateField(_("listed on"), null=True, blank=True)
    listed_until = models.DateField(_("listed until"), null=True, blank=True)
    published_at = models.DateTimeField(_("published at"), null=True, blank=True)
    removed_on = models.DateField(_("removed on"), null=True, blank=True)
    removal_reason = models.CharField(_("reason for removal"), max_length=10, blank=True,
                                      choices=RemovalReason.choices)

    objects = BlacklistEntryQuerySet.as_manager()

    class Meta:
        ordering = ["-proposed_at", "-id"]
        verbose_name = _("blacklist case")
        verbose_name_plural = _("blacklist cases")
        constraints = [
            models.UniqueConstraint(fields=["entity"], name="credit_blacklist_one_open",
                                    condition=Q(status__in=BLACKLIST_OPEN)),
        ]

    def __str__(self) -> str:
        return f"{self.entity_id} {self.status}"


class RepairApplication(models.Model):
    """A credit repair application (信用修复申请): a listed firm (or one with a repairable
    record) shows that the conditions of the rule are met; an officer decides."""

    entity = models.ForeignKey("registry.MarketEntity", on_delete=models.PROTECT,
                               related_name="repair_applications",
                               verbose_name=_("market entity"))
    entry = models.ForeignKey(BlacklistEntry, null=True, blank=True, on_delete=models.PROTECT,
                              related_name="repairs", verbose_name=_("blacklist case"))
    record = models.ForeignKey(CreditRecord, null=True, blank=True, on_delete=models.PROTECT,
                               related_name="repairs", verbose_name=_("credit record"))
    status = models.CharField(_("status"), max_length=10, choices=RepairStatus.choices,
                              default=RepairStatus.SUBMITTED)
    submitted_at = models.DateTimeField(_("submitted at"))
    submitted_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT,
                                     related_name="+")
    rectification = models.TextField(_("rectification done"), blank=True)
    rectification_evidence = models.FileField(_("rectification evidence"), blank=True,
                                              upload_to="credit/repairs/%Y/")
    penalty_paid_on = models.DateField(_("penalty paid on"), null=True, blank=True)
    commitment = models.ForeignKey(Commitment, null=True, blank=True, on_delete=models.PROTECT,
                                   related_name="+", verbose_name=_("commitment"))
    training_certificate = models.FileField(_("training certificate"), blank=True,
                                            upload_to="credit/repairs/%Y/")
    # [{"code": condition, "met": bool, "detail": str}] as checked at submission.
    conditions = models.JSONField(_("conditions"), default=list)
    rule_version = models.CharField(_("rule version"), max_length=20)
    decided_at = models.DateTimeField(_("decided at"), null=True, blank=True)
    decided_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True,
                                   on_delete=models.PROTECT, related_name="+")
    decision_reasons = models.TextField(_("reasons for the decision"), blank=True)

    class Meta:
        ordering = ["-submitted_at", "-id"]
        verbose_name = _("credit repair application")
        verbose_name_plural = _("credit repair applications")
        constraints = [
            models.CheckConstraint(
                name="credit_repair_has_subject",
                condition=Q(entry__isnull=False) | Q(record__isnull=False)),
        ]


class MeasureQuerySet(models.QuerySet):
    def in_force(self, on):
        return self.filter(active=True, effective_from__lte=on).filter(
            Q(effective_until__isnull=True) | Q(effective_until__gte=on))


class Measure(models.Model):
    """A joint punishment measure (失信联合惩戒措施) a department declares: what it does,
    to whom (trigger), where it applies (contexts) and on which legal basis."""

    department = models.ForeignKey("registry.Department", on_delete=models.PROTECT,
                                   related_name="credit_measures",
                                   verbose_name=_("department"))
    code = models.CharField(_("measure"), max_length=20, choices=MeasureCode.choices)
    trigger = models.CharField(_("applies to"), max_length=16, choices=MeasureTrigger.choices,
                               default=MeasureTrigger.BLACKLIST)
    effect = models.CharField(_("effect"), max_length=8, choices=MeasureEffect.choices,
                              default=MeasureEffect.BLOCK)
    contexts = models.JSONField(_("where it applies"), default=list,
                                help_text=_("Keys of CheckContext."))
    description = models.TextField(_("description"), blank=True)
    legal_basis = models.CharField(_("legal basis"), max_length=300)
    effective_from = models.DateField(_("effective from"))
    effective_until = models.DateField(_("effective until"), null=True, blank=True)
    active = models.BooleanField(_("active"), default=True)
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT,
                                   related_name="+")
    created_at = models.DateTimeField(auto_now_add=True)

    objects = MeasureQuerySet.as_manager()

    class Meta:
        ordering = ["department_id", "code", "id"]
        verbose_name = _("joint punishment measure")
        verbose_name_plural = _("joint punishment measures")

    def __str__(self) -> str:
        return f"{self.department_id} {self.get_code_display()}"


class CreditCheck(models.Model):
    """One credit check (信用核查): a firm put forward somewhere (a supplier list, a
    licence, a tender, an honour, a subsidy), the measures that applied, the outcome,
    and the decision it was stored with."""

    context = models.CharField(_("context"), max_length=20, choices=CheckContext.choices)
    uscc = models.CharField(_("unified social credit code"), max_length=18, db_index=True)
    entity = models.ForeignKey("registry.MarketEntity", null=True, blank=True,
                               on_delete=models.PROTECT, related_name="credit_checks",
                               verbose_name=_("market entity"))
    reference = models.CharField(_("reference"), max_length=100, blank=True, help_text=_(
        "The application, bid or list entry the check was made for."))
    on = models.DateField(_("checked for the day"))
    checked_at = models.DateTimeField(_("checked at"))
    requested_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True,
                                     on_delete=models.PROTECT, related_name="+")
    token = models.ForeignKey("credit.ServiceToken", null=True, blank=True,
                              on_delete=models.PROTECT, related_name="checks")
    risk_class = models.CharField(_("class"), max_length=1, blank=True)
    blacklisted = models.BooleanField(_("listed"), default=False)
    # [{"measure": id, "code", "department", "effect", "legal_basis", "reason"}]
    measures = models.JSONField(_("measures applied"), default=list)
    outcome = models.CharField(_("outcome"), max_length=8, choices=CheckOutcome.choices)
    # What the check was stored with: "procurement.supplier:12", a decision text.
    object_type = models.CharField(_("object type"), max_length=40, blank=True)
    object_id = models.CharField(_("object id"), max_length=64, blank=True)
    decision = models.TextField(_("decision"), blank=True)

    class Meta:
        ordering = ["-checked_at", "-id"]
        verbose_name = _("credit check")
        verbose_name_plural = _("credit checks")


class ServiceToken(models.Model):
    """An API token of a third-party credit service (第三方信用服务机构): read access to
    public credit data only. The key is shown once; only its SHA-256 is stored."""

    name = models.CharField(_("service"), max_length=120)
    organisation_uscc = models.CharField(_("organisation USCC"), max_length=18, blank=True)
    contact = models.CharField(_("contact"), max_length=120, blank=True)
    key_prefix = models.CharField(_("key prefix"), max_length=8)
    key_sha256 = models.CharField(max_length=64, unique=True)
    scopes = models.JSONField(_("scopes"), default=list)
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT,
                                   related_name="+")
    created_at = models.DateTimeField(auto_now_add=True)
    expires_on = models.DateField(_("expires on"), null=True, blank=True)
    revoked_at = models.DateTimeField(_("revoked at"), null=True, blank=True)
    last_used_at = models.DateTimeField(_("last used at"), null=True, blank=True)

    class Meta:
        ordering = ["name", "id"]
        verbose_name = _("credit service token")
        verbose_name_plural = _("credit service tokens")

    def __str__(self) -> str:
        return f"{self.name} ({self.key_prefix}…)"
