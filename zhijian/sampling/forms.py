"""Forms of supervisory sampling.

Forms only collect and check input; every write goes through sampling.services, and the
views put a service's refusal next to the field it names (web.common.call_service). Fields
are named after the keys the services use in their errors ("division_prefixes", "lab",
"batch", "to_user", "seal_number_seen", …)."""

from __future__ import annotations

from django import forms
from django.contrib.auth import get_user_model
from django.core.exceptions import ValidationError
from django.utils import timezone
from django.utils.translation import get_language, pgettext_lazy
from django.utils.translation import gettext_lazy as _

from zhijian.core.models import Division
from zhijian.registry.choices import LabStatus
from zhijian.registry.models import Department, Lab, MarketEntity, ProductCategory
from zhijian.web.forms import BootstrapMixin, DateInput

from .choices import Channel, DisposalKind, Result, SampleStatus, SamplingPlanStatus


def localised(obj, field: str = "name") -> str:
    value = getattr(obj, f"{field}_en", "") if get_language() == "en" else ""
    return value or getattr(obj, field)


class ActionForm(forms.Form):
    """A button that posts (activate, close); refusals show above it."""


class CategoryChoices(forms.ModelMultipleChoiceField):
    widget = forms.CheckboxSelectMultiple

    def label_from_instance(self, obj):
        return ("— " * obj.code.count(".")) + localised(obj)


def uscc_entity(value: str) -> MarketEntity:
    entity = MarketEntity.objects.filter(uscc=(value or "").strip().upper()).first()
    if entity is None:
        raise ValidationError(_("No market entity has the unified social credit code "
                                "%(code)s; check the code.") % {"code": value.strip()})
    return entity


# --- plans -----------------------------------------------------------------------------------

class PlanFilterForm(BootstrapMixin, forms.Form):
    q = forms.CharField(label=_("Plan number or title"), required=False, max_length=100)
    status = forms.ChoiceField(label=_("Status"), required=False,
                               choices=[("", _("All statuses")), *SamplingPlanStatus.choices])


class SamplingPlanForm(BootstrapMixin, forms.Form):
    """A department plans supervisory sampling: categories within its sectors, divisions
    within its jurisdiction, optionally named firms and incognito online purchases."""

    title = forms.CharField(label=pgettext_lazy("sampling plan", "Title"), max_length=200)
    period_start = forms.DateField(label=_("Period starts"), widget=DateInput())
    period_end = forms.DateField(label=_("Period ends"), widget=DateInput())
    categories = CategoryChoices(label=_("Product categories"), required=False,
                                 queryset=ProductCategory.objects.order_by("code"))
    division_prefixes = forms.MultipleChoiceField(
        label=_("Divisions"), required=False, widget=forms.CheckboxSelectMultiple,
        help_text=_("The cities or counties where samples are taken, within the department's "
                    "jurisdiction."))
    entities = forms.CharField(
        label=_("Named firms"), required=False, widget=forms.Textarea(attrs={"rows": 3}),
        help_text=_("Unified social credit codes, one per line. Leave empty to let samplers "
                    "choose any firm in scope."))
    online = forms.BooleanField(label=_("Includes incognito online purchases"),
                                required=False)
    target_count = forms.IntegerField(label=_("Samples planned"), min_value=0,
                                      max_value=100000, initial=0)

    def __init__(self, *args, department: Department | None, departments=None, plan=None,
                 **kwargs):
        if plan is not None:
            kwargs["initial"] = {
                "title": plan.title, "period_start": plan.period_start,
                "period_end": plan.period_end, "categories": list(plan.categories.all()),
                "division_prefixes": plan.division_prefixes, "online": plan.online,
                "target_count": plan.target_count,
                "entities": "\n".join(plan.entities.values_list("uscc", flat=True)),
            }
        super().__init__(*args, **kwargs)
        self.department = department
        if departments is not None:
            self.fields["department"] = forms.ModelChoiceField(
                label=_("Department"), queryset=departments, empty_label=None)
            self.order_fields(["department"])
            self.fields["department"].widget.attrs["class"] = "form-select"
        prefix = department.division.prefix if department else None
        qs = Division.objects.current().only("code", "name", "name_en", "level")
        if prefix:
            qs = qs.under(prefix)
        lang = get_language()
        self.fields["division_prefixes"].choices = [
            (d.prefix, f"{d.code} {d.display_name(lang)}") for d in qs.order_by("code")]

    def clean_entities(self):
        lines = [line.strip() for line in self.cleaned_data["entities"].splitlines()
                 if line.strip()]
        return [uscc_entity(line) for line in dict.fromkeys(lines)]

    def service_kwargs(self) -> dict:
        d = self.cleaned_data
        data = {k: d[k] for k in ("title", "period_start", "period_end", "division_prefixes",
                                  "online", "target_count")}
        if "department" in d:
            data["department"] = d["department"]
        return {"data": data, "categories": list(d["categories"]), "entities": d["entities"]}


