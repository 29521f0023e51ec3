"""Forms of random inspections (双随机一公开).

Forms only collect and check input; every write goes through inspections.services, and
the views put a service's refusal next to the field it names (web.common.call_service).
Fields are named after the keys the services use in their errors ("division_prefixes",
"ratios", "dice", "reason", "item_<id>", …) so that each refusal lands where it belongs.
"""

from __future__ import annotations

from decimal import Decimal

from django import forms
from django.core.exceptions import ValidationError
from django.utils import timezone
from django.utils.translation import get_language, gettext, pgettext_lazy
from django.utils.translation import gettext_lazy as _

from zhijian.core import rules
from zhijian.core.models import Division
from zhijian.registry.access import entities_visible_to
from zhijian.registry.choices import EntityType
from zhijian.registry.models import Department, Inspector, ProductCategory
from zhijian.web.forms import BootstrapMixin, CategoriesField, DateInput

from .choices import ItemResult, LicenceFilter, Outcome, PlanKind, PlanStatus, TaskStatus
from .services import CLASSES

MAX_ITEM_LENGTH = 300


def department_name(d: Department) -> str:
    return d.name_en if get_language() == "en" and d.name_en else d.name


def percent(basis_points) -> Decimal | None:
    """300 basis points → 3, 250 → 2.5 (what a person types)."""
    if basis_points is None:
        return None
    return (Decimal(basis_points) / 100).normalize() + Decimal(0)


# --- plans ---------------------------------------------------------------------------------

class RatiosWidget(forms.MultiWidget):
    """Four percentage inputs, one per risk class A–D, side by side."""

    template_name = "inspections/widgets/ratios.html"

    def __init__(self, attrs=None):
        widgets = {c: forms.NumberInput(attrs={"step": "0.01", "min": "0", "max": "100",
                                                "inputmode": "decimal"}) for c in CLASSES}
        super().__init__(widgets, attrs)

    def decompress(self, value):
        if not value:
            return [None] * len(CLASSES)
        return [percent(value.get(c)) for c in CLASSES]

    def id_for_label(self, id_):
        return f"{id_}_0" if id_ else ""


class RatiosField(forms.MultiValueField):
    """Sampling ratio per class entered as percentages, cleaned to basis points
    ({"A": 300, …}: 3 % → 300) as the plan stores them."""

    widget = RatiosWidget

    def __init__(self, **kwargs):
        fields = []
        for c in CLASSES:
            message = gettext("Class %(cls)s: enter a percentage from 0 to 100, for example 3 or "
                        "2.5.") % {"cls": c}
            fields.append(forms.DecimalField(
                min_value=0, max_value=100, max_digits=5, decimal_places=2,
                error_messages={k: message for k in ("invalid", "min_value", "max_value",
                                                     "max_digits", "max_decimal_places",
                                                     "max_whole_digits")}))
        super().__init__(fields=fields, require_all_fields=True, **kwargs)

    def compress(self, values):
        if not values:
            return None
        return {c: int((v * 100).to_integral_value())
                for c, v in zip(CLASSES, values, strict=True)}


class PlanCategoriesField(CategoriesField):
    def label_from_instance(self, obj):
        name = super().label_from_instance(obj)
        return ("— " * obj.code.count(".")) + name


def division_choices(prefix: str | None) -> list[tuple[str, str]]:
    """The jurisdiction itself, its cities and counties, as (prefix, "code name")."""
    qs = Division.objects.current().only("code", "name", "name_en")
    if prefix:
        qs = qs.under(prefix)
    lang = get_language()
    return [(d.prefix, f"{d.code} {d.display_name(lang)}") for d in qs.order_by("code")]


