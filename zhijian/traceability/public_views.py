"""The public trace page a product's QR label opens (M3.7 来源可查、去向可追; docs/public-trace.md).

GS1 Digital Link paths on this site: /01/<GTIN>/10/<lot> (a batch), /01/<GTIN>/21/<serial>
(one item), /01/<GTIN> (the product). No login. The page shows what the law lets the
public see (docs/public-trace.md gives the reasoning):

* the product and its maker's public registration information (name, USCC, division);
* the batch and its production date, and the public test reports covering it, each with a
  link to its verification page;
* the chain of custody as steps: date, what happened, the city and the kind of holder
  ("a distributor in 西安市"), naming only the maker, and the parties and places that are
  marked public in the trace directory (Place.public: metro stations, the metro operator);
  no quantities, no other firm's name;
* a prominent banner when an opened or completed recall covers the batch or a batch it
  was made from.

The trace itself is tracing.trace; this module decides what of it is shown.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass
from datetime import date
from urllib.parse import quote

from django.db.models import Q
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import get_language, pgettext
from django.utils.translation import gettext as _
from django.views.decorators.http import require_safe

from zhijian.core import divisions
from zhijian.recalls.models import Recall
from zhijian.registry.models import Lab, MarketEntity, Product, UserUnit
from zhijian.reports.choices import ReportKind
from zhijian.reports.models import Report

from . import steps, tracing
from .choices import PlaceKind
from .models import Place

#: Node limit of a public trace (a batch of the demo reaches a few hundred identifiers).
PUBLIC_LIMIT = 5000
DL = "https://id.gs1.org"
_SAFE = "'-.;=_"


@dataclass
class Holder:
    """Who held the goods at a step, as the public may see it."""

    label: str  # the name (public) or the kind and city ("a distributor in 西安市")
    named: bool


@dataclass
class PublicStep:
    day: date
    step: str  # CBV business step (short word)
    action: str
    holder: Holder
    to: Holder | None  # shipping: the receiving party
    place: str  # the place's name if public, else its kind and city; "" if unknown
    place_public: bool
    lot: str  # the lot the step is about when it is not the page's own (a cut length)


def _gtin14(text: str) -> str | None:
    try:
        return steps.gtin14(text)
    except steps.StepError:
        return None


def _products(key: str):
    """The registered products with this GTIN (stored with 13 or 14 digits)."""
    forms = {key, key[1:]} if key.startswith("0") else {key}
    return (Product.objects.filter(gtin__in=forms)
            .select_related("entity__division", "category").prefetch_related("standards")
            .order_by("pk"))


def _city(code: str | None) -> str:
    div = divisions.get_division(code) if code else None
    if div is None:
        return ""
    if div["level"] == "county" and div.get("parent"):
        div = divisions.get_division(div["parent"]) or div
    english = get_language() == "en"
    if english and div.get("name_en"):
        return div["name_en"].removesuffix(" City")
    return div["name"]


def _batch_url(gtin: str, lot: str) -> str:
    """The page of a batch, with the trailing slash."""
    return reverse("public_trace:batch", args=[gtin, lot]).rstrip("/") + "/"


def _not_found(request, message: str, **context):
    return render(request, "traceability/public_not_found.html",
                  {"message": message, **context}, status=404)


def _recall_links(recalls) -> list[dict]:
    return [{"recall": r, "url": reverse("public_recalls:detail", args=[r.number])}
            for r in recalls]


# --- the product -------------------------------------------------------------------------------

@require_safe
def product(request, gtin):
    key = _gtin14(gtin)
    if key is None:
        return _not_found(request, _("%(value)s is not a valid GTIN: check the digits under the "
                                     "bar code.") % {"value": gtin}, gtin=gtin)
    lot = (request.GET.get("lot") or "").strip()
    if lot:
        if steps.lot_problem(lot):
            return _not_found(request, _("%(value)s is not a batch number that a label can "
                                         "carry (1 to 20 letters, digits or punctuation).")
                              % {"value": lot}, gtin=key)
        return redirect(_batch_url(key, lot))
    item = _products(key).first()
    if item is None:
        return _not_found(request, _("Nothing is recorded on this platform for the GTIN "
                                     "%(gtin)s.") % {"gtin": key}, gtin=key)
    recalls = (Recall.objects.public().filter(Q(product=item) | Q(gtin__in={key, key[1:]}))
               .order_by("-opened_at", "-id"))
    return render(request, "traceability/public_product.html", {
        "product": item, "maker": item.entity, "gtin": key,
        "recalls": _recall_links(recalls[:20]),
    })


# --- a batch or an item ------------------------------------------------------------------------

@require_safe
def batch(request, gtin, lot):
    key = _gtin14(gtin)
    if key is None:
        return _not_found(request, _("%(value)s is not a valid GTIN: check the digits under the "
                                     "bar code.") % {"value": gtin}, gtin=gtin)
    if steps.lot_problem(lot):
        return _not_found(request, _("%(value)s is not a batch number that a label can carry "
                                     "(1 to 20 letters, digits or punctuation).")
                          % {"value": lot}, gtin=key)
    start = tracing.batch_identifier(key, lot)
    return _trace_page(request, key, start, lot=lot, serial="")


@require_safe
def item(request, gtin, serial):
    key = _gtin14(gtin)
    if key is None:
        return _not_found(request, _("%(value)s is not a valid GTIN: check the digits under the "
                                     "bar code.") % {"value": gtin}, gtin=gtin)
    if steps.lot_problem(serial):
        return _not_found(request, _("%(value)s is not a serial number that a label can carry "
                                     "(1 to 20 letters, digits or punctuation).")
                          % {"value": serial}, gtin=key)
    start = tracing.canonical(f"{DL}/01/{key}/21/{quote(serial, safe=_SAFE)}")
    return _trace_page(request, key, start, lot="", serial=serial)


def _trace_page(request, key: str, start: str, *, lot: str, serial: str):
    result = tracing.trace(start=[start], direction="both", limit=PUBLIC_LIMIT)
    item_ = _products(key).first()
    maker = item_.entity if item_ else None
    backward = [n for n in result.nodes.values() if n.side == "backward"]
    # Batches of the same product this one was cut or made from: their reports and recalls
    # cover it too.
    parents = sorted({n.lot for n in backward if n.gtin == key and n.lot and n.lot != lot})
    lots = [x for x in [lot, *parents] if x]
    reports = _public_reports(maker, lots)
    recalls = list(Recall.objects.covering([start, *(n.identifier for n in backward)])
                   .select_related("maker"))
    shown = _custody(result, start, maker)
    if not shown and not reports and not recalls:
        what = (_("the batch %(lot)s") % {"lot": lot} if lot
                else _("the item %(serial)s") % {"serial": serial})
        message = (_("Nothing is recorded on this platform for %(what)s of %(product)s.")
                   % {"what": what, "product": item_} if item_ else
                   _("Nothing is recorded on this platform for %(what)s of the GTIN "
                     "%(gtin)s.") % {"what": what, "gtin": key})
        return _not_found(request, message, gtin=key, product=item_)
    produced = _production_day(result, start)
    installed = [s for s in shown if s.step == "installing"]
    return render(request, "traceability/public_batch.html", {
        "gtin": key, "lot": lot, "serial": serial, "identifier": start,
        "product": item_, "maker": maker, "produced": produced,
        "steps": shown, "reports": reports, "recalls": _recall_links(recalls),
        "public_sites": [s for s in installed if s.place_public],
        "other_sites": sorted({s.place for s in installed if not s.place_public and s.place}),
        "parents": [{"lot": p, "url": _batch_url(key, p)} for p in parents],
        "materials": _materials(backward, key),
        "truncated": result.truncated,
    })


def _public_reports(maker, lots: list[str]) -> list[Report]:
    """Issued (or since revoked or superseded) reports on these batches of the maker that
    are public: commissioned reports (the maker hands them to every buyer; anyone may
    verify them) and supervisory reports whose sampling result is published."""
    if maker is None or not lots:
        return []
    public = (Q(kind=ReportKind.COMMISSIONED)
              | Q(kind=ReportKind.SUPERVISORY, sample__published_at__isnull=False))
    return list(Report.objects.issued().filter(producer=maker, batch__in=lots)
                .filter(public).select_related("lab").order_by("-issued_on", "-id"))


def _production_day(result, start: str) -> date | None:
    for s in result.steps:
        if s.identifier == start and (s.role in ("output", "class_output")
                                      or s.biz_step == "commissioning"):
            return timezone.localtime(s.time).date()
    return None


def _materials(backward, key: str) -> list[str]:
    """The products the batch was made from (other GTINs one step back), by name only: who
    supplied them is the maker's business information."""
    gtins = sorted({n.gtin for n in backward if n.depth == 1 and n.gtin and n.gtin != key})
    if not gtins:
        return []
    forms = set(gtins) | {g[1:] for g in gtins if g.startswith("0")}
    return sorted({f"{p.name} {p.model}".strip()
                   for p in Product.objects.filter(gtin__in=forms).only("name", "model")})


