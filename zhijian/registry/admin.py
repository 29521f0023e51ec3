"""The Django admin for platform administrators.

Regulated records never get saved by the admin itself: reference data (categories,
standards), departments and the responsibility matrix are written through
registry.services (audited, with events); entities, products, labs, user units and
inspectors are read-only here and changed in the workbench, where the jurisdiction checks
and the reason for a change are asked for.
"""

from __future__ import annotations

from django import forms
from django.contrib import admin
from django.core.exceptions import PermissionDenied, ValidationError
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _

from zhijian.core.access import Denied
from zhijian.core.models import Division

from . import services
from .models import (
    AccreditationScope,
    Department,
    DivisionStats,
    Inspector,
    Lab,
    MarketEntity,
    Product,
    ProductCategory,
    Responsibility,
    Standard,
    UserUnit,
)


class ReasonForm(forms.ModelForm):
    reason = forms.CharField(
        label=_("Reason for the change"), required=False, max_length=500,
        widget=forms.Textarea(attrs={"rows": 2, "cols": 60}),
        help_text=_("Recorded in the audit log with the change."),
    )


class DepartmentForm(ReasonForm):
    def clean(self):
        data = super().clean()
        # The rule the service applies to the sectors (set after the row is saved, so the
        # model's clean() cannot see them), checked here so that it lands on the form.
        try:
            services.department_sectors_check(
                kind=data.get("kind", self.instance.kind),
                all_sectors=data.get("all_sectors", False), sectors=data.get("sectors"))
        except ValidationError as exc:
            self.add_error(None, exc)
        return data


def _run(fn, **kwargs):
    try:
        return fn(**kwargs)
    except Denied as exc:
        raise PermissionDenied(exc.message) from exc


class ReadOnlyAdmin(admin.ModelAdmin):
    """Viewing only: the workbench and the API change these records through services."""

    show_full_result_count = False

    def has_add_permission(self, request, obj=None):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False


class ServiceSavedAdmin(admin.ModelAdmin):
    """The admin form validates; a service writes. No deletions."""

    form = ReasonForm

    def has_delete_permission(self, request, obj=None):
        return False

    def save_related(self, request, form, formsets, change):
        # Many-to-many values were set by the service inside its audited transaction.
        for formset in formsets:
            self.save_formset(request, form, formset, change=change)

    @staticmethod
    def adopt(obj, saved) -> None:
        """Let the admin continue (log entry, redirect) with the row the service wrote."""
        obj.pk = saved.pk
        obj._state.adding = False


@admin.register(ProductCategory)
class ProductCategoryAdmin(ServiceSavedAdmin):
    list_display = ["code", "name", "name_en", "parent", "ccc", "key_material",
                    "licence_required"]
    list_filter = ["ccc", "key_material", "licence_required"]
    search_fields = ["code", "name", "name_en"]
    autocomplete_fields = ["parent"]

    def save_model(self, request, obj, form, change):
        _run(services.reference_save, actor=request.user, instance=obj,
             reason=form.cleaned_data.get("reason", ""))


@admin.register(Standard)
class StandardAdmin(ServiceSavedAdmin):
    list_display = ["code", "title", "title_en"]
    search_fields = ["code", "title", "title_en"]
    filter_horizontal = ["categories"]

    def save_model(self, request, obj, form, change):
        _run(services.reference_save, actor=request.user, instance=obj,
             reason=form.cleaned_data.get("reason", ""),
             m2m={"categories": form.cleaned_data.get("categories", [])})


class CurrentDivisionMixin:
    def formfield_for_foreignkey(self, db_field, request, **kwargs):
        if db_field.name == "division":
            kwargs["queryset"] = Division.objects.current()
        return super().formfield_for_foreignkey(db_field, request, **kwargs)


@admin.register(Department)
class DepartmentAdmin(CurrentDivisionMixin, ServiceSavedAdmin):
    form = DepartmentForm
    list_display = ["name", "code", "kind", "level", "division", "all_sectors", "phone"]
    list_filter = ["level", "kind", "all_sectors"]
    search_fields = ["code", "name", "name_en"]
    filter_horizontal = ["sectors"]
    list_select_related = ["division"]

    def get_readonly_fields(self, request, obj=None):
        return ["code"] if obj is not None else []

    def save_model(self, request, obj, form, change):
        data = {name: form.cleaned_data[name] for name in form.changed_data
                if name in services.DEPARTMENT_FIELDS}
        if change:
            saved = _run(services.department_update, actor=request.user, department_id=obj.pk,
                         data=data, reason=form.cleaned_data.get("reason", ""))
        else:
            data = {name: form.cleaned_data[name] for name in services.DEPARTMENT_FIELDS
                    if name in form.cleaned_data}
            saved = _run(services.department_register, actor=request.user, data=data,
                         reason=form.cleaned_data.get("reason", ""))
        self.adopt(obj, saved)


