"""Pages of purchasing and acceptance (M2.5), mounted at /work/procurement/.

- A user unit: its lists with each supplier's standing and reasons, deliveries awaiting
  acceptance (home); opening a list, adding a supplier, recording a delivery; the delivery
  page with every acceptance check as stored and the buttons to check, record a witness
  inspection and refer; a supplier's page with its appeals to decide.
- An enterprise: where it is listed, with its standing and reasons, and its appeals.
- A regulator: the rejected deliveries referred to its department, to acknowledge.

Every write goes through procurement.services; what a page shows goes through access.py.
"""

from __future__ import annotations

import functools

from django.contrib import messages
from django.contrib.auth.views import redirect_to_login
from django.core.exceptions import PermissionDenied
from django.db.models import Prefetch
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _

from zhijian.core.access import scope_of
from zhijian.registry.models import ProductCategory
from zhijian.web.common import call_service, paginate, regulator_required

from . import access, services
from .choices import AppealStatus, DeliveryStatus, Standing
from .forms import (
    ActionForm,
    AppealForm,
    CheckForm,
    DecideForm,
    DeliveryForm,
    ReferForm,
    SupplierAddForm,
    SupplierListForm,
    WitnessForm,
)
from .models import Delivery, Supplier, SupplierList


def _login_required(view):
    @functools.wraps(view)
    def wrapper(request, *args, **kwargs):
        if not request.user.is_authenticated:
            return redirect_to_login(request.get_full_path())
        return view(request, *args, scope=scope_of(request.user), **kwargs)

    return wrapper


def unit_required(view):
    """User-unit accounts only; an enterprise is sent to the page of its listings,
    regulators and administrators to their workbench, others are refused."""

    @functools.wraps(view)
    @_login_required
    def wrapper(request, *args, scope, **kwargs):
        if scope.role == "user_unit":
            return view(request, *args, scope=scope, **kwargs)
        if scope.role == "enterprise":
            return redirect("procurement:listed")
        if scope.is_admin or scope.is_regulator:
            return redirect("web:home")
        raise PermissionDenied(_("This page is for user units."))

    return wrapper


# --- the user unit's home ------------------------------------------------------------------

@unit_required
def home(request, scope):
    lists = (access.lists_visible_to(request.user).select_related("category")
             .prefetch_related(Prefetch("suppliers", queryset=Supplier.objects.select_related(
                 "entity").order_by("entity__name")))
             .order_by("category__code"))
    deliveries = access.deliveries_visible_to(request.user).select_related(
        "supplier", "category")
    return render(request, "procurement/home.html", {
        "lists": lists,
        "pending": deliveries.filter(status=DeliveryStatus.PENDING).order_by(
            "delivered_on", "id")[:100],
        "recent": deliveries.exclude(status=DeliveryStatus.PENDING).order_by(
            "-delivered_on", "-id")[:10],
        "open_appeals": access.appeals_visible_to(request.user).filter(
            status=AppealStatus.OPEN).select_related("supplier__entity",
                                                     "supplier__supplier_list__category"),
    })


def _home_url() -> str:
    return reverse("procurement:home")


@unit_required
def list_create(request, scope):
    form = SupplierListForm(request.POST or None, user_unit_id=scope.org_id)
    if request.method == "POST" and form.is_valid():
        sl = call_service(form, services.supplier_list_create, actor=request.user,
                          category_id=form.cleaned_data["category"].pk)
        if sl is not None:
            messages.success(request, _("List opened for %(category)s.") % {
                "category": sl.category.name})
            return redirect("procurement:home")
    return render(request, "web/form.html", {
        "form": form, "title": _("Open a qualified-supplier list"),
        "submit": _("Open the list"), "cancel": _home_url()})


@unit_required
def supplier_add(request, pk, scope):
    sl = access.get_or_404(access.lists_visible_to(request.user).select_related("category"),
                           pk)
    form = SupplierAddForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        s = call_service(form, services.supplier_add, actor=request.user, list_id=sl.pk,
                         entity_id=form.cleaned_data["entity"].pk,
                         note=form.cleaned_data["note"])
        if s is not None:
            messages.success(request, _("%(name)s is on the list: %(standing)s, score "
                                        "%(score)d.") % {
                "name": s.entity.name, "standing": s.get_standing_display(),
                "score": s.score})
            for screen in getattr(s, "screens", []):
                if screen.flagged:  # allowed, under the closer scrutiny a measure asks for
                    messages.warning(request, _("Allowed with closer scrutiny (%(check)s): "
                                                "%(reasons)s") % {
                        "check": screen.name, "reasons": " ".join(screen.flags)})
            return redirect("procurement:supplier_detail", pk=s.pk)
    return render(request, "web/form.html", {
        "form": form, "title": _("Add a supplier to the list for %(category)s") % {
            "category": sl.category.name},
        "submit": _("Check and add"), "cancel": _home_url()})


# --- one supplier: standing, reasons, appeals ------------------------------------------------

