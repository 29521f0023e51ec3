"""User units as purchasers (M2.5): qualified-supplier lists whose standing follows the
regulator's data, deliveries with the reports that cover them, acceptance checks that
verify every report and store what they checked, witness inspections of key materials,
and one-step reports of rejected deliveries to the competent department."""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _

from .choices import AppealStatus, DeliveryStatus, Standing, WitnessResult


class SupplierList(models.Model):
    """A user unit's qualified-supplier list (合格供应商名录) for one product category."""

    user_unit = models.ForeignKey("registry.UserUnit", on_delete=models.PROTECT,
                                  related_name="supplier_lists", verbose_name=_("user unit"))
    category = models.ForeignKey("registry.ProductCategory", on_delete=models.PROTECT,
                                 related_name="+", verbose_name=_("category"))
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["user_unit_id", "category__code"]
        verbose_name = _("qualified-supplier list")
        verbose_name_plural = _("qualified-supplier lists")
        constraints = [models.UniqueConstraint(fields=["user_unit", "category"],
                                               name="one_list_per_category")]

    def __str__(self) -> str:
        return f"{self.user_unit} / {self.category}"


class Supplier(models.Model):
    """A supplier on a list, with its standing as last computed (procurement/standing.py)
    and the reasons; a hard rule takes it off the list automatically."""

    supplier_list = models.ForeignKey(SupplierList, on_delete=models.CASCADE,
                                      related_name="suppliers", verbose_name=_("list"))
    entity = models.ForeignKey("registry.MarketEntity", on_delete=models.PROTECT,
                               related_name="supplier_entries", verbose_name=_("supplier"))
    standing = models.CharField(_("standing"), max_length=10, choices=Standing.choices,
                                default=Standing.QUALIFIED)
    score = models.PositiveSmallIntegerField(_("score"), default=100)
    reasons = models.JSONField(_("reasons"), default=list)
    rule_version = models.CharField(_("rule version"), max_length=40, blank=True)
    computed_at = models.DateTimeField(_("computed at"), null=True, blank=True)
    # An upheld appeal keeps a supplier on the list despite the hard rules named here,
    # until the given day.
    override_rules = models.JSONField(_("rules set aside on appeal"), default=list, blank=True)
    override_until = models.DateField(_("set aside until"), null=True, blank=True)
    note = models.TextField(_("note"), blank=True)
    added_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT,
                                 related_name="+", verbose_name=_("added by"))
    added_at = models.DateTimeField(_("added at"))

    class Meta:
        ordering = ["supplier_list_id", "entity__name"]
        verbose_name = _("qualified supplier")
        verbose_name_plural = _("qualified suppliers")
        constraints = [models.UniqueConstraint(fields=["supplier_list", "entity"],
                                               name="supplier_once_per_list")]

    def __str__(self) -> str:
        return str(self.entity)


class Appeal(models.Model):
    """A supplier's appeal against its removal (申诉), decided by the user unit."""

    supplier = models.ForeignKey(Supplier, on_delete=models.CASCADE, related_name="appeals")
    grounds = models.TextField(_("grounds"))
    filed_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT,
                                 related_name="+", verbose_name=_("filed by"))
    filed_at = models.DateTimeField(_("filed at"))
    status = models.CharField(_("status"), max_length=10, choices=AppealStatus.choices,
                              default=AppealStatus.OPEN)
    decision = models.TextField(_("decision"), blank=True)
    decided_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT,
                                   null=True, blank=True, related_name="+")
    decided_at = models.DateTimeField(_("decided at"), null=True, blank=True)
    # What an upheld appeal set aside: the hard rules tripped when it was decided, and
    # until when (copied to the supplier's override_rules / override_until).
    set_aside_rules = models.JSONField(_("rules set aside"), default=list, blank=True)
    set_aside_until = models.DateField(_("set aside until"), null=True, blank=True)

    class Meta:
        ordering = ["-filed_at"]
        verbose_name = _("appeal")
        verbose_name_plural = _("appeals")


