"""The EPCIS event store in the Django admin: for looking only.

Events are written by traceability.services (validated, hashed, audited, announced) through
the EPCIS 2.0 REST binding under /epcis/; nothing here changes them.
"""

from __future__ import annotations

from django.contrib import admin

from zhijian.core.admin import ViewOnlyAdmin

from .models import Capture, Event


@admin.register(Capture)
class CaptureAdmin(ViewOnlyAdmin):
    list_display = ["pk", "kind", "status", "org", "submitted_by", "event_count",
                    "stored_count", "duplicate_count", "created_at"]
    list_filter = ["kind", "status"]
    list_select_related = ["submitted_by"]
    search_fields = ["document_sha256", "org"]


@admin.register(Event)
class EventAdmin(ViewOnlyAdmin):
    list_display = ["event_id", "type", "biz_step", "event_time", "record_time", "org"]
    list_filter = ["type"]
    search_fields = ["=event_id", "=hash_id"]
    raw_id_fields = ["capture"]
