"""Forms of purchasing and acceptance.

Forms only collect and check input; every write goes through procurement.services, and the
views put a service's refusal next to the field it names (web.common.call_service).
Fields are named after the keys the services use in their errors ("entity", "supplier",
"report_numbers", "witnessed_on", "until", …) so that each refusal lands where it belongs.
"""

from __future__ import annotations

import re

from django import forms
from django.utils.translation import gettext_lazy as _

from zhijian.registry.models import Lab, MarketEntity, ProductCategory
from zhijian.web.forms import BootstrapMixin, CategoryField, DateInput

from .choices import WitnessResult
from .models import SupplierList

_NUMBERS = re.compile(r"[\s,，;；、]+")


class EntityByCodeField(forms.CharField):
    """A market entity given by its unified social credit code."""

    def __init__(self, **kwargs):
        kwargs.setdefault("max_length", 18)
        kwargs.setdefault("min_length", None)
        super().__init__(**kwargs)
        self.widget.attrs.update({"autocomplete": "off", "spellcheck": "false",
                                  "class": "font-monospace"})

    def clean(self, value):
        code = super().clean(value).strip().upper()
        if not code:
            return None
        entity = MarketEntity.objects.filter(uscc=code).first()
        if entity is None:
            raise forms.ValidationError(_(
                "No market entity has the unified social credit code %(code)s: check the "
                "code on the business licence."), params={"code": code})
        return entity


class SupplierListForm(BootstrapMixin, forms.Form):
    category = CategoryField(label=_("Category"), queryset=ProductCategory.objects.none())

    def __init__(self, *args, user_unit_id: int, **kwargs):
        super().__init__(*args, **kwargs)
        # Categories the unit has no list for yet.
        self.fields["category"].queryset = ProductCategory.objects.exclude(
            pk__in=SupplierList.objects.filter(user_unit_id=user_unit_id).values(
                "category_id"))


class SupplierAddForm(BootstrapMixin, forms.Form):
    entity = EntityByCodeField(label=_("Unified social credit code of the supplier"))
    note = forms.CharField(label=_("Note"), required=False, max_length=2000,
                           widget=forms.Textarea(attrs={"rows": 2}),
                           help_text=_("For your unit only; the supplier does not see it."))


class DeliveryForm(BootstrapMixin, forms.Form):
    number = forms.CharField(label=_("Delivery note number"), max_length=40)
    supplier = EntityByCodeField(label=_("Unified social credit code of the supplier"))
    producer = EntityByCodeField(
        label=_("Unified social credit code of the producer"), required=False,
        help_text=_("Leave empty when the supplier made the goods itself."))
    category = CategoryField(label=_("Category"), queryset=ProductCategory.objects.all())
    product_name = forms.CharField(label=_("Product name"), max_length=120)
    batch = forms.CharField(label=_("Batch number"), max_length=60)
    quantity = forms.DecimalField(label=_("Quantity"), max_digits=14, decimal_places=3,
                                  min_value=0)
    unit = forms.CharField(label=_("Unit"), max_length=10,
                           help_text=_("As on the test reports: m, t, …"))
    site = forms.CharField(label=_("Destination"), max_length=200,
                           help_text=_("the project or site the goods are for, e.g. a metro "
                                       "station"))
    delivered_on = forms.DateField(label=_("Delivered on"), widget=DateInput())
    report_numbers = forms.CharField(
        label=_("Test report numbers"), widget=forms.Textarea(attrs={"rows": 3}),
        help_text=_("Every report number on the delivery papers, one per line or separated "
                    "by commas. Numbers not found on the platform are kept and flagged."))

    def __init__(self, *args, categories=None, **kwargs):
        super().__init__(*args, **kwargs)
        if categories is not None:
            self.fields["category"].queryset = categories

    def clean_report_numbers(self) -> list[str]:
        return [n for n in _NUMBERS.split(self.cleaned_data["report_numbers"]) if n]

    def service_kwargs(self) -> dict:
        d = dict(self.cleaned_data)
        numbers = d.pop("report_numbers")
        d["producer"] = d.get("producer") or d.get("supplier")
        d["product"] = None
        return {"data": d, "report_numbers": numbers}


class WitnessForm(BootstrapMixin, forms.Form):
    lab = forms.ModelChoiceField(label=_("Laboratory"), queryset=Lab.objects.all())
    witness = forms.CharField(label=_("Witness"), max_length=80,
                              help_text=_("Who watched the sample being taken, e.g. the "
                                          "supervising engineer."))
    witnessed_on = forms.DateField(label=_("Witnessed on"), widget=DateInput())
    result = forms.ChoiceField(label=_("Result"), choices=WitnessResult.choices,
                               widget=forms.RadioSelect)
    report_number = forms.CharField(label=_("Test report number"), max_length=40,
                                    required=False,
                                    help_text=_("The laboratory's report on the witnessed "
                                                "sample, if issued on the platform."))


class CheckForm(BootstrapMixin, forms.Form):
    note = forms.CharField(label=_("Note"), required=False, max_length=2000,
                           widget=forms.Textarea(attrs={"rows": 2}))


class ReferForm(BootstrapMixin, forms.Form):
    text = forms.CharField(label=_("What happened"), max_length=5000,
                           widget=forms.Textarea(attrs={"rows": 6}),
                           help_text=_("Prepared from the findings of the latest acceptance "
                                       "check; change it as needed."))


class AppealForm(BootstrapMixin, forms.Form):
    grounds = forms.CharField(label=_("Grounds"), max_length=5000,
                              widget=forms.Textarea(attrs={"rows": 4}),
                              help_text=_("Why the removal should be set aside, with the "
                                          "documents that show it."))


class DecideForm(BootstrapMixin, forms.Form):
    upheld = forms.TypedChoiceField(
        label=_("Decision"), coerce=lambda v: v == "1", widget=forms.RadioSelect,
        choices=[("1", _("Uphold: set the removal aside until a day")),
                 ("0", _("Dismiss: the supplier stays removed"))])
    decision = forms.CharField(label=_("Reasons"), max_length=5000,
                               widget=forms.Textarea(attrs={"rows": 3}),
                               help_text=_("The supplier reads them."))
    until = forms.DateField(label=_("Set aside until"), required=False, widget=DateInput())


class ActionForm(forms.Form):
    """No input: carries a service's refusal of a button (acknowledge)."""
