"""Forms of capture without GS1 software (docs/capture-without-gs1.md): one form for the
eight steps (the fields a step needs), the CSV upload, places and QR labels.

Forms only collect and check input and build the EPCIS event (steps.py); the views send it
to services.capture_document and put each problem the store finds next to the field it
points to. The Resolver turns what a person types for a party or a place (a USCC, a GLN, a
name or identifier from the directory) into the identifier the events carry; the CSV
upload (csvcapture.py) uses it too.
"""

from __future__ import annotations

import re

from django import forms
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext_lazy

from zhijian.core.access import scope_of
from zhijian.core.models import Division
from zhijian.core.validators import uscc_messages
from zhijian.registry.models import Product
from zhijian.web.forms import BootstrapMixin, DivisionField

from . import access, indexing, place_services, steps
from .choices import INSTALLATION_KINDS, PlaceKind
from .models import Place

STEP_LABELS = {
    "produce": pgettext_lazy("trace step", "Produce"),
    "inspect": pgettext_lazy("trace step", "Inspect"),
    "ship": pgettext_lazy("trace step", "Ship"),
    "receive": pgettext_lazy("trace step", "Receive"),
    "transform": pgettext_lazy("trace step", "Cut or transform"),
    "install": pgettext_lazy("trace step", "Install"),
    "recall": pgettext_lazy("trace step", "Recall"),
    "destroy": pgettext_lazy("trace step", "Destroy"),
}
STEP_HELP = {
    "produce": _("A batch is made: its lot and the quantity made, at your plant."),
    "inspect": _("A batch is inspected (factory inspection, incoming check): the result."),
    "ship": _("A batch leaves you for a customer: who receives it and where it goes."),
    "receive": _("A batch arrives: who sent it and where you received it."),
    "transform": _("A batch is made from others, e.g. a 5,000 m drum cut into lengths that "
                   "get their own lots: the new batch and the input batches used."),
    "install": _("A batch is installed at a site (a metro station, a building) in the "
                 "quantity installed."),
    "recall": _("A batch is recalled: held back from sale and use where it is."),
    "destroy": _("A batch is destroyed."),
}
#: The form fields each step uses, in display order.
STEP_FIELDS = {
    "produce": ("time", "gtin", "lot", "quantity", "unit", "location", "note"),
    "inspect": ("time", "gtin", "lot", "quantity", "unit", "result", "location", "note"),
    "ship": ("time", "gtin", "lot", "quantity", "unit", "to_party", "to_location",
             "from_party", "location", "note"),
    "receive": ("time", "gtin", "lot", "quantity", "unit", "from_party", "location",
                "to_party", "note"),
    "transform": ("time", "gtin", "lot", "quantity", "unit", "inputs", "reason", "location",
                  "note"),
    "install": ("time", "gtin", "lot", "quantity", "unit", "location", "note"),
    "recall": ("time", "gtin", "lot", "quantity", "unit", "location", "note"),
    "destroy": ("time", "gtin", "lot", "quantity", "unit", "location", "note"),
}
#: Fields a step requires beyond those always required.
STEP_REQUIRED = {"ship": ("to_party",), "receive": ("from_party", "location"),
                 "transform": ("inputs",), "install": ("location",)}
#: steps.py field names -> form field names.
FIELD_NAMES = {"from": "from_party", "to": "to_party", "to_location": "to_location"}