class PlanForm(BootstrapMixin, forms.Form):
    """A department plans a random inspection. Each department of the lead's division
    gets a checklist box; a department with checklist items joins the plan (联合抽查,
    进一次门、查多项事), the lead department always does."""

    title = forms.CharField(label=pgettext_lazy("inspection plan", "Title"), max_length=200)
    kind = forms.ChoiceField(
        label=pgettext_lazy("inspection plan", "Kind"), choices=PlanKind.choices, initial=PlanKind.ROUTINE,
        help_text=_("A flying inspection (飞行检查) is unannounced: the firm is not told "
                        "before the visit."))
    period_start = forms.DateField(label=_("Period starts"), widget=DateInput())
    period_end = forms.DateField(label=_("Period ends"), widget=DateInput())
    categories = PlanCategoriesField(label=_("Product categories"),
                                     queryset=ProductCategory.objects.order_by("code"))
    division_prefixes = forms.MultipleChoiceField(
        label=_("Divisions"), required=False, widget=forms.CheckboxSelectMultiple,
        help_text=_("GB/T 2260 codes of the cities or counties in scope, within your "
                        "jurisdiction."))
    entity_types = forms.MultipleChoiceField(
        label=_("Entity types"), required=False, choices=EntityType.choices,
        widget=forms.CheckboxSelectMultiple, help_text=_("None ticked: every type."))
    licence_filter = forms.ChoiceField(label=_("Production licence"),
                                       choices=LicenceFilter.choices,
                                       initial=LicenceFilter.ANY)
    stratify_by_city = forms.BooleanField(
        label=_("Stratify by city"), required=False,
        help_text=_("Draw each city's share separately, so that every city is covered."))
    exclusion_months = forms.IntegerField(
        label=_("Skip entities inspected within (months)"), min_value=0, max_value=120)
    team_size = forms.IntegerField(label=_("Inspectors per firm"), min_value=1,
                                   max_value=10)
    workload_cap = forms.IntegerField(label=_("Maximum firms per inspector"), min_value=1,
                                      max_value=1000)
    task_days = forms.IntegerField(label=_("Working days to complete a task"),
                                   min_value=1, max_value=250)

    def __init__(self, *args, lead: Department, candidates: list[Department], plan=None,
                 **kwargs):
        self.lead = lead
        self.candidates = candidates
        if plan is None and not kwargs.get("initial"):
            kwargs["initial"] = self.defaults(lead)
        elif plan is not None:
            kwargs["initial"] = self.from_plan(plan)
        super().__init__(*args, **kwargs)
        self.fields["ratios"] = RatiosField(
            label=gettext("Sampling ratio per class (%)"),
            help_text=gettext("Share of the entities of each credit-risk class drawn, in per cent "
                        "(3 = 3 %; 100 = every entity). A ratio above 0 draws at least one "
                        "firm of the class."))
        self.fields["ratios"].widget.attrs["class"] = "form-control"
        self.fields["division_prefixes"].choices = division_choices(lead.division.prefix)
        for d in candidates:
            self.fields[f"checklist_{d.pk}"] = forms.CharField(
                label=department_name(d), required=False, max_length=20000,
                widget=forms.Textarea(attrs={"rows": 4, "class": "form-control"}),
                help_text=gettext("One checklist item per line."))
        self.order_fields(["title", "kind", "period_start", "period_end", "categories",
                           "division_prefixes", "entity_types", "licence_filter", "ratios"])

    @staticmethod
    def defaults(lead: Department) -> dict:
        today = timezone.localdate()
        return {
            "kind": PlanKind.ROUTINE, "licence_filter": LicenceFilter.ANY,
            "division_prefixes": [lead.division.prefix],
            "ratios": rules.value("inspections.default_ratios", today),
            "exclusion_months": rules.value("inspections.recent_inspection_exclusion_months",
                                            today),
            "team_size": rules.value("inspections.min_team_size", today),
            "workload_cap": 10, "task_days": 20,
        }

    @staticmethod
    def from_plan(plan) -> dict:
        initial = {name: getattr(plan, name) for name in (
            "title", "kind", "period_start", "period_end", "division_prefixes",
            "entity_types", "licence_filter", "ratios", "stratify_by_city",
            "exclusion_months", "team_size", "workload_cap", "task_days")}
        initial["categories"] = list(plan.categories.all())
        lines: dict[int, list[str]] = {}
        for item in plan.items.all():
            lines.setdefault(item.department_id, []).append(item.text)
        for dept_id, texts in lines.items():
            initial[f"checklist_{dept_id}"] = "\n".join(texts)
        return initial

    def checklist_fields(self):
        return [self[f"checklist_{d.pk}"] for d in self.candidates]

    def clean(self):
        data = super().clean()
        departments, checklist = [], []
        for d in self.candidates:
            name = f"checklist_{d.pk}"
            lines = [line.strip() for line in (data.get(name) or "").splitlines()
                     if line.strip()]
            too_long = [line for line in lines if len(line) > MAX_ITEM_LENGTH]
            if too_long:
                self.add_error(name, gettext(
                    "A checklist item has at most %(n)d characters; split this one: "
                    "“%(item)s…”") % {"n": MAX_ITEM_LENGTH, "item": too_long[0][:30]})
            if lines or d.pk == self.lead.pk:
                departments.append(d)
                checklist.extend((d.pk, line) for line in lines)
        data["departments"] = departments
        data["checklist"] = checklist
        return data

    def service_kwargs(self) -> dict:
        """The arguments of services.plan_save."""
        d = self.cleaned_data
        data = {name: d[name] for name in (
            "title", "kind", "division_prefixes", "entity_types", "licence_filter",
            "period_start", "period_end", "ratios", "stratify_by_city", "exclusion_months",
            "team_size", "workload_cap", "task_days")}
        data["lead_department"] = self.lead
        return {"data": data, "departments": d["departments"],
                "categories": list(d["categories"]), "checklist": d["checklist"]}

    #: service error keys that are not form fields, and where they are shown
    def aliases(self) -> dict[str, str]:
        return {"checklist": f"checklist_{self.lead.pk}",
                "departments": f"checklist_{self.lead.pk}"}


