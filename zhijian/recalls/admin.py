"""Recalls in the Django admin: for looking only.

Recalls, their items, progress reports and notices are written by recalls.services
(checked, audited, announced); the admin shows them read-only. The pages under
/work/recalls/ are where they are changed.
"""

from __future__ import annotations

from django.contrib import admin

from zhijian.core.admin import ViewOnlyAdmin

from .models import Recall, RecallItem, RecallItemUpdate, RecallNotice


@admin.register(Recall)
class RecallAdmin(ViewOnlyAdmin):
    list_display = ["number", "status", "maker", "lot", "severity", "department",
                    "proposed_at", "opened_at", "completed_at"]
    list_filter = ["status", "severity"]
    list_select_related = ["maker", "department"]
    search_fields = ["number", "lot", "maker__name", "maker__uscc"]


@admin.register(RecallItem)
class RecallItemAdmin(ViewOnlyAdmin):
    list_display = ["recall", "tier", "place", "kind", "listed", "uom", "status"]
    list_filter = ["status", "tier"]
    list_select_related = ["recall"]


@admin.register(RecallItemUpdate)
class RecallItemUpdateAdmin(ViewOnlyAdmin):
    list_display = ["item", "status_before", "status", "by", "at"]
    list_select_related = ["item__recall", "by"]


@admin.register(RecallNotice)
class RecallNoticeAdmin(ViewOnlyAdmin):
    list_display = ["recall", "role", "entity", "user_unit", "sent_at", "acknowledged_at"]
    list_select_related = ["recall", "entity", "user_unit"]
