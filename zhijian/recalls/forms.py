"""Forms of recalls. They only collect and check input; every write goes through
recalls.services, and the views put a service's refusal next to the field it names
(web.common.call_service). Field names are the keys the services use in their errors."""

from __future__ import annotations

from django import forms
from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext_lazy

from zhijian.procurement.forms import EntityByCodeField
from zhijian.registry.models import ProductCategory
from zhijian.web.forms import BootstrapMixin, CategoryField

from .choices import ItemStatus, RecallStatus, Severity


class ActionForm(BootstrapMixin, forms.Form):
    """A button (acknowledge, refresh): nothing to fill in, a place for the refusal."""


class OpenForm(BootstrapMixin, forms.Form):
    severity = forms.ChoiceField(label=_("Severity"), choices=Severity.choices)
    reason = forms.CharField(label=_("Reason (shown on the public notice)"), max_length=5000,
                             widget=forms.Textarea(attrs={"rows": 3}))
    gtin = forms.CharField(label=_("GTIN of the product"), required=False, max_length=14,
                           help_text=_("only when the platform does not know it: the 13 or "
                                       "14 digits under the bar code"))

    def __init__(self, *args, recall=None, **kwargs):
        super().__init__(*args, **kwargs)
        if recall is not None and recall.gtin:
            del self.fields["gtin"]


class DismissForm(BootstrapMixin, forms.Form):
    reason = forms.CharField(label=_("Why no recall is needed"), max_length=5000,
                             widget=forms.Textarea(attrs={"rows": 3}))


class CompleteForm(BootstrapMixin, forms.Form):
    note = forms.CharField(label=_("Note"), required=False, max_length=5000,
                           widget=forms.Textarea(attrs={"rows": 2}),
                           help_text=_("required while items are still open: why the recall "
                                       "ends now"))


class ProposeForm(BootstrapMixin, forms.Form):
    maker = EntityByCodeField(label=_("Unified social credit code of the maker"))
    category = CategoryField(label=_("Category"), queryset=ProductCategory.objects.all())
    lot = forms.CharField(label=_("Batch number"), max_length=60)
    gtin = forms.CharField(label=_("GTIN of the product"), required=False, max_length=14)
    reason = forms.CharField(label=_("Reason"), max_length=5000,
                             widget=forms.Textarea(attrs={"rows": 3}))


class ItemForm(BootstrapMixin, forms.Form):
    status = forms.ChoiceField(label=_("Status reached"), choices=[
        c for c in ItemStatus.choices if c[0] != ItemStatus.LISTED])
    located = forms.DecimalField(label=_("Located"), required=False, min_value=0,
                                 max_digits=16, decimal_places=3)
    removed = forms.DecimalField(label=pgettext_lazy("recall item", "Removed"), required=False, min_value=0,
                                 max_digits=16, decimal_places=3)
    replaced = forms.DecimalField(label=_("Replaced"), required=False, min_value=0,
                                  max_digits=16, decimal_places=3)
    destroyed = forms.DecimalField(label=_("Destroyed"), required=False, min_value=0,
                                   max_digits=16, decimal_places=3)
    note = forms.CharField(label=_("Note"), required=False, max_length=5000,
                           widget=forms.Textarea(attrs={"rows": 2}))


class FilterForm(BootstrapMixin, forms.Form):
    status = forms.ChoiceField(label=_("Status"), required=False,
                               choices=[("", _("All"))] + RecallStatus.choices)
    severity = forms.ChoiceField(label=_("Severity"), required=False,
                                 choices=[("", _("All"))] + Severity.choices)
    q = forms.CharField(label=_("Recall number, batch or maker"), required=False,
                        max_length=60)
