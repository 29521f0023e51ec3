"""Pages of capture without GS1 software, mounted at /work/traceability/
(docs/capture-without-gs1.md):

- the organisation's recent events, with a button per step (home);
- a page per step: the form builds the EPCIS event (steps.py) and captures it as the user
  (services.capture_document); every problem the store finds is shown on the field its
  JSON pointer names; success shows the stored event with its hash ID;
- CSV upload of many steps, captured as one document, problems by row and column;
- the party and location directory (places) and QR labels for a batch.

Who: enterprise and user-unit accounts and administrators record steps and keep places;
regulators read the events and the directory (403 on every write page); laboratories
capture through the EPCIS API (403 here); anyone not signed in goes to the login page.
"""

from __future__ import annotations

import functools
import re
from urllib.parse import quote

from django.contrib import messages
from django.contrib.auth.views import redirect_to_login
from django.core.exceptions import PermissionDenied
from django.http import Http404, HttpResponse
from django.shortcuts import redirect, render
from django.utils import timezone
from django.utils.translation import gettext as _

from zhijian.core.access import scope_of
from zhijian.registry.models import Product
from zhijian.web.common import call_service, window

from . import access, csvcapture, labels, place_services, services, steps
from .choices import PlaceKind
from .forms import (
    STEP_HELP,
    STEP_LABELS,
    LabelForm,
    PlaceForm,
    StepForm,
    UploadForm,
    product_suggestions,
)
from .models import Event, Place

WRITERS = ("enterprise", "user_unit")


def _guard(*, regulators_read: bool = False, roles=WRITERS):
    """Sign-in, then: the roles given and administrators; regulators only where they
    read; everyone else 403."""

    def decorate(view):
        @functools.wraps(view)
        def wrapper(request, *args, **kwargs):
            if not request.user.is_authenticated:
                return redirect_to_login(request.get_full_path())
            scope = scope_of(request.user)
            if scope.is_admin or scope.role in roles or (regulators_read
                                                          and scope.is_regulator):
                return view(request, *args, scope=scope, **kwargs)
            if scope.is_regulator:
                raise PermissionDenied(_("Regulators read traceability records; the firms "
                                         "record them."))
            raise PermissionDenied(_("These pages are for enterprises and user units."))

        return wrapper

    return decorate


def _can_write(scope) -> bool:
    return scope.is_admin or scope.role in WRITERS


def _steps_for(scope) -> list[tuple[str, str]]:
    return [(s, STEP_LABELS[s]) for s in steps.STEPS
            if not (s == "produce" and scope.role == "user_unit")]


# --- events ---------------------------------------------------------------------------------

def _event_rows(events: list[Event]) -> list[dict]:
    """Each event with its batches and quantities and the names of its places (one query
    for the names of all places on the page)."""
    named = set()
    for e in events:
        named.update(x for x in (e.biz_location,) if x)
        named.update(sd.identifier for sd in e.sources_dests.all())
    names = dict(Place.objects.filter(identifier__in=named).values_list("identifier", "name"))
    rows = []
    for e in events:
        step = e.biz_step.rsplit("BizStep-", 1)[-1]
        rows.append({
            "event": e, "step": step,
            "disposition": e.disposition.rsplit("Disp-", 1)[-1] if e.disposition else "",
            "batches": [(x.role, x.epc, x.quantity, x.uom) for x in e.epcs.all()],
            "location": names.get(e.biz_location, e.biz_location),
            "parties": [(sd.kind, names.get(sd.identifier, sd.identifier))
                        for sd in e.sources_dests.all()
                        if sd.type.endswith(("owning_party", "location"))],
        })
    return rows


@_guard(regulators_read=True)
def home(request, scope):
    qs = (access.events_visible_to(request.user).order_by("-id")
          .prefetch_related("epcs", "sources_dests"))
    page = window(request, qs)
    return render(request, "traceability/events_list.html", {
        "page": page, "rows": _event_rows(page.items), "can_write": _can_write(scope),
        "steps": _steps_for(scope), "help": STEP_HELP})


def _epcis_url(event: Event) -> str:
    return "/epcis/events/" + quote(event.event_id, safe="")


@_guard(regulators_read=True, roles=WRITERS)
def capture_detail(request, pk, scope):
    capture = access.capture_or_404(request.user, pk)
    events = list(capture.events.order_by("id").prefetch_related("epcs", "sources_dests"))
    rows = _event_rows(events)
    for row in rows:
        row["url"] = _epcis_url(row["event"])
    return render(request, "traceability/capture_done.html", {
        "capture": capture, "rows": rows, "can_write": _can_write(scope)})


# --- one step -------------------------------------------------------------------------------

def _problems_to_form(form: StepForm, problems) -> None:
    """Each problem on the field its pointer is about (once: readPoint and bizLocation
    name the same place)."""
    shown = set()
    for p in problems:
        tokens = [t.replace("~1", "/").replace("~0", "~") for t in p.pointer.split("/")[1:]]
        name = None
        if tokens[:3] == ["epcisBody", "eventList", "0"]:
            name = form.field_for(steps.field_of(form.event, tokens[3:]))
        text = services.message(p)
        if (name, text) not in shown:
            shown.add((name, text))
            form.add_error(name, text)