@admin.register(Responsibility)
class ResponsibilityAdmin(ServiceSavedAdmin):
    list_display = ["category", "level", "kind", "role", "legal_basis"]
    list_filter = ["level", "kind", "role"]
    search_fields = ["category__code", "category__name", "legal_basis"]
    list_select_related = ["category"]
    autocomplete_fields = ["category"]

    def has_delete_permission(self, request, obj=None):
        return admin.ModelAdmin.has_delete_permission(self, request, obj)

    def get_readonly_fields(self, request, obj=None):
        return ["category", "level", "kind"] if obj is not None else []

    def save_model(self, request, obj, form, change):
        d = form.cleaned_data
        saved = _run(services.responsibility_set, actor=request.user,
                     category=d.get("category") or obj.category, level=d.get("level") or obj.level,
                     kind=d.get("kind") or obj.kind, role=d["role"],
                     legal_basis=d.get("legal_basis", ""), reason=d.get("reason", ""))
        self.adopt(obj, saved)

    def delete_model(self, request, obj):
        _run(services.responsibility_remove, actor=request.user, responsibility_id=obj.pk,
             reason=gettext("Removed by an administrator in the administration site."))

    def delete_queryset(self, request, queryset):
        for duty in queryset:
            self.delete_model(request, duty)


class ProductInline(admin.TabularInline):
    model = Product
    fields = ["name", "model", "category", "gtin"]
    readonly_fields = fields
    extra = 0
    can_delete = False
    show_change_link = True

    def has_add_permission(self, request, obj=None):
        return False

    def has_change_permission(self, request, obj=None):
        return False


@admin.register(MarketEntity)
class MarketEntityAdmin(ReadOnlyAdmin):
    list_display = ["uscc", "name", "division", "status", "credit_class", "risk_class",
                    "entity_type"]
    list_filter = ["status", "risk_class", "entity_type", "licence_holder"]
    search_fields = ["=uscc", "name"]
    list_select_related = ["division"]
    inlines = [ProductInline]

    def get_queryset(self, request):
        return super().get_queryset(request).with_credit_class()

    @admin.display(description=_("credit class"), ordering="credit_class")
    def credit_class(self, obj):
        return obj.credit_class


@admin.register(Product)
class ProductAdmin(ReadOnlyAdmin):
    list_display = ["name", "model", "entity", "category", "gtin"]
    search_fields = ["name", "gtin", "=entity__uscc"]
    list_select_related = ["entity", "category"]


class ScopeInline(admin.TabularInline):
    model = AccreditationScope
    fields = ["standard", "parameter", "valid_from", "valid_to"]
    readonly_fields = fields
    extra = 0
    can_delete = False

    def has_add_permission(self, request, obj=None):
        return False

    def has_change_permission(self, request, obj=None):
        return False


@admin.register(Lab)
class LabAdmin(ReadOnlyAdmin):
    list_display = ["name", "cma_number", "cnas_number", "division", "status"]
    list_filter = ["status"]
    search_fields = ["name", "=uscc", "cma_number", "cnas_number"]
    list_select_related = ["division"]
    inlines = [ScopeInline]


@admin.register(UserUnit)
class UserUnitAdmin(ReadOnlyAdmin):
    list_display = ["name", "uscc", "sector", "division"]
    list_filter = ["sector"]
    search_fields = ["name", "=uscc"]
    list_select_related = ["division"]


@admin.register(Inspector)
class InspectorAdmin(ReadOnlyAdmin):
    list_display = ["name", "badge_number", "department", "qualification_list", "active"]
    list_filter = ["active"]
    search_fields = ["name", "badge_number"]
    list_select_related = ["department"]
    readonly_fields = ["qualification_list"]
    exclude = ["qualifications"]

    @admin.display(description=_("qualifications"))
    def qualification_list(self, obj):
        return "; ".join(obj.qualification_labels()) or "—"


@admin.register(DivisionStats)
class DivisionStatsAdmin(ReadOnlyAdmin):
    list_display = ["division", "entities"]
    list_select_related = ["division"]
