"""The EPCIS 2.0 event store (M3.7 traceability: 来源可查、去向可追、全程留痕、责任可究).

An event is kept twice over: as the JSON its capturer sent (Event.data, returned by
queries with the same meaning) and as index columns and rows (time, business step,
EPCs and batches, transactions, sources and destinations) that make queries index
scans. docs/epcis.md §4 describes the tables, their indexes and how the event tables
can be range-partitioned by event time on PostgreSQL; no constraint here prevents it.
"""

from __future__ import annotations

import json

from django.conf import settings
from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from .choices import (
    EPCIS_NAMES,
    INSTALLATION_KINDS,
    LINK_ROLES,
    CaptureKind,
    CaptureStatus,
    EpcRole,
    EventType,
    PlaceKind,
    SourceDestKind,
)
from .indexing import IDENTIFIER_MAX


class JSONTextField(models.TextField):
    """JSON kept as text, exactly as serialised at capture (member order included).

    Not a JSONField: jsonb would reorder members and parse every event on insert, and
    nothing queries inside it (the index columns do that). The placeholder makes Django
    send a bulk insert of this column as one parameter per row instead of PostgreSQL's
    UNNEST of one array per column, whose client-side quoting of JSON text is slow (the
    same reason as zhijian.core.audit._insert)."""

    def get_placeholder(self, value, compiler, connection):
        return "%s"


class Capture(models.Model):
    """A capture job of the EPCIS 2.0 capture interface: one EPCISDocument (POST
    /epcis/capture) or one event sent alone (POST /epcis/events), stored whole or not at
    all, by an enterprise, laboratory or user unit (the capturer) or an administrator."""

    kind = models.CharField(_("capture kind"), max_length=10, choices=CaptureKind.choices)
    status = models.CharField(_("status"), max_length=10, choices=CaptureStatus.choices,
                              default=CaptureStatus.ACCEPTED)
    submitted_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT,
        related_name="epcis_captures", verbose_name=_("submitted by"))
    entity = models.ForeignKey(
        "registry.MarketEntity", null=True, blank=True, on_delete=models.PROTECT,
        related_name="epcis_captures", verbose_name=_("market entity"))
    lab = models.ForeignKey(
        "registry.Lab", null=True, blank=True, on_delete=models.PROTECT,
        related_name="epcis_captures", verbose_name=_("laboratory"))
    user_unit = models.ForeignKey(
        "registry.UserUnit", null=True, blank=True, on_delete=models.PROTECT,
        related_name="epcis_captures", verbose_name=_("user unit"))
    #: The capturing organisation as "<role>:<id>" (access.org_key); "" for an administrator.
    org = models.CharField(_("capturer"), max_length=32, blank=True)
    document_sha256 = models.CharField(_("SHA-256 of the document"), max_length=64)
    size = models.PositiveIntegerField(_("size (bytes)"))
    event_count = models.PositiveIntegerField(_("events in the document"), default=0)
    stored_count = models.PositiveIntegerField(_("events stored"), default=0)
    duplicate_count = models.PositiveIntegerField(_("duplicates"), default=0)
    declared_count = models.PositiveIntegerField(_("error declarations attached"), default=0)
    #: SHA-256 of the hash IDs of all the document's events, in document order, each
    #: followed by a line feed (docs/epcis.md §7).
    hashes_digest = models.CharField(_("digest of the event hash IDs"), max_length=64)
    #: The document's @context (None for a single event, which carries its own).
    context = models.JSONField(_("@context"), null=True, blank=True)
    #: User fields the document asked to leave out of every event hash (eventhash.py).
    ignore_fields = models.JSONField(_("fields left out of the hash"), default=list,
                                     blank=True)
    errors = models.JSONField(_("problems"), default=list, blank=True)
    created_at = models.DateTimeField(_("created"), default=timezone.now)
    finished_at = models.DateTimeField(_("finished"), null=True, blank=True)

    class Meta:
        verbose_name = _("EPCIS capture")
        verbose_name_plural = _("EPCIS captures")
        indexes = [models.Index(fields=["org", "id"], name="epcis_capture_org")]

    def __str__(self) -> str:
        return f"{self.pk} ({self.get_status_display()})"


