"""Signed test reports (检验检测报告) of third-party labs, the keys that sign them, the
instruments they use and their calibrations (M2.4 third-party liability, M4.2 metrology),
revocations, fake-report signals and hazard reports to the regulator."""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext_lazy

from .choices import (
    Conclusion,
    HazardStatus,
    KeyCustody,
    ReportKind,
    ReportStatus,
    RevocationGround,
    SignalKind,
    SignalOutcome,
    Verdict,
)


class LabKey(models.Model):
    """A public key a lab registered for signing its reports (Ed25519, raw 32 bytes in hex).
    key_id = first 16 hex digits of SHA-256(raw public key), as for the platform's keys."""

    lab = models.ForeignKey("registry.Lab", on_delete=models.PROTECT, related_name="keys",
                            verbose_name=_("laboratory"))
    key_id = models.CharField(_("key id"), max_length=16, unique=True)
    alg = models.CharField(_("algorithm"), max_length=16, default="ed25519")
    public_key = models.CharField(_("public key (hex)"), max_length=64)
    custody = models.CharField(_("private key held by"), max_length=10,
                               choices=KeyCustody.choices, default=KeyCustody.LAB)
    registered_at = models.DateTimeField(_("registered at"))
    registered_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT,
                                      related_name="+", verbose_name=_("registered by"))
    retired_at = models.DateTimeField(_("retired at"), null=True, blank=True,
                                      help_text=_("No new reports may be signed with the key "
                                                  "after this; older reports still verify."))

    class Meta:
        ordering = ["lab_id", "registered_at"]
        verbose_name = _("lab signing key")
        verbose_name_plural = _("lab signing keys")

    def __str__(self) -> str:
        return self.key_id


class Instrument(models.Model):
    """A measuring instrument of a lab (计量器具); it must be within calibration on the day
    it is used for a report (M4.2)."""

    lab = models.ForeignKey("registry.Lab", on_delete=models.PROTECT,
                            related_name="instruments", verbose_name=_("laboratory"))
    name = models.CharField(_("name"), max_length=120)
    model = models.CharField(_("model"), max_length=80, blank=True)
    serial_number = models.CharField(_("serial number"), max_length=60)

    class Meta:
        ordering = ["lab_id", "name", "serial_number"]
        verbose_name = _("instrument")
        verbose_name_plural = _("instruments")
        constraints = [models.UniqueConstraint(fields=["lab", "serial_number"],
                                               name="instrument_serial_per_lab")]

    def __str__(self) -> str:
        return f"{self.name} {self.serial_number}"


class CalibrationQuerySet(models.QuerySet):
    def valid_on(self, day):
        return self.filter(calibrated_on__lte=day, valid_until__gte=day)


class Calibration(models.Model):
    """A calibration or verification certificate (校准/检定证书) of an instrument."""

    instrument = models.ForeignKey(Instrument, on_delete=models.PROTECT,
                                   related_name="calibrations", verbose_name=_("instrument"))
    certificate_number = models.CharField(_("certificate number"), max_length=60)
    calibrated_by = models.CharField(_("calibrated by"), max_length=120,
                                     help_text=_("the metrology institute"))
    calibrated_on = models.DateField(_("calibrated on"))
    valid_until = models.DateField(_("valid until"))

    objects = CalibrationQuerySet.as_manager()

    class Meta:
        ordering = ["instrument_id", "-calibrated_on"]
        verbose_name = _("calibration")
        verbose_name_plural = _("calibrations")
        constraints = [models.CheckConstraint(
            name="calibration_dates_ordered",
            condition=Q(valid_until__gte=models.F("calibrated_on")))]

    def __str__(self) -> str:
        return self.certificate_number


class ReportQuerySet(models.QuerySet):
    def issued(self):
        return self.exclude(status=ReportStatus.DRAFT)

    def for_batch(self, producer_id: int, batch: str):
        return self.filter(producer_id=producer_id, batch=batch)


