"""The organisation workspace: an enterprise, a lab or a user unit sees and edits its own
record (only the fields access.py leaves to it) and an enterprise its products."""

from __future__ import annotations

from django.contrib import messages
from django.core.exceptions import PermissionDenied
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.translation import gettext as _

from zhijian.registry import access, services

from ..common import call_service, changed_values, history_rows, org_required
from ..forms import EntitySelfForm, LabSelfForm, ProductEditForm, ProductForm, UserUnitSelfForm
from .registers import standard_codes


def _history(user, obj):
    return history_rows(obj) if access.can_see_history(user, obj) else []


def _own_entity(request, scope):
    return access.get_or_404(
        access.entities_visible_to(request.user).with_credit_class()
        .select_related("division").prefetch_related("categories"), scope.org_id)


def _own_lab(request, scope):
    return access.get_or_404(access.labs_visible_to(request.user).select_related("division"),
                             scope.org_id)


def _own_unit(request, scope):
    return access.get_or_404(access.user_units_visible_to(request.user)
                             .select_related("division").prefetch_related("categories"),
                             scope.org_id)


@org_required
def org_home(request, scope):
    user = request.user
    if scope.role == "enterprise":
        entity = _own_entity(request, scope)
        products = (access.products_visible_to(user).filter(entity=entity)
                    .select_related("category").prefetch_related("standards"))
        from zhijian.credit.choices import CommitmentStatus
        from zhijian.credit.models import Commitment

        commitment = (Commitment.objects.filter(entity=entity, status=CommitmentStatus.IN_FORCE)
                      .order_by("-signed_at").first())
        return render(request, "web/org/enterprise.html", {
            "entity": entity, "products": products, "history": _history(user, entity),
            "commitment": commitment,
        })
    if scope.role == "lab":
        lab = _own_lab(request, scope)
        scopes = access.scopes_visible_to(user).filter(lab=lab).select_related("standard")
        return render(request, "web/org/lab.html", {
            "lab": lab, "scopes": scopes, "history": _history(user, lab),
        })
    unit = _own_unit(request, scope)
    return render(request, "web/org/unit.html", {"unit": unit, "history": _history(user, unit)})


@org_required
def org_edit(request, scope):
    user = request.user
    if scope.role == "enterprise":
        obj = _own_entity(request, scope)
        form_class, service, id_kw = EntitySelfForm, services.entity_update, "entity_id"
    elif scope.role == "lab":
        obj = _own_lab(request, scope)
        form_class, service, id_kw = LabSelfForm, services.lab_update, "lab_id"
    else:
        obj = _own_unit(request, scope)
        form_class, service, id_kw = UserUnitSelfForm, services.user_unit_update, "unit_id"
    form = form_class(request.POST or None, instance=obj)
    if request.method == "POST" and form.is_valid():
        data = changed_values(form)
        if not data:
            messages.info(request, _("Nothing was changed."))
            return redirect("web:org_home")
        saved = call_service(form, service, actor=user, data=data,
                             reason=form.cleaned_data.get("reason", ""), **{id_kw: obj.pk})
        if saved is not None:
            messages.success(request, _("Changes saved and recorded in the audit log."))
            return redirect("web:org_home")
    return render(request, "web/form.html", {
        "form": form, "title": _("Change the record of %(name)s") % {"name": obj.name},
        "cancel": reverse("web:org_home"), "submit": _("Save changes"),
    })


@org_required
def org_product_create(request, scope):
    if scope.role != "enterprise":
        raise PermissionDenied(_("Only enterprises declare products."))
    entity = _own_entity(request, scope)
    form = ProductForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        data = dict(form.cleaned_data, entity=entity)
        product = call_service(form, services.product_register, actor=request.user, data=data)
        if product is not None:
            messages.success(request, _("Product %(name)s added.") % {"name": product.name})
            return redirect("web:org_home")
    return render(request, "web/form.html", {
        "form": form, "title": _("Add a product"), "cancel": reverse("web:org_home"),
        "submit": _("Add product"), "standard_codes": standard_codes(),
    })


@org_required
def org_product_edit(request, product_pk, scope):
    if scope.role != "enterprise":
        raise PermissionDenied(_("Only enterprises declare products."))
    product = access.get_or_404(access.products_visible_to(request.user), product_pk)
    form = ProductEditForm(request.POST or None, instance=product)
    if request.method == "POST" and form.is_valid():
        data = changed_values(form)
        if not data:
            return redirect("web:org_home")
        saved = call_service(form, services.product_update, actor=request.user,
                             product_id=product.pk, data=data,
                             reason=form.cleaned_data["reason"])
        if saved is not None:
            messages.success(request, _("Changes saved and recorded in the audit log."))
            return redirect("web:org_home")
    return render(request, "web/form.html", {
        "form": form, "title": _("Change product %(name)s") % {"name": product.name},
        "cancel": reverse("web:org_home"), "submit": _("Save changes"),
        "standard_codes": standard_codes(),
    })
