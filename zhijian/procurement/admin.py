"""Purchasing and acceptance in the Django admin: for looking only.

Lists, suppliers, appeals, deliveries, witness inspections, acceptance checks and referrals
are written by procurement.services (checked, audited, announced); the admin shows them
read-only. The pages under /work/procurement/ are where they are changed.
"""

from __future__ import annotations

from django.contrib import admin

from zhijian.core.admin import ViewOnlyAdmin

from .models import (
    AcceptanceCheck,
    Appeal,
    Delivery,
    Referral,
    Supplier,
    SupplierList,
    WitnessInspection,
)


@admin.register(SupplierList)
class SupplierListAdmin(ViewOnlyAdmin):
    list_display = ["user_unit", "category", "created_at"]
    list_select_related = ["user_unit", "category"]


@admin.register(Supplier)
class SupplierAdmin(ViewOnlyAdmin):
    list_display = ["entity", "supplier_list", "standing", "score", "rule_version",
                    "computed_at"]
    list_filter = ["standing"]
    list_select_related = ["entity", "supplier_list__user_unit", "supplier_list__category"]
    search_fields = ["entity__name", "entity__uscc"]


@admin.register(Appeal)
class AppealAdmin(ViewOnlyAdmin):
    list_display = ["supplier", "status", "filed_at", "decided_at"]
    list_filter = ["status"]
    list_select_related = ["supplier__entity"]


@admin.register(Delivery)
class DeliveryAdmin(ViewOnlyAdmin):
    list_display = ["number", "user_unit", "supplier", "category", "batch", "quantity", "unit",
                    "delivered_on", "status"]
    list_filter = ["status"]
    list_select_related = ["user_unit", "supplier", "category"]
    search_fields = ["number", "batch", "supplier__name"]


@admin.register(WitnessInspection)
class WitnessInspectionAdmin(ViewOnlyAdmin):
    list_display = ["delivery", "lab", "witness", "witnessed_on", "result"]
    list_select_related = ["delivery", "lab"]


@admin.register(AcceptanceCheck)
class AcceptanceCheckAdmin(ViewOnlyAdmin):
    list_display = ["delivery", "checked_at", "checked_by", "accepted", "rule_version"]
    list_filter = ["accepted"]
    list_select_related = ["delivery", "checked_by"]


@admin.register(Referral)
class ReferralAdmin(ViewOnlyAdmin):
    list_display = ["delivery", "department", "referred_at", "acknowledged_at"]
    list_select_related = ["delivery", "department"]