def _supplier_page(request, supplier, *, appeal_form=None, decide_forms=None, status=200):
    user = request.user
    appeals = list(supplier.appeals.select_related("filed_by").order_by("-filed_at", "-id"))
    is_unit = access.is_unit_of(user, supplier.supplier_list.user_unit_id)
    is_entity = access.is_entity_of(user, supplier.entity_id)
    can_appeal = (is_entity and supplier.standing == Standing.REMOVED
                  and not any(a.status == AppealStatus.OPEN for a in appeals))
    decide_forms = decide_forms or {}
    rows = [{"appeal": a, "form": decide_forms.get(a.pk) or DecideForm(prefix=f"a{a.pk}")}
            for a in appeals]
    return render(request, "procurement/supplier_detail.html", {
        "supplier": supplier, "entity": supplier.entity, "list": supplier.supplier_list,
        "appeals": rows, "is_unit": is_unit, "is_entity": is_entity,
        "can_appeal": can_appeal, "appeal_form": appeal_form or AppealForm(),
    }, status=status)


def _visible_supplier(request, pk) -> Supplier:
    return access.get_or_404(access.suppliers_visible_to(request.user).select_related(
        "entity", "supplier_list__category", "supplier_list__user_unit"), pk)


@_login_required
def supplier_detail(request, pk, scope):
    return _supplier_page(request, _visible_supplier(request, pk))


@_login_required
def appeal_file(request, pk, scope):
    supplier = _visible_supplier(request, pk)
    if request.method != "POST":
        return redirect("procurement:supplier_detail", pk=pk)
    form = AppealForm(request.POST)
    if form.is_valid():
        appeal = call_service(form, services.appeal_file, actor=request.user,
                              supplier_id=supplier.pk, grounds=form.cleaned_data["grounds"])
        if appeal is not None:
            messages.success(request, _("Appeal filed with %(unit)s.") % {
                "unit": supplier.supplier_list.user_unit.name})
            return redirect("procurement:supplier_detail", pk=pk)
    return _supplier_page(request, supplier, appeal_form=form)


@unit_required
def appeal_decide(request, pk, scope):
    appeal = access.get_or_404(access.appeals_visible_to(request.user), pk)
    supplier = _visible_supplier(request, appeal.supplier_id)
    if request.method != "POST":
        return redirect("procurement:supplier_detail", pk=supplier.pk)
    form = DecideForm(request.POST, prefix=f"a{appeal.pk}")
    if form.is_valid():
        d = form.cleaned_data
        done = call_service(form, services.appeal_decide, actor=request.user,
                            appeal_id=appeal.pk, upheld=d["upheld"], decision=d["decision"],
                            until=d["until"])
        if done is not None:
            messages.success(request, _("Appeal decided: %(status)s.") % {
                "status": done.get_status_display()})
            return redirect("procurement:supplier_detail", pk=supplier.pk)
    return _supplier_page(request, supplier, decide_forms={appeal.pk: form})


# --- deliveries ----------------------------------------------------------------------------

def _listed_categories(unit_id: int):
    """The categories of the unit's lists and everything under them."""
    codes = SupplierList.objects.filter(user_unit_id=unit_id).values_list(
        "category__code", flat=True)
    return ProductCategory.objects.filter(code__in=ProductCategory.objects.expand(codes))


@unit_required
def delivery_create(request, scope):
    form = DeliveryForm(request.POST or None, categories=_listed_categories(scope.org_id),
                        initial={"delivered_on": timezone.localdate()})
    if request.method == "POST" and form.is_valid():
        d = call_service(form, services.delivery_record, actor=request.user,
                         **form.service_kwargs())
        if d is not None:
            messages.success(request, _("Delivery %(number)s recorded; check it on "
                                        "acceptance.") % {"number": d.number})
            return redirect("procurement:delivery_detail", pk=d.pk)
    return render(request, "web/form.html", {
        "form": form, "title": _("Record a delivery"), "submit": _("Record the delivery"),
        "cancel": _home_url()})


@unit_required
def delivery_list(request, scope):
    qs = access.deliveries_visible_to(request.user).select_related("supplier", "category")
    status = request.GET.get("status", "")
    if status in DeliveryStatus.values:
        qs = qs.filter(status=status)
    return render(request, "procurement/delivery_list.html", {
        "page": paginate(request, qs.order_by("-delivered_on", "-id")),
        "status": status, "statuses": DeliveryStatus.choices})


def _visible_delivery(request, pk) -> Delivery:
    return access.get_or_404(access.deliveries_visible_to(request.user).select_related(
        "user_unit", "supplier", "producer", "category"), pk)


