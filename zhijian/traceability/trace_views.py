"""Trace pages for regulators, mounted at /work/trace/ (trace_urls.py; docs/trace.md).

- /work/trace/: the form: a batch (GTIN + lot), an identifier (EPC URN, GS1 Digital Link)
  or a delivery (note number or id), and the direction.
- /work/trace/result?...: the graph (inline SVG: inputs and makers on the left, the start
  in the middle, holders and installation sites on the right), the steps with each event's
  hash ID and the audit entry of its capture, the stops with tiers, the nodes and the test
  reports covering each batch.
- /work/trace/result.xlsx and result.csv (?sheet=steps|stops|nodes|reports|proofs): the
  same tables as a spreadsheet to sort and filter.

Administrators and regulators trace (access.tracer); for everyone else these pages do not
exist (404). A trace reads the whole store and writes nothing.
"""

from __future__ import annotations

import csv
import io
from dataclasses import dataclass, field
from urllib.parse import urlencode

from django import forms
from django.contrib.auth.views import redirect_to_login
from django.http import HttpResponse
from django.shortcuts import render
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from zhijian.core.models import AuditEntry
from zhijian.web.forms import BootstrapMixin

from . import access, tracing
from .identifiers import gs1_check_digit
from .models import Capture, Place
from .trace import identifier_parts

MAX_LOT = 60
#: Boxes per column of the graph; the rest are counted in a last box.
GRAPH_COLUMN_MAX = 30
#: Rows of each table the page shows; the spreadsheet has them all.
PAGE_ROWS = 1000
SHEETS = ("steps", "stops", "nodes", "reports", "proofs")

DIRECTIONS = (
    ("both", gettext_lazy("Backward and forward")),
    ("backward", gettext_lazy("Backward: inputs and makers")),
    ("forward", gettext_lazy("Forward: holders and installation sites")),
)
STOP_KINDS = {
    "shipped_to": gettext_lazy("Shipped to"),
    "received": gettext_lazy("Received"),
    "installed": gettext_lazy("Installed"),
    "held": gettext_lazy("Held"),
}
SIDES = {
    "start": gettext_lazy("Start"),
    "backward": gettext_lazy("Input"),
    "forward": gettext_lazy("Downstream"),
}
NODE_KINDS = {
    "batch": gettext_lazy("Batch"),
    "instance": gettext_lazy("Serial number"),
    "container": gettext_lazy("Container"),
    "class": gettext_lazy("Product (GTIN)"),
    "other": gettext_lazy("Other identifier"),
}


# --- the form --------------------------------------------------------------------------------