# --- samples ---------------------------------------------------------------------------------

class DateTimeInput(forms.DateTimeInput):
    input_type = "datetime-local"

    def __init__(self, attrs=None):
        super().__init__(attrs, format="%Y-%m-%dT%H:%M")


class LabChoice(forms.ModelChoiceField):
    def label_from_instance(self, obj):
        return f"{obj.name} ({obj.cma_number})"


class SampleForm(BootstrapMixin, forms.Form):
    """A sample as the sampler records it on site, on a phone: the firm by its USCC, the
    product and batch, the quantity, the place (or shop and order number of an online
    purchase), the seal and the lab the department assigns."""

    channel = forms.ChoiceField(label=_("Channel"), choices=Channel.choices,
                                initial=Channel.ON_SITE, widget=forms.RadioSelect)
    entity = forms.CharField(
        label=_("Sampled from (unified social credit code)"), max_length=18,
        widget=forms.TextInput(attrs={"autocapitalize": "characters", "autocomplete": "off",
                                      "spellcheck": "false"}))
    producer = forms.CharField(
        label=_("Producer (unified social credit code)"), max_length=18, required=False,
        help_text=_("Leave empty if the firm sampled made the product."),
        widget=forms.TextInput(attrs={"autocapitalize": "characters", "autocomplete": "off",
                                      "spellcheck": "false"}))
    product_name = forms.CharField(label=_("Product name"), max_length=120, required=False)
    model = forms.CharField(label=_("Model / specification"), max_length=120, required=False)
    category = forms.ModelChoiceField(label=_("Product category"),
                                      queryset=ProductCategory.objects.none(), required=False)
    batch = forms.CharField(label=_("Batch number"), max_length=60, required=False)
    quantity = forms.DecimalField(label=_("Quantity taken"), max_digits=12, decimal_places=3,
                                  required=False,
                                  widget=forms.NumberInput(attrs={"inputmode": "decimal",
                                                                  "step": "any"}))
    unit = forms.CharField(label=_("Unit"), max_length=10, required=False)
    place = forms.CharField(label=_("Place"), max_length=200, required=False,
                            help_text=_("The address where the sample was taken."))
    shop = forms.CharField(label=_("Online shop"), max_length=120, required=False)
    order_number = forms.CharField(label=_("Order number"), max_length=70, required=False)
    seal_number = forms.CharField(label=_("Seal number"), max_length=40, required=False)
    sampled_at = forms.DateTimeField(label=_("Sampled at"), widget=DateTimeInput(),
                                     input_formats=["%Y-%m-%dT%H:%M", "%Y-%m-%d %H:%M"])
    lab = LabChoice(label=_("Assigned lab"), required=False,
                    queryset=Lab.objects.filter(status=LabStatus.ACTIVE).order_by("name"),
                    help_text=_("The department assigns the lab; it must be accredited for "
                                "the product category on the day of sampling."))
    duplicate_reason = forms.CharField(
        label=_("Reason for sampling again"), required=False, max_length=2000,
        widget=forms.Textarea(attrs={"rows": 2}),
        help_text=_("Only if the batch already has a recognised result (mutual "
                    "recognition): say why it is sampled again."))

    def __init__(self, *args, plan, **kwargs):
        kwargs.setdefault("initial", {}).setdefault(
            "sampled_at", timezone.localtime().replace(second=0, microsecond=0))
        super().__init__(*args, **kwargs)
        self.plan = plan
        codes = ProductCategory.objects.expand(plan.categories.values_list("code", flat=True))
        field = self.fields["category"]
        field.queryset = ProductCategory.objects.filter(code__in=codes).order_by("code")
        field.label_from_instance = localised
        if not plan.online:
            self.fields["channel"].choices = [c for c in Channel.choices
                                              if c[0] == Channel.ON_SITE]
        for name in ("product_name", "batch", "unit", "seal_number", "place"):
            self.fields[name].widget.attrs.setdefault("autocomplete", "off")

    def clean_entity(self):
        return uscc_entity(self.cleaned_data["entity"])

    def clean_producer(self):
        value = self.cleaned_data["producer"]
        return uscc_entity(value) if value.strip() else None

    def service_kwargs(self) -> dict:
        d = dict(self.cleaned_data)
        lab = d.pop("lab")
        reason = d.pop("duplicate_reason")
        return {"plan_id": self.plan.pk, "data": d, "lab_id": lab.pk if lab else None,
                "duplicate_reason": reason}


