"""The shared kernel's tables: administrative divisions, the audit chain, the outbox."""

from django.db import models
from django.utils.translation import gettext_lazy as _


class DivisionLevel(models.TextChoices):
    PROVINCE = "province", _("Province")
    CITY = "city", _("City")
    COUNTY = "county", _("County")


class DivisionQuerySet(models.QuerySet):
    def current(self):
        return self.filter(valid_to__isnull=True)

    def under(self, prefix: str):
        """Divisions whose code starts with a jurisdiction prefix ("61", "6101", "610113")."""
        return self.filter(code__startswith=prefix)


class Division(models.Model):
    """An administrative division (行政区划) with its GB/T 2260 code.

    Historical codes stay in the table with `valid_to` and a `successor`, because old
    records (USCCs, licences) still carry them.
    """

    code = models.CharField(_("code"), max_length=6, primary_key=True)
    name = models.CharField(_("name"), max_length=50)
    name_en = models.CharField(_("English name"), max_length=80, blank=True)
    level = models.CharField(_("level"), max_length=10, choices=DivisionLevel.choices)
    parent = models.ForeignKey(
        "self", null=True, blank=True, on_delete=models.PROTECT, related_name="children"
    )
    valid_from = models.PositiveSmallIntegerField(_("valid from (year)"), null=True, blank=True)
    valid_to = models.PositiveSmallIntegerField(_("valid to (year)"), null=True, blank=True)
    successor = models.ForeignKey(
        "self", null=True, blank=True, on_delete=models.PROTECT, related_name="predecessors"
    )

    objects = DivisionQuerySet.as_manager()

    class Meta:
        ordering = ["code"]
        verbose_name = _("administrative division")
        verbose_name_plural = _("administrative divisions")

    def __str__(self) -> str:
        return f"{self.code} {self.name}"

    @property
    def prefix(self) -> str:
        """The code prefix that scopes a jurisdiction: "61", "6101" or the full code."""
        if self.code.endswith("0000"):
            return self.code[:2]
        if self.code.endswith("00"):
            return self.code[:4]
        return self.code

    @property
    def is_current(self) -> bool:
        return self.valid_to is None

    def display_name(self, language: str = "zh-hans") -> str:
        return self.name_en if language == "en" and self.name_en else self.name


class AuditEntry(models.Model):
    """One link of the append-only, tamper-evident audit log (全程留痕).

    `body` is the RFC 8785 canonical JSON of the entry and is what is hashed:
    hash = SHA-256(prev_hash + body), both as UTF-8 text. The other columns are copies
    kept for lookup; `zhijian audit verify` checks them against the body.
    """

    seq = models.BigIntegerField(primary_key=True)
    ts = models.DateTimeField(db_index=True)
    actor_id = models.BigIntegerField(null=True, blank=True, db_index=True)
    actor = models.CharField(max_length=150)
    action = models.CharField(max_length=60)
    object_type = models.CharField(max_length=60)
    object_id = models.CharField(max_length=64)
    division = models.CharField(max_length=6, blank=True)
    body = models.TextField()
    prev_hash = models.CharField(max_length=64)
    hash = models.CharField(max_length=64, unique=True)

    class Meta:
        ordering = ["seq"]
        indexes = [models.Index(fields=["object_type", "object_id", "seq"])]
        verbose_name = _("audit entry")
        verbose_name_plural = _("audit entries")

    def save(self, *args, **kwargs):
        if not self._state.adding:
            raise RuntimeError("Audit entries are append-only.")
        super().save(*args, **kwargs)

    def delete(self, *args, **kwargs):
        raise RuntimeError("Audit entries are append-only.")


class AuditHead(models.Model):
    """The single row that serialises appends to the chain (locked FOR UPDATE)."""

    id = models.PositiveSmallIntegerField(primary_key=True, default=1)
    seq = models.BigIntegerField(default=0)
    hash = models.CharField(max_length=64, default="0" * 64)


class AuditCheckpoint(models.Model):
    """A signed statement "the log had `seq` entries ending in `hash`", published."""

    seq = models.BigIntegerField(primary_key=True)
    hash = models.CharField(max_length=64)
    ts = models.DateTimeField()
    key_id = models.CharField(max_length=32)
    statement = models.TextField()
    signature = models.CharField(max_length=128)

    class Meta:
        ordering = ["-seq"]
        verbose_name = _("audit checkpoint")
        verbose_name_plural = _("audit checkpoints")


class OutboxEvent(models.Model):
    """A domain event written in the same transaction as the change that caused it."""

    name = models.CharField(max_length=80, db_index=True)
    aggregate_type = models.CharField(max_length=60)
    aggregate_id = models.CharField(max_length=64)
    payload = models.JSONField(default=dict)
    created_at = models.DateTimeField(auto_now_add=True)
    processed_at = models.DateTimeField(null=True, blank=True, db_index=True)
    attempts = models.PositiveIntegerField(default=0)
    last_error = models.TextField(blank=True)

    class Meta:
        ordering = ["id"]
        verbose_name = _("domain event")
        verbose_name_plural = _("domain events")

    def __str__(self) -> str:
        return f"{self.name} #{self.pk}"


class EventDelivery(models.Model):
    """Proof that one handler applied one event; written in the handler's transaction,
    so an event is applied once and only once per handler even if redelivered."""

    event = models.ForeignKey(OutboxEvent, on_delete=models.CASCADE, related_name="deliveries")
    handler = models.CharField(max_length=120)
    applied_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["event", "handler"], name="event_delivery_once")
        ]


class PublicKey(models.Model):
    """A published Ed25519 public key (hex of the 32 raw bytes), looked up by key id."""

    key_id = models.CharField(max_length=32, primary_key=True)
    purpose = models.CharField(max_length=40)
    public_key = models.CharField(max_length=64)
    created_at = models.DateTimeField(auto_now_add=True)
    retired_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["created_at"]
        verbose_name = _("public key")
        verbose_name_plural = _("public keys")
