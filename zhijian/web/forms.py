"""Forms of the workbench and the organisation workspace.

Forms only collect and check input; every write goes through registry.services, and the
views put a service's refusal next to the field it names (web.common.call_service)."""

from __future__ import annotations

import re

from django import forms
from django.core.exceptions import ValidationError
from django.utils.translation import get_language, pgettext_lazy
from django.utils.translation import gettext_lazy as _

from zhijian.core.models import Division
from zhijian.registry.choices import (
    DepartmentKind,
    EntityStatus,
    Level,
    Qualification,
    RiskClass,
    UserUnitSector,
)
from zhijian.registry.models import (
    AccreditationScope,
    Department,
    Inspector,
    Lab,
    MarketEntity,
    Product,
    ProductCategory,
    Standard,
    UserUnit,
)


class BootstrapMixin:
    """Bootstrap classes on widgets, and `is-invalid` on fields that carry an error."""

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        for f in self.fields.values():
            w = f.widget
            if isinstance(w, forms.CheckboxSelectMultiple | forms.RadioSelect | forms.CheckboxInput):
                css = "form-check-input"
            elif isinstance(w, forms.Select | forms.SelectMultiple):
                css = "form-select"
            else:
                css = "form-control"
            w.attrs["class"] = (w.attrs.get("class", "") + " " + css).strip()

    def add_error(self, field, error):
        super().add_error(field, error)
        for name in self.errors:
            if name in self.fields:
                w = self.fields[name].widget
                classes = w.attrs.get("class", "")
                if "is-invalid" not in classes.split():
                    w.attrs["class"] = (classes + " is-invalid").strip()
                w.attrs["aria-describedby"] = f"id_{name}_error"


class DateInput(forms.DateInput):
    input_type = "date"

    def __init__(self, attrs=None):
        super().__init__(attrs, format="%Y-%m-%d")


class DivisionField(forms.ModelChoiceField):
    default_error_messages = {
        "invalid_choice": _("%(value)s is not a current division code within your "
                            "jurisdiction."),
    }

    def label_from_instance(self, obj):
        return f"{obj.code} {obj.display_name(get_language())}"


class CategoriesField(forms.ModelMultipleChoiceField):
    widget = forms.CheckboxSelectMultiple

    def __init__(self, **kwargs):
        kwargs.setdefault("queryset", ProductCategory.objects.all())
        kwargs.setdefault("required", False)
        super().__init__(**kwargs)

    def label_from_instance(self, obj):
        return obj.name_en if get_language() == "en" and obj.name_en else obj.name


class CategoryField(forms.ModelChoiceField):
    def label_from_instance(self, obj):
        name = obj.name_en if get_language() == "en" and obj.name_en else obj.name
        return f"{obj.code} {name}"


def divisions_for(scope):
    qs = Division.objects.current()
    return qs.under(scope.prefix) if scope.prefix else qs


def reason_field(required: bool):
    return forms.CharField(
        label=_("Reason for the change"), max_length=500, required=required,
        widget=forms.Textarea(attrs={"rows": 2}),
        help_text=_("Recorded in the audit log with the change."),
    )


# --- market entities -----------------------------------------------------------------------

ENTITY_FORM_FIELDS = [
    "uscc", "name", "entity_type", "division", "address", "legal_representative",
    "chief_quality_officer", "contact_phone", "registered_on", "status", "categories",
    "risk_class", "licence_holder",
]