class TraceForm(BootstrapMixin, forms.Form):
    """Where a trace starts: exactly one of an identifier, a GTIN with its lot, or a
    delivery."""

    identifier = forms.CharField(
        label=gettext_lazy("Identifier"), required=False, max_length=1024,
        help_text=gettext_lazy("An EPC URN (urn:epc:id:sgtin:…, urn:epc:class:lgtin:…) or a "
                               "GS1 Digital Link such as https://id.gs1.org/01/…/10/…"))
    gtin = forms.CharField(label=gettext_lazy("GTIN"), required=False, max_length=14,
                           help_text=gettext_lazy("13 or 14 digits, with its lot below."))
    lot = forms.CharField(label=gettext_lazy("Lot (batch number)"), required=False,
                          max_length=MAX_LOT)
    delivery = forms.CharField(
        label=gettext_lazy("Delivery"), required=False, max_length=40,
        help_text=gettext_lazy("A delivery note number, or the number in the address of a "
                               "delivery's page."))
    delivery_id = forms.IntegerField(required=False, min_value=1, widget=forms.HiddenInput)
    direction = forms.ChoiceField(label=gettext_lazy("Direction"), choices=DIRECTIONS,
                                  required=False, initial="both")

    def clean(self):
        data = super().clean()
        ident = (data.get("identifier") or "").strip()
        gtin = (data.get("gtin") or "").strip()
        lot = (data.get("lot") or "").strip()
        delivery = (data.get("delivery") or "").strip()
        delivery_id = data.get("delivery_id")
        data["direction"] = data.get("direction") or "both"
        given = [bool(ident), bool(gtin or lot), bool(delivery or delivery_id)]
        self.start: list[str] = []
        self.delivery_obj = None
        if self.errors:
            return data
        if sum(given) == 0:
            raise forms.ValidationError(_(
                "Give where the trace starts: an identifier, a GTIN with its lot, or a "
                "delivery."), code="required")
        if sum(given) > 1:
            raise forms.ValidationError(_(
                "Give only one of: an identifier, a GTIN with its lot, or a delivery."),
                code="several")
        if ident:
            try:
                self.start = [tracing.canonical(ident)]
            except ValueError as exc:
                self.add_error("identifier", str(exc))
        elif gtin or lot:
            if not gtin:
                self.add_error("gtin", _("Give the GTIN of the product this lot is of."))
            elif not (gtin.isdigit() and len(gtin) in (13, 14)
                      and gs1_check_digit(gtin[:-1]) == gtin[-1]):
                self.add_error("gtin", _(
                    "%(value)s is not a GTIN: write its 13 or 14 digits, the last being the "
                    "check digit.") % {"value": gtin})
            if not lot:
                self.add_error("lot", _("Give the lot (batch number) to trace."))
            if not self.errors:
                self.start = [tracing.batch_identifier(gtin, lot)]
        else:
            self._delivery(delivery, delivery_id)
        return data

    def _delivery(self, text: str, pk: int | None) -> None:
        from zhijian.procurement.models import Delivery

        deliveries = Delivery.objects.select_related("product", "user_unit")
        if pk is not None:
            text = str(pk)
            found = list(deliveries.filter(pk=pk))
        else:
            found = list(deliveries.filter(number=text)[:5])
            if not found and text.isdigit() and len(text) < 19:
                found = list(deliveries.filter(pk=int(text)))
        if not found:
            self.add_error("delivery", _("No delivery has the note number or number %(value)s.")
                           % {"value": text})
            return
        if len(found) > 1:
            self.add_error("delivery", _(
                "Several user units recorded a delivery with note number %(value)s: open the "
                "delivery's page and follow its Trace link, or give the number in its "
                "address.") % {"value": text})
            return
        delivery = found[0]
        start = tracing.delivery_start(delivery)
        if not start:
            self.add_error("delivery", _(
                "Delivery %(value)s names no registered product with a GTIN, so its batch has "
                "no identifier to trace. Trace by GTIN and lot instead.") % {"value": text})
            return
        self.delivery_obj = delivery
        self.start = start


# --- what the tables show -------------------------------------------------------------------

@dataclass
class Info:
    """Names and proofs for a trace result (a few queries, whatever its size)."""

    products: dict[str, object] = field(default_factory=dict)  # GTIN-14 -> Product
    orgs: dict[str, str] = field(default_factory=dict)  # org key -> name
    captures: dict[int, Capture] = field(default_factory=dict)
    proofs: dict[int, AuditEntry] = field(default_factory=dict)  # capture pk -> entry
    reports: dict[str, list] = field(default_factory=dict)  # batch identifier -> reports
    divisions: dict[str, str] = field(default_factory=dict)  # code -> "code name"


def describe(result: tracing.TraceResult) -> Info:
    from zhijian.registry.models import Lab, MarketEntity, Product, UserUnit

    info = Info()
    gtins = {n.gtin for n in result.nodes.values() if n.gtin}
    keys = gtins | {g[1:] for g in gtins if g.startswith("0")}
    for part in tracing.chunks(sorted(keys)):
        for product in Product.objects.filter(gtin__in=part).select_related(
                "entity").order_by("gtin", "pk"):
            info.products.setdefault(product.gtin.zfill(14), product)
    orgs = {s.org for s in result.steps if s.org}
    by_role: dict[str, set[int]] = {"enterprise": set(), "user_unit": set(), "lab": set()}
    for org in orgs:
        role, _c, pk = org.partition(":")
        if role in by_role and pk.isdigit():
            by_role[role].add(int(pk))
    # IN lists in chunks: SQLite takes fewer than 1,000 parameters per query.
    for role, model in (("enterprise", MarketEntity), ("user_unit", UserUnit), ("lab", Lab)):
        for part in tracing.chunks(sorted(by_role[role])):
            for pk, name in model.objects.filter(pk__in=part).values_list("pk", "name"):
                info.orgs[f"{role}:{pk}"] = name
    capture_ids = sorted({s.capture for s in result.steps})
    for part in tracing.chunks(capture_ids):
        info.captures.update(Capture.objects.in_bulk(part))
        for entry in AuditEntry.objects.filter(
                object_type="traceability.capture", action="epcis.captured",
                object_id__in=[str(c) for c in part]).order_by("seq"):
            info.proofs.setdefault(int(entry.object_id), entry)
    info.reports = tracing.batch_reports(result)
    codes = sorted({p.division_id for p in result.places.values() if p.division_id})
    if codes:
        from zhijian.core.models import Division

        for part in tracing.chunks(codes):
            info.divisions.update({code: f"{code} {name}" for code, name in Division.objects
                                   .filter(code__in=part).values_list("code", "name")})
    return info


