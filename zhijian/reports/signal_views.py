"""Fake-report signals (虚假报告线索) for regulators: the open signals in their
jurisdiction, filtered by kind; one signal with its explanation and links to the reports
and the lab; closing it with a note. Reads go through signals.signals_visible_to (404 for
absent and not yours), writes through signals.signal_close."""

from __future__ import annotations

from django import forms
from django.contrib import messages
from django.shortcuts import redirect, render
from django.urls import NoReverseMatch, reverse
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy, pgettext_lazy

from zhijian.core.access import not_found
from zhijian.web.common import call_service, paginate, regulator_required
from zhijian.web.forms import BootstrapMixin

from . import signals
from .choices import SignalKind, SignalOutcome
from .models import Signal

STATES = [("open", pgettext_lazy("signal", "Open")), ("closed", pgettext_lazy("signal", "Closed")),
          ("all", gettext_lazy("Open and closed"))]


class SignalFilterForm(BootstrapMixin, forms.Form):
    kind = forms.ChoiceField(label=gettext_lazy("Kind of signal"), required=False)
    state = forms.ChoiceField(label=gettext_lazy("State"), required=False, choices=STATES)

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["kind"].choices = [("", _("All kinds")), *SignalKind.choices]


class SignalCloseForm(BootstrapMixin, forms.Form):
    outcome = forms.ChoiceField(
        label=pgettext_lazy("signal", "Outcome"), required=False, widget=forms.RadioSelect,
        choices=[("", gettext_lazy("Not stated")), *SignalOutcome.choices],
        help_text=gettext_lazy("Confirmed: you found the report false or forged. The "
                               "finding goes on the credit record of the party responsible "
                               "(the laboratory, or the supplier who presented the report)."))
    note = forms.CharField(
        label=gettext_lazy("Closing note"), max_length=2000,
        widget=forms.Textarea(attrs={"rows": 3}),
        help_text=gettext_lazy("What you looked at and what you found; the note is kept "
                               "with the signal and in the audit log."))


def _rows(signals_page):
    for s in signals_page:
        s.text = signals.explanation_of(s)
    return signals_page


@regulator_required
def signal_list(request, scope):
    form = SignalFilterForm(request.GET or None)
    qs = signals.signals_visible_to(request.user).select_related("lab").order_by(
        "-found_at", "-id")
    state, kind = "open", ""
    if form.is_valid():
        state = form.cleaned_data["state"] or "open"
        kind = form.cleaned_data["kind"]
    if state == "open":
        qs = qs.filter(closed_at__isnull=True)
    elif state == "closed":
        qs = qs.filter(closed_at__isnull=False)
    if kind:
        qs = qs.filter(kind=kind)
    page = paginate(request, qs)
    _rows(page.object_list)
    return render(request, "reports/signal_list.html", {"form": form, "page": page,
                                                        "state": state})


def _visible(request, pk) -> Signal:
    signal = (signals.signals_visible_to(request.user)
              .select_related("lab", "report__producer").filter(pk=pk).first())
    if signal is None:
        not_found()
    return signal


def _verify_url(number: str) -> str | None:
    """The public verification page of a number; none for a number no report can have
    (an unknown number from delivery papers may hold any text)."""
    try:
        return reverse("portal:report_detail", args=[number])
    except NoReverseMatch:
        return None


def _detail(request, signal: Signal, form=None, status=200):
    params = (signal.detail or {}).get("params") or {}
    return render(request, "reports/signal_detail.html", {
        "signal": signal, "text": signals.explanation_of(signal), "params": params,
        "report_url": _verify_url(signal.number),
        "other": params.get("other") if signal.kind == SignalKind.IDENTICAL_VALUES else "",
        "deliveries": params.get("deliveries") or (
            [params["delivery"]] if params.get("delivery") else []),
        "form": form or SignalCloseForm(),
    }, status=status)


@regulator_required
def signal_detail(request, pk, scope):
    return _detail(request, _visible(request, pk))


@regulator_required
def signal_close(request, pk, scope):
    signal = _visible(request, pk)
    if request.method != "POST":
        return redirect("signals:signal_detail", pk=pk)
    form = SignalCloseForm(request.POST)
    if form.is_valid():
        closed = call_service(form, signals.signal_close, actor=request.user,
                              signal_id=signal.pk, note=form.cleaned_data["note"],
                              outcome=form.cleaned_data["outcome"])
        if closed is not None:
            messages.success(request, _("Signal closed."))
            return redirect("signals:signal_detail", pk=pk)
    return _detail(request, signal, form=form)
