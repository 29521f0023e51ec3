"""Pages of recalls, mounted at /work/recalls/ (public notices: public.py at /recalls/).

- Regulators: the recalls they see, with filters; a recall with its sources, the impact
  list by tier and place with progress bars, the correction rate by level; open or
  dismiss a proposal, refresh the impact list, complete; record progress on any item;
  export the impact list as CSV; propose a recall by hand.
- Firms (enterprises, user units): their recall notices, to acknowledge; the recall
  page with the items they may see (the maker all, a holder its own); progress on their
  own items.

Every write goes through recalls.services; what a page shows goes through access.py.
"""

from __future__ import annotations

import csv
import functools

from django.contrib import messages
from django.contrib.auth.views import redirect_to_login
from django.core.exceptions import PermissionDenied
from django.db.models import Count, Q
from django.http import HttpResponse
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _

from zhijian.core.access import scope_of
from zhijian.web.common import call_service, paginate, regulator_required

from . import access, progress, services
from .choices import CLOSED_ITEM_STATUSES, RecallStatus
from .forms import (
    ActionForm,
    CompleteForm,
    DismissForm,
    FilterForm,
    ItemForm,
    OpenForm,
    ProposeForm,
)
from .models import Recall, RecallItem

FIRM_ROLES = access.FIRM_ROLES


def _login_required(view):
    @functools.wraps(view)
    def wrapper(request, *args, **kwargs):
        if not request.user.is_authenticated:
            return redirect_to_login(request.get_full_path())
        return view(request, *args, scope=scope_of(request.user), **kwargs)

    return wrapper


def _with_counts(qs):
    closed = Q(items__status__in=CLOSED_ITEM_STATUSES)
    return qs.annotate(item_count=Count("items", distinct=True),
                       closed_count=Count("items", filter=closed, distinct=True))


# --- lists ------------------------------------------------------------------------------------

@_login_required
def recall_list(request, scope):
    """Regulators: the recalls they see. Firms are sent to their notices."""
    if scope.role in FIRM_ROLES:
        return redirect("recalls:notice_list")
    if not (scope.is_admin or scope.is_regulator):
        raise PermissionDenied(_("This page is for regulators."))
    form = FilterForm(request.GET or None)
    qs = Recall.objects.visible_to(request.user).select_related(
        "maker", "department", "category")
    if form.is_valid():
        d = form.cleaned_data
        if d["status"]:
            qs = qs.filter(status=d["status"])
        if d["severity"]:
            qs = qs.filter(severity=d["severity"])
        if d["q"]:
            q = d["q"].strip()
            qs = qs.filter(Q(number__icontains=q) | Q(lot__icontains=q)
                           | Q(maker__name__icontains=q) | Q(maker__uscc=q.upper()))
    return render(request, "recalls/recall_list.html", {
        "form": form, "page": paginate(request, _with_counts(qs).order_by("-proposed_at", "-id")),
        "can_propose": scope.is_regulator})


@_login_required
def notice_list(request, scope):
    """A firm's recall notices, newest first, to acknowledge."""
    if scope.role not in FIRM_ROLES:
        if scope.is_admin or scope.is_regulator:
            return redirect("recalls:recall_list")
        raise PermissionDenied(_("This page is for enterprises and user units."))
    notices = access.notices_visible_to(request.user).select_related(
        "recall__maker", "recall__department").order_by("acknowledged_at", "-sent_at", "-id")
    return render(request, "recalls/notice_list.html", {
        "page": paginate(request, notices), "form": ActionForm()})