#: The refusals of steps.py, translated (the English is steps.MESSAGES).
STEP_MESSAGES = {
    "required": _("%(name)s is required. Fill it in."),
    "gtin.format": _("%(value)s is not a GTIN: write the 13 digits of the bar code (or 14, "
                     "8 or 12)."),
    "gtin.check_digit": _("The GTIN %(value)s has the check digit %(found)s but should end "
                          "in %(expected)s. Check the number on the bar code."),
    "lot.format": _("The lot %(value)s cannot be used: a lot has 1 to 20 characters, "
                    "letters A-Z a-z, digits and ! \" %% & ' ( ) * + , - . / : ; < = > ? _ "
                    "only (no spaces or Chinese characters)."),
    "quantity.format": _("%(value)s is not a number. Write the quantity as digits, e.g. "
                         "5000 or 12.5."),
    "quantity.not_positive": _("The quantity must be more than 0."),
    "unit.unknown": _("%(value)s is not a unit the platform knows. Use m, km, kg, t, piece, "
                      "set, m2, m3 or L, or a UN/CEFACT code such as MTR."),
    "time.naive": _("The time %(value)s has no time zone."),
    "time.format": _("%(value)s is not a time. Write it as 2026-07-22 08:30 (Beijing time) "
                     "or 2026-07-22T08:30:00+08:00."),
    "gln.format": _("%(value)s is not a GLN: a GLN has 13 digits."),
    "gln.check_digit": _("The GLN %(value)s has the check digit %(found)s but should end in "
                         "%(expected)s. Check the number."),
    "result.unknown": _("%(value)s is not an inspection result: use pass, fail or leave it "
                        "empty."),
    "inputs.required": _("A transformation needs at least one input batch."),
    "inputs.format": _("%(value)s is not an input: write lot:quantity, or GTIN/lot:quantity "
                       "for another product, one per line or separated by |."),
    "outputs.exceed_inputs": _("The outputs total %(output)s %(uom)s, more than the inputs "
                               "(%(input)s %(uom)s). Correct the quantities, or give the "
                               "reason the output is larger."),
    "transform.same_batch": _("The output batch %(value)s is also an input. Give the output "
                              "its own lot."),
}
NOT_OWN_PRODUCT = _("You record production only of your own products: declare the product "
                    "with this GTIN under My organisation first.")
UNIT_LABELS = [(code, f"{words[0]} ({code})") for code, words in steps.UNITS.items()]


def step_message(exc: steps.StepError) -> str:
    return str(STEP_MESSAGES[exc.code]) % exc.params


class Unresolved(ValueError):
    """What was typed for a party or place is none the platform can use (a translated
    message)."""


_USCC = re.compile(r"[0-9A-Z]{18}")


class Resolver:
    """Party and place identifiers from what a person types, for one capturing user."""

    def __init__(self, user):
        self.user = user
        self.scope = scope_of(user)
        self._own_party = None

    @property
    def own_party(self) -> str:
        if self._own_party is None:
            self._own_party = place_services.own_party(self.user)
        return self._own_party

    def party(self, text: str) -> str:
        value = (text or "").strip()
        if not value:
            return ""
        if _USCC.fullmatch(value.upper()) and not value.isdigit():
            problems = uscc_messages(value.upper())
            if problems:
                raise Unresolved(" ".join(problems))
            return place_services.party_of_uscc(value)
        if value.isdigit():
            return self._gln(value, steps.party_identifier)
        found = Place.objects.filter(kind=PlaceKind.PARTY).filter(
            Q(identifier=value) | Q(name=value, org=access.org_key(self.scope))).first()
        if found is not None:
            return found.identifier
        return self._uri(value, _(
            "%(value)s is no party the platform knows: give its unified social credit code, "
            "its GLN, or a party from the directory (Places)."))

    def place(self, text: str, *, installation: bool = False) -> str:
        value = (text or "").strip()
        if not value:
            return ""
        if value.isdigit():
            return self._gln(value, steps.location_identifier)
        places = access.places_selectable(self.user).exclude(kind=PlaceKind.PARTY)
        found = places.filter(identifier=value).first()
        if found is None:
            named = list(places.filter(name=value)[:2])
            found = named[0] if len(named) == 1 else None
        if found is not None:
            if installation and found.kind not in INSTALLATION_KINDS:
                raise Unresolved(_("%(name)s is not an installation site (a metro station "
                                   "or a building). Choose one, or change what the place "
                                   "is under Places.") % {"name": found.name})
            return found.identifier
        return self._uri(value, _(
            "%(value)s is none of your places nor a public one: register it under Places, "
            "or give its GLN."))

    def _gln(self, value: str, make) -> str:
        try:
            return make(value)
        except steps.StepError as exc:
            raise Unresolved(step_message(exc)) from None

    def _uri(self, value: str, message) -> str:
        """An SGLN/PGLN EPC URN or a GS1 Digital Link, in canonical form; else refused."""
        canonical = indexing.identifier(value)
        if canonical.startswith(steps.DIGITAL_LINK + "/41"):
            return canonical
        raise Unresolved(message % {"value": value})


