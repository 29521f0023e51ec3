"""Pages of credit records, penalty decisions and credit commitments (/work/credit/).

- Regulators: the records of the firms in their jurisdiction with filters; a record by
  hand with its evidence; withdraw a record; register penalty decisions, mark them paid,
  revoke them; find a commitment breached.
- Firms: their own records and penalties (and the public ones of others); sign a credit
  commitment with the statement in force.

Writes go through credit.services.records; what a page shows goes through access.py.
"""

from __future__ import annotations

import functools

from django.contrib import messages
from django.contrib.auth.views import redirect_to_login
from django.core.exceptions import PermissionDenied
from django.db.models import Q
from django.http import FileResponse
from django.shortcuts import redirect, render
from django.urls import NoReverseMatch, reverse
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from zhijian.core.access import get_or_404, not_found, scope_of
from zhijian.web.common import call_service, history_rows, paginate, regulator_required

from .. import access
from ..choices import CommitmentOccasion, CommitmentStatus, PenaltyStatus, RecordStatus
from ..forms_records import (
    BreachForm,
    CommitmentFilterForm,
    PaidForm,
    PenaltyFilterForm,
    PenaltyForm,
    ReasonForm,
    RecordFilterForm,
    RecordForm,
    SignForm,
)
from ..models import MANUAL, Commitment, CreditRecord, Penalty
from ..services import records as services

ACTION_LABELS = {
    "credit_record.created": gettext_lazy("Recorded"),
    "credit_record.withdrawn": gettext_lazy("Withdrawn"),
    "credit_record.repaired": gettext_lazy("Repaired"),
    "penalty.recorded": gettext_lazy("Registered"),
    "penalty.paid": gettext_lazy("Fine paid"),
    "penalty.revoked": gettext_lazy("Revoked"),
    "commitment.signed": gettext_lazy("Signed"),
    "commitment.breached": gettext_lazy("Breach found"),
}


def _login_required(view):
    @functools.wraps(view)
    def wrapper(request, *args, **kwargs):
        if not request.user.is_authenticated:
            return redirect_to_login(request.get_full_path())
        return view(request, *args, scope=scope_of(request.user), **kwargs)

    return wrapper


def _history(obj) -> list:
    rows = history_rows(obj)
    for row in rows:
        row.action_label = str(ACTION_LABELS.get(row.action, row.action_label))
    return rows


def _errors(form) -> str:
    return " ".join(str(e) for errs in form.errors.values() for e in errs)


# --- source links ---------------------------------------------------------------------------

def source_url(record: CreditRecord) -> str:
    """The page of a record's source ("" for a record by hand or an unknown source)."""
    if record.source_type == MANUAL or not record.source_id:
        return ""
    try:
        if record.source_type == "recalls.recall":
            from zhijian.recalls.models import Recall

            number = Recall.objects.filter(pk=record.source_id).values_list(
                "number", flat=True).first()
            return reverse("recalls:recall_detail", args=[number]) if number else ""
        names = {"sampling.sample": "sampling:sample_detail",
                 "inspections.task": "inspections:task_detail",
                 "reports.report": "reports:report_detail",
                 "reports.signal": "signals:signal_detail",
                 "credit.penalty": "credit:penalty_detail",
                 "credit.commitment": "credit:commitment_detail"}
        name = names.get(record.source_type)
        return reverse(name, args=[int(record.source_id)]) if name else ""
    except (NoReverseMatch, ValueError):
        return ""


# --- records --------------------------------------------------------------------------------

def _firm_filter(qs, q: str, prefix: str = "entity__"):
    q = q.strip()
    return qs.filter(Q(**{f"{prefix}uscc": q.upper()}) | Q(**{f"{prefix}name__icontains": q}))


@_login_required
def record_list(request, scope):
    form = RecordFilterForm(request.GET or None)
    qs = CreditRecord.objects.visible_to(request.user).select_related("entity", "department")
    if form.is_valid():
        d = form.cleaned_data
        if d["q"]:
            qs = _firm_filter(qs, d["q"])
        if d["kind"]:
            qs = qs.filter(kind=d["kind"])
        if d["status"]:
            qs = qs.filter(status=d["status"])
        if d["date_from"]:
            qs = qs.filter(date__gte=d["date_from"])
        if d["date_to"]:
            qs = qs.filter(date__lte=d["date_to"])
    return render(request, "credit/record_list.html", {
        "form": form, "page": paginate(request, qs.order_by("-date", "-id")),
        "can_enter": scope.is_regulator or scope.is_admin})


@regulator_required
def record_new(request, scope):
    form = RecordForm(request.POST or None, request.FILES or None)
    if request.method == "POST" and form.is_valid():
        d = form.cleaned_data
        record = call_service(
            form, services.record_enter, actor=request.user, entity_id=d["entity"].pk,
            kind=d["kind"], date=d["date"], evidence=d["evidence"], summary=d["summary"],
            source_ref=d["source_ref"], weight=d["weight"], expires_on=d["expires_on"],
            public=d["public"])
        if record is not None:
            messages.success(request, _("Credit record entered."))
            return redirect("credit:record_detail", pk=record.pk)
    return render(request, "credit/record_form.html", {"form": form}, status=(
        400 if form.errors else 200))


