"""Forms of joint punishment measures and credit checks. They only collect input; every
write goes through credit.services.measures, and the views put a service's refusal next
to the field it names (web.common.call_service)."""

from __future__ import annotations

from django import forms
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from zhijian.core.access import scope_of
from zhijian.registry.models import Department
from zhijian.web.forms import BootstrapMixin, DateInput

from .choices import CheckContext, CheckOutcome, MeasureCode, MeasureEffect, MeasureTrigger

#: The contexts an officer checks by hand (a supplier listing is checked by procurement).
MANUAL_CONTEXTS = [(k, v) for k, v in CheckContext.choices
                   if k != CheckContext.SUPPLIER_LISTING]


class MeasureForm(BootstrapMixin, forms.Form):
    department = forms.ModelChoiceField(label=_("Department"), queryset=Department.objects.none())
    code = forms.ChoiceField(label=_("Measure"), choices=MeasureCode.choices)
    trigger = forms.ChoiceField(label=_("Applies to"), choices=MeasureTrigger.choices)
    effect = forms.ChoiceField(label=_("Effect"), choices=MeasureEffect.choices,
                               help_text=_("Refuse: the application, bid or listing is "
                                           "refused. Allow with closer scrutiny: it goes "
                                           "ahead, flagged with the reason."))
    contexts = forms.MultipleChoiceField(label=_("Where it applies"),
                                         choices=CheckContext.choices,
                                         widget=forms.CheckboxSelectMultiple)
    legal_basis = forms.CharField(label=_("Legal basis"), max_length=300,
                                  help_text=_("The law, regulation or policy document and "
                                              "its article."))
    description = forms.CharField(label=_("Description"), required=False, max_length=2000,
                                  widget=forms.Textarea(attrs={"rows": 2}))
    effective_from = forms.DateField(label=_("Effective from"), widget=DateInput())
    effective_until = forms.DateField(label=_("Effective until"), required=False,
                                      widget=DateInput(),
                                      help_text=_("Leave empty for a measure without end."))

    def __init__(self, *args, user=None, **kwargs):
        super().__init__(*args, **kwargs)
        scope = scope_of(user)
        if scope.is_admin:
            self.fields["department"].queryset = Department.objects.order_by(
                "division_id", "kind")
        else:  # a regulator declares for their own department only
            del self.fields["department"]
        self.initial.setdefault("effective_from", timezone.localdate())


class WithdrawForm(BootstrapMixin, forms.Form):
    reason = forms.CharField(label=_("Why the measure is withdrawn"), max_length=2000,
                             widget=forms.Textarea(attrs={"rows": 2}))


class CheckForm(BootstrapMixin, forms.Form):
    uscc = forms.CharField(label=_("Unified social credit code"), max_length=40)
    context = forms.ChoiceField(label=_("Where the firm is put forward"),
                                choices=MANUAL_CONTEXTS)
    reference = forms.CharField(label=_("Application or bid number"), max_length=100,
                                required=False,
                                help_text=_("The licence application, tender bid or award "
                                            "the check is made for; printed on the result."))


class CheckFilterForm(BootstrapMixin, forms.Form):
    context = forms.ChoiceField(label=_("Context"), required=False,
                                choices=[("", _("Any"))] + list(CheckContext.choices))
    outcome = forms.ChoiceField(label=_("Outcome"), required=False,
                                choices=[("", _("Any"))] + list(CheckOutcome.choices))
    q = forms.CharField(label=_("USCC or reference"), required=False, max_length=100)
