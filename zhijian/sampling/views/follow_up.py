"""After the results: disposal tasks of the responsible department (decide the measure,
close the follow-up) and the batch-result lookup of mutual recognition (抽检互认)."""

from __future__ import annotations

import datetime as dt

from django.contrib import messages
from django.core.exceptions import PermissionDenied
from django.shortcuts import redirect, render
from django.utils import timezone
from django.utils.translation import gettext as _

from zhijian.core import rules
from zhijian.web.common import call_service, paginate, regulator_required

from .. import access, services
from ..choices import DisposalStatus
from ..forms import BatchLookupForm, CloseForm, DecideForm


def _disposal(request, pk):
    qs = access.disposals_visible_to(request.user).select_related(
        "sample__plan", "report__lab", "entity__division", "department", "decided_by")
    return access.get_or_404(qs, pk)


def _deciding(request, pk):
    """A disposal the user may see, refused (403) unless they are an officer of its
    department."""
    disposal = _disposal(request, pk)
    if not access.can_decide(request.user, disposal):
        raise PermissionDenied(_("Only officers of %(department)s decide this follow-up.")
                               % {"department": disposal.department.name})
    return disposal


@regulator_required
def disposal_list(request, scope):
    status = request.GET.get("status", "")
    qs = access.disposals_visible_to(request.user).select_related(
        "sample", "report", "entity", "department")
    if status in DisposalStatus.values:
        qs = qs.filter(status=status)
    return render(request, "sampling/disposal_list.html", {
        "page": paginate(request, qs.order_by("status", "due_on", "id")), "status": status,
        "statuses": DisposalStatus.choices, "today": timezone.localdate()})


def _page(request, disposal, *, decide_form=None, close_form=None, status=200):
    return render(request, "sampling/disposal_detail.html", {
        "disposal": disposal, "can_decide": access.can_decide(request.user, disposal),
        "decide_form": decide_form or DecideForm(), "close_form": close_form or CloseForm(),
        "failing": list(disposal.report.items.filter(verdict="fail").order_by("position")),
        "today": timezone.localdate(),
    }, status=status)


@regulator_required
def disposal_detail(request, pk, scope):
    return _page(request, _disposal(request, pk))


@regulator_required
def disposal_decide(request, pk, scope):
    disposal = _deciding(request, pk)
    if request.method != "POST":
        return redirect("sampling:disposal_detail", pk=pk)
    form = DecideForm(request.POST)
    if form.is_valid():
        done = call_service(form, services.disposal_decide, actor=request.user,
                            disposal_id=disposal.pk, **form.cleaned_data)
        if done is not None:
            messages.success(request, _("Decision recorded: %(kind)s.")
                             % {"kind": done.get_kind_display()})
            return redirect("sampling:disposal_detail", pk=pk)
    return _page(request, disposal, decide_form=form)


@regulator_required
def disposal_close(request, pk, scope):
    disposal = _deciding(request, pk)
    if request.method != "POST":
        return redirect("sampling:disposal_detail", pk=pk)
    form = CloseForm(request.POST)
    if form.is_valid():
        done = call_service(form, services.disposal_close, actor=request.user,
                            disposal_id=disposal.pk, note=form.cleaned_data["note"])
        if done is not None:
            messages.success(request, _("Follow-up closed."))
            return redirect("sampling:disposal_detail", pk=pk)
    return _page(request, disposal, close_form=form)


@regulator_required
def batch_lookup(request, scope):
    form = BatchLookupForm(request.GET or None)
    rows = None
    if form.is_valid():
        today = timezone.localdate()
        rows = []
        reports = access.batch_results(request.user, form.cleaned_data["uscc"],
                                       form.cleaned_data["batch"])
        for r in reports.select_related("lab", "producer", "sample").order_by("-issued_on",
                                                                               "-id"):
            until = (r.issued_on + dt.timedelta(
                days=rules.value("sampling.recognition_days", r.issued_on))
                if r.issued_on else None)
            rows.append({"report": r, "until": until,
                         "recognised": r.status == "issued" and until is not None
                         and today <= until})
    return render(request, "sampling/batch_lookup.html", {"form": form, "rows": rows})
