"""Supervisory sampling in the Django admin: for looking only.

Plans, samples, hand-overs, photos and disposals are regulated records written by
sampling.services (checked, signed, audited); the admin shows them read-only and the
workbench pages under /work/sampling/ are where they are changed."""

from __future__ import annotations

from django.contrib import admin

from zhijian.core.admin import ViewOnlyAdmin

from .models import Disposal, Handover, Sample, SamplePhoto, SamplingPlan


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


class HandoverInline(ViewOnlyInline):
    model = Handover
    fields = ["position", "given_by", "received_by", "given_at", "received_at", "seal_intact",
              "seal_number_seen", "giver_digest", "receiver_digest", "note"]
    readonly_fields = fields


class PhotoInline(ViewOnlyInline):
    model = SamplePhoto
    fields = ["file", "sha256", "uploaded_by", "uploaded_at"]
    readonly_fields = fields


@admin.register(SamplingPlan)
class SamplingPlanAdmin(ViewOnlyAdmin):
    list_display = ["code", "title", "department", "period_start", "period_end", "online",
                    "status"]
    list_filter = ["status", "online"]
    search_fields = ["code", "title"]


@admin.register(Sample)
class SampleAdmin(ViewOnlyAdmin):
    list_display = ["code", "plan", "entity", "batch", "lab", "status", "result",
                    "published_at"]
    list_filter = ["status", "result", "channel"]
    search_fields = ["code", "batch", "entity__name", "entity__uscc"]
    inlines = [HandoverInline, PhotoInline]


@admin.register(Disposal)
class DisposalAdmin(ViewOnlyAdmin):
    list_display = ["report", "entity", "department", "kind", "status", "due_on"]
    list_filter = ["status", "kind"]