class EntityForm(BootstrapMixin, forms.ModelForm):
    """A regulator registers a market entity."""

    class Meta:
        model = MarketEntity
        fields = ENTITY_FORM_FIELDS
        field_classes = {"division": DivisionField, "categories": CategoriesField}
        widgets = {"registered_on": DateInput()}

    def __init__(self, *args, scope, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["division"].queryset = divisions_for(scope)
        self.fields["categories"].required = False


class EntityEditForm(EntityForm):
    """A regulator changes a market entity (the code itself never changes)."""

    reason = reason_field(required=True)

    class Meta(EntityForm.Meta):
        fields = [f for f in ENTITY_FORM_FIELDS if f != "uscc"]

    def __init__(self, *args, scope, **kwargs):
        super().__init__(*args, scope=scope, **kwargs)
        current = self.instance.division if self.instance.pk else None
        if current is not None and current.valid_to is not None:
            # An entity still filed under an abolished code keeps it selectable.
            self.fields["division"].queryset = (divisions_for(scope)
                                                | Division.objects.filter(pk=current.pk))


class EntitySelfForm(BootstrapMixin, forms.ModelForm):
    """What an enterprise may change on its own record (ENTITY_SELF_FIELDS)."""

    reason = reason_field(required=False)

    class Meta:
        model = MarketEntity
        fields = ["address", "chief_quality_officer", "contact_phone", "categories"]
        field_classes = {"categories": CategoriesField}


class EntityFilterForm(BootstrapMixin, forms.Form):
    q = forms.CharField(label=_("Name or code"), required=False, max_length=60)
    division = forms.ChoiceField(label=_("Division"), required=False)
    category = forms.ChoiceField(label=_("Category"), required=False)
    status = forms.ChoiceField(label=_("Status"), required=False,
                               choices=[("", _("All statuses")), *EntityStatus.choices])
    # Filters on the credit class (MarketEntityQuerySet.with_credit_class).
    risk_class = forms.ChoiceField(label=_("Credit class"), required=False,
                                   choices=[("", _("All risk classes")), *RiskClass.choices])

    def __init__(self, *args, scope, **kwargs):
        from .common import division_choices

        super().__init__(*args, **kwargs)
        self.fields["division"].choices = division_choices(scope.prefix)
        lang = get_language()
        self.fields["category"].choices = [("", _("All categories"))] + [
            (c.code, ("— " * c.code.count(".")) + (c.name_en if lang == "en" and c.name_en
                                                    else c.name))
            for c in ProductCategory.objects.only("code", "name", "name_en")
        ]


class ImportForm(BootstrapMixin, forms.Form):
    file = forms.FileField(
        label=_("CSV file (UTF-8)"),
        widget=forms.ClearableFileInput(attrs={"accept": ".csv,text/csv"}),
    )


# --- products ------------------------------------------------------------------------------

_SPLIT = re.compile(r"[;；,，\n]+")


class StandardCodesField(forms.CharField):
    """Declared standards as codes separated by semicolons, e.g. "GB/T 12706.1-2020;
    GB/T 3956-2008"."""

    widget = forms.Textarea(attrs={"rows": 2})

    def __init__(self, **kwargs):
        kwargs.setdefault("required", False)
        kwargs.setdefault("max_length", 2000)
        super().__init__(**kwargs)

    @staticmethod
    def codes(value) -> list[str]:
        if value is None:
            return []
        if isinstance(value, list | tuple):
            return [getattr(v, "code", str(v)) for v in value]
        if hasattr(value, "all") and not isinstance(value, str):
            return [s.code for s in value.all()]
        return [c.strip() for c in _SPLIT.split(str(value)) if c.strip()]

    def prepare_value(self, value):
        return "; ".join(self.codes(value))

    def clean(self, value):
        value = super().clean(value)
        codes = list(dict.fromkeys(self.codes(value)))
        found = {s.code: s for s in Standard.objects.filter(code__in=codes)}
        unknown = [c for c in codes if c not in found]
        if unknown:
            raise ValidationError(
                _("Unknown standard numbers: %(codes)s. Use the numbers listed in the "
                  "standards catalogue, separated by semicolons.") % {"codes": "; ".join(unknown)},
                code="unknown_standard",
            )
        return [found[c] for c in codes]

    def has_changed(self, initial, data):
        return set(self.codes(initial)) != set(self.codes(data))


class ProductForm(BootstrapMixin, forms.ModelForm):
    standards = StandardCodesField(
        label=_("Declared standards"),
        help_text=_("Standard numbers separated by semicolons, e.g. GB/T 12706.1-2020."),
    )

    class Meta:
        model = Product
        fields = ["name", "model", "category", "standards", "gtin"]
        field_classes = {"category": CategoryField}


class ProductEditForm(ProductForm):
    reason = reason_field(required=False)


# --- laboratories --------------------------------------------------------------------------

LAB_FORM_FIELDS = ["name", "uscc", "division", "address", "cma_number", "cnas_number", "status",
                   "monthly_capacity"]


class LabForm(BootstrapMixin, forms.ModelForm):
    class Meta:
        model = Lab
        fields = LAB_FORM_FIELDS
        field_classes = {"division": DivisionField}

    def __init__(self, *args, scope, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["division"].queryset = divisions_for(scope)


class LabEditForm(LabForm):
    reason = reason_field(required=True)

    class Meta(LabForm.Meta):
        fields = [f for f in LAB_FORM_FIELDS if f != "uscc"]


class LabSelfForm(BootstrapMixin, forms.ModelForm):
    reason = reason_field(required=False)

    class Meta:
        model = Lab
        fields = ["address", "monthly_capacity"]


class ScopeForm(BootstrapMixin, forms.ModelForm):
    """One line of accredited scope: a standard (by its number) and a parameter."""

    standard = forms.ModelChoiceField(
        label=_("Standard number"), queryset=Standard.objects.all(), to_field_name="code",
        widget=forms.TextInput(attrs={"list": "standard-codes", "autocomplete": "off"}),
        error_messages={"invalid_choice": _("This standard number is not in the catalogue.")},
    )

    class Meta:
        model = AccreditationScope
        fields = ["standard", "parameter", "valid_from", "valid_to"]
        widgets = {"valid_from": DateInput(), "valid_to": DateInput()}

    def clean(self):
        data = super().clean()
        start, end = data.get("valid_from"), data.get("valid_to")
        if start and end and end < start:
            self.add_error("valid_to", _("The end date cannot be before the start date."))
        return data


class ScopeEndForm(BootstrapMixin, forms.Form):
    """End one line of a lab's accredited scope: its last valid day and why."""

    valid_to = forms.DateField(label=_("Last day of validity"), widget=DateInput())
    reason = reason_field(required=True)


# --- user units ----------------------------------------------------------------------------

UNIT_FORM_FIELDS = ["name", "uscc", "division", "sector", "categories", "contact_phone"]


class UserUnitForm(BootstrapMixin, forms.ModelForm):
    class Meta:
        model = UserUnit
        fields = UNIT_FORM_FIELDS
        field_classes = {"division": DivisionField, "categories": CategoriesField}

    def __init__(self, *args, scope, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["division"].queryset = divisions_for(scope)


class UserUnitEditForm(UserUnitForm):
    reason = reason_field(required=True)

    class Meta(UserUnitForm.Meta):
        fields = [f for f in UNIT_FORM_FIELDS if f != "uscc"]


class UserUnitSelfForm(BootstrapMixin, forms.ModelForm):
    reason = reason_field(required=False)

    class Meta:
        model = UserUnit
        fields = ["contact_phone", "categories"]
        field_classes = {"categories": CategoriesField}


class SimpleFilterForm(BootstrapMixin, forms.Form):
    q = forms.CharField(label=_("Search"), required=False, max_length=60)


class UserUnitFilterForm(SimpleFilterForm):
    sector = forms.ChoiceField(label=_("Sector"), required=False,
                               choices=[("", _("All sectors")), *UserUnitSector.choices])


# --- departments and inspectors ------------------------------------------------------------

class DepartmentFilterForm(BootstrapMixin, forms.Form):
    q = forms.CharField(label=_("Search"), required=False, max_length=60)
    level = forms.ChoiceField(label=_("Level"), required=False,
                              choices=[("", _("All levels")), *Level.choices])
    kind = forms.ChoiceField(label=pgettext_lazy("department", "Kind"), required=False,
                             choices=[("", _("All kinds")), *DepartmentKind.choices])
    division = forms.ChoiceField(label=_("Division"), required=False)

    def __init__(self, *args, **kwargs):
        from .common import division_choices

        super().__init__(*args, **kwargs)
        self.fields["division"].choices = division_choices(None)


class DepartmentField(forms.ModelChoiceField):
    def label_from_instance(self, obj):
        return obj.name_en if get_language() == "en" and obj.name_en else obj.name


class InspectorForm(BootstrapMixin, forms.ModelForm):
    # A fixed set of keys (Qualification), shown by their translated labels.
    qualifications = forms.MultipleChoiceField(
        label=_("Qualifications"), required=False, choices=Qualification.choices,
        widget=forms.CheckboxSelectMultiple,
        help_text=_("Inspection teams for some product categories (e.g. special equipment) "
                    "are drawn only from inspectors with the qualification."),
    )

    class Meta:
        model = Inspector
        fields = ["name", "badge_number", "department", "qualifications", "active"]
        field_classes = {"department": DepartmentField}

    def __init__(self, *args, scope, **kwargs):
        super().__init__(*args, **kwargs)
        qs = Department.objects.select_related("division")
        if scope.prefix:
            qs = qs.in_division(scope.prefix)
        self.fields["department"].queryset = qs
        if scope.is_regulator and not self.is_bound:
            self.fields["department"].initial = scope.org_id


class InspectorFilterForm(SimpleFilterForm):
    # "On duty" for inspectors (在岗), apart from the "Active" of labs and accounts.
    active = forms.ChoiceField(
        label=pgettext_lazy("inspector", "Active"), required=False,
        choices=[("", _("All")), ("1", pgettext_lazy("inspector", "Active")),
                 ("0", pgettext_lazy("inspector", "Inactive"))])
