"""Pages of the serious-dishonesty list and credit repair, under /work/credit/
(urls_blacklist.py, docs/credit-blacklist.md).

- Officers: the cases of the firms in their jurisdiction (filter by status), a case with
  its timeline and the form for the next step they may take (serve the notice, decide),
  a proposal by hand; the repair applications to decide.
- A firm: its own cases, the objection form while the period runs, the repair
  application once listed; its applications.

Every write goes through services/blacklist.py; what a page shows through access.py.
"""

from __future__ import annotations

import functools

from django.contrib import messages
from django.contrib.auth.views import redirect_to_login
from django.core.exceptions import PermissionDenied
from django.shortcuts import redirect, render
from django.utils import timezone
from django.utils.translation import gettext as _

from zhijian.core.access import get_or_404, scope_of
from zhijian.web.common import call_service, paginate, regulator_required

from .. import access
from ..choices import BlacklistStatus, CommitmentOccasion, CommitmentStatus, RepairStatus
from ..forms_blacklist import (
    BlacklistDecisionForm,
    BlacklistFilterForm,
    BlacklistNoticeForm,
    BlacklistProposeForm,
    ObjectionForm,
    RepairDecisionForm,
    RepairFilterForm,
    RepairForm,
)
from ..models import Commitment, CreditRecord
from ..services import blacklist as services


def _signed_in(view):
    """Regulators, administrators and enterprise accounts; others get 403."""

    @functools.wraps(view)
    def wrapper(request, *args, **kwargs):
        if not request.user.is_authenticated:
            return redirect_to_login(request.get_full_path())
        scope = scope_of(request.user)
        if not (scope.is_admin or scope.is_regulator or scope.role == "enterprise"):
            raise PermissionDenied(_("This page is for regulators and the firms concerned."))
        return view(request, *args, scope=scope, **kwargs)

    return wrapper


# --- cases -----------------------------------------------------------------------------------

@_signed_in
def blacklist_list(request, scope):
    form = BlacklistFilterForm(request.GET or None)
    qs = access.blacklist_visible_to(request.user).select_related("entity", "department")
    if form.is_valid() and form.cleaned_data["status"]:
        qs = qs.filter(status=form.cleaned_data["status"])
    return render(request, "credit/blacklist_list.html", {
        "form": form, "page": paginate(request, qs.order_by("-proposed_at", "-id")),
        "can_propose": scope.is_regulator})


def _case(request, pk):
    return get_or_404(access.blacklist_visible_to(request.user).select_related(
        "entity", "department__division", "proposed_by", "decided_by"), pk)


def _commitments(entry):
    return list(Commitment.objects.filter(
        entity=entry.entity, occasion=CommitmentOccasion.REPAIR,
        status=CommitmentStatus.IN_FORCE).order_by("-signed_at"))


def _detail(request, entry, *, forms=None, status=200):
    user = request.user
    forms = forms or {}
    today = timezone.localdate()
    by_id = CreditRecord.objects.in_bulk(services.record_ids(entry))
    criteria = [{"label": services.criterion_label(c["criterion"]),
                 "reasons": c.get("reasons", ""),
                 "records": [by_id[int(r)] for r in c.get("records", []) if int(r) in by_id]}
                for c in entry.criteria]
    may_decide = services.may_decide(user, entry)
    is_firm = access.is_own_entity(user, entry.entity)
    noticed = entry.status == BlacklistStatus.NOTICED
    repairs = list(access.repairs_visible_to(user).filter(entry=entry).order_by(
        "-submitted_at"))
    ctx = {
        "entry": entry, "criteria": criteria, "repairs": repairs, "today": today,
        "listing_record": services.listing_record(entry),
        "may_decide": may_decide, "is_firm": is_firm,
        "may_notice": may_decide and entry.status == BlacklistStatus.PROPOSED,
        "may_decide_now": may_decide and entry.status in (
            BlacklistStatus.PROPOSED, BlacklistStatus.NOTICED),
        "may_object": (is_firm and noticed and entry.objection_at is None
                       and today <= entry.objection_deadline),
        "may_repair": (is_firm and entry.status == BlacklistStatus.LISTED
                       and not any(r.status == RepairStatus.SUBMITTED for r in repairs)),
        "commitment_url": services.commitment_sign_url(entry),
        "failed": next(iter(forms), None),
    }
    if ctx["may_notice"]:
        ctx["notice_form"] = forms.get("notice") or BlacklistNoticeForm(
            initial={"notice_text": services.notice_text_for(entry, on=today)})
    if ctx["may_decide_now"]:
        ctx["decision_form"] = forms.get("decide") or BlacklistDecisionForm()
    if ctx["may_object"]:
        ctx["objection_form"] = forms.get("object") or ObjectionForm()
    if ctx["may_repair"]:
        ctx["repair_form"] = forms.get("repair") or RepairForm(
            commitments=_commitments(entry))
        ctx["first_repair_day"] = services.first_repair_day(entry)
    return render(request, "credit/blacklist_detail.html", ctx, status=status)


