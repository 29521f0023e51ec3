"""Random inspections in the Django admin: for looking only.

Plans are written by inspections.services (numbered, validated, audited, frozen on
publication); draws, tasks, evidence and declared conflicts are regulated records whose
every change is an audited service call. The admin therefore shows them read-only; the
workbench pages under /work/inspections/ are where they are changed.
"""

from __future__ import annotations

import json

from django.contrib import admin
from django.utils.html import format_html
from django.utils.translation import gettext_lazy as _

from zhijian.core.admin import ViewOnlyAdmin

from .models import (
    ChecklistItem,
    Draw,
    Evidence,
    InspectionPlan,
    InspectorConflict,
    Task,
    TaskItem,
    TaskMember,
)


class ViewOnlyInline(admin.TabularInline):
    extra = 0
    can_delete = False
    show_change_link = False

    def has_add_permission(self, request, obj=None):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False


def pretty_json(value) -> str:
    return format_html('<pre style="white-space: pre-wrap; max-height: 30rem; overflow: auto">'
                       "{}</pre>", json.dumps(value, ensure_ascii=False, indent=2))


class ChecklistInline(ViewOnlyInline):
    model = ChecklistItem
    fields = ["position", "department", "text"]
    readonly_fields = fields


@admin.register(InspectionPlan)
class InspectionPlanAdmin(ViewOnlyAdmin):
    list_display = ["code", "title", "kind", "lead_department", "period_start", "period_end",
                    "status", "created_at"]
    list_filter = ["status", "kind"]
    search_fields = ["code", "title"]
    list_select_related = ["lead_department"]
    readonly_fields = ["code", "title", "kind", "lead_department", "departments",
                       "categories", "division_prefixes", "entity_types", "licence_filter",
                       "period_start", "period_end", "ratios", "stratify_by_city",
                       "exclusion_months", "team_size", "workload_cap", "task_days",
                       "status", "created_by", "created_at"]
    fields = readonly_fields
    inlines = [ChecklistInline]


@admin.register(Draw)
class DrawAdmin(ViewOnlyAdmin):
    list_display = ["plan", "number", "status", "commitment_sha256", "committed_at",
                    "seeded_at"]
    list_filter = ["status"]
    search_fields = ["=commitment_sha256", "plan__code"]
    list_select_related = ["plan"]
    fields = ["plan", "number", "status", "commitment_sha256", "committed_at", "committed_by",
              "dice", "beacon", "witnesses", "seed", "seeded_at", "seeded_by", "redraw_of",
              "redraw_reason", "rule_versions", "commitment_json", "failures_json",
              "result_json"]
    readonly_fields = fields

    @admin.display(description=_("commitment (JSON)"))
    def commitment_json(self, obj):
        return pretty_json(obj.commitment)

    @admin.display(description=_("failures (JSON)"))
    def failures_json(self, obj):
        return pretty_json(obj.failures)

    @admin.display(description=_("result (JSON)"))
    def result_json(self, obj):
        return pretty_json(obj.result)


class MemberInline(ViewOnlyInline):
    model = TaskMember
    fields = ["slot", "inspector", "signed_at", "signed_digest"]
    readonly_fields = fields


class ItemInline(ViewOnlyInline):
    model = TaskItem
    fields = ["item", "result", "note"]
    readonly_fields = fields


class EvidenceInline(ViewOnlyInline):
    model = Evidence
    fields = ["name", "size", "sha256", "content_type", "uploaded_by", "uploaded_at"]
    readonly_fields = fields


@admin.register(Task)
class TaskAdmin(ViewOnlyAdmin):
    list_display = ["plan", "entity", "status", "due_on", "outcome", "completed_at",
                    "published_at"]
    list_filter = ["status", "outcome"]
    search_fields = ["plan__code", "entity__name", "=entity__uscc"]
    list_select_related = ["plan", "entity"]
    fields = ["plan", "draw", "entity", "stratum", "rank", "status", "due_on", "started_at",
              "outcome", "summary", "firm_representative", "completed_at", "record_sha256",
              "publish_due", "publication_rule", "published_at"]
    readonly_fields = fields
    inlines = [MemberInline, ItemInline, EvidenceInline]


@admin.register(InspectorConflict)
class InspectorConflictAdmin(ViewOnlyAdmin):
    list_display = ["inspector", "entity", "reason", "declared_at"]
    search_fields = ["inspector__name", "=inspector__badge_number", "entity__name",
                     "=entity__uscc"]
    list_select_related = ["inspector", "entity"]
