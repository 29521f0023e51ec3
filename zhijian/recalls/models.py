"""Recalls of defective batches (缺陷产品召回, M2.1; traced with M3.7; user units' part M2.5).

A recall starts as a proposal, made by the platform when a batch fails (a nonconforming
test report or supervisory sample, a delivery rejected on acceptance) or by a regulator.
The responsible department opens it: the platform then traces the batch forward
(traceability.tracing.impact) and lists every downstream holder and location with the
quantities that reached it (one RecallItem per stop), and notifies the maker and every
registered holder (RecallNotice). Holders and regulators record progress on each item
(located, removed, replaced or destroyed) until the recall is completed. See
docs/recalls.md.
"""

from __future__ import annotations

from decimal import Decimal

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext_lazy

from .choices import (
    CLOSED_ITEM_STATUSES,
    PUBLIC_STATUSES,
    ItemStatus,
    NoticeRole,
    RecallStatus,
    Severity,
    SourceKind,
    StopKind,
)

QTY = {"max_digits": 16, "decimal_places": 3}


class RecallQuerySet(models.QuerySet):
    def visible_to(self, user):
        """The recalls `user` may see (access.py)."""
        from . import access

        return access.recalls_visible_to(user, self)

    def open(self):
        return self.filter(status=RecallStatus.OPEN)

    def public(self):
        """Opened and completed recalls: the public notices (docs/recalls.md)."""
        return self.filter(status__in=PUBLIC_STATUSES)

    def covering(self, identifiers):
        """The open and completed recalls whose batch identifiers include any of
        `identifiers` (canonical identifiers, tracing.canonical), newest first."""
        identifiers = [i for i in dict.fromkeys(identifiers or ()) if i]
        if not identifiers:
            return self.none()
        return self.public().filter(
            pk__in=RecallBatch.objects.filter(identifier__in=identifiers).values("recall_id")
        ).order_by("-opened_at", "-id")

    def for_batch(self, maker_id: int, lot: str):
        return self.filter(maker_id=maker_id, lot=lot)


class Recall(models.Model):
    """A recall of one batch of a product (召回): why, how serious, who answers for it, and
    the impact list as last computed (its digest and when)."""

    number = models.CharField(_("recall number"), max_length=20, unique=True)
    status = models.CharField(_("status"), max_length=10, choices=RecallStatus.choices,
                              default=RecallStatus.PROPOSED)
    maker = models.ForeignKey("registry.MarketEntity", on_delete=models.PROTECT,
                              related_name="recalls", verbose_name=_("maker"))
    product = models.ForeignKey("registry.Product", on_delete=models.PROTECT, null=True,
                                blank=True, related_name="recalls", verbose_name=_("product"))
    product_name = models.CharField(_("product name"), max_length=120)
    category = models.ForeignKey("registry.ProductCategory", on_delete=models.PROTECT,
                                 related_name="+", verbose_name=_("category"))
    gtin = models.CharField(_("GTIN"), max_length=14, blank=True)
    lot = models.CharField(_("batch number"), max_length=60)
    department = models.ForeignKey("registry.Department", on_delete=models.PROTECT,
                                   related_name="recalls",
                                   verbose_name=_("responsible department"))
    reason = models.TextField(_("reason"))
    severity = models.CharField(_("severity"), max_length=1, choices=Severity.choices,
                                blank=True)
    proposed_at = models.DateTimeField(_("proposed at"))
    opened_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT,
                                  null=True, blank=True, related_name="+",
                                  verbose_name=_("opened by"))
    opened_at = models.DateTimeField(pgettext_lazy("recall", "opened at"), null=True,
                                     blank=True)
    due_on = models.DateField(_("to be completed by"), null=True, blank=True)
    rule_version = models.CharField(_("rule version"), max_length=200, blank=True)
    completed_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT,
                                     null=True, blank=True, related_name="+")
    completed_at = models.DateTimeField(_("completed at"), null=True, blank=True)
    completion_note = models.TextField(_("completion note"), blank=True)
    dismissed_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT,
                                     null=True, blank=True, related_name="+")
    dismissed_at = models.DateTimeField(_("dismissed at"), null=True, blank=True)
    dismissal_reason = models.TextField(_("reason for dismissal"), blank=True)
    #: SHA-256 of the RFC 8785 canonical JSON of the impact list (docs/recalls.md).
    impact_digest = models.CharField(_("impact list digest"), max_length=64, blank=True)
    impact_computed_at = models.DateTimeField(_("impact computed at"), null=True, blank=True)
    impact_truncated = models.BooleanField(_("trace stopped at its limit"), default=False)

    objects = RecallQuerySet.as_manager()

    class Meta:
        ordering = ["-proposed_at", "-id"]
        verbose_name = _("recall")
        verbose_name_plural = _("recalls")
        indexes = [models.Index(fields=["maker", "lot"], name="recall_maker_lot"),
                   models.Index(fields=["status", "proposed_at"], name="recall_status")]

    def __str__(self) -> str:
        return self.number

    @property
    def is_public(self) -> bool:
        return self.status in PUBLIC_STATUSES