class PlanFilterForm(BootstrapMixin, forms.Form):
    q = forms.CharField(label=_("Plan number or title"), required=False, max_length=60)
    status = forms.ChoiceField(label=_("Status"), required=False)

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["status"].choices = [("", gettext("All statuses")), *PlanStatus.choices]


# --- draws ---------------------------------------------------------------------------------

class SeedForm(BootstrapMixin, forms.Form):
    """The public inputs of the seed, entered after the commitment is published."""

    dice = forms.CharField(
        label=_("Dice rolls"), required=False, max_length=200,
        widget=forms.TextInput(attrs={"inputmode": "numeric", "autocomplete": "off"}),
        help_text=_("At least 10 rolls of a six-sided die, digits 1 to 6, in the order "
                        "rolled; spaces and commas are ignored."))
    beacon = forms.CharField(
        label=_("Public beacon value (optional)"), required=False, max_length=200,
        widget=forms.TextInput(attrs={"autocomplete": "off"}),
        help_text=_("A value published by a third party after the commitment, e.g. a "
                        "lottery result or a randomness-beacon output, as published."))
    witnesses = forms.CharField(
        label=_("Witnesses"), required=False, max_length=300,
        widget=forms.Textarea(attrs={"rows": 2}),
        help_text=_("Names and roles of the people present when the dice were rolled."))


class RedrawForm(BootstrapMixin, forms.Form):
    reason = forms.CharField(
        label=_("Reason for the redraw"), required=False, max_length=500,
        widget=forms.Textarea(attrs={"rows": 3}),
        help_text=_("Published with the new draw; at least 10 characters."))


# --- tasks ---------------------------------------------------------------------------------

