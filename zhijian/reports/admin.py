"""Test reports in the Django admin: for looking only.

Reports, keys, instruments, calibrations, revocations and hazard reports are regulated
records: every change is an audited service call (reports.services, reports.hazards) made
from the pages under /work/reports/ or the API. The admin shows them read-only.
"""

from __future__ import annotations

from django.contrib import admin

from zhijian.core.admin import ViewOnlyAdmin

from .models import Calibration, HazardReport, Instrument, LabKey, Report, ReportItem, Revocation


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


class ReportItemInline(ViewOnlyInline):
    model = ReportItem
    fields = ["position", "parameter", "requirement", "measured", "unit", "verdict"]
    readonly_fields = fields


class CalibrationInline(ViewOnlyInline):
    model = Calibration
    fields = ["certificate_number", "calibrated_by", "calibrated_on", "valid_until"]
    readonly_fields = fields


@admin.register(Report)
class ReportAdmin(ViewOnlyAdmin):
    list_display = ["number", "lab", "kind", "producer", "batch", "issued_on", "conclusion",
                    "status"]
    list_filter = ["status", "kind", "conclusion"]
    search_fields = ["number", "batch", "producer__name", "producer__uscc"]
    list_select_related = ["lab", "producer"]
    raw_id_fields = ["sample", "producer", "client", "product", "supersedes"]
    inlines = [ReportItemInline]


@admin.register(LabKey)
class LabKeyAdmin(ViewOnlyAdmin):
    list_display = ["key_id", "lab", "custody", "registered_at", "retired_at"]
    list_filter = ["custody"]
    search_fields = ["key_id", "lab__name"]
    list_select_related = ["lab"]


@admin.register(Instrument)
class InstrumentAdmin(ViewOnlyAdmin):
    list_display = ["serial_number", "name", "model", "lab"]
    search_fields = ["serial_number", "name", "lab__name"]
    list_select_related = ["lab"]
    inlines = [CalibrationInline]


@admin.register(Revocation)
class RevocationAdmin(ViewOnlyAdmin):
    list_display = ["report", "revoked_at", "revoked_by", "key_id"]
    search_fields = ["report__number"]
    list_select_related = ["report", "revoked_by"]


@admin.register(HazardReport)
class HazardReportAdmin(ViewOnlyAdmin):
    list_display = ["reported_at", "lab", "entity", "category", "department", "status"]
    list_filter = ["status"]
    search_fields = ["entity__name", "lab__name", "description"]
    list_select_related = ["lab", "entity", "category", "department"]
