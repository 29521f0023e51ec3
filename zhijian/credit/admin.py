"""Quality credit in the Django admin: for looking only.

Credit records, penalty decisions and commitments are written by credit.services
(checked, audited, announced); the admin shows them read-only. The pages under
/work/credit/ are where they are changed.
"""

from __future__ import annotations

from django.contrib import admin

from zhijian.core.admin import ViewOnlyAdmin

from .models import Commitment, CreditRecord, Penalty


@admin.register(CreditRecord)
class CreditRecordAdmin(ViewOnlyAdmin):
    list_display = ["entity", "kind", "date", "status", "public", "source_type", "source_ref",
                    "rule_version"]
    list_filter = ["kind", "status", "public", "source_type"]
    list_select_related = ["entity"]
    search_fields = ["entity__name", "entity__uscc", "source_ref"]
    date_hierarchy = "date"


@admin.register(Penalty)
class PenaltyAdmin(ViewOnlyAdmin):
    list_display = ["decision_number", "entity", "department", "decided_on", "heavy", "fine",
                    "paid_on", "status"]
    list_filter = ["status", "heavy"]
    list_select_related = ["entity", "department"]
    search_fields = ["decision_number", "entity__name", "entity__uscc"]


@admin.register(Commitment)
class CommitmentAdmin(ViewOnlyAdmin):
    list_display = ["entity", "occasion", "reference", "signatory", "signed_at", "status"]
    list_filter = ["occasion", "status"]
    list_select_related = ["entity"]
    search_fields = ["entity__name", "entity__uscc", "reference"]