def _delivery_page(request, delivery, *, check_form=None, witness_form=None, refer_form=None,
                   status=200):
    is_unit = access.is_unit_of(request.user, delivery.user_unit_id)
    checks = list(delivery.checks.select_related("checked_by").order_by("-checked_at", "-id"))
    referrals = list(delivery.referrals.select_related("department"))
    can_refer = is_unit and delivery.status == DeliveryStatus.REJECTED and not referrals
    return render(request, "procurement/delivery_detail.html", {
        "delivery": delivery, "checks": checks, "referrals": referrals,
        "witnesses": delivery.witnesses.select_related("lab", "report").order_by(
            "-witnessed_on", "-id"),
        "needs_witness": services.needs_witness(delivery.category),
        "is_unit": is_unit,
        "can_check": is_unit and delivery.status != DeliveryStatus.ACCEPTED,
        "can_refer": can_refer,
        "check_form": check_form or CheckForm(),
        "witness_form": witness_form or WitnessForm(
            initial={"witnessed_on": timezone.localdate()}),
        "refer_form": refer_form or ReferForm(
            initial={"text": services.referral_text(delivery)} if can_refer else None),
    }, status=status)


@_login_required
def delivery_detail(request, pk, scope):
    return _delivery_page(request, _visible_delivery(request, pk))


def _own_delivery(request, pk) -> Delivery:
    delivery = _visible_delivery(request, pk)
    if not access.is_unit_of(request.user, delivery.user_unit_id):
        raise PermissionDenied(_("Only the user unit that took the delivery can do this."))
    return delivery


@_login_required
def delivery_check(request, pk, scope):
    delivery = _own_delivery(request, pk)
    if request.method != "POST":
        return redirect("procurement:delivery_detail", pk=pk)
    form = CheckForm(request.POST)
    if form.is_valid():
        c = call_service(form, services.acceptance_check, actor=request.user,
                         delivery_id=delivery.pk, note=form.cleaned_data["note"])
        if c is not None:
            if c.accepted:
                messages.success(request, _("Accepted: every check passed."))
            else:
                messages.error(request, _("Rejected: %(n)d blocking findings.") % {
                    "n": sum(1 for f in c.findings if f["blocking"])})
            return redirect("procurement:delivery_detail", pk=pk)
    return _delivery_page(request, delivery, check_form=form)


@_login_required
def delivery_witness(request, pk, scope):
    delivery = _own_delivery(request, pk)
    if request.method != "POST":
        return redirect("procurement:delivery_detail", pk=pk)
    form = WitnessForm(request.POST)
    if form.is_valid():
        d = form.cleaned_data
        w = call_service(form, services.witness_record, actor=request.user,
                         delivery_id=delivery.pk, lab_id=d["lab"].pk, witness=d["witness"],
                         witnessed_on=d["witnessed_on"], result=d["result"],
                         report_number=d["report_number"])
        if w is not None:
            messages.success(request, _("Witness inspection recorded."))
            return redirect("procurement:delivery_detail", pk=pk)
    return _delivery_page(request, delivery, witness_form=form)


@_login_required
def delivery_refer(request, pk, scope):
    delivery = _own_delivery(request, pk)
    if request.method != "POST":
        return redirect("procurement:delivery_detail", pk=pk)
    form = ReferForm(request.POST)
    if form.is_valid():
        r = call_service(form, services.delivery_refer, actor=request.user,
                         delivery_id=delivery.pk, text=form.cleaned_data["text"])
        if r is not None:
            messages.success(request, _("Reported to %(department)s.") % {
                "department": r.department.name})
            return redirect("procurement:delivery_detail", pk=pk)
    return _delivery_page(request, delivery, refer_form=form)


# --- the enterprise: where it is listed ------------------------------------------------------

@_login_required
def listed(request, scope):
    if scope.role != "enterprise":
        if scope.role == "user_unit":
            return redirect("procurement:home")
        raise PermissionDenied(_("This page is for enterprises."))
    entries = access.suppliers_visible_to(request.user).select_related(
        "supplier_list__user_unit", "supplier_list__category").order_by(
        "supplier_list__user_unit__name", "supplier_list__category__code")
    return render(request, "procurement/listed.html", {
        "entries": entries,
        "appeals": access.appeals_visible_to(request.user).select_related(
            "supplier__supplier_list__user_unit", "supplier__supplier_list__category"
        ).order_by("-filed_at", "-id")[:50],
    })


# --- the regulator: referrals ----------------------------------------------------------------

def _referral_page(request, scope, *, form=None, failed=None, status=200):
    referrals = access.referrals_visible_to(request.user).select_related(
        "delivery__user_unit", "delivery__supplier", "delivery__producer",
        "delivery__category", "department").order_by("acknowledged_at", "-referred_at")
    return render(request, "procurement/referral_list.html", {
        "page": paginate(request, referrals), "form": form or ActionForm(), "failed": failed,
        "department_id": scope.org_id if scope.is_regulator else None,
    }, status=status)


@regulator_required
def referral_list(request, scope):
    return _referral_page(request, scope)


@regulator_required
def referral_acknowledge(request, pk, scope):
    referral = access.get_or_404(access.referrals_visible_to(request.user), pk)
    if request.method != "POST":
        return redirect("procurement:referral_list")
    form = ActionForm(request.POST)
    done = call_service(form, services.referral_acknowledge, actor=request.user,
                        referral_id=referral.pk)
    if done is not None:
        messages.success(request, _("Referral of delivery %(number)s acknowledged.") % {
            "number": done.delivery.number})
        return redirect("procurement:referral_list")
    return _referral_page(request, scope, form=form, failed=referral.pk)