def parse_inputs(text: str, gtin: str, unit: str) -> tuple[steps.Batch, ...]:
    """Input batches from "lot:quantity" (the same GTIN) or "GTIN/lot:quantity", one per
    line or separated by |; each in the output's unit unless written "lot:quantity unit"."""
    out = []
    for i, raw in enumerate(p.strip() for p in re.split(r"[|\r\n]+", text or "")):
        if not raw:
            continue
        head, colon, amount = raw.rpartition(":")
        if not colon or not head:
            raise steps.StepError(f"inputs[{i}]", "inputs.format", value=raw)
        amount, _space, own_unit = amount.strip().partition(" ")
        product, slash, lot = head.partition("/")
        if slash and re.fullmatch(r"\d{8}|\d{12,14}", product):
            out.append(steps.Batch(product, lot, amount, own_unit.strip() or unit))
        else:
            out.append(steps.Batch(gtin, head, amount, own_unit.strip() or unit))
    return tuple(out)


# --- the step form ------------------------------------------------------------------------------

class DateTimeInput(forms.DateTimeInput):
    input_type = "datetime-local"

    def __init__(self, attrs=None):
        super().__init__(attrs, format="%Y-%m-%dT%H:%M")


class PlaceChoiceField(forms.ModelChoiceField):
    def label_from_instance(self, obj):
        return f"{obj.name} · {obj.get_kind_display()}"


