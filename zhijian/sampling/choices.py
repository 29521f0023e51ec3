from django.db import models
from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext_lazy


class SamplingPlanStatus(models.TextChoices):
    DRAFT = "draft", pgettext_lazy("plan", "Draft")
    ACTIVE = "active", pgettext_lazy("plan", "Active")
    CLOSED = "closed", pgettext_lazy("plan", "Closed")


class Channel(models.TextChoices):
    """Where a sample is taken: on site, or bought incognito online (网购抽检, 隐蔽抽样)."""

    ON_SITE = "on_site", _("On site")
    ONLINE = "online", _("Online purchase (incognito)")


class SampleStatus(models.TextChoices):
    SAMPLED = "sampled", _("Sampled")
    IN_TRANSIT = "in_transit", _("In transit")
    RECEIVED = "received", _("Received by the lab")
    REPORTED = "reported", _("Report issued")
    PUBLISHED = "published", _("Result published")


class Result(models.TextChoices):
    PENDING = "", _("Pending")
    PASS = "pass", _("Conforming")
    FAIL = "fail", _("Nonconforming")


class DisposalKind(models.TextChoices):
    RECTIFICATION = "rectification", _("Rectification order")
    CASE = "case", _("Case opened")


class DisposalStatus(models.TextChoices):
    OPEN = "open", pgettext_lazy("task", "Open")
    DECIDED = "decided", _("Decided")
    CLOSED = "closed", pgettext_lazy("task", "Closed")