def _record(request, pk) -> CreditRecord:
    return get_or_404(CreditRecord.objects.visible_to(request.user).select_related(
        "entity", "department", "created_by"), pk)


@_login_required
def record_detail(request, pk, scope, withdraw_form=None):
    record = _record(request, pk)
    is_officer = access.covers_entity(request.user, record.entity)
    return render(request, "credit/record_detail.html", {
        "record": record, "source_url": source_url(record),
        "may_see_evidence": bool(record.evidence) and access.may_see_evidence(
            request.user, record),
        "may_withdraw": is_officer and record.status == RecordStatus.ACTIVE,
        "withdraw_form": withdraw_form or ReasonForm(),
        "history": _history(record) if is_officer or access.is_own_entity(
            request.user, record.entity) else []}, status=400 if withdraw_form else 200)


@_login_required
def record_evidence(request, pk, scope):
    record = _record(request, pk)
    if not record.evidence or not access.may_see_evidence(request.user, record):
        not_found()
    return FileResponse(record.evidence.open("rb"), as_attachment=True,
                        filename=record.evidence.name.rsplit("/", 1)[-1])


@regulator_required
def record_withdraw(request, pk, scope):
    record = _record(request, pk)
    if request.method != "POST":
        return redirect("credit:record_detail", pk=pk)
    form = ReasonForm(request.POST)
    if form.is_valid() and call_service(
            form, services.record_withdraw_by_officer, actor=request.user,
            record_id=record.pk, reason=form.cleaned_data["reason"]) is not None:
        messages.success(request, _("The record was withdrawn."))
        return redirect("credit:record_detail", pk=pk)
    return record_detail.__wrapped__(request, pk, scope=scope, withdraw_form=form)


# --- penalties ------------------------------------------------------------------------------

def _penalties(user):
    return access.penalties_visible_to(user, Penalty.objects.all()).select_related(
        "entity", "department")


@_login_required
def penalty_list(request, scope):
    form = PenaltyFilterForm(request.GET or None)
    qs = _penalties(request.user)
    if form.is_valid():
        d = form.cleaned_data
        if d["q"]:
            q = d["q"].strip()
            qs = _firm_filter(qs, q) | qs.filter(decision_number__icontains=q)
        if d["status"]:
            qs = qs.filter(status=d["status"])
    return render(request, "credit/penalty_list.html", {
        "form": form, "page": paginate(request, qs.order_by("-decided_on", "-id")),
        "can_enter": scope.is_regulator or scope.is_admin})


@regulator_required
def penalty_new(request, scope):
    form = PenaltyForm(request.POST or None, request.FILES or None)
    if request.method == "POST" and form.is_valid():
        d = form.cleaned_data
        penalty = call_service(
            form, services.penalty_record, actor=request.user, entity_id=d["entity"].pk,
            decision_number=d["decision_number"], decided_on=d["decided_on"],
            violation=d["violation"], legal_basis=d["legal_basis"], fine=d["fine"],
            heavy=d["heavy"], document=d["document"])
        if penalty is not None:
            messages.success(request, _("Penalty decision %(number)s registered.") % {
                "number": penalty.decision_number})
            return redirect("credit:penalty_detail", pk=penalty.pk)
    return render(request, "credit/penalty_form.html", {"form": form}, status=(
        400 if form.errors else 200))


@_login_required
def penalty_detail(request, pk, scope, paid_form=None, revoke_form=None):
    penalty = get_or_404(_penalties(request.user), pk)
    is_officer = access.covers_entity(request.user, penalty.entity)
    in_force = penalty.status == PenaltyStatus.IN_FORCE
    records = CreditRecord.objects.filter(source_type=services.PENALTY_SOURCE,
                                          source_id=str(penalty.pk))
    return render(request, "credit/penalty_detail.html", {
        "penalty": penalty, "is_officer": is_officer,
        "may_see_document": is_officer or access.is_own_entity(request.user, penalty.entity),
        "may_pay": is_officer and in_force and penalty.paid_on is None,
        "may_revoke": is_officer and in_force,
        "paid_form": paid_form or PaidForm(), "revoke_form": revoke_form or ReasonForm(),
        "records": records, "history": _history(penalty) if is_officer else []},
        status=400 if (paid_form or revoke_form) else 200)


@_login_required
def penalty_document(request, pk, scope):
    penalty = get_or_404(_penalties(request.user), pk)
    if not (access.covers_entity(request.user, penalty.entity)
            or access.is_own_entity(request.user, penalty.entity)):
        not_found()
    return FileResponse(penalty.document.open("rb"), as_attachment=True,
                        filename=penalty.document.name.rsplit("/", 1)[-1])