class GiveForm(BootstrapMixin, forms.Form):
    to_user = forms.CharField(label=_("Hand over to (username)"), max_length=150,
                              widget=forms.TextInput(attrs={"autocomplete": "off",
                                                            "autocapitalize": "none"}))
    note = forms.CharField(label=_("Note"), max_length=300, required=False)

    def clean_to_user(self):
        name = self.cleaned_data["to_user"].strip()
        user = get_user_model().objects.filter(username=name, is_active=True).first()
        if user is None:
            raise ValidationError(_("No active user is called %(name)s; check the username "
                                    "of the person who takes the sample.") % {"name": name})
        return user


class ReceiveForm(BootstrapMixin, forms.Form):
    seal_intact = forms.TypedChoiceField(
        label=_("Was the seal intact?"), widget=forms.RadioSelect,
        choices=[("yes", _("Yes, the seal is intact")),
                 ("no", _("No, the seal is broken or missing"))],
        coerce=lambda v: v == "yes")
    seal_number_seen = forms.CharField(label=_("Seal number as read on the sample"),
                                       max_length=40)


class PhotoForm(BootstrapMixin, forms.Form):
    file = forms.FileField(label=_("Photo (JPEG or PNG, at most 10 MB)"),
                           widget=forms.ClearableFileInput(attrs={"accept": "image/jpeg,image/png",
                                                                  "capture": "environment"}))


class SampleFilterForm(BootstrapMixin, forms.Form):
    q = forms.CharField(label=_("Sample number, batch, firm name or USCC"), required=False,
                        max_length=60)
    status = forms.ChoiceField(label=_("Status"), required=False,
                               choices=[("", _("All statuses")), *SampleStatus.choices])
    result = forms.ChoiceField(label=_("Result"), required=False,
                               choices=[("", _("All results")), (Result.PASS, Result.PASS.label),
                                        (Result.FAIL, Result.FAIL.label)])


# --- disposals and batch results -------------------------------------------------------------

class DecideForm(BootstrapMixin, forms.Form):
    kind = forms.ChoiceField(label=_("Measure"), choices=DisposalKind.choices,
                             widget=forms.RadioSelect)
    decision = forms.CharField(label=_("Decision"), widget=forms.Textarea(attrs={"rows": 3}),
                               max_length=5000)


class CloseForm(BootstrapMixin, forms.Form):
    note = forms.CharField(label=_("How the follow-up ended"),
                           widget=forms.Textarea(attrs={"rows": 3}), max_length=5000)


class BatchLookupForm(BootstrapMixin, forms.Form):
    uscc = forms.CharField(label=_("Producer's unified social credit code"), max_length=18)
    batch = forms.CharField(label=_("Batch number"), max_length=60)
