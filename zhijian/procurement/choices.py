from django.db import models
from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext_lazy


class Standing(models.TextChoices):
    QUALIFIED = "qualified", _("Qualified")
    WATCH = "watch", _("Qualified, under watch")
    REMOVED = "removed", _("Removed by a hard rule")


class AppealStatus(models.TextChoices):
    OPEN = "open", pgettext_lazy("appeal", "Open")
    UPHELD = "upheld", _("Upheld")
    DISMISSED = "dismissed", _("Dismissed")


class DeliveryStatus(models.TextChoices):
    PENDING = "pending", _("Awaiting acceptance")
    ACCEPTED = "accepted", _("Accepted")
    REJECTED = "rejected", _("Rejected")


class WitnessResult(models.TextChoices):
    PASS = "pass", _("Conforming")
    FAIL = "fail", _("Nonconforming")


#: What each reason of a standing (procurement/standing.py) means, for people.
REASON_LABELS = {
    "failed_sampling_same_category": _("Failed supervisory sampling in this category"),
    "revoked_report": _("Test report revoked"),
    "fake_report_signal": _("Open fake-report signal"),
    "blacklist": _("On the quality blacklist"),
    "rejected_deliveries": _("Too many deliveries rejected by this unit"),
    "failed_sampling_other_category": _("Failed supervisory sampling in another category"),
    "inspection_problem": _("Problems found by a random inspection"),
    "penalty": _("Administrative penalty"),
    "rejected_delivery": _("Delivery rejected by this unit"),
}

#: What an acceptance check compares between a report and the delivery.
MATCH_LABELS = {
    "producer": _("producer"),
    "batch": _("batch number"),
    "category": _("category"),
    "unit": _("unit"),
    "conclusion": _("conclusion"),
}