def node_label(ident: str, info: Info) -> str:
    kind, gtin, lot, serial = identifier_parts(ident)
    product = info.products.get(gtin)
    name = product.name if product is not None else (f"GTIN {gtin}" if gtin else "")
    if kind == "batch":
        return f"{name} · {_('lot')} {lot}"
    if kind == "instance":
        return f"{name} · {_('serial')} {serial}"
    if kind == "class":
        return name
    if kind == "container":
        return f"SSCC {ident.rsplit('/', 1)[-1]}"
    return ident


def place_label(ident: str, places: dict[str, Place]) -> str:
    place = places.get(ident)
    return place.name if place is not None else ident


def org_label(org: str, info: Info) -> str:
    if not org:
        return _("Administrator")
    return info.orgs.get(org, org)


def _local(moment) -> str:
    return timezone.localtime(moment).strftime("%Y-%m-%d %H:%M:%S")


def _amount(value) -> str:
    if value is None:
        return ""
    return f"{value:g}" if float(value) != int(value) else str(int(value))


def step_rows(result: tracing.TraceResult, info: Info) -> list[dict]:
    rows = []
    places = result.places
    for s in result.steps:
        proof = info.proofs.get(s.capture)
        rows.append({
            "time": _local(s.time), "step": s.biz_step, "type": s.type, "action": s.action,
            "identifier": s.identifier, "goods": node_label(s.identifier, info),
            "role": s.role, "quantity": s.quantity, "quantity_text": _amount(s.quantity),
            "uom": s.uom,
            "from": "; ".join(dict.fromkeys(place_label(i, places) for _t, i in s.sources)),
            "to": "; ".join(dict.fromkeys(place_label(i, places) for _t, i in s.destinations)),
            "location": place_label(s.location, places) if s.location else "",
            "location_id": s.location, "capturer": org_label(s.org, info),
            "hash_id": s.hash_id, "event_id": s.event_id, "event": s.event,
            "capture": s.capture, "audit_seq": proof.seq if proof else None,
            "audit_hash": proof.hash if proof else "",
        })
    return rows


def stop_rows(result: tracing.TraceResult, info: Info) -> list[dict]:
    rows = []
    places = result.places
    for st in result.stops:
        place = places.get(st.place)
        holder = places.get(st.party) if st.party else None
        rows.append({
            "tier": st.tier, "kind": st.kind, "kind_label": str(STOP_KINDS[st.kind]),
            "identifier": st.identifier, "goods": node_label(st.identifier, info),
            "place": st.place, "place_name": place.name if place else "",
            "place_kind": place.get_kind_display() if place else "",
            "division": info.divisions.get(place.division_id, "") if place else "",
            "party": st.party, "holder": (holder.name if holder else ""),
            "quantity": st.quantity, "quantity_text": _amount(st.quantity), "uom": st.uom,
            "time": _local(st.time), "event": st.event,
        })
    return rows


def node_rows(result: tracing.TraceResult, info: Info) -> list[dict]:
    order = {"backward": 0, "start": 1, "forward": 2}
    rows = []
    for n in sorted(result.nodes.values(),
                    key=lambda n: (order[n.side], -n.depth if n.side == "backward" else n.depth,
                                   n.identifier)):
        product = info.products.get(n.gtin)
        rows.append({
            "identifier": n.identifier, "kind": n.kind, "kind_label": str(NODE_KINDS[n.kind]),
            "side": n.side, "side_label": str(SIDES[n.side]), "depth": n.depth,
            "gtin": n.gtin, "lot": n.lot, "serial": n.serial,
            "product": product.name if product else "",
            "maker": product.entity.name if product else "",
            "reports": len(info.reports.get(n.identifier, ())),
        })
    return rows


