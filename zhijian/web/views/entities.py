"""Market entities in the regulator workbench: search, detail with history, register,
change, CSV import, and products with their declared standards."""

from __future__ import annotations

import csv
import io

from django.contrib import messages
from django.core.exceptions import PermissionDenied
from django.db.models import Prefetch
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.translation import gettext as _

from zhijian.core.divisions import prefix as division_prefix
from zhijian.registry import access, services
from zhijian.registry.models import MarketEntity, ProductCategory, Standard

from ..common import call_service, changed_values, history_rows, paginate, regulator_required
from ..forms import (
    EntityEditForm,
    EntityFilterForm,
    EntityForm,
    ImportForm,
    ProductEditForm,
    ProductForm,
)

MAX_ERRORS_SHOWN = 500


def entity_queryset(request, scope):
    form = EntityFilterForm(request.GET or None, scope=scope)
    # the credit class: the credit rating's, or the initial one before any rating
    qs = access.entities_visible_to(request.user).with_credit_class()
    if form.is_valid():
        d = form.cleaned_data
        if d["q"]:
            qs = qs.search(d["q"])
        if d["division"]:
            qs = qs.in_division(division_prefix(d["division"]))
        if d["category"]:
            codes = ProductCategory.objects.expand([d["category"]])
            qs = qs.filter(pk__in=MarketEntity.objects.filter(categories__code__in=codes)
                           .values("pk"))
        if d["status"]:
            qs = qs.filter(status=d["status"])
        if d["risk_class"]:
            qs = qs.filter(credit_class=d["risk_class"])
    qs = qs.select_related("division").prefetch_related(
        Prefetch("categories", queryset=ProductCategory.objects.only("code", "name", "name_en")))
    return form, qs.order_by("uscc")


@regulator_required
def entity_list(request, scope):
    form, qs = entity_queryset(request, scope)
    return render(request, "web/entity_list.html", {"form": form, "page": paginate(request, qs)})


@regulator_required
def entity_detail(request, pk, scope):
    entity = access.get_or_404(
        access.entities_visible_to(request.user).with_credit_class()
        .select_related("division").prefetch_related("categories"), pk)
    products = (access.products_visible_to(request.user).filter(entity=entity)
                .select_related("category").prefetch_related("standards"))
    return render(request, "web/entity_detail.html", {
        "entity": entity,
        "products": products,
        "history": history_rows(entity),
        "can_edit": access.can_edit_entity(request.user, entity),
    })


@regulator_required
def entity_create(request, scope):
    form = EntityForm(request.POST or None, scope=scope)
    if request.method == "POST" and form.is_valid():
        data = {k: v for k, v in form.cleaned_data.items() if v is not None}
        entity = call_service(form, services.entity_register, actor=request.user, data=data)
        if entity is not None:
            messages.success(request, _("Market entity %(name)s registered.") % {"name": entity.name})
            return redirect("web:entity_detail", pk=entity.pk)
    return render(request, "web/form.html", {
        "form": form, "title": _("Register a market entity"), "cancel": reverse("web:entity_list"),
        "submit": _("Register"),
    })


@regulator_required
def entity_edit(request, pk, scope):
    entity = access.get_or_404(access.entities_visible_to(request.user), pk)
    if not access.can_edit_entity(request.user, entity):
        raise PermissionDenied(_("You cannot change this entity."))
    form = EntityEditForm(request.POST or None, instance=entity, scope=scope)
    if request.method == "POST" and form.is_valid():
        data = changed_values(form)
        if not data:
            messages.info(request, _("Nothing was changed."))
            return redirect("web:entity_detail", pk=pk)
        saved = call_service(form, services.entity_update, actor=request.user, entity_id=pk,
                             data=data, reason=form.cleaned_data["reason"])
        if saved is not None:
            messages.success(request, _("Changes saved and recorded in the audit log."))
            return redirect("web:entity_detail", pk=pk)
    return render(request, "web/form.html", {
        "form": form, "title": _("Change %(name)s") % {"name": entity.name},
        "cancel": reverse("web:entity_detail", args=[pk]), "submit": _("Save changes"),
    })


@regulator_required
def product_create(request, pk, scope):
    entity = access.get_or_404(access.entities_visible_to(request.user), pk)
    if not access.can_edit_entity(request.user, entity):
        raise PermissionDenied(_("You cannot add products to this entity."))
    form = ProductForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        data = dict(form.cleaned_data, entity=entity)
        product = call_service(form, services.product_register, actor=request.user, data=data)
        if product is not None:
            messages.success(request, _("Product %(name)s added.") % {"name": product.name})
            return redirect("web:entity_detail", pk=pk)
    return render(request, "web/form.html", {
        "form": form, "title": _("Add a product of %(name)s") % {"name": entity.name},
        "cancel": reverse("web:entity_detail", args=[pk]), "submit": _("Add product"),
        "standard_codes": Standard.objects.values_list("code", flat=True)[:1000],
    })


@regulator_required
def product_edit(request, pk, product_pk, scope):
    product = access.get_or_404(
        access.products_visible_to(request.user).filter(entity_id=pk).select_related("entity"),
        product_pk)
    if not access.can_edit_entity(request.user, product.entity):
        raise PermissionDenied(_("You cannot change this product."))
    form = ProductEditForm(request.POST or None, instance=product)
    if request.method == "POST" and form.is_valid():
        data = changed_values(form)
        if not data:
            return redirect("web:entity_detail", pk=pk)
        saved = call_service(form, services.product_update, actor=request.user,
                             product_id=product.pk, data=data,
                             reason=form.cleaned_data["reason"])
        if saved is not None:
            messages.success(request, _("Changes saved and recorded in the audit log."))
            return redirect("web:entity_detail", pk=pk)
    return render(request, "web/form.html", {
        "form": form, "title": _("Change product %(name)s") % {"name": product.name},
        "cancel": reverse("web:entity_detail", args=[pk]), "submit": _("Save changes"),
    })


@regulator_required
def entity_import(request, scope):
    form = ImportForm(request.POST or None, request.FILES or None)
    report = None
    if request.method == "POST" and form.is_valid():
        try:
            text = form.cleaned_data["file"].read().decode("utf-8-sig")
        except UnicodeDecodeError:
            form.add_error("file", _("The file is not UTF-8 text. Save it as CSV UTF-8."))
        else:
            reader = csv.DictReader(io.StringIO(text))
            missing = services.REQUIRED_COLUMNS - set(reader.fieldnames or [])
            if missing:
                form.add_error("file", _("Missing columns: %(cols)s.")
                               % {"cols": ", ".join(sorted(missing))})
            else:
                report = call_service(form, services.entities_import, actor=request.user,
                                      rows=reader)
                if report is not None and report.ok and report.created:
                    messages.success(request, _("%(n)s market entities imported.")
                                     % {"n": report.created})
                    return redirect("web:entity_list")
                if report is not None and not report.total:
                    form.add_error("file", _("The file has no data rows."))
    return render(request, "web/entity_import.html", {
        "form": form,
        "report": report,
        "errors": report.errors[:MAX_ERRORS_SHOWN] if report else [],
        "columns": services.IMPORT_COLUMNS,
        "required": sorted(services.REQUIRED_COLUMNS),
    })