class Report(models.Model):
    """A test report as issued by a lab: its data are signed with the lab's key (payload =
    RFC 8785 canonical JSON of the report's fields, see docs/report-signing.md), rendered
    as a PDF with a QR code that leads to the public verification page."""

    number = models.CharField(_("report number"), max_length=40, unique=True)
    lab = models.ForeignKey("registry.Lab", on_delete=models.PROTECT, related_name="reports",
                            verbose_name=_("laboratory"))
    kind = models.CharField(_("kind"), max_length=14, choices=ReportKind.choices,
                            default=ReportKind.COMMISSIONED)
    sample = models.ForeignKey("sampling.Sample", on_delete=models.PROTECT, null=True,
                               blank=True, related_name="reports", verbose_name=_("sample"))
    producer = models.ForeignKey("registry.MarketEntity", on_delete=models.PROTECT,
                                 related_name="reports_as_producer",
                                 verbose_name=_("producer"))
    client = models.ForeignKey("registry.MarketEntity", on_delete=models.PROTECT, null=True,
                               blank=True, related_name="reports_as_client",
                               verbose_name=_("client"))
    product = models.ForeignKey("registry.Product", on_delete=models.PROTECT, null=True,
                                blank=True, related_name="reports", verbose_name=_("product"))
    product_name = models.CharField(_("product name"), max_length=120)
    model = models.CharField(_("model / specification"), max_length=120, blank=True)
    category = models.ForeignKey("registry.ProductCategory", on_delete=models.PROTECT,
                                 related_name="+", verbose_name=_("category"))
    batch = models.CharField(_("batch number"), max_length=60)
    quantity_covered = models.DecimalField(
        _("quantity covered"), max_digits=14, decimal_places=3,
        help_text=_("How much of the batch the report speaks for; deliveries may not claim "
                    "more."))
    unit = models.CharField(_("unit"), max_length=10)
    standard = models.ForeignKey("registry.Standard", on_delete=models.PROTECT,
                                 related_name="reports", verbose_name=_("standard"))
    received_on = models.DateField(_("sample received on"))
    tested_from = models.DateField(_("testing started on"))
    tested_to = models.DateField(_("testing finished on"))
    issued_on = models.DateField(_("issued on"), null=True, blank=True)
    conclusion = models.CharField(_("conclusion"), max_length=4, choices=Conclusion.choices)
    remarks = models.TextField(_("remarks"), blank=True)
    authorised_by = models.CharField(_("authorised signatory"), max_length=50)
    instruments = models.ManyToManyField(Instrument, blank=True, related_name="reports",
                                         verbose_name=_("instruments used"))
    status = models.CharField(_("status"), max_length=10, choices=ReportStatus.choices,
                              default=ReportStatus.DRAFT)
    supersedes = models.OneToOneField("self", on_delete=models.PROTECT, null=True, blank=True,
                                      related_name="superseded_by",
                                      verbose_name=_("supersedes"))
    # Fixed when signed: the signed bytes, the PDF's digest and the signature.
    payload = models.TextField(_("signed payload"), blank=True)
    pdf = models.FileField(_("PDF"), upload_to="reports/%Y/", max_length=200, blank=True)
    pdf_sha256 = models.CharField(_("PDF SHA-256"), max_length=64, blank=True)
    key = models.ForeignKey(LabKey, on_delete=models.PROTECT, null=True, blank=True,
                            related_name="reports", verbose_name=_("signing key"))
    signature = models.CharField(_("signature (hex)"), max_length=128, blank=True)
    signed_at = models.DateTimeField(_("signed at"), null=True, blank=True)
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT,
                                   related_name="+", verbose_name=_("created by"))
    created_at = models.DateTimeField(auto_now_add=True)

    objects = ReportQuerySet.as_manager()

    class Meta:
        ordering = ["-issued_on", "-id"]
        verbose_name = _("test report")
        verbose_name_plural = _("test reports")
        indexes = [
            models.Index(fields=["producer", "batch"], name="report_batch"),
            models.Index(fields=["lab", "issued_on"], name="report_lab_issued"),
        ]
        constraints = [models.CheckConstraint(
            name="report_quantity_positive", condition=Q(quantity_covered__gt=0))]

    def __str__(self) -> str:
        return self.number


class ReportItem(models.Model):
    """One test item of a report: what the standard requires, what was measured, the verdict."""

    report = models.ForeignKey(Report, on_delete=models.CASCADE, related_name="items")
    position = models.PositiveSmallIntegerField(_("position"))
    parameter = models.CharField(_("parameter"), max_length=80)
    requirement = models.CharField(_("requirement"), max_length=200)
    measured = models.CharField(_("measured value"), max_length=80)
    unit = models.CharField(_("unit"), max_length=20, blank=True)
    verdict = models.CharField(_("verdict"), max_length=4, choices=Verdict.choices)

    class Meta:
        ordering = ["report_id", "position"]
        verbose_name = _("test item")
        verbose_name_plural = _("test items")
        constraints = [models.UniqueConstraint(fields=["report", "position"],
                                               name="report_item_position")]


