"""Supervisory sampling (监督抽查): plans, samples with their chain of custody from the
sampler to the lab the department assigned, mutual recognition of results (M3.3) and the
follow-up of nonconforming results (M2.4, M3.2)."""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _

from zhijian.core.canonical import to_jsonable

from .choices import (
    Channel,
    DisposalKind,
    DisposalStatus,
    Result,
    SampleStatus,
    SamplingPlanStatus,
)


class SamplingPlan(models.Model):
    """A supervisory sampling plan of one department: what to sample, where and when.
    Firms named in the plan are sampled by name; otherwise samplers choose within scope."""

    code = models.CharField(_("plan number"), max_length=30, unique=True)
    title = models.CharField(_("title"), max_length=200)
    department = models.ForeignKey("registry.Department", on_delete=models.PROTECT,
                                   related_name="sampling_plans",
                                   verbose_name=_("department"))
    categories = models.ManyToManyField("registry.ProductCategory", related_name="+",
                                        verbose_name=_("product categories"))
    division_prefixes = models.JSONField(_("divisions"), default=list)
    entities = models.ManyToManyField("registry.MarketEntity", blank=True, related_name="+",
                                      verbose_name=_("named firms"))
    online = models.BooleanField(_("includes incognito online purchases"), default=False)
    period_start = models.DateField(_("period start"))
    period_end = models.DateField(_("period end"))
    target_count = models.PositiveIntegerField(_("samples planned"), default=0)
    status = models.CharField(_("status"), max_length=8, choices=SamplingPlanStatus.choices,
                              default=SamplingPlanStatus.DRAFT)
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT,
                                   related_name="+")
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["-period_start", "code"]
        verbose_name = _("sampling plan")
        verbose_name_plural = _("sampling plans")
        constraints = [models.CheckConstraint(
            name="sampling_period_ordered",
            condition=Q(period_end__gte=models.F("period_start")))]

    def __str__(self) -> str:
        return f"{self.code} {self.title}"


class SampleQuerySet(models.QuerySet):
    def published(self):
        return self.filter(published_at__isnull=False)

    def same_batch(self, producer_id: int, batch: str):
        return self.filter(producer_id=producer_id, batch=batch)


def photo_path(instance, filename: str) -> str:
    return f"samples/{instance.sample_id}/{instance.sha256[:16]}-{filename[-60:]}"