class TaskRecordForm(BootstrapMixin, forms.Form):
    """The checklist results and the outcome, as the team records them on site."""

    outcome = forms.ChoiceField(label=_("Outcome"), required=False,
                                choices=Outcome.choices, widget=forms.RadioSelect)
    summary = forms.CharField(label=_("Findings"), required=False, max_length=5000,
                              widget=forms.Textarea(attrs={"rows": 4}))
    firm_representative = forms.CharField(label=_("Firm representative present"),
                                          required=False, max_length=50)

    def __init__(self, *args, task, items, **kwargs):
        self.task = task
        self.items = items
        super().__init__(*args, **kwargs)
        for item in items:
            self.fields[f"item_{item.pk}"] = forms.ChoiceField(
                label=item.text, required=False, choices=ItemResult.choices,
                widget=forms.RadioSelect(attrs={"class": "btn-check"}))
            self.fields[f"note_{item.pk}"] = forms.CharField(
                label=gettext("Note"), required=False, max_length=500,
                widget=forms.TextInput(attrs={"class": "form-control"}))

    @staticmethod
    def initial_for(task, results) -> dict:
        initial = {"outcome": task.outcome, "summary": task.summary,
                   "firm_representative": task.firm_representative}
        for r in results:
            initial[f"item_{r.item_id}"] = r.result
            initial[f"note_{r.item_id}"] = r.note
        return initial

    def rows(self):
        """(department name, [(item, result field, note field)]) in checklist order."""
        groups: list[tuple[str, list]] = []
        for item in self.items:
            name = department_name(item.department)
            if not groups or groups[-1][0] != name:
                groups.append((name, []))
            groups[-1][1].append((item, self[f"item_{item.pk}"], self[f"note_{item.pk}"]))
        return groups

    def clean(self):
        data = super().clean()
        for item in self.items:
            if data.get(f"note_{item.pk}") and not data.get(f"item_{item.pk}"):
                self.add_error(f"item_{item.pk}", gettext("Choose conforms, does not conform or not "
                                                    "applicable."))
        return data

    def service_kwargs(self) -> dict:
        d = self.cleaned_data
        items = {item.pk: (d[f"item_{item.pk}"], d.get(f"note_{item.pk}") or "")
                 for item in self.items if d.get(f"item_{item.pk}")}
        return {"items": items, "outcome": d["outcome"], "summary": d["summary"],
                "firm_representative": d["firm_representative"]}


class EvidenceForm(BootstrapMixin, forms.Form):
    file = forms.FileField(
        label=_("Photo or file"),
        widget=forms.FileInput(attrs={"accept": "image/*,application/pdf", "capture": True}),
        help_text=_("A photo or a PDF, at most 20 MB; its SHA-256 is recorded."))


class ActionForm(forms.Form):
    """No input: carries a service's refusal of a button (sign, complete, publish)."""


class TaskFilterForm(BootstrapMixin, forms.Form):
    plan = forms.ChoiceField(label=_("Plan"), required=False)
    status = forms.ChoiceField(label=_("Status"), required=False)
    overdue = forms.BooleanField(label=_("Overdue only"), required=False)

    def __init__(self, *args, plans, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["plan"].choices = [("", gettext("All plans"))] + [
            (str(pk), f"{code} {title}") for pk, code, title in plans]
        self.fields["status"].choices = [("", gettext("All statuses")), *TaskStatus.choices]


# --- conflicts of interest -----------------------------------------------------------------

class InspectorField(forms.ModelChoiceField):
    def label_from_instance(self, obj):
        return f"{obj.name} ({obj.badge_number})"


class ConflictForm(BootstrapMixin, forms.Form):
    """A declared conflict of interest (回避): the inspector is never drawn for the firm."""

    inspector = InspectorField(label=_("Inspector"), queryset=Inspector.objects.none())
    entity = forms.CharField(
        label=_("Unified social credit code of the firm"), max_length=18, min_length=18,
        widget=forms.TextInput(attrs={"autocomplete": "off", "class": "font-monospace"}))
    reason = forms.CharField(
        label=_("Conflict of interest"), required=False, max_length=200,
        widget=forms.Textarea(attrs={"rows": 2}),
        help_text=_("For example: a relative works there; worked there until 2024."))

    def __init__(self, *args, user, inspectors, **kwargs):
        self.user = user
        super().__init__(*args, **kwargs)
        self.fields["inspector"].queryset = inspectors

    def clean_entity(self):
        code = self.cleaned_data["entity"].strip().upper()
        entity = entities_visible_to(self.user).filter(uscc=code).first()
        if entity is None:
            raise ValidationError(gettext("No market entity with the code %(code)s in your "
                                    "jurisdiction.") % {"code": code})
        return entity