class RecallBatch(models.Model):
    """A batch a recall covers, by its canonical identifier (GS1 Digital Link of GTIN +
    lot), so that a trace page can find the recalls of what it shows."""

    recall = models.ForeignKey(Recall, on_delete=models.CASCADE, related_name="batches")
    identifier = models.CharField(_("batch identifier"), max_length=1024)

    class Meta:
        ordering = ["recall_id", "identifier"]
        verbose_name = _("recalled batch")
        verbose_name_plural = _("recalled batches")
        constraints = [models.UniqueConstraint(fields=["recall", "identifier"],
                                               name="recall_batch_once")]
        indexes = [models.Index(fields=["identifier"], name="recall_batch_identifier")]


class RecallSource(models.Model):
    """Why a recall was proposed: a failed report or sample, a rejected delivery, or a
    regulator. `event` is the domain event that proposed it (one source per event)."""

    recall = models.ForeignKey(Recall, on_delete=models.CASCADE, related_name="sources")
    kind = models.CharField(_("source kind"), max_length=10, choices=SourceKind.choices)
    object_id = models.BigIntegerField(_("record id"), null=True, blank=True)
    reference = models.CharField(_("reference"), max_length=80, blank=True)
    event = models.BigIntegerField(_("domain event id"), null=True, blank=True, unique=True)
    added_at = models.DateTimeField(_("added at"))

    class Meta:
        ordering = ["added_at", "id"]
        verbose_name = _("source of a recall")
        verbose_name_plural = _("sources of recalls")
        constraints = [models.UniqueConstraint(
            fields=["recall", "kind", "object_id"], name="recall_source_once",
            condition=Q(object_id__isnull=False))]


class RecallItemQuerySet(models.QuerySet):
    def closed(self):
        return self.filter(status__in=CLOSED_ITEM_STATUSES)

    def not_closed(self):
        return self.exclude(status__in=CLOSED_ITEM_STATUSES)

    def rates(self):
        """The correction rate by tier and unit of these items (progress.rates)."""
        from .progress import ItemProgress, rates

        return rates(ItemProgress(tier=t, uom=u, listed=listed, removed=r, replaced=rp,
                                  destroyed=d, closed=st in CLOSED_ITEM_STATUSES)
                     for t, u, listed, r, rp, d, st in self.values_list(
                         "tier", "uom", "listed", "removed", "replaced", "destroyed",
                         "status"))