class Event(models.Model):
    """One EPCIS 2.0 event as captured: its identity (eventID, CBV 2.0 event hash ID), the
    fields queries filter on, and the JSON itself.

    eventID and hash ID are each unique across the store; EventKey holds that rule so
    that this table carries no unique constraint without event_time (docs/epcis.md §5)."""

    event_id = models.CharField(_("event ID"), max_length=IDENTIFIER_MAX)
    hash_id = models.CharField(_("event hash ID"), max_length=100)
    type = models.CharField(_("event type"), max_length=16, choices=EventType.choices)
    action = models.CharField(_("action"), max_length=8, blank=True)
    biz_step = models.CharField(_("business step"), max_length=IDENTIFIER_MAX, blank=True)
    disposition = models.CharField(_("disposition"), max_length=IDENTIFIER_MAX, blank=True)
    event_time = models.DateTimeField(_("event time"))
    event_timezone_offset = models.CharField(_("event time zone offset"), max_length=6)
    record_time = models.DateTimeField(_("record time"))
    read_point = models.CharField(_("read point"), max_length=IDENTIFIER_MAX, blank=True)
    biz_location = models.CharField(_("business location"), max_length=IDENTIFIER_MAX,
                                    blank=True)
    error_declaration = models.JSONField(_("error declaration"), null=True, blank=True)
    #: The event as captured, as JSON text (with its own @context if it had one; the
    #: document's @context is on the capture).
    data = JSONTextField(_("event (JSON)"))
    capture = models.ForeignKey(Capture, on_delete=models.PROTECT, related_name="events",
                                verbose_name=_("capture"))
    #: The capturing organisation (Capture.org), repeated here so that an organisation's
    #: events are one index range.
    org = models.CharField(_("capturer"), max_length=32, blank=True)

    class Meta:
        verbose_name = _("EPCIS event")
        verbose_name_plural = _("EPCIS events")
        indexes = [
            models.Index(fields=["event_id"], name="epcis_event_event_id"),
            models.Index(fields=["event_time", "id"], name="epcis_event_time"),
            models.Index(fields=["record_time", "id"], name="epcis_event_record_time"),
            models.Index(fields=["biz_step", "event_time"], name="epcis_event_biz_step"),
            models.Index(fields=["org", "id"], name="epcis_event_org"),
        ]

    def __str__(self) -> str:
        return self.event_id

    @property
    def epcis_type(self) -> str:
        return EPCIS_NAMES[self.type]

    @property
    def event(self) -> dict:
        """The event as captured (parsed from data)."""
        return json.loads(self.data)


class EventKey(models.Model):
    """The uniqueness of eventID and of the event hash ID across the whole store.

    Apart from Event so that Event (and its index rows) can be range-partitioned by event
    time: PostgreSQL only enforces a unique constraint on a partitioned table if it
    includes the partition key. This small table stays unpartitioned; a capture inserts
    here in the same transaction, so a second event with the same eventID or hash ID
    fails the whole capture (docs/epcis.md §5)."""

    event_id = models.CharField(_("event ID"), max_length=IDENTIFIER_MAX)
    hash_id = models.CharField(_("event hash ID"), max_length=100)
    #: Where the event is (the partition key of a partitioned event table).
    event_time = models.DateTimeField(_("event time"))

    class Meta:
        verbose_name = _("EPCIS event key")
        verbose_name_plural = _("EPCIS event keys")
        constraints = [
            models.UniqueConstraint(fields=["event_id"], name="epcis_key_event_id_unique"),
            models.UniqueConstraint(fields=["hash_id"], name="epcis_key_hash_id_unique"),
        ]


class EventEpc(models.Model):
    """One identifier an event names (an EPC, a parent, a child, an input or output, or
    an EPC class with its quantity; a class that is an LGTIN is a batch: GTIN + lot), in
    canonical form (indexing.py), for lookups by EPC and by batch."""

    event = models.ForeignKey(Event, on_delete=models.CASCADE, related_name="epcs",
                              db_index=False, verbose_name=_("event"))
    role = models.CharField(_("role"), max_length=12, choices=EpcRole.choices)
    epc = models.CharField(_("identifier"), max_length=IDENTIFIER_MAX)
    quantity = models.FloatField(_("quantity"), null=True, blank=True)
    uom = models.CharField(_("unit of measure"), max_length=3, blank=True)

    class Meta:
        verbose_name = _("EPC of an event")
        verbose_name_plural = _("EPCs of events")
        indexes = [
            # Equality and prefix (EPC pattern) lookups, whatever the database collation.
            models.Index(fields=["epc", "event"], name="epcis_epc_lookup",
                         opclasses=["varchar_pattern_ops", "int8_ops"]),
            # A trace steps from an identifier to the other side of the events that link
            # identifiers (inputs -> outputs, children -> parent). Partial: the rows of
            # object and transaction events, most of the table, stay out of it.
            models.Index(fields=["event"], name="epcis_epc_links",
                         condition=models.Q(role__in=LINK_ROLES)),
        ]


