"""Administrators look at the kernel's tables here; none of them can be changed.

The audit log is append-only (the database refuses updates and deletes on PostgreSQL);
checkpoints and keys are written by the signing code, divisions by migrations, events by
services."""

import json

from django.contrib import admin
from django.utils.html import format_html
from django.utils.translation import gettext_lazy as _

from .models import AuditCheckpoint, AuditEntry, Division, OutboxEvent, PublicKey


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
    list_display = ["seq", "ts", "actor", "action", "object_type", "object_id", "division"]
    search_fields = ["=object_id", "=actor", "=action", "=object_type"]
    ordering = ["-seq"]
    fields = ["seq", "ts", "actor", "actor_id", "action", "object_type", "object_id", "division",
              "prev_hash", "hash", "pretty_body"]
    readonly_fields = fields

    @admin.display(description=_("entry (canonical JSON)"))
    def pretty_body(self, obj):
        return format_html("<pre style=\"white-space: pre-wrap\">{}</pre>",
                           json.dumps(json.loads(obj.body), ensure_ascii=False, indent=2))


@admin.register(AuditCheckpoint)
class AuditCheckpointAdmin(ViewOnlyAdmin):
    list_display = ["seq", "ts", "key_id", "hash"]
    ordering = ["-seq"]


@admin.register(PublicKey)
class PublicKeyAdmin(ViewOnlyAdmin):
    list_display = ["key_id", "purpose", "public_key", "created_at", "retired_at"]


@admin.register(Division)
class DivisionAdmin(ViewOnlyAdmin):
    list_display = ["code", "name", "name_en", "level", "parent", "valid_from", "valid_to",
                    "successor"]
    list_filter = ["level"]
    search_fields = ["code", "name", "name_en"]


@admin.register(OutboxEvent)
class OutboxEventAdmin(ViewOnlyAdmin):
    list_display = ["id", "name", "aggregate_type", "aggregate_id", "created_at", "processed_at",
                    "attempts"]
    search_fields = ["=name", "=aggregate_id"]
    ordering = ["-id"]