class Sample(models.Model):
    """One sample taken under a plan: from whom and where, the batch and quantity, the seal,
    and the lab the department assigned (never one the firm chose)."""

    code = models.CharField(_("sample number"), max_length=30, unique=True)
    plan = models.ForeignKey(SamplingPlan, on_delete=models.PROTECT, related_name="samples",
                             verbose_name=_("plan"))
    channel = models.CharField(_("channel"), max_length=8, choices=Channel.choices,
                               default=Channel.ON_SITE)
    entity = models.ForeignKey("registry.MarketEntity", on_delete=models.PROTECT,
                               related_name="samples_taken",
                               verbose_name=_("sampled from"))
    producer = models.ForeignKey("registry.MarketEntity", on_delete=models.PROTECT,
                                 related_name="samples_produced", verbose_name=_("producer"))
    product = models.ForeignKey("registry.Product", on_delete=models.PROTECT, null=True,
                                blank=True, related_name="samples", verbose_name=_("product"))
    product_name = models.CharField(_("product name"), max_length=120)
    model = models.CharField(_("model / specification"), max_length=120, blank=True)
    category = models.ForeignKey("registry.ProductCategory", on_delete=models.PROTECT,
                                 related_name="+", verbose_name=_("category"))
    batch = models.CharField(_("batch number"), max_length=60)
    quantity = models.DecimalField(_("quantity"), max_digits=12, decimal_places=3)
    unit = models.CharField(_("unit"), max_length=10)
    place = models.CharField(_("place"), max_length=200,
                             help_text=_("address of the site, or the shop and order number "
                                         "of an online purchase"))
    division = models.ForeignKey("core.Division", on_delete=models.PROTECT, related_name="+",
                                 verbose_name=_("division"))
    seal_number = models.CharField(_("seal number"), max_length=40)
    sampled_at = models.DateTimeField(_("sampled at"))
    sampled_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT,
                                   related_name="+", verbose_name=_("sampler"))
    lab = models.ForeignKey("registry.Lab", on_delete=models.PROTECT, related_name="samples",
                            verbose_name=_("assigned lab"))
    status = models.CharField(_("status"), max_length=10, choices=SampleStatus.choices,
                              default=SampleStatus.SAMPLED)
    received_at = models.DateTimeField(_("received by the lab at"), null=True, blank=True)
    result = models.CharField(_("result"), max_length=4, choices=Result.choices, blank=True,
                              default=Result.PENDING)
    result_on = models.DateField(_("result produced on"), null=True, blank=True)
    publish_by = models.DateField(_("to be published by"), null=True, blank=True)
    published_at = models.DateTimeField(_("published at"), null=True, blank=True)
    # Mutual recognition (M3.3): a valid result for the same batch within the recognition
    # period makes a new sample a duplicate; the sampler sees it and must give a reason.
    duplicate_of = models.ForeignKey("reports.Report", on_delete=models.PROTECT, null=True,
                                     blank=True, related_name="+",
                                     verbose_name=_("duplicates the result of"))
    duplicate_reason = models.TextField(_("reason for sampling again"), blank=True)
    rule_version = models.CharField(_("rule version"), max_length=40, blank=True)
    # The issued report whose result the sample shows, and when that report was revoked
    # (the public result then says so); the publication rule and calendar versions used.
    report = models.ForeignKey("reports.Report", on_delete=models.PROTECT, null=True,
                               blank=True, related_name="+", verbose_name=_("test report"))
    report_revoked_at = models.DateTimeField(_("report revoked at"), null=True, blank=True)
    publication_rule = models.CharField(_("publication rule"), max_length=80, blank=True)
    created_at = models.DateTimeField(default=timezone.now)

    objects = SampleQuerySet.as_manager()

    class Meta:
        ordering = ["-sampled_at", "-id"]
        verbose_name = _("sample")
        verbose_name_plural = _("samples")
        indexes = [models.Index(fields=["producer", "batch"], name="sample_batch")]
        constraints = [models.CheckConstraint(name="sample_quantity_positive",
                                              condition=Q(quantity__gt=0))]

    def __str__(self) -> str:
        return self.code

    # --- the chain of custody (custody.py checks it over plain data) ---

    def custody_chain(self) -> dict:
        """The chain of custody as plain data, in the form custody.problems() reads."""
        from django.contrib.auth import get_user_model

        handovers = list(self.handovers.select_related("given_by", "received_by")
                         .order_by("position"))
        users = get_user_model().objects
        return {
            "sample": self.code,
            "seal_number": self.seal_number,
            "sampler": users.filter(pk=self.sampled_by_id).values_list(
                "username", flat=True).first(),
            "sampled_at": to_jsonable(self.sampled_at),
            "lab_users": sorted(users.filter(lab_id=self.lab_id).values_list(
                "username", flat=True)),
            "handovers": [h.as_chain_entry() for h in handovers],
        }

    def custody_problem_list(self) -> list:
        from . import custody

        return custody.problems(self.custody_chain())

    def custody_problems(self) -> list[str]:
        """What is wrong with the chain of custody, in the user's language; [] if intact."""
        return [problem_message(p) for p in self.custody_problem_list()]

    @property
    def custody_intact(self) -> bool:
        return not self.custody_problem_list()

    @property
    def is_duplicate(self) -> bool:
        return self.duplicate_of_id is not None


def problem_message(problem) -> str:
    """A custody problem (custody.Problem) as a sentence that names what is wrong."""
    p = {"position": problem.position,
         **{k: "" if v is None else v for k, v in problem.message_params.items()}}
    code = problem.code
    if code == "position":
        return gettext("Hand-over %(position)s is recorded as number %(found)s: the "
                       "hand-overs are not numbered in order.") % p
    if code == "gap" and not p["holder"]:
        return gettext("Hand-over %(position)s was given by %(giver)s while the hand-over "
                       "before it was not yet received: the chain has a gap.") % p
    if code == "gap":
        return gettext("Hand-over %(position)s was given by %(giver)s, but %(holder)s held "
                       "the sample: the chain has a gap.") % p
    if code == "time_backwards":
        return gettext("Hand-over %(position)s is dated %(time)s, earlier than the step "
                       "before it: time runs backwards.") % p
    if code == "giver_signature":
        return gettext("Hand-over %(position)s: the signature of %(who)s, who gave the "
                       "sample, does not match the recorded hand-over; it was changed after "
                       "signing.") % p
    if code == "unreceived":
        return gettext("Hand-over %(position)s: %(receiver)s has not yet confirmed "
                       "receipt.") % p
    if code == "receiver_signature":
        return gettext("Hand-over %(position)s: the signature of %(who)s, who received "
                       "the sample, does not match the recorded receipt; it was changed "
                       "after signing.") % p
    if code == "seal_broken":
        return gettext("Hand-over %(position)s: %(receiver)s found the seal broken.") % p
    if code == "seal_mismatch":
        return gettext("Hand-over %(position)s: the seal number read was %(seen)s, not "
                       "%(expected)s.") % p
    if code == "not_at_lab":
        return gettext("The sample is held by %(holder)s, who is not a user of the "
                       "assigned lab: hand it over to the lab.") % p
    return code