class RecallItem(models.Model):
    """One line of the impact list: where traced goods of the batch went (a holder party
    or a location, tracing.Stop), how much, at which tier of the chain, and the progress
    of the recall there."""

    recall = models.ForeignKey(Recall, on_delete=models.CASCADE, related_name="items")
    identifier = models.CharField(_("traced identifier"), max_length=1024)
    place = models.CharField(pgettext_lazy("recall item", "place"), max_length=1024)
    place_ref = models.ForeignKey("traceability.Place", on_delete=models.PROTECT, null=True,
                                  blank=True, related_name="recall_items",
                                  verbose_name=_("place (directory)"))
    party = models.CharField(_("holding party"), max_length=1024, blank=True)
    holder_entity = models.ForeignKey("registry.MarketEntity", on_delete=models.PROTECT,
                                      null=True, blank=True, related_name="recall_items",
                                      verbose_name=_("holder (market entity)"))
    holder_unit = models.ForeignKey("registry.UserUnit", on_delete=models.PROTECT, null=True,
                                    blank=True, related_name="recall_items",
                                    verbose_name=_("holder (user unit)"))
    kind = models.CharField(_("how it got there"), max_length=12, choices=StopKind.choices)
    tier = models.PositiveSmallIntegerField(_("tier"))
    uom = models.CharField(_("unit"), max_length=3, blank=True)
    listed = models.DecimalField(_("quantity listed"), null=True, blank=True, **QTY)
    located = models.DecimalField(_("located"), default=Decimal(0), **QTY)
    removed = models.DecimalField(pgettext_lazy("recall item", "removed"), default=Decimal(0),
                                  **QTY)
    replaced = models.DecimalField(_("replaced"), default=Decimal(0), **QTY)
    destroyed = models.DecimalField(_("destroyed"), default=Decimal(0), **QTY)
    status = models.CharField(_("status"), max_length=10, choices=ItemStatus.choices,
                              default=ItemStatus.LISTED)
    note = models.TextField(_("note"), blank=True)
    event = models.BigIntegerField(_("latest event"))
    event_time = models.DateTimeField(_("time of the latest event"))
    added_at = models.DateTimeField(_("added at"))
    updated_at = models.DateTimeField(_("updated at"), null=True, blank=True)

    objects = RecallItemQuerySet.as_manager()

    class Meta:
        ordering = ["recall_id", "tier", "place", "identifier", "kind"]
        verbose_name = _("recall item")
        verbose_name_plural = _("recall items")
        constraints = [
            models.UniqueConstraint(fields=["recall", "identifier", "place", "kind"],
                                    name="recall_item_once"),
            models.CheckConstraint(name="recall_item_quantities_ordered", condition=(
                Q(located__gte=0) & Q(removed__lte=models.F("located"))
                & Q(replaced__gte=0) & Q(destroyed__gte=0))),
        ]
        indexes = [models.Index(fields=["holder_entity", "recall"], name="recall_item_entity"),
                   models.Index(fields=["holder_unit", "recall"], name="recall_item_unit")]

    def __str__(self) -> str:
        return f"{self.recall} / {self.place}"

    @property
    def closed(self) -> bool:
        return self.status in CLOSED_ITEM_STATUSES

    @property
    def holder(self):
        return self.holder_entity or self.holder_unit

    @property
    def corrected(self) -> Decimal:
        return self.replaced + self.destroyed


class RecallItemUpdate(models.Model):
    """One progress report on an item, as entered (the item's history)."""

    item = models.ForeignKey(RecallItem, on_delete=models.CASCADE, related_name="updates")
    status_before = models.CharField(_("status before"), max_length=10,
                                     choices=ItemStatus.choices)
    status = models.CharField(_("status"), max_length=10, choices=ItemStatus.choices)
    located = models.DecimalField(_("located"), **QTY)
    removed = models.DecimalField(pgettext_lazy("recall item", "removed"), **QTY)
    replaced = models.DecimalField(_("replaced"), **QTY)
    destroyed = models.DecimalField(_("destroyed"), **QTY)
    note = models.TextField(_("note"), blank=True)
    by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT,
                           related_name="+", verbose_name=_("recorded by"))
    at = models.DateTimeField(_("recorded at"))

    class Meta:
        ordering = ["item_id", "at", "id"]
        verbose_name = _("progress report")
        verbose_name_plural = _("progress reports")


class RecallNotice(models.Model):
    """The recall notice to one firm involved (召回通知): the maker, and every registered
    holder of the impact list (a market entity or a user unit), with its acknowledgement."""

    recall = models.ForeignKey(Recall, on_delete=models.CASCADE, related_name="notices")
    role = models.CharField(_("role"), max_length=8, choices=NoticeRole.choices)
    entity = models.ForeignKey("registry.MarketEntity", on_delete=models.PROTECT, null=True,
                               blank=True, related_name="recall_notices",
                               verbose_name=_("market entity"))
    user_unit = models.ForeignKey("registry.UserUnit", on_delete=models.PROTECT, null=True,
                                  blank=True, related_name="recall_notices",
                                  verbose_name=_("user unit"))
    sent_at = models.DateTimeField(_("sent at"))
    due_on = models.DateField(_("to be acknowledged by"))
    acknowledged_at = models.DateTimeField(_("acknowledged at"), null=True, blank=True)
    acknowledged_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT,
                                        null=True, blank=True, related_name="+",
                                        verbose_name=_("acknowledged by"))

    class Meta:
        ordering = ["recall_id", "role", "id"]
        verbose_name = _("recall notice")
        verbose_name_plural = _("recall notices")
        constraints = [
            models.UniqueConstraint(fields=["recall", "entity"], name="notice_once_per_entity",
                                    condition=Q(entity__isnull=False)),
            models.UniqueConstraint(fields=["recall", "user_unit"], name="notice_once_per_unit",
                                    condition=Q(user_unit__isnull=False)),
            models.CheckConstraint(name="notice_one_addressee", condition=(
                Q(entity__isnull=False, user_unit__isnull=True)
                | Q(entity__isnull=True, user_unit__isnull=False))),
        ]

    def __str__(self) -> str:
        return f"{self.recall} → {self.addressee}"

    @property
    def addressee(self):
        return self.entity or self.user_unit