# --- the chain of custody ------------------------------------------------------------------------

def _actions() -> dict[str, str]:
    return {
        "commissioning": _("Produced"),
        "creating_class_instance": _("Cut to length"),
        "inspecting": _("Inspected"),
        "shipping": _("Shipped"),
        "receiving": _("Received"),
        "accepting": _("Accepted"),
        "installing": _("Installed"),
        "packing": _("Packed on pallets"),
        "unpacking": _("Unpacked"),
        "holding": _("Held"),
        "destroying": _("Destroyed"),
        "storing": _("Stored"),
    }


class _Holders:
    """Turns organisation keys ("enterprise:12") into holders as the public may see them:
    the maker and organisations whose party entry in the trace directory is public by
    name, others by kind and city; the kind of a firm comes from what it did with the
    goods on the page (installed or cut them: contractor or installer; shipped them on:
    distributor)."""

    def __init__(self, result, chosen, maker):
        self.maker_key = f"enterprise:{maker.pk}" if maker is not None else ""
        self.parties = {}  # party identifier -> organisation key
        for place in result.places.values():
            if place.kind == PlaceKind.PARTY:
                key = _org_key(place)
                if key:
                    self.parties[place.identifier] = key
        keys = {s.org for s in chosen} | set(self.parties.values())
        ids = defaultdict(set)
        for key in keys:
            role, _sep, pk = (key or "").partition(":")
            if pk.isdigit():
                ids[role].add(int(pk))
        self.orgs = {}
        for role, model in (("enterprise", MarketEntity), ("user_unit", UserUnit),
                            ("lab", Lab)):
            if ids[role]:
                for org in model.objects.filter(pk__in=ids[role]).only("name", "division_id"):
                    self.orgs[f"{role}:{org.pk}"] = org
        public = Q(pk__in=[])
        for role, field in (("enterprise", "entity_id"), ("user_unit", "user_unit_id"),
                            ("lab", "lab_id")):
            if ids[role]:
                public |= Q(**{f"{field}__in": ids[role]})
        self.public = {_org_key(p) for p in Place.objects.filter(
            public, kind=PlaceKind.PARTY, public=True).only("entity_id", "user_unit_id",
                                                              "lab_id")}
        # What each firm did with the goods says what kind of holder it is.
        self.did: dict[str, set[str]] = defaultdict(set)
        for step in chosen:
            self.did[step.org].add(step.biz_step)

    def of(self, key: str) -> Holder:
        org = self.orgs.get(key)
        if org is None:
            return Holder(pgettext("holder", "a firm"), False)
        if key == self.maker_key or key in self.public:
            return Holder(org.name, True)
        city = _city(org.division_id) or _("Shaanxi")
        role = key.partition(":")[0]
        did = self.did.get(key, set())
        if role == "user_unit":
            text = _("a purchasing user unit in %(city)s")
        elif role == "lab":
            text = _("a laboratory in %(city)s")
        elif did & {"installing", "creating_class_instance"}:
            text = _("a contractor or installer in %(city)s")
        elif "shipping" in did:
            text = _("a distributor in %(city)s")
        else:
            text = _("a firm in %(city)s")
        return Holder(text % {"city": city}, False)

    def of_party(self, identifier: str) -> Holder:
        key = self.parties.get(identifier)
        return self.of(key) if key else Holder(pgettext("holder", "a firm"), False)


