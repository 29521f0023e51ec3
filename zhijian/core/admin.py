"""Administrators look at the kernel's tables here; none of them can be changed.

The audit log is append-only (the database refuses updates and deletes on PostgreSQL);
checkpoints and keys are written by the signing code, divisions by migrations, events by
services."""

import json

from django.contrib import admin
from django.utils.html import format_html
from django.utils.translation import gettext_lazy as _

from .models import AuditCheckpoint, AuditEntry, Division, OutboxEvent, PublicKey


def column(name: str, label, ordering: str | None = None):
    """A method showing field `name` under a translated heading, for list_display and
    readonly_fields as "col_<name>". The kernel's tables name their fields for the code
    (seq, ts, prev_hash); administrators read these pages in their own language."""

    @admin.display(description=label, ordering=ordering or name)
    def show(self, obj):
        return getattr(obj, name)

    return show


class ViewOnlyAdmin(admin.ModelAdmin):
    show_full_result_count = False

    def has_add_permission(self, request, obj=None):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False


@admin.register(AuditEntry)
class AuditEntryAdmin(ViewOnlyAdmin):
    col_seq = column("seq", _("entry number"))
    col_ts = column("ts", _("time"))
    col_actor = column("actor", _("actor"))
    col_actor_id = column("actor_id", _("user id of the actor"))
    col_action = column("action", _("action"))
    col_object_type = column("object_type", _("record type"))
    col_object_id = column("object_id", _("record id"))
    col_division = column("division", _("division"))
    col_prev_hash = column("prev_hash", _("hash of the previous entry"))
    col_hash = column("hash", _("hash"))

    list_display = ["col_seq", "col_ts", "col_actor", "col_action", "col_object_type",
                    "col_object_id", "col_division"]
    search_fields = ["=object_id", "=actor", "=action", "=object_type"]
    ordering = ["-seq"]
    fields = ["col_seq", "col_ts", "col_actor", "col_actor_id", "col_action", "col_object_type",
              "col_object_id", "col_division", "col_prev_hash", "col_hash", "pretty_body"]
    readonly_fields = fields

    @admin.display(description=_("entry (canonical JSON)"))
    def pretty_body(self, obj):
        return format_html("<pre style=\"white-space: pre-wrap\">{}</pre>",
                           json.dumps(json.loads(obj.body), ensure_ascii=False, indent=2))


@admin.register(AuditCheckpoint)
class AuditCheckpointAdmin(ViewOnlyAdmin):
    col_seq = column("seq", _("entry number"))
    col_ts = column("ts", _("time"))
    col_key_id = column("key_id", _("key id"))
    col_hash = column("hash", _("hash"))
    col_statement = column("statement", _("signed statement"))
    col_signature = column("signature", _("signature"))

    list_display = ["col_seq", "col_ts", "col_key_id", "col_hash"]
    ordering = ["-seq"]
    fields = ["col_seq", "col_ts", "col_key_id", "col_hash", "col_statement", "col_signature"]
    readonly_fields = fields


@admin.register(PublicKey)
class PublicKeyAdmin(ViewOnlyAdmin):
    col_key_id = column("key_id", _("key id"))
    col_purpose = column("purpose", _("purpose"))
    col_public_key = column("public_key", _("public key"))
    col_created_at = column("created_at", _("created at"))
    col_retired_at = column("retired_at", _("retired at"))

    list_display = ["col_key_id", "col_purpose", "col_public_key", "col_created_at",
                    "col_retired_at"]
    fields = list_display
    readonly_fields = fields


@admin.register(Division)
class DivisionAdmin(ViewOnlyAdmin):
    col_parent = column("parent", _("parent division"), ordering="parent_id")
    col_successor = column("successor", _("successor"), ordering="successor_id")

    list_display = ["code", "name", "name_en", "level", "col_parent", "valid_from", "valid_to",
                    "col_successor"]
    list_select_related = ["parent", "successor"]
    list_filter = ["level"]
    search_fields = ["code", "name", "name_en"]
    fields = list_display
    readonly_fields = fields


@admin.register(OutboxEvent)
class OutboxEventAdmin(ViewOnlyAdmin):
    col_id = column("id", _("event number"))
    col_name = column("name", _("event"))
    col_aggregate_type = column("aggregate_type", _("record type"))
    col_aggregate_id = column("aggregate_id", _("record id"))
    col_payload = column("payload", _("payload"))
    col_created_at = column("created_at", _("created at"))
    col_processed_at = column("processed_at", _("processed at"))
    col_attempts = column("attempts", _("attempts"))
    col_last_error = column("last_error", _("last error"))

    list_display = ["col_id", "col_name", "col_aggregate_type", "col_aggregate_id",
                    "col_created_at", "col_processed_at", "col_attempts"]
    fields = [*list_display[:4], "col_payload", *list_display[4:], "col_last_error"]
    readonly_fields = fields
    search_fields = ["=name", "=aggregate_id"]
    ordering = ["-id"]