def report_rows(result: tracing.TraceResult, info: Info, request) -> list[dict]:
    rows = []
    for ident in sorted(info.reports):
        for report in info.reports[ident]:
            rows.append({
                "identifier": ident, "goods": node_label(ident, info),
                "number": report.number, "lab": report.lab.name,
                "producer": report.producer.name,
                "conclusion": report.get_conclusion_display(), "status": report.status,
                "status_label": report.get_status_display(),
                "issued_on": report.issued_on.isoformat() if report.issued_on else "",
                "verify_url": request.build_absolute_uri(
                    reverse("portal:report_detail", args=[report.number])),
            })
    return rows


def proof_rows(info: Info) -> list[dict]:
    rows = []
    for pk in sorted(info.captures):
        capture = info.captures[pk]
        entry = info.proofs.get(pk)
        rows.append({
            "capture": pk, "document_sha256": capture.document_sha256,
            "hashes_digest": capture.hashes_digest, "events": capture.stored_count,
            "audit_seq": entry.seq if entry else None,
            "prev_hash": entry.prev_hash if entry else "",
            "audit_hash": entry.hash if entry else "",
            "body": entry.body if entry else "",
        })
    return rows


def columns() -> dict[str, list[tuple[str, str]]]:
    """Sheet -> (key, translated header) of the spreadsheet columns."""
    return {
        "steps": [("time", _("Time")), ("step", _("Business step")), ("type", _("Event type")),
                  ("action", _("Action")), ("goods", _("Goods")),
                  ("identifier", _("Identifier")), ("role", _("Role")),
                  ("quantity", _("Quantity")), ("uom", _("Unit")), ("from", _("From")),
                  ("to", _("To")), ("location", _("Location")), ("capturer", _("Recorded by")),
                  ("hash_id", _("Event hash ID")), ("event_id", _("Event ID")),
                  ("capture", _("Capture")), ("audit_seq", _("Audit entry")),
                  ("audit_hash", _("Audit entry hash"))],
        "stops": [("tier", _("Tier")), ("kind_label", _("How")), ("goods", _("Goods")),
                  ("identifier", _("Identifier")), ("place_name", _("Place")),
                  ("place", _("Place identifier")), ("place_kind", _("Kind of place")),
                  ("division", _("Division")), ("holder", _("Holder")),
                  ("party", _("Holder identifier")), ("quantity", _("Quantity")),
                  ("uom", _("Unit")), ("time", _("Latest event time"))],
        "nodes": [("side_label", _("Side")), ("depth", _("Hops from the start")),
                  ("kind_label", _("Kind")), ("product", _("Product")), ("maker", _("Maker")),
                  ("gtin", _("GTIN")), ("lot", _("Lot")), ("serial", _("Serial number")),
                  ("identifier", _("Identifier")), ("reports", _("Test reports"))],
        "reports": [("goods", _("Batch")), ("identifier", _("Identifier")),
                    ("number", _("Report number")), ("lab", _("Laboratory")),
                    ("producer", _("Producer")), ("conclusion", _("Conclusion")),
                    ("status_label", _("Status")), ("issued_on", _("Issued on")),
                    ("verify_url", _("Verification page"))],
        "proofs": [("capture", _("Capture")), ("document_sha256", _("SHA-256 of the document")),
                   ("hashes_digest", _("Digest of the event hash IDs")),
                   ("events", _("Events stored")), ("audit_seq", _("Audit entry")),
                   ("prev_hash", _("Previous entry hash")), ("audit_hash", _("Audit entry hash")),
                   ("body", _("Audit entry (canonical JSON)"))],
    }


def sheet_titles() -> dict[str, str]:
    return {"steps": _("Steps"), "stops": _("Where it went"), "nodes": _("Goods"),
            "reports": _("Test reports"), "proofs": _("Audit proofs")}


def tables(result, info, request) -> dict[str, list[dict]]:
    return {"steps": step_rows(result, info), "stops": stop_rows(result, info),
            "nodes": node_rows(result, info), "reports": report_rows(result, info, request),
            "proofs": proof_rows(info)}


# --- the graph ------------------------------------------------------------------------------

BOX_W, BOX_H, GAP_X, GAP_Y, TOP = 210, 46, 56, 12, 34