class Delivery(models.Model):
    """A delivery to a user unit: product, batch, quantity, where it goes, and the test
    reports the supplier says cover it."""

    number = models.CharField(_("delivery note number"), max_length=40)
    user_unit = models.ForeignKey("registry.UserUnit", on_delete=models.PROTECT,
                                  related_name="deliveries", verbose_name=_("user unit"))
    supplier = models.ForeignKey("registry.MarketEntity", on_delete=models.PROTECT,
                                 related_name="deliveries", verbose_name=_("supplier"))
    producer = models.ForeignKey("registry.MarketEntity", on_delete=models.PROTECT,
                                 related_name="+", verbose_name=_("producer"))
    product = models.ForeignKey("registry.Product", on_delete=models.PROTECT, null=True,
                                blank=True, related_name="deliveries", verbose_name=_("product"))
    product_name = models.CharField(_("product name"), max_length=120)
    category = models.ForeignKey("registry.ProductCategory", on_delete=models.PROTECT,
                                 related_name="+", verbose_name=_("category"))
    batch = models.CharField(_("batch number"), max_length=60)
    quantity = models.DecimalField(_("quantity"), max_digits=14, decimal_places=3)
    unit = models.CharField(_("unit"), max_length=10)
    site = models.CharField(_("destination"), max_length=200,
                            help_text=_("the project or site the goods are for, "
                                        "e.g. a metro station"))
    delivered_on = models.DateField(_("delivered on"))
    reports = models.ManyToManyField("reports.Report", blank=True, related_name="deliveries",
                                     verbose_name=_("test reports"))
    claimed_numbers = models.JSONField(
        _("report numbers given"), default=list,
        help_text=_("every report number on the delivery papers, including any not found "
                    "on the platform"))
    status = models.CharField(_("status"), max_length=10, choices=DeliveryStatus.choices,
                              default=DeliveryStatus.PENDING)
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT,
                                   related_name="+")
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["-delivered_on", "-id"]
        verbose_name = _("delivery")
        verbose_name_plural = _("deliveries")
        constraints = [
            models.UniqueConstraint(fields=["user_unit", "number"],
                                    name="delivery_number_per_unit"),
            models.CheckConstraint(name="delivery_quantity_positive",
                                   condition=Q(quantity__gt=0)),
        ]

    def __str__(self) -> str:
        return self.number


class WitnessInspection(models.Model):
    """A witness inspection (见证取样检测) of a key material by a third-party lab."""

    delivery = models.ForeignKey(Delivery, on_delete=models.CASCADE, related_name="witnesses")
    lab = models.ForeignKey("registry.Lab", on_delete=models.PROTECT, related_name="+",
                            verbose_name=_("laboratory"))
    witness = models.CharField(_("witness"), max_length=80)
    witnessed_on = models.DateField(_("witnessed on"))
    result = models.CharField(_("result"), max_length=4, choices=WitnessResult.choices)
    report = models.ForeignKey("reports.Report", on_delete=models.PROTECT, null=True,
                               blank=True, related_name="+", verbose_name=_("test report"))
    recorded_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT,
                                    related_name="+")
    recorded_at = models.DateTimeField()

    class Meta:
        ordering = ["delivery_id", "witnessed_on"]
        verbose_name = _("witness inspection")
        verbose_name_plural = _("witness inspections")


class AcceptanceCheck(models.Model):
    """One acceptance check of a delivery (进场验收): what was checked at that moment (every
    report's verification, the supplier's standing, quantities, witness inspection) and the
    decision. Stored whole so that it can be shown later exactly as it was."""

    delivery = models.ForeignKey(Delivery, on_delete=models.CASCADE, related_name="checks")
    checked_at = models.DateTimeField(_("checked at"))
    checked_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT,
                                   related_name="+", verbose_name=_("checked by"))
    accepted = models.BooleanField(_("accepted"))
    findings = models.JSONField(_("findings"), default=list)
    checked = models.JSONField(_("what was checked"), default=dict)
    rule_version = models.CharField(_("rule version"), max_length=40, blank=True)
    note = models.TextField(_("note"), blank=True)

    class Meta:
        ordering = ["-checked_at"]
        verbose_name = _("acceptance check")
        verbose_name_plural = _("acceptance checks")


class Referral(models.Model):
    """A rejected delivery reported to the competent department in one step."""

    delivery = models.ForeignKey(Delivery, on_delete=models.PROTECT, related_name="referrals")
    department = models.ForeignKey("registry.Department", on_delete=models.PROTECT,
                                   related_name="delivery_referrals",
                                   verbose_name=_("department"))
    text = models.TextField(_("what happened"))
    referred_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT,
                                    related_name="+")
    referred_at = models.DateTimeField()
    acknowledged_at = models.DateTimeField(_("acknowledged at"), null=True, blank=True)

    class Meta:
        ordering = ["-referred_at"]
        verbose_name = _("referral to a department")
        verbose_name_plural = _("referrals to departments")