@_login_required
def notice_acknowledge(request, pk, scope):
    notice = access.get_or_404(access.notices_visible_to(request.user).select_related(
        "recall"), pk)
    if request.method != "POST":
        return redirect("recalls:recall_detail", number=notice.recall.number)
    form = ActionForm(request.POST)
    done = call_service(form, services.notice_acknowledge, actor=request.user,
                        notice_id=notice.pk)
    if done is not None:
        messages.success(request, _("Recall notice %(number)s acknowledged.") % {
            "number": notice.recall.number})
    else:
        messages.error(request, " ".join(str(e) for e in form.non_field_errors()) or " ".join(
            str(e) for errs in form.errors.values() for e in errs))
    return redirect("recalls:recall_detail", number=notice.recall.number)


# --- one recall -------------------------------------------------------------------------------

def _visible(request, number) -> Recall:
    return access.get_or_404(Recall.objects.visible_to(request.user).select_related(
        "maker", "department__division", "category", "product", "opened_by"), number,
        field="number")


def rates_of(items) -> list[progress.Rate]:
    """The rates of items already loaded (no further query)."""
    return progress.rates(progress.ItemProgress(
        tier=i.tier, uom=i.uom, listed=i.listed, removed=i.removed, replaced=i.replaced,
        destroyed=i.destroyed, closed=i.closed) for i in items)


def _items(request, recall):
    return list(access.items_visible_to(request.user, recall).select_related(
        "place_ref__division", "holder_entity", "holder_unit").order_by(
        "tier", "place", "identifier", "kind"))


def _detail(request, recall, *, forms=None, status=200):
    user = request.user
    scope = scope_of(user)
    forms = forms or {}
    items = _items(request, recall)
    may_act = access.may_act(user, recall)
    notices = list(access.notices_visible_to(user).filter(recall=recall).select_related(
        "entity", "user_unit", "acknowledged_by"))
    if scope.role in FIRM_ROLES and not access.is_maker(user, recall):
        notices = [n for n in notices if access.is_addressee(user, n)]
    tiers: dict[int, list[RecallItem]] = {}
    for item in items:
        item.recall = recall  # loaded once above, with what may_update_item reads
        item.may_update = (recall.status == RecallStatus.OPEN and not item.closed
                           and access.may_update_item(user, item))
        tiers.setdefault(item.tier, []).append(item)
    return render(request, "recalls/recall_detail.html", {
        "recall": recall, "items": items, "tiers": sorted(tiers.items()),
        "rates": rates_of(items), "notices": notices,
        "sources": list(recall.sources.all()), "batches": list(recall.batches.all()),
        "may_act": may_act, "is_staff_view": scope.is_admin or scope.is_regulator,
        "own_notice": next((n for n in notices if access.is_addressee(user, n)), None),
        "open_form": forms.get("open") or OpenForm(recall=recall, initial={
            "reason": recall.reason, "severity": recall.severity or "2"}),
        "dismiss_form": forms.get("dismiss") or DismissForm(),
        "complete_form": forms.get("complete") or CompleteForm(),
        "action_form": forms.get("action") or ActionForm(),
        "failed": next(iter(forms), None),
    }, status=status)


@_login_required
def recall_detail(request, number, scope):
    return _detail(request, _visible(request, number))


def _decide(request, number, form_class, key, fn, success, **form_kwargs):
    recall = _visible(request, number)
    if request.method != "POST":
        return redirect("recalls:recall_detail", number=number)
    form = form_class(request.POST, **form_kwargs)
    if form.is_valid():
        done = call_service(form, fn, actor=request.user, recall_id=recall.pk,
                            **form.cleaned_data)
        if done is not None:
            messages.success(request, success % {"number": done.number})
            return redirect("recalls:recall_detail", number=number)
    recall.refresh_from_db()
    return _detail(request, recall, forms={key: form}, status=400)


@regulator_required
def recall_open(request, number, scope):
    recall = _visible(request, number)
    return _decide(request, number, OpenForm, "open", services.recall_open,
                   _("Recall %(number)s opened; the firms involved are notified."),
                   recall=recall)


@regulator_required
def recall_dismiss(request, number, scope):
    return _decide(request, number, DismissForm, "dismiss", services.recall_dismiss,
                   _("Proposal %(number)s dismissed."))