class StepForm(BootstrapMixin, forms.Form):
    time = forms.DateTimeField(label=_("When (Beijing time)"), widget=DateTimeInput())
    gtin = forms.CharField(label=_("Product GTIN"), max_length=14,
                           help_text=_("The 13 digits under the product's bar code."))
    lot = forms.CharField(label=_("Lot"), max_length=20,
                          help_text=_("The batch number on the goods, up to 20 letters, "
                                      "digits and signs."))
    quantity = forms.DecimalField(label=_("Quantity"), max_digits=14, decimal_places=3)
    unit = forms.ChoiceField(label=_("Unit"), choices=UNIT_LABELS, initial="MTR")
    result = forms.ChoiceField(label=_("Result"), required=False, choices=[
        ("pass", _("Passed (conformant)")), ("fail", _("Failed (non-conformant)")),
        ("", _("Not stated"))])
    to_party = forms.CharField(
        label=_("To (receiving party)"), max_length=200, required=False,
        help_text=_("Unified social credit code or GLN of the customer, or a party from "
                    "your places."))
    to_location = PlaceChoiceField(label=_("Ship to (location)"), required=False,
                                   queryset=Place.objects.none())
    from_party = forms.CharField(
        label=_("From (sending party)"), max_length=200, required=False,
        help_text=_("Unified social credit code or GLN of the supplier, or a party from "
                    "your places."))
    inputs = forms.CharField(
        label=_("Input batches"), required=False, widget=forms.Textarea(attrs={"rows": 3}),
        help_text=_("One per line: lot:quantity (e.g. L2026A:1000), or GTIN/lot:quantity "
                    "for another product."))
    reason = forms.CharField(
        label=_("Why the output exceeds the input"), required=False, max_length=500,
        help_text=_("Only when the new batch is larger than the inputs, e.g. water added."))
    location = PlaceChoiceField(label=_("Where"), required=False,
                                queryset=Place.objects.none())
    note = forms.CharField(label=_("Note"), required=False, max_length=1000,
                           widget=forms.Textarea(attrs={"rows": 2}))

    def __init__(self, *args, step: str, user, **kwargs):
        kwargs.setdefault("initial", {"time": timezone.localtime().replace(
            second=0, microsecond=0)})
        super().__init__(*args, **kwargs)
        self.step = step
        self.user = user
        self.resolver = Resolver(user)
        self.event: dict | None = None
        for name in list(self.fields):
            if name not in STEP_FIELDS[step]:
                del self.fields[name]
        self.order_fields(STEP_FIELDS[step])
        places = access.places_selectable(user).exclude(kind=PlaceKind.PARTY)
        if step == "install":
            places = places.filter(kind__in=INSTALLATION_KINDS)
        for name in ("location", "to_location"):
            if name in self.fields:
                self.fields[name].queryset = (places if name == "location" else
                                              access.places_selectable(user).exclude(
                                                  kind=PlaceKind.PARTY)).order_by("name")
        for name in STEP_REQUIRED.get(step, ()):
            self.fields[name].required = True
        own = self.resolver.own_party if self.scope_is_org else ""
        if step == "ship" and "from_party" in self.fields:
            self.fields["from_party"].help_text = _(
                "Leave empty for your organisation (%(party)s).") % {"party": own} if own \
                else self.fields["from_party"].help_text
            self.fields["from_party"].required = not own
        if step == "receive":
            self.fields["to_party"].label = _("Received by (party)")
            self.fields["to_party"].help_text = _(
                "Leave empty for your organisation (%(party)s).") % {"party": own} if own \
                else self.fields["to_party"].help_text
            self.fields["to_party"].required = not own
        if step == "transform":
            self.fields["gtin"].label = _("GTIN of the new batch")
            self.fields["lot"].label = _("Lot of the new batch")
            self.fields["quantity"].label = _("Quantity of the new batch")

    @property
    def scope_is_org(self) -> bool:
        return scope_of(self.user).role in access.CAPTURING_ROLES

    def clean(self):
        data = super().clean()
        if self.errors:
            return data
        try:
            from_party = self._party("from_party")
            to_party = self._party("to_party")
        except forms.ValidationError:
            return data
        if self.step == "ship":
            from_party = from_party or self.resolver.own_party
        if self.step == "receive":
            to_party = to_party or self.resolver.own_party
        location = data.get("location")
        to_location = data.get("to_location")
        try:
            inputs = (parse_inputs(data.get("inputs", ""), data["gtin"], data["unit"])
                      if self.step == "transform" else ())
            self.event = steps.build(
                self.step, time=data["time"],
                batch=steps.Batch(data["gtin"], data["lot"], data["quantity"], data["unit"]),
                location=location.identifier if location else "",
                from_party=from_party, to_party=to_party,
                to_location=to_location.identifier if to_location else "",
                inputs=inputs, result=data.get("result", ""), reason=data.get("reason", ""),
                note=data.get("note", ""))
        except steps.StepError as exc:
            self.add_error(self.field_for(exc.field), step_message(exc))
            return data
        if self.step == "produce" and not own_product(self.user, data["gtin"]):
            self.event = None
            self.add_error("gtin", NOT_OWN_PRODUCT)
        return data

    def _party(self, name: str) -> str:
        if name not in self.fields:
            return ""
        try:
            return self.resolver.party(self.cleaned_data.get(name, ""))
        except Unresolved as exc:
            self.add_error(name, str(exc))
            raise forms.ValidationError("") from None

    def field_for(self, step_field: str) -> str | None:
        """The form field of a steps.py field name or of steps.field_of (None: the form)."""
        name = step_field.split("[", 1)[0].split(".", 1)[0]
        name = FIELD_NAMES.get(name, name)
        return name if name in self.fields else None


def own_product(user, gtin: str) -> bool:
    """An enterprise records production of its own products only (an administrator of
    any registered product)."""
    scope = scope_of(user)
    try:
        key = steps.gtin14(gtin)
    except steps.StepError:
        return False
    products = Product.objects.filter(gtin__in=[key, key[1:]] if key[0] == "0" else [key])
    if scope.is_admin:
        return products.exists()
    return scope.role == "enterprise" and products.filter(entity_id=scope.org_id).exists()


