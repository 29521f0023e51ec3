"""Forms of credit records, penalties and commitments. They only collect input; every
write goes through credit.services.records, and the views put a service's refusal next to
the field it names (web.common.call_service)."""

from __future__ import annotations

from django import forms
from django.utils.translation import gettext_lazy as _

from zhijian.procurement.forms import EntityByCodeField
from zhijian.web.forms import BootstrapMixin

from .choices import CommitmentOccasion, CommitmentStatus, PenaltyStatus, RecordKind, RecordStatus

DATE = forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d")


class RecordFilterForm(BootstrapMixin, forms.Form):
    q = forms.CharField(label=_("Firm (USCC or name)"), required=False, max_length=60)
    kind = forms.ChoiceField(label=_("Kind"), required=False,
                             choices=[("", _("All"))] + RecordKind.choices)
    status = forms.ChoiceField(label=_("Status"), required=False,
                               choices=[("", _("All"))] + RecordStatus.choices)
    date_from = forms.DateField(label=_("From"), required=False, widget=DATE)
    date_to = forms.DateField(label=_("To"), required=False, widget=DATE)


class RecordForm(BootstrapMixin, forms.Form):
    entity = EntityByCodeField(label=_("Unified social credit code of the firm"))
    kind = forms.ChoiceField(label=_("Kind"), choices=RecordKind.choices)
    date = forms.DateField(label=_("Date of the fact"), widget=DATE)
    summary = forms.CharField(label=_("Summary"), max_length=5000,
                              widget=forms.Textarea(attrs={"rows": 3}))
    source_ref = forms.CharField(label=_("Source"), required=False, max_length=200,
                                 help_text=_("the document the record rests on, e.g. the "
                                             "award decision number"))
    evidence = forms.FileField(label=_("Evidence"), required=False,
                               help_text=_("required: the document that proves the fact"))
    weight = forms.IntegerField(label=_("Weight"), required=False, min_value=0,
                                help_text=_("empty: the default points of the kind"))
    expires_on = forms.DateField(label=_("Expires on"), required=False, widget=DATE,
                                 help_text=_("empty: the validity of the kind under the rule"))
    public = forms.BooleanField(label=_("Public"), required=False)


class ReasonForm(BootstrapMixin, forms.Form):
    reason = forms.CharField(label=_("Reason"), max_length=5000,
                             widget=forms.Textarea(attrs={"rows": 2}))


class PenaltyFilterForm(BootstrapMixin, forms.Form):
    q = forms.CharField(label=_("Firm or decision number"), required=False, max_length=60)
    status = forms.ChoiceField(label=_("Status"), required=False,
                               choices=[("", _("All"))] + PenaltyStatus.choices)


class PenaltyForm(BootstrapMixin, forms.Form):
    entity = EntityByCodeField(label=_("Unified social credit code of the firm"))
    decision_number = forms.CharField(label=_("Decision number"), max_length=60)
    decided_on = forms.DateField(label=_("Decided on"), widget=DATE)
    violation = forms.CharField(label=_("Violation"), max_length=5000,
                                widget=forms.Textarea(attrs={"rows": 3}))
    legal_basis = forms.CharField(label=_("Legal basis"), max_length=300)
    fine = forms.DecimalField(label=_("Fine (yuan)"), required=False, min_value=0,
                              max_digits=14, decimal_places=2)
    heavy = forms.BooleanField(label=_("Heavy penalty"), required=False, help_text=_(
        "A heavier administrative penalty (较重行政处罚), which can lead to the list."))
    document = forms.FileField(label=_("Decision document"), required=False,
                               help_text=_("required: the signed decision (PDF or scan)"))


class PaidForm(BootstrapMixin, forms.Form):
    paid_on = forms.DateField(label=_("Fine paid on"), widget=DATE)


class CommitmentFilterForm(BootstrapMixin, forms.Form):
    q = forms.CharField(label=_("Firm (USCC or name)"), required=False, max_length=60)
    status = forms.ChoiceField(label=_("Status"), required=False,
                               choices=[("", _("All"))] + CommitmentStatus.choices)


class SignForm(BootstrapMixin, forms.Form):
    occasion = forms.ChoiceField(label=_("Occasion"), choices=CommitmentOccasion.choices)
    reference = forms.CharField(label=_("Reference"), required=False, max_length=100,
                                help_text=_("The application, licence or bid number it was "
                                            "signed for."))
    signatory = forms.CharField(label=_("Signed by"), max_length=50,
                                help_text=_("the legal representative or a person "
                                            "authorised by them"))
    agree = forms.BooleanField(label=_("I have read the statement and sign it for the firm"))


class BreachForm(BootstrapMixin, forms.Form):
    breached_on = forms.DateField(label=_("Breached on"), widget=DATE)
    reason = forms.CharField(label=_("How the commitment was broken"), max_length=5000,
                             widget=forms.Textarea(attrs={"rows": 2}))
    evidence = forms.FileField(label=_("Evidence"), required=False,
                               help_text=_("required: the document that proves the breach"))