def _org_key(place) -> str:
    if place.entity_id:
        return f"enterprise:{place.entity_id}"
    if place.user_unit_id:
        return f"user_unit:{place.user_unit_id}"
    if place.lab_id:
        return f"lab:{place.lab_id}"
    return ""


def _custody(result, start: str, maker) -> list[PublicStep]:
    """The steps of the batch and of what was made or cut from it (the forward side), one
    per event, in time order, with holders and places as the public may see them."""
    forward = {n.identifier for n in result.nodes.values() if n.side in ("start", "forward")}
    by_event: dict[int, object] = {}
    for s in result.steps:
        if s.identifier not in forward:
            continue
        # One row per event; of a transformation, the row of what it made.
        if s.event not in by_event or s.role in ("output", "class_output"):
            by_event[s.event] = s
    chosen = sorted(by_event.values(), key=lambda s: (s.time, s.event))
    if not chosen:
        return []
    holders = _Holders(result, chosen, maker)
    labels = _actions()
    out = []
    for s in chosen:
        to = None
        if s.biz_step == "shipping":
            dest = [i for t, i in s.destinations if t in ("owning_party", "possessing_party")]
            to = holders.of_party(dest[0]) if dest else None
        action = labels.get(s.biz_step, s.biz_step.rsplit("/", 1)[-1])
        if s.biz_step in ("creating_class_instance", "commissioning") and (
                s.org == holders.maker_key):
            action = labels["commissioning"]
        place, public = _place(result.places.get(s.location))
        lot = ""
        if s.identifier != start:
            node = result.nodes.get(s.identifier)
            lot = (node.lot or node.serial) if node else ""
        out.append(PublicStep(timezone.localtime(s.time).date(), s.biz_step, action,
                              holders.of(s.org), to, place, public, lot))
    return out


def _place(place) -> tuple[str, bool]:
    """The place's name if it is public, else its kind and city."""
    if place is None:
        return "", False
    if place.public:
        return place.name, True
    city = _city(place.division_id)
    kind = place.get_kind_display()
    return (_("%(kind)s in %(city)s") % {"kind": kind, "city": city} if city else kind), False