class EventTransaction(models.Model):
    """A business transaction an event refers to (bizTransactionList)."""

    event = models.ForeignKey(Event, on_delete=models.CASCADE, related_name="transactions",
                              db_index=False, verbose_name=_("event"))
    type = models.CharField(_("type"), max_length=IDENTIFIER_MAX, blank=True)
    identifier = models.CharField(_("business transaction"), max_length=IDENTIFIER_MAX)

    class Meta:
        verbose_name = _("business transaction of an event")
        verbose_name_plural = _("business transactions of events")
        indexes = [models.Index(fields=["identifier", "event"], name="epcis_transaction")]


class EventSourceDest(models.Model):
    """A source or destination of an event (sourceList, destinationList): a location or a
    party, with its CBV type (owning_party, possessing_party, location)."""

    event = models.ForeignKey(Event, on_delete=models.CASCADE, related_name="sources_dests",
                              db_index=False, verbose_name=_("event"))
    kind = models.CharField(_("source or destination"), max_length=12,
                            choices=SourceDestKind.choices)
    type = models.CharField(_("type"), max_length=IDENTIFIER_MAX, blank=True)
    identifier = models.CharField(_("location or party"), max_length=IDENTIFIER_MAX)

    class Meta:
        verbose_name = _("source or destination of an event")
        verbose_name_plural = _("sources and destinations of events")
        indexes = [
            models.Index(fields=["identifier", "event"], name="epcis_source_dest"),
            # A trace reads who shipped to whom in the events it found.
            models.Index(fields=["event"], name="epcis_source_dest_event"),
        ]


class PlaceQuerySet(models.QuerySet):
    def installations(self):
        return self.filter(kind__in=INSTALLATION_KINDS)

    def public(self):
        return self.filter(public=True)


class Place(models.Model):
    """A party or location named in events (EPCIS master data, in the platform's terms):
    a GLN-identified company, plant, warehouse, metro station or building, with the
    registered organisation it is or belongs to. Trace and recall pages show these names
    instead of bare identifiers; an installation location (metro station, building) is
    where a forward trace ends.

    ``identifier`` is the canonical form of indexing.identifier (a PGLN party as
    https://id.gs1.org/417/<GLN>, a location as https://id.gs1.org/414/<GLN>[/254/<ext>]),
    so that it equals EventSourceDest.identifier and Event.biz_location."""

    identifier = models.CharField(_("identifier"), max_length=IDENTIFIER_MAX, unique=True)
    kind = models.CharField(_("kind"), max_length=12, choices=PlaceKind.choices)
    name = models.CharField(_("name"), max_length=120)
    division = models.ForeignKey(
        "core.Division", null=True, blank=True, on_delete=models.PROTECT,
        related_name="trace_places", verbose_name=_("division"))
    address = models.CharField(_("address"), max_length=200, blank=True)
    entity = models.ForeignKey(
        "registry.MarketEntity", null=True, blank=True, on_delete=models.PROTECT,
        related_name="trace_places", verbose_name=_("market entity"))
    user_unit = models.ForeignKey(
        "registry.UserUnit", null=True, blank=True, on_delete=models.PROTECT,
        related_name="trace_places", verbose_name=_("user unit"))
    lab = models.ForeignKey(
        "registry.Lab", null=True, blank=True, on_delete=models.PROTECT,
        related_name="trace_places", verbose_name=_("laboratory"))
    #: Shown by name on public trace pages (an installation site such as a metro station;
    #: a firm's own warehouse usually not).
    public = models.BooleanField(_("shown on public trace pages"), default=False)
    #: The organisation that registered it (access.org_key); "" for an administrator.
    org = models.CharField(_("registered by"), max_length=32, blank=True)
    created_at = models.DateTimeField(_("created"), default=timezone.now)

    objects = PlaceQuerySet.as_manager()

    class Meta:
        ordering = ["identifier"]
        verbose_name = _("trace place")
        verbose_name_plural = _("trace places")
        indexes = [models.Index(fields=["org", "id"], name="trace_place_org")]

    def __str__(self) -> str:
        return self.name

    @property
    def organisation(self):
        """The registered organisation this place is or belongs to, if any."""
        return self.entity or self.user_unit or self.lab
