from django.db import models
from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext_lazy


class KeyCustody(models.TextChoices):
    """Who holds the private half of a lab's signing key. A key the platform holds on the
    lab's behalf says so on every report it signs and on every verification."""

    LAB = "lab", _("Held by the lab")
    PLATFORM = "platform", _("Held by the platform on the lab's behalf")


class ReportKind(models.TextChoices):
    SUPERVISORY = "supervisory", _("Supervisory sampling")
    COMMISSIONED = "commissioned", _("Commissioned by a client")
    WITNESS = "witness", _("Witness inspection on acceptance")


class ReportStatus(models.TextChoices):
    DRAFT = "draft", pgettext_lazy("report", "Draft")
    ISSUED = "issued", _("Issued")
    REVOKED = "revoked", _("Revoked")
    SUPERSEDED = "superseded", _("Superseded")


class Verdict(models.TextChoices):
    PASS = "pass", _("Pass")
    FAIL = "fail", _("Fail")
    NOT_APPLICABLE = "na", _("Not applicable")


class Conclusion(models.TextChoices):
    PASS = "pass", _("Conforming")
    FAIL = "fail", _("Nonconforming")


class SignalKind(models.TextChoices):
    """Fake-report signals (M2.4), each explained on the report's page."""

    OVER_COVERAGE = "over_coverage", _("Attached to more than it covers")
    ISSUED_BEFORE_RECEIPT = "issued_before_receipt", _("Issued before the sample was received")
    IDENTICAL_VALUES = "identical_values", _("Values identical to another report")
    OVER_CAPACITY = "over_capacity", _("Lab issuing beyond its capacity")
    OUT_OF_SCOPE = "out_of_scope", _("Parameter outside the lab's accredited scope")
    UNKNOWN_NUMBER = "unknown_number", _("Report number not on the platform")


class HazardStatus(models.TextChoices):
    OPEN = "open", pgettext_lazy("hazard", "Open")
    ACKNOWLEDGED = "acknowledged", _("Acknowledged")


class RevocationGround(models.TextChoices):
    """Why an issued report is revoked. "false" is a regulator's finding that the report
    is false or forged (虚假检验检测报告: 《中华人民共和国产品质量法》第五十七条;
    《检验检测机构监督管理办法》, SAMR Order No. 39, arts. 13–14) and writes a fake_report
    credit record against the laboratory (docs/credit-records.md)."""

    ERROR = "error", _("Error, or withdrawn at the laboratory's request")
    FALSE = "false", _("Found false or forged by a regulator")


class SignalOutcome(models.TextChoices):
    """What the regulator who closes a fake-report signal found ("" : not stated)."""

    CONFIRMED = "confirmed", _("Confirmed: the report is false")
    UNFOUNDED = "unfounded", _("Unfounded")