@regulator_required
def penalty_paid(request, pk, scope):
    penalty = get_or_404(_penalties(request.user), pk)
    if request.method != "POST":
        return redirect("credit:penalty_detail", pk=pk)
    form = PaidForm(request.POST)
    if form.is_valid() and call_service(
            form, services.penalty_mark_paid, actor=request.user, penalty_id=penalty.pk,
            paid_on=form.cleaned_data["paid_on"]) is not None:
        messages.success(request, _("The fine was recorded as paid."))
        return redirect("credit:penalty_detail", pk=pk)
    return penalty_detail.__wrapped__(request, pk, scope=scope, paid_form=form)


@regulator_required
def penalty_revoke(request, pk, scope):
    penalty = get_or_404(_penalties(request.user), pk)
    if request.method != "POST":
        return redirect("credit:penalty_detail", pk=pk)
    form = ReasonForm(request.POST)
    if form.is_valid() and call_service(
            form, services.penalty_revoke, actor=request.user, penalty_id=penalty.pk,
            reason=form.cleaned_data["reason"]) is not None:
        messages.success(request, _("The penalty decision was revoked and its credit record "
                                    "withdrawn."))
        return redirect("credit:penalty_detail", pk=pk)
    return penalty_detail.__wrapped__(request, pk, scope=scope, revoke_form=form)


# --- commitments ----------------------------------------------------------------------------

def _commitments(user):
    return access.commitments_visible_to(user, Commitment.objects.all()).select_related(
        "entity")


@_login_required
def commitment_list(request, scope):
    form = CommitmentFilterForm(request.GET or None)
    qs = _commitments(request.user)
    if scope.role == "enterprise":
        qs = qs.filter(entity_id=scope.org_id)
    if form.is_valid():
        d = form.cleaned_data
        if d["q"]:
            qs = _firm_filter(qs, d["q"])
        if d["status"]:
            qs = qs.filter(status=d["status"])
    return render(request, "credit/commitment_list.html", {
        "form": form, "page": paginate(request, qs.order_by("-signed_at", "-id")),
        "can_sign": scope.role == "enterprise"})


@_login_required
def commitment_sign(request, scope):
    if scope.role != "enterprise":
        raise PermissionDenied(_("Only a firm signs its credit commitment, from its own "
                                 "account."))
    from zhijian.registry.models import MarketEntity

    entity = MarketEntity.objects.get(pk=scope.org_id)
    # ?occasion=repair (from a list case) or =registration (from the workspace) preselects.
    asked = request.GET.get("occasion")
    form = SignForm(request.POST or None, initial={"occasion": asked} if asked else None)
    occasion = (form.data.get("occasion") if form.is_bound else asked) or \
        CommitmentOccasion.REGISTRATION
    if occasion not in CommitmentOccasion.values:
        occasion = CommitmentOccasion.REGISTRATION
    reference = (form.data.get("reference") if form.is_bound else "") or ""
    if request.method == "POST" and form.is_valid():
        d = form.cleaned_data
        commitment = call_service(
            form, services.commitment_sign, actor=request.user, occasion=d["occasion"],
            reference=d["reference"], signatory=d["signatory"])
        if commitment is not None:
            messages.success(request, _("Credit commitment signed; it is public."))
            return redirect("credit:commitment_detail", pk=commitment.pk)
    statements = []
    for key, label in CommitmentOccasion.choices:
        text, version = services.commitment_text(entity=entity, occasion=key,
                                                 reference=reference)
        statements.append({"occasion": key, "label": label, "text": text,
                           "version": version, "selected": key == occasion})
    return render(request, "credit/commitment_sign.html", {
        "form": form, "entity": entity, "statements": statements},
        status=400 if form.errors else 200)


@_login_required
def commitment_detail(request, pk, scope, breach_form=None):
    commitment = get_or_404(_commitments(request.user), pk)
    is_officer = access.covers_entity(request.user, commitment.entity)
    records = CreditRecord.objects.filter(source_type=services.COMMITMENT_SOURCE,
                                          source_id=str(commitment.pk))
    return render(request, "credit/commitment_detail.html", {
        "commitment": commitment, "records": records,
        "may_breach": is_officer and commitment.status == CommitmentStatus.IN_FORCE,
        "breach_form": breach_form or BreachForm(),
        "history": _history(commitment) if is_officer or access.is_own_entity(
            request.user, commitment.entity) else []},
        status=400 if breach_form else 200)


@regulator_required
def commitment_breach(request, pk, scope):
    commitment = get_or_404(_commitments(request.user), pk)
    if request.method != "POST":
        return redirect("credit:commitment_detail", pk=pk)
    form = BreachForm(request.POST, request.FILES)
    if form.is_valid() and call_service(
            form, services.commitment_breach, actor=request.user,
            commitment_id=commitment.pk, breached_on=form.cleaned_data["breached_on"],
            reason=form.cleaned_data["reason"],
            evidence=form.cleaned_data["evidence"]) is not None:
        messages.success(request, _("The commitment was found breached; a credit record "
                                    "was written."))
        return redirect("credit:commitment_detail", pk=pk)
    return commitment_detail.__wrapped__(request, pk, scope=scope, breach_form=form)