def graph(result: tracing.TraceResult, info: Info) -> dict:
    """The layout of the inline SVG: one column per hop backward (farthest left), the start,
    one per hop forward, then one per tier of the places the goods reached."""
    columns_: dict[tuple[int, int], list[dict]] = {}
    back = max((n.depth for n in result.nodes.values() if n.side == "backward"), default=0)
    fwd = max((n.depth for n in result.nodes.values() if n.side == "forward"), default=0)
    titles = {}
    for d in range(back, 0, -1):
        titles[(0, back - d)] = _("Inputs, %(hops)s hop(s) back") % {"hops": d}
    titles[(0, back)] = _("Start")
    for d in range(1, fwd + 1):
        titles[(0, back + d)] = _("Downstream, %(hops)s hop(s)") % {"hops": d}
    for n in sorted(result.nodes.values(), key=lambda n: n.identifier):
        col = back - n.depth if n.side == "backward" else back + n.depth
        product = info.products.get(n.gtin)
        sub = product.entity.name if product is not None else NODE_KINDS[n.kind]
        columns_.setdefault((0, col), []).append({
            "id": n.identifier, "label": node_label(n.identifier, info), "sub": str(sub),
            "cls": f"zj-node-{n.side}"})
    place_tier: dict[str, int] = {}
    for st in result.stops:
        place_tier[st.place] = min(st.tier, place_tier.get(st.place, st.tier))
    for place, tier in sorted(place_tier.items()):
        p = result.places.get(place)
        installed = p is not None and p.kind in ("station", "building")
        columns_.setdefault((1, tier), []).append({
            "id": place, "label": place_label(place, result.places),
            "sub": str(p.get_kind_display()) if p is not None else _("Place"),
            "cls": "zj-place-site" if installed else "zj-place"})
        titles[(1, tier)] = _("Tier %(tier)s") % {"tier": tier}
    boxes, where, heads = [], {}, []
    for x_index, key in enumerate(sorted(columns_)):
        items = columns_[key]
        x = 10 + x_index * (BOX_W + GAP_X)
        heads.append({"x": x, "text": titles.get(key, "")})
        shown = items[:GRAPH_COLUMN_MAX]
        for row, item in enumerate(shown):
            y = TOP + row * (BOX_H + GAP_Y)
            box = item | {"x": x, "y": y, "tx": x + 8, "ty1": y + 18, "ty2": y + 36,
                          "short": _truncate(item["label"], 30),
                          "short_sub": _truncate(item["sub"], 34)}
            boxes.append(box)
            where.setdefault(item["id"], box)
        if len(items) > len(shown):
            y = TOP + len(shown) * (BOX_H + GAP_Y)
            boxes.append({"id": "", "x": x, "y": y, "tx": x + 8, "ty1": y + 28, "ty2": y + 28,
                          "short": _("and %(n)s more") % {"n": len(items) - len(shown)},
                          "short_sub": "", "label": "", "sub": "", "cls": "zj-more"})
    edges = []
    seen = set()

    def edge(a: str, b: str, cls: str) -> None:
        if a in where and b in where and (a, b) not in seen:
            seen.add((a, b))
            sa, sb = where[a], where[b]
            x1, x2 = sa["x"] + BOX_W, sb["x"]
            if x2 <= x1:  # same column (a container among the start identifiers)
                x1, x2 = sa["x"] + BOX_W // 2, sb["x"] + BOX_W // 2
            edges.append({"x1": x1, "y1": sa["y"] + BOX_H // 2, "x2": x2,
                          "y2": sb["y"] + BOX_H // 2, "cls": cls})

    for lk in result.links:
        edge(lk.src, lk.dst, "zj-edge")
    for st in result.stops:
        edge(st.identifier, st.place, "zj-edge-stop")
    height = TOP + max((len(v[:GRAPH_COLUMN_MAX]) + 1 for v in columns_.values()),
                       default=1) * (BOX_H + GAP_Y)
    return {"boxes": boxes, "edges": edges, "heads": heads, "width": 20 + len(columns_) *
            (BOX_W + GAP_X), "height": height, "box_w": BOX_W, "box_h": BOX_H}


def _truncate(text: str, n: int) -> str:
    return text if len(text) <= n else text[:n - 1] + "…"


# --- views ----------------------------------------------------------------------------------

def _tracer(request):
    """None when the user may trace; else the response (login for anonymous users, 404)."""
    if not request.user.is_authenticated:
        return redirect_to_login(request.get_full_path())
    access.tracer(request.user)
    return None


def trace_form(request):
    denied = _tracer(request)
    if denied is not None:
        return denied
    return render(request, "traceability/trace_form.html", {"form": TraceForm()})


def _traced(request):
    form = TraceForm(request.GET)
    if not form.is_valid():
        return form, None
    return form, tracing.trace(start=form.start, direction=form.cleaned_data["direction"])


def _query(form) -> str:
    data = {k: v for k, v in form.data.items() if k in form.fields and v}
    return urlencode(data)


def trace_result(request):
    denied = _tracer(request)
    if denied is not None:
        return denied
    form, result = _traced(request)
    if result is None:
        return render(request, "traceability/trace_form.html", {"form": form}, status=400)
    info = describe(result)
    data = tables(result, info, request)
    query = _query(form)
    shown = {k: v[:PAGE_ROWS] for k, v in data.items()}
    return render(request, "traceability/trace_result.html", {
        "form": form, "result": result, "info": info, "tables": shown, "graph": graph(result, info),
        "cut": {k: len(v) for k, v in data.items() if len(v) > PAGE_ROWS},
        "page_rows": PAGE_ROWS,
        "query": query, "direction": form.cleaned_data["direction"],
        "delivery": form.delivery_obj, "sheets": SHEETS, "titles": sheet_titles(),
        "start_labels": [(s, node_label(s, info)) for s in result.start],
        "installed": sum(1 for s in result.stops if s.kind == "installed"),
    })


def trace_export(request, fmt: str):
    denied = _tracer(request)
    if denied is not None:
        return denied
    form, result = _traced(request)
    if result is None:
        return render(request, "traceability/trace_form.html", {"form": form}, status=400)
    info = describe(result)
    data = tables(result, info, request)
    cols = columns()
    stamp = timezone.localtime().strftime("%Y%m%d-%H%M%S")
    if fmt == "csv":
        sheet = request.GET.get("sheet") or "steps"
        if sheet not in SHEETS:
            sheet = "steps"
        buffer = io.StringIO()
        buffer.write("\ufeff")  # so that spreadsheet programs read UTF-8
        writer = csv.writer(buffer)
        writer.writerow([header for _k, header in cols[sheet]])
        for row in data[sheet]:
            writer.writerow(["" if row[k] is None else row[k] for k, _h in cols[sheet]])
        response = HttpResponse(buffer.getvalue(), content_type="text/csv; charset=utf-8")
        response["Content-Disposition"] = f'attachment; filename="trace-{sheet}-{stamp}.csv"'
        return response
    response = HttpResponse(
        workbook(data, cols, result),
        content_type="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet")
    response["Content-Disposition"] = f'attachment; filename="trace-{stamp}.xlsx"'
    return response


def workbook(data: dict[str, list[dict]], cols, result) -> bytes:
    """The spreadsheet: one sheet per table, a header row with filters, frozen panes,
    numbers as numbers."""
    import xlsxwriter

    buffer = io.BytesIO()
    book = xlsxwriter.Workbook(buffer, {"in_memory": True, "strings_to_urls": False,
                                        "strings_to_numbers": False,
                                        "strings_to_formulas": False})
    bold = book.add_format({"bold": True, "bg_color": "#E8EEF5", "border": 1})
    titles = sheet_titles()
    for sheet in SHEETS:
        ws = book.add_worksheet(titles[sheet][:31])
        keys = [k for k, _h in cols[sheet]]
        for c, (_k, header) in enumerate(cols[sheet]):
            ws.write_string(0, c, header, bold)
        widths = [max(8, min(60, len(h) * 2)) for _k, h in cols[sheet]]
        for r, row in enumerate(data[sheet], start=1):
            for c, key in enumerate(keys):
                value = row[key]
                if value is None or value == "":
                    continue
                if isinstance(value, int | float) and not isinstance(value, bool):
                    ws.write_number(r, c, value)
                else:
                    text = str(value)
                    ws.write_string(r, c, text)
                    widths[c] = max(widths[c], min(60, len(text) + 2))
        for c, width in enumerate(widths):
            ws.set_column(c, c, width)
        ws.freeze_panes(1, 0)
        ws.autofilter(0, 0, max(len(data[sheet]), 1), len(keys) - 1)
    if result.truncated:
        book.get_worksheet_by_name(titles["steps"][:31]).write_string(
            len(data["steps"]) + 2, 0,
            _("The trace stopped at its limit of identifiers: it is incomplete."))
    book.close()
    return buffer.getvalue()