@_signed_in
def blacklist_detail(request, pk, scope):
    return _detail(request, _case(request, pk))


def _post(request, pk, key, form, fn, success, kwargs):
    entry = _case(request, pk)
    if request.method != "POST":
        return redirect("credit:blacklist_detail", pk=entry.pk)
    if form.is_valid():
        done = call_service(form, fn, actor=request.user, **kwargs(form.cleaned_data, entry))
        if done is not None:
            messages.success(request, success)
            return redirect("credit:blacklist_detail", pk=entry.pk)
    entry.refresh_from_db()
    return _detail(request, entry, forms={key: form}, status=400)


@regulator_required
def blacklist_notice(request, pk, scope):
    return _post(request, pk, "notice", BlacklistNoticeForm(request.POST or None),
                 services.blacklist_notice, _("Notice served; the objection period runs."),
                 lambda d, e: {"entry_id": e.pk, "notice_text": d["notice_text"]})


@regulator_required
def blacklist_decide(request, pk, scope):
    return _post(request, pk, "decide", BlacklistDecisionForm(request.POST or None),
                 services.blacklist_decide, _("Decision recorded."),
                 lambda d, e: {"entry_id": e.pk, "listed": d["decision"] == "list",
                               "reasons": d["reasons"]})


@_signed_in
def blacklist_object(request, pk, scope):
    return _post(request, pk, "object", ObjectionForm(request.POST or None),
                 services.objection_file, _("Your objection is filed."),
                 lambda d, e: {"entry_id": e.pk, "text": d["text"]})


@_signed_in
def repair_apply(request, pk, scope):
    entry = _case(request, pk)
    form = RepairForm(request.POST or None, request.FILES or None,
                      commitments=_commitments(entry))
    if request.method != "POST":
        return redirect("credit:blacklist_detail", pk=entry.pk)
    if form.is_valid():
        d = form.cleaned_data
        repair = call_service(form, services.repair_apply, actor=request.user,
                              entry_id=entry.pk, rectification=d["rectification"],
                              rectification_evidence=d["rectification_evidence"],
                              training_certificate=d["training_certificate"],
                              commitment_id=d["commitment"])
        if repair is not None:
            messages.success(request, _("Your repair application is submitted."))
            return redirect("credit:repair_detail", pk=repair.pk)
    return _detail(request, entry, forms={"repair": form}, status=400)


@regulator_required
def blacklist_propose(request, scope):
    form = BlacklistProposeForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        d = form.cleaned_data
        entry = call_service(form, services.blacklist_propose, entity=d["entity"],
                             actor=request.user, record_ids=d["records"], reasons=d["reasons"])
        if entry is not None:
            messages.success(request, _("Case proposed."))
            return redirect("credit:blacklist_detail", pk=entry.pk)
    return render(request, "web/form.html", {
        "form": form, "title": _("Propose listing as seriously dishonest"),
        "submit": _("Propose"), "cancel": "../"}, status=400 if form.errors else 200)


# --- repairs ---------------------------------------------------------------------------------

@_signed_in
def repair_list(request, scope):
    form = RepairFilterForm(request.GET or None)
    qs = access.repairs_visible_to(request.user).select_related("entity", "entry")
    if form.is_valid() and form.cleaned_data["status"]:
        qs = qs.filter(status=form.cleaned_data["status"])
    return render(request, "credit/repair_list.html", {
        "form": form, "page": paginate(request, qs.order_by("-submitted_at", "-id"))})


@_signed_in
def repair_detail(request, pk, scope):
    repair = get_or_404(access.repairs_visible_to(request.user).select_related(
        "entity", "entry__department__division", "commitment", "decided_by"), pk)
    may_decide = (repair.status == RepairStatus.SUBMITTED
                  and services.may_decide(request.user, repair.entry))
    form = RepairDecisionForm(request.POST or None)
    status = 200
    if request.method == "POST":
        if not may_decide:
            raise PermissionDenied(_("Only officers of the deciding department decide this "
                                     "application."))
        if form.is_valid():
            d = form.cleaned_data
            done = call_service(form, services.repair_decide, repair_id=repair.pk,
                                approve=d["decision"] == "approve", reasons=d["reasons"],
                                actor=request.user)
            if done is not None:
                messages.success(request, _("Decision recorded."))
                return redirect("credit:repair_detail", pk=repair.pk)
        status = 400
    labels = services.CONDITION_LABELS
    return render(request, "credit/repair_detail.html", {
        "repair": repair, "may_decide": may_decide, "form": form,
        "conditions": [{**c, "label": labels.get(c["code"], c["code"])}
                       for c in repair.conditions]}, status=status)
