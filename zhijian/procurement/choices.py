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