class Revocation(models.Model):
    """A public, signed revocation of an issued report (撤销), with its reason. The
    statement is canonical JSON signed with the platform's audit key."""

    report = models.OneToOneField(Report, on_delete=models.PROTECT, related_name="revocation")
    reason = models.TextField(_("reason"))
    ground = models.CharField(_("ground"), max_length=8, choices=RevocationGround.choices,
                              default=RevocationGround.ERROR)
    revoked_at = models.DateTimeField(_("revoked at"))
    revoked_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT,
                                   related_name="+", verbose_name=_("revoked by"))
    statement = models.TextField(_("signed statement"))
    key_id = models.CharField(_("key id"), max_length=16)
    signature = models.CharField(_("signature (hex)"), max_length=128)

    class Meta:
        ordering = ["-revoked_at"]
        verbose_name = _("revocation")
        verbose_name_plural = _("revocations")


class Signal(models.Model):
    """A fake-report signal (虚假报告线索) found by a screen, with its explanation. A signal
    is a reason to look, not a finding; a regulator closes it with a note."""

    report = models.ForeignKey(Report, on_delete=models.CASCADE, null=True, blank=True,
                               related_name="signals")
    number = models.CharField(_("report number"), max_length=40)
    lab = models.ForeignKey("registry.Lab", on_delete=models.PROTECT, null=True, blank=True,
                            related_name="signals", verbose_name=_("laboratory"))
    kind = models.CharField(_("kind"), max_length=24, choices=SignalKind.choices)
    key = models.CharField(_("key"), max_length=120,
                           help_text=_("what makes this signal unique for its report"))
    explanation = models.TextField(_("explanation"))
    detail = models.JSONField(_("detail"), default=dict)
    found_at = models.DateTimeField(_("found at"))
    closed_at = models.DateTimeField(_("closed at"), null=True, blank=True)
    closed_note = models.TextField(_("closing note"), blank=True)
    outcome = models.CharField(pgettext_lazy("signal", "outcome"), max_length=10, choices=SignalOutcome.choices,
                               blank=True, default="",
                               help_text=_("what the closing regulator found"))

    class Meta:
        ordering = ["-found_at"]
        verbose_name = _("fake-report signal")
        verbose_name_plural = _("fake-report signals")
        constraints = [models.UniqueConstraint(fields=["number", "kind", "key"],
                                               name="one_signal_per_key")]


class HazardReport(models.Model):
    """A serious hazard a lab found while testing, reported to the responsible department
    (M2.4: 检验检测机构发现重大质量安全隐患应及时报告)."""

    lab = models.ForeignKey("registry.Lab", on_delete=models.PROTECT,
                            related_name="hazard_reports", verbose_name=_("laboratory"))
    report = models.ForeignKey(Report, on_delete=models.PROTECT, null=True, blank=True,
                               related_name="hazards", verbose_name=_("test report"))
    entity = models.ForeignKey("registry.MarketEntity", on_delete=models.PROTECT,
                               related_name="hazard_reports", verbose_name=_("market entity"))
    category = models.ForeignKey("registry.ProductCategory", on_delete=models.PROTECT,
                                 related_name="+", verbose_name=_("category"))
    department = models.ForeignKey("registry.Department", on_delete=models.PROTECT,
                                   related_name="hazard_reports",
                                   verbose_name=_("responsible department"))
    description = models.TextField(_("description"))
    status = models.CharField(_("status"), max_length=12, choices=HazardStatus.choices,
                              default=HazardStatus.OPEN)
    reported_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT,
                                    related_name="+", verbose_name=_("reported by"))
    reported_at = models.DateTimeField(_("reported at"))
    acknowledged_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT,
                                        null=True, blank=True, related_name="+",
                                        verbose_name=_("acknowledged by"))
    acknowledged_at = models.DateTimeField(_("acknowledged at"), null=True, blank=True)

    class Meta:
        ordering = ["-reported_at"]
        verbose_name = _("hazard report")
        verbose_name_plural = _("hazard reports")