def product_suggestions(user):
    """Products whose GTIN the form offers: an enterprise's own; for a user unit, those of
    its deliveries; every one for an administrator (the first 200)."""
    scope = scope_of(user)
    qs = Product.objects.exclude(gtin="").select_related("entity")
    if scope.role == "enterprise":
        qs = qs.filter(entity_id=scope.org_id)
    elif scope.role == "user_unit":
        qs = qs.filter(deliveries__user_unit_id=scope.org_id).distinct()
    elif not scope.is_admin:
        qs = qs.none()
    return qs.order_by("name", "pk")[:200]


# --- CSV upload -------------------------------------------------------------------------------

class UploadForm(BootstrapMixin, forms.Form):
    file = forms.FileField(label=_("CSV file"), help_text=_(
        "One row per step, in the column layout of the template; UTF-8 or GB18030 (as "
        "saved by Excel or WPS)."))


# --- places ------------------------------------------------------------------------------------

class PlaceForm(BootstrapMixin, forms.Form):
    kind = forms.ChoiceField(label=_("What it is"), choices=PlaceKind.choices)
    name = forms.CharField(label=_("Name"), max_length=120)
    gln = forms.CharField(label=_("GLN"), max_length=13, required=False, help_text=_(
        "The 13-digit Global Location Number, if the place or party has one. Without a GLN "
        "the platform gives it an identifier of its own."))
    extension = forms.CharField(label=_("GLN extension"), max_length=20, required=False,
                                help_text=_("Only for a location inside the GLN's site, e.g. "
                                            "a dock or a line."))
    uscc = forms.CharField(label=_("Unified social credit code of the party"), max_length=18,
                           required=False, help_text=_(
                               "For a party: the company's code, so that it is known by "
                               "it."))
    division = DivisionField(label=_("Division"), required=False,
                             queryset=Division.objects.current(), to_field_name="code")
    address = forms.CharField(label=_("Address"), max_length=200, required=False)
    public = forms.BooleanField(label=_("Shown by name on public trace pages"),
                                required=False, help_text=_(
                                    "For installation sites such as metro stations; leave "
                                    "your own warehouses unticked."))

    def __init__(self, *args, place: Place | None = None, **kwargs):
        if place is not None:
            kwargs.setdefault("initial", {
                "kind": place.kind, "name": place.name, "division": place.division_id,
                "address": place.address, "public": place.public})
        super().__init__(*args, **kwargs)
        if place is not None:  # the identifier is fixed: events name it
            for name in ("gln", "extension", "uscc"):
                del self.fields[name]
            party = place.kind == PlaceKind.PARTY
            self.fields["kind"].choices = [
                (k, label) for k, label in PlaceKind.choices
                if (k == PlaceKind.PARTY) == party]

    def service_data(self) -> dict:
        d = dict(self.cleaned_data)
        d["division"] = d["division"].code if d.get("division") else ""
        return d


# --- labels ------------------------------------------------------------------------------------

class LabelForm(BootstrapMixin, forms.Form):
    product = forms.ModelChoiceField(label=_("Product"), queryset=Product.objects.none())
    lot = forms.CharField(label=_("Lot"), max_length=20)
    quantity = forms.DecimalField(label=_("Quantity per label"), required=False,
                                  max_digits=14, decimal_places=3, min_value=0)
    unit = forms.ChoiceField(label=_("Unit"), choices=UNIT_LABELS, initial="MTR")
    count = forms.IntegerField(label=_("Number of labels"), min_value=1, max_value=200,
                               initial=12)
    fmt = forms.ChoiceField(label=_("Format"), initial="html", choices=[
        ("html", _("Page to print from the browser")), ("pdf", _("PDF"))],
        widget=forms.RadioSelect)

    def __init__(self, *args, products, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["product"].queryset = products
        self.fields["product"].label_from_instance = (
            lambda p: f"{p} · {p.gtin}")

    def clean(self):
        data = super().clean()
        product, lot = data.get("product"), data.get("lot")
        if product is not None and lot:
            try:
                data["batch"] = steps.batch_class(product.gtin, lot)
            except steps.StepError as exc:
                self.add_error("product" if exc.field == "gtin" else "lot", step_message(exc))
        return data