class SamplePhoto(models.Model):
    sample = models.ForeignKey(Sample, on_delete=models.CASCADE, related_name="photos")
    file = models.FileField(_("file"), upload_to=photo_path, max_length=300)
    sha256 = models.CharField(_("SHA-256"), max_length=64)
    uploaded_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT,
                                    related_name="+")
    uploaded_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["sample_id", "uploaded_at", "id"]
        verbose_name = _("sample photo")
        verbose_name_plural = _("sample photos")


class Handover(models.Model):
    """One hand-over in a sample's chain of custody (样品交接): who gave it, who took it,
    when, and the seal as the receiver found it. The giver signs when handing over, the
    receiver when taking it; each signature is the digest of the hand-over as they saw it."""

    sample = models.ForeignKey(Sample, on_delete=models.CASCADE, related_name="handovers")
    position = models.PositiveSmallIntegerField(_("position"))
    given_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT,
                                 related_name="+", verbose_name=_("given by"))
    received_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT,
                                    related_name="+", verbose_name=_("received by"))
    given_at = models.DateTimeField(_("handed over at"))
    giver_digest = models.CharField(_("giver's signature"), max_length=64)
    received_at = models.DateTimeField(_("received at"), null=True, blank=True)
    receiver_digest = models.CharField(_("receiver's signature"), max_length=64, blank=True)
    seal_intact = models.BooleanField(_("seal intact on receipt"), null=True)
    seal_number_seen = models.CharField(_("seal number seen"), max_length=40, blank=True)
    note = models.CharField(_("note"), max_length=300, blank=True)

    class Meta:
        ordering = ["sample_id", "position"]
        verbose_name = _("hand-over")
        verbose_name_plural = _("hand-overs")
        constraints = [models.UniqueConstraint(fields=["sample", "position"],
                                               name="handover_position")]

    def as_chain_entry(self) -> dict:
        """This hand-over as custody.py reads it (usernames, canonical times)."""
        return {
            "position": self.position,
            "giver": self.given_by.get_username(),
            "receiver": self.received_by.get_username(),
            "given_at": to_jsonable(self.given_at),
            "note": self.note,
            "giver_digest": self.giver_digest,
            "received_at": to_jsonable(self.received_at),
            "seal_intact": self.seal_intact,
            "seal_number_seen": self.seal_number_seen,
            "receiver_digest": self.receiver_digest,
        }

    @property
    def is_received(self) -> bool:
        return self.received_at is not None


class Disposal(models.Model):
    """The follow-up of a nonconforming result (不合格后处置): a rectification order or a
    case, owned by the department responsible for the firm."""

    sample = models.ForeignKey(Sample, on_delete=models.PROTECT, null=True, blank=True,
                               related_name="disposals", verbose_name=_("sample"))
    report = models.ForeignKey("reports.Report", on_delete=models.PROTECT,
                               related_name="disposals", verbose_name=_("test report"))
    entity = models.ForeignKey("registry.MarketEntity", on_delete=models.PROTECT,
                               related_name="disposals", verbose_name=_("market entity"))
    department = models.ForeignKey("registry.Department", on_delete=models.PROTECT,
                                   related_name="disposals",
                                   verbose_name=_("responsible department"))
    kind = models.CharField(_("measure"), max_length=14, choices=DisposalKind.choices,
                            blank=True)
    status = models.CharField(_("status"), max_length=8, choices=DisposalStatus.choices,
                              default=DisposalStatus.OPEN)
    due_on = models.DateField(_("due on"))
    decision = models.TextField(_("decision"), blank=True)
    decided_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT,
                                   null=True, blank=True, related_name="+")
    decided_at = models.DateTimeField(_("decided at"), null=True, blank=True)
    closed_at = models.DateTimeField(_("closed at"), null=True, blank=True)
    closing_note = models.TextField(_("closing note"), blank=True)
    opened_at = models.DateTimeField(_("opened at"))
    rule_version = models.CharField(_("rule version"), max_length=80, blank=True)

    class Meta:
        ordering = ["due_on", "id"]
        verbose_name = _("disposal task")
        verbose_name_plural = _("disposal tasks")
        constraints = [models.UniqueConstraint(fields=["report"], name="one_disposal_per_report")]
