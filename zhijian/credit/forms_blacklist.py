"""Forms of the serious-dishonesty list and credit repair. They only collect input; every
write goes through services/blacklist.py, whose refusals the views put next to the field
they name (web.common.call_service)."""

from __future__ import annotations

from django import forms
from django.utils.translation import gettext_lazy as _

from zhijian.procurement.forms import EntityByCodeField
from zhijian.web.forms import BootstrapMixin

from .choices import BlacklistStatus, RepairStatus

TEXTAREA = {"rows": 3}


class BlacklistFilterForm(BootstrapMixin, forms.Form):
    status = forms.ChoiceField(label=_("Status"), required=False,
                               choices=[("", _("All"))] + list(BlacklistStatus.choices))


class RepairFilterForm(BootstrapMixin, forms.Form):
    status = forms.ChoiceField(label=_("Status"), required=False,
                               choices=[("", _("All"))] + list(RepairStatus.choices))


class RecordIdsField(forms.CharField):
    """Credit record ids, separated by commas or spaces."""

    def clean(self, value):
        text = super().clean(value) or ""
        parts = [p for p in text.replace(",", " ").replace("，", " ").split() if p]
        if not all(p.isdigit() for p in parts):
            raise forms.ValidationError(_("Give record numbers separated by commas."))
        return [int(p) for p in parts]


class BlacklistProposeForm(BootstrapMixin, forms.Form):
    entity = EntityByCodeField(label=_("Unified social credit code of the firm"))
    records = RecordIdsField(label=_("Credit records"), help_text=_(
        "the numbers of the firm's credit records the proposal rests on, e.g. 12, 15"))
    reasons = forms.CharField(label=_("Reasons"), max_length=5000,
                              widget=forms.Textarea(attrs=TEXTAREA))


class BlacklistNoticeForm(BootstrapMixin, forms.Form):
    notice_text = forms.CharField(label=_("Notice to the firm"), max_length=20000,
                                  widget=forms.Textarea(attrs={"rows": 12}), help_text=_(
                                      "generated from the criteria and records; edit it "
                                      "before serving"))


class ObjectionForm(BootstrapMixin, forms.Form):
    text = forms.CharField(label=_("Your statement and objection"), max_length=20000,
                           widget=forms.Textarea(attrs={"rows": 6}))


DECISIONS = [("list", _("List the firm")), ("not_list", _("Do not list"))]


class BlacklistDecisionForm(BootstrapMixin, forms.Form):
    decision = forms.ChoiceField(label=_("Decision"), choices=DECISIONS,
                                 widget=forms.RadioSelect)
    reasons = forms.CharField(label=_("Reasons for the decision"), max_length=5000,
                              widget=forms.Textarea(attrs=TEXTAREA))


class RepairForm(BootstrapMixin, forms.Form):
    rectification = forms.CharField(label=_("Rectification done"), required=False,
                                    max_length=20000, widget=forms.Textarea(attrs=TEXTAREA))
    rectification_evidence = forms.FileField(label=_("Rectification evidence"),
                                             required=False)
    training_certificate = forms.FileField(label=_("Training certificate"), required=False,
                                           help_text=_("of the credit repair training"))
    commitment = forms.TypedChoiceField(label=_("Credit repair commitment"), required=False,
                                        coerce=int, empty_value=None)

    def __init__(self, *args, commitments=(), **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["commitment"].choices = [("", _("The latest one"))] + [
            (c.pk, f"{c.signed_at:%Y-%m-%d} {c.signatory}") for c in commitments]


class RepairDecisionForm(BootstrapMixin, forms.Form):
    decision = forms.ChoiceField(label=_("Decision"), widget=forms.RadioSelect, choices=[
        ("approve", _("Approve: remove the firm from the list")),
        ("refuse", _("Refuse"))])
    reasons = forms.CharField(label=_("Reasons for the decision"), max_length=5000,
                              widget=forms.Textarea(attrs=TEXTAREA))