@_guard()
def capture(request, step, scope):
    if step not in steps.STEPS or (step == "produce" and scope.role == "user_unit"):
        raise Http404
    form = StepForm(request.POST or None, step=step, user=request.user)
    if request.method == "POST" and form.is_valid():
        doc = steps.document([form.event], created=timezone.now())
        try:
            done = services.capture_document(actor=request.user, raw=steps.encode(doc))
        except services.CaptureRefused as exc:
            _problems_to_form(form, exc.problems)
        else:
            if done.stored_count:
                messages.success(request, _("Recorded: %(step)s.") % {
                    "step": STEP_LABELS[step]})
            else:
                messages.info(request, _("This step was recorded before; nothing new was "
                                         "stored."))
            return redirect("traceability:capture_detail", pk=done.pk)
    return render(request, "traceability/capture_step.html", {
        "form": form, "step": step, "step_label": STEP_LABELS[step], "help": STEP_HELP[step],
        "steps": _steps_for(scope), "products": product_suggestions(request.user)})


# --- CSV ------------------------------------------------------------------------------------

@_guard()
def upload(request, scope):
    form = UploadForm(request.POST or None, request.FILES or None)
    problems = []
    if request.method == "POST" and form.is_valid():
        upload_file = form.cleaned_data["file"]
        if upload_file.size > csvcapture.MAX_BYTES:
            problems = [csvcapture.RowProblem(0, "", _(
                "The file is %(size)s bytes; the limit is %(limit)s bytes (%(rows)s rows). "
                "Split it into several files.") % {"size": upload_file.size,
                                                    "limit": csvcapture.MAX_BYTES,
                                                    "rows": csvcapture.MAX_ROWS})]
        else:
            try:
                done = csvcapture.capture(upload_file.read(), user=request.user)
            except csvcapture.CsvRefused as exc:
                problems = exc.problems
            else:
                messages.success(request, _(
                    "%(stored)s step(s) recorded from the file (%(duplicates)s recorded "
                    "before).") % {"stored": done.stored_count,
                                   "duplicates": done.duplicate_count})
                return redirect("traceability:capture_detail", pk=done.pk)
    return render(request, "traceability/capture_upload.html", {
        "form": form, "problems": problems, "columns": csvcapture.COLUMNS,
        "max_rows": csvcapture.MAX_ROWS, "max_bytes": csvcapture.MAX_BYTES,
        "status": 400 if problems else 200}, status=400 if problems else 200)


@_guard()
def upload_template(request, scope):
    response = HttpResponse(csvcapture.template(request.user),
                            content_type="text/csv; charset=utf-8")
    response["Content-Disposition"] = 'attachment; filename="trace-steps.csv"'
    return response


# --- places ---------------------------------------------------------------------------------

@_guard(regulators_read=True)
def place_list(request, scope):
    qs = access.places_visible_to(request.user).select_related("division").order_by(
        "kind", "name", "pk")
    kind = request.GET.get("kind", "")
    if kind in PlaceKind.values:
        qs = qs.filter(kind=kind)
    return render(request, "traceability/place_list.html", {
        "page": window(request, qs), "kind": kind, "kinds": PlaceKind.choices,
        "can_write": _can_write(scope),
        "own_party": place_services.own_party(request.user) if scope.role in WRITERS else ""})


@_guard()
def place_create(request, scope):
    form = PlaceForm(request.POST or None, initial={"public": False})
    if request.method == "POST" and form.is_valid():
        place = call_service(form, place_services.place_create, actor=request.user,
                             data=form.service_data())
        if place is not None:
            messages.success(request, _("%(name)s is in the directory as %(identifier)s.") % {
                "name": place.name, "identifier": place.identifier})
            return redirect("traceability:place_list")
    return render(request, "traceability/place_form.html", {
        "form": form, "title": _("Register a place"), "submit": _("Register"),
        "place": None})


@_guard()
def place_edit(request, pk, scope):
    place = access.place_for_change(request.user, pk)
    form = PlaceForm(request.POST or None, place=place)
    if request.method == "POST" and form.is_valid():
        done = call_service(form, place_services.place_update, actor=request.user,
                            place_id=place.pk, data=form.service_data())
        if done is not None:
            messages.success(request, _("%(name)s was changed.") % {"name": done.name})
            return redirect("traceability:place_list")
    return render(request, "traceability/place_form.html", {
        "form": form, "title": _("Change a place"), "submit": _("Save changes"),
        "place": place})


# --- labels ---------------------------------------------------------------------------------

def _label_products(scope):
    qs = Product.objects.exclude(gtin="").select_related("entity")
    if scope.role == "enterprise":
        return qs.filter(entity_id=scope.org_id).order_by("name", "pk")
    return qs.order_by("entity__name", "name", "pk") if scope.is_admin else qs.none()


@_guard(roles=("enterprise",))
def label_form(request, scope):
    form = LabelForm(request.POST or None, products=_label_products(scope))
    if request.method == "POST" and form.is_valid():
        d = form.cleaned_data
        sheet = labels.sheet(product=d["product"], lot=d["lot"], quantity=d["quantity"],
                             unit=d["unit"], count=d["count"])
        if d["fmt"] == "pdf":
            response = HttpResponse(labels.render_pdf(sheet), content_type="application/pdf")
            name = re.sub(r"[^A-Za-z0-9._-]", "_", sheet.lot)
            response["Content-Disposition"] = f'inline; filename="labels-{sheet.gtin}-{name}.pdf"'
            return response
        return HttpResponse(labels.render_html(sheet, printable=True))
    return render(request, "traceability/label_form.html", {"form": form})