@regulator_required
def recall_complete(request, number, scope):
    return _decide(request, number, CompleteForm, "complete", services.recall_complete,
                   _("Recall %(number)s completed."))


@regulator_required
def recall_refresh(request, number, scope):
    return _decide(request, number, ActionForm, "action", services.recall_refresh,
                   _("Impact list of %(number)s traced again."))


@regulator_required
def recall_propose(request, scope):
    form = ProposeForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        d = form.cleaned_data
        recall = call_service(form, services.recall_propose, actor=request.user,
                              source_kind="manual", maker_id=d["maker"].pk,
                              category_code=d["category"].code, lot=d["lot"], gtin=d["gtin"],
                              reason=d["reason"])
        if recall is not None:
            messages.success(request, _("Recall %(number)s proposed.") % {
                "number": recall.number})
            return redirect("recalls:recall_detail", number=recall.number)
    return render(request, "web/form.html", {
        "form": form, "title": _("Propose a recall"), "submit": _("Propose"),
        "cancel": "../"})


# --- items ------------------------------------------------------------------------------------

def _item_page(request, item, form=None, status=200):
    recall = item.recall
    return render(request, "recalls/item_detail.html", {
        "item": item, "recall": recall,
        "may_update": (recall.status == RecallStatus.OPEN and not item.closed
                       and access.may_update_item(request.user, item)),
        "form": form or ItemForm(initial={
            "status": item.status if item.status != "listed" else "located",
            "located": item.located, "removed": item.removed, "replaced": item.replaced,
            "destroyed": item.destroyed}),
        "updates": list(item.updates.select_related("by")),
    }, status=status)


@_login_required
def item_detail(request, pk, scope):
    item = access.get_or_404(access.items_visible_to(request.user).select_related(
        "recall__maker", "recall__department__division", "recall__category",
        "place_ref__division", "holder_entity", "holder_unit"), pk)
    if request.method != "POST":
        return _item_page(request, item)
    if not access.may_update_item(request.user, item):
        raise PermissionDenied(_("Only the holder of these goods, or the department that "
                                 "decides the recall, records progress here."))
    form = ItemForm(request.POST)
    if form.is_valid():
        d = form.cleaned_data
        done = call_service(form, services.item_update, actor=request.user, item_id=item.pk,
                            **d)
        if done is not None:
            messages.success(request, _("Progress recorded: %(status)s.") % {
                "status": done.get_status_display()})
            return redirect("recalls:item_detail", pk=item.pk)
    return _item_page(request, item, form=form, status=400)


# --- export -----------------------------------------------------------------------------------

CSV_COLUMNS = ["tier", "place", "place_name", "division", "holder", "holder_uscc", "party",
               "kind", "identifier", "quantity_listed", "uom", "located", "removed",
               "replaced", "destroyed", "status", "note", "event", "event_time"]


@_login_required
def impact_csv(request, number, scope):
    """The impact list as the viewer sees it, one row per item, for a spreadsheet."""
    recall = _visible(request, number)
    response = HttpResponse(content_type="text/csv; charset=utf-8")
    response["Content-Disposition"] = f'attachment; filename="{recall.number}-impact.csv"'
    response.write("\ufeff")  # Excel opens UTF-8 with a byte-order mark correctly
    writer = csv.writer(response)
    writer.writerow(CSV_COLUMNS)
    for i in _items(request, recall):
        holder = i.holder
        place = i.place_ref
        writer.writerow([
            i.tier, i.place, place.name if place else "",
            place.division_id if place and place.division_id else "",
            holder.name if holder else "", holder.uscc if holder else "", i.party,
            i.kind, i.identifier, "" if i.listed is None else i.listed, i.uom, i.located,
            i.removed, i.replaced, i.destroyed, i.status, i.note, i.event,
            i.event_time.isoformat()])
    return response
