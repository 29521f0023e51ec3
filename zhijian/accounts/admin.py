"""User accounts in the admin. Account changes are audited like regulated records (who
may act for which organisation is part of the record), without the password hash."""

from django import forms
from django.contrib import admin
from django.contrib.auth.admin import UserAdmin as BaseUserAdmin
from django.contrib.auth.forms import AdminUserCreationForm, UserChangeForm
from django.db import transaction
from django.utils.translation import gettext_lazy as _

from zhijian.core import audit

from .models import User

AUDITED_FIELDS = ("username", "first_name", "last_name", "email", "display_name", "role",
                  "department", "entity", "lab", "user_unit", "is_active", "is_staff",
                  "is_superuser")


def _snapshot(user):
    return audit.snapshot(user, fields=AUDITED_FIELDS)


def _reason_field():
    return forms.CharField(
        label=_("Reason for the change"), required=False, max_length=500,
        widget=forms.Textarea(attrs={"rows": 2, "cols": 60}),
        help_text=_("Recorded in the audit log with the change."),
    )


class UserForm(UserChangeForm):
    reason = _reason_field()


class UserCreationForm(AdminUserCreationForm):
    reason = _reason_field()


@admin.register(User)
class UserAdmin(BaseUserAdmin):
    form = UserForm
    add_form = UserCreationForm
    list_display = ["username", "display_name", "role", "organisation_name", "is_active",
                    "is_staff"]
    list_filter = ["role", "is_active", "is_staff", "is_superuser"]
    search_fields = ["username", "display_name", "email"]
    autocomplete_fields = ["department", "entity", "lab", "user_unit"]
    fieldsets = [
        *BaseUserAdmin.fieldsets[:1],
        (_("Role and organisation"), {
            "fields": ["display_name", "role", "department", "entity", "lab", "user_unit"],
        }),
        *BaseUserAdmin.fieldsets[1:],
        (None, {"fields": ["reason"]}),
    ]
    add_fieldsets = [
        *BaseUserAdmin.add_fieldsets,
        (_("Role and organisation"), {
            "fields": ["display_name", "role", "department", "entity", "lab", "user_unit"],
        }),
        (None, {"fields": ["reason"]}),
    ]

    @admin.display(description=_("organisation"))
    def organisation_name(self, obj):
        org = obj.organisation
        return str(org) if org is not None else "—"

    def save_model(self, request, obj, form, change):
        with transaction.atomic():
            before = None
            if change:
                old = User.objects.filter(pk=obj.pk).first()
                before = _snapshot(old) if old else None
            super().save_model(request, obj, form, change)
            audit.append(audit.Change(
                action="user.updated" if change else "user.created",
                object_type=obj._meta.label_lower, object_id=str(obj.pk),
                before=before, after=_snapshot(obj),
                reason=form.cleaned_data.get("reason", ""),
            ), actor=request.user)

    def delete_model(self, request, obj):
        with transaction.atomic():
            before, pk = _snapshot(obj), obj.pk
            super().delete_model(request, obj)
            audit.append(audit.Change("user.deleted", "accounts.user", str(pk), before, None),
                         actor=request.user)

    def delete_queryset(self, request, queryset):
        for user in queryset:
            self.delete_model(request, user)
