"""Writes of the party and location directory (models.Place): an organisation registers
its plants, warehouses, installation sites and the parties it trades with, with a GLN when
it has one and a platform identifier when it has none (docs/capture-without-gs1.md §5).

Each service runs in one transaction, checks the caller's right, writes the place, appends
the audit entry and publishes the domain event (place.registered, place.updated). A
refusal is a ValidationError naming the field (or Denied), with nothing written.
"""

from __future__ import annotations

import re

from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.db.models import Q
from django.utils.translation import gettext as _

from zhijian.core import audit, events
from zhijian.core.access import Denied, scope_of
from zhijian.core.models import Division
from zhijian.core.validators import validate_uscc
from zhijian.registry.models import Lab, MarketEntity, UserUnit

from . import access, steps
from .choices import PlaceKind
from .models import Place

#: The organisation model of each capturing role, and the Place field that links it.
ORGANISATIONS = {"enterprise": (MarketEntity, "entity"), "user_unit": (UserUnit, "user_unit"),
                 "lab": (Lab, "lab")}
#: Owner part of platform place identifiers registered by an administrator.
PLATFORM_OWNER = "platform"
EDITABLE = ("name", "kind", "division", "address", "public")


def organisation_of(scope):
    """The registered organisation of a capturing scope (None for an administrator)."""
    model, _field = ORGANISATIONS.get(scope.role, (None, None))
    return model.objects.filter(pk=scope.org_id).first() if model else None


def own_party(user) -> str:
    """The party identifier of the user's organisation in events (party_of_uscc); "" for
    an administrator, who names the party."""
    org = organisation_of(scope_of(user))
    return party_of_uscc(org.uscc) if org is not None else ""


def registered(uscc: str):
    """The registered organisation (market entity, user unit, laboratory) with this USCC."""
    code = uscc.strip().upper()
    for model, _field in ORGANISATIONS.values():
        org = model.objects.filter(uscc=code).first()
        if org is not None:
            return org
    return None


def _field_of(org) -> str:
    return next(field for model, field in ORGANISATIONS.values() if isinstance(org, model))


def party_of_uscc(uscc: str) -> str:
    """The party identifier of the organisation with this USCC in events: the PGLN of a
    party place registered for it, else urn:zhijian:party:<USCC>."""
    code = uscc.strip().upper()
    pgln = (Place.objects.filter(kind=PlaceKind.PARTY, identifier__startswith=(
        steps.DIGITAL_LINK + "/417/")).filter(
        Q(entity__uscc=code) | Q(user_unit__uscc=code) | Q(lab__uscc=code))
        .order_by("pk").values_list("identifier", flat=True).first())
    return pgln or steps.platform_party(code)


def _registrar(actor):
    scope = scope_of(actor)
    if scope.is_admin or scope.role in access.CAPTURING_ROLES:
        return scope
    raise Denied(_("Only enterprise, laboratory and user-unit accounts (and administrators) "
                   "register places; regulators read the directory."))


def _text(data: dict, name: str, limit: int, required: bool = False) -> str:
    value = str(data.get(name) or "").strip()
    if required and not value:
        raise ValidationError({name: _("This field is required.")})
    if len(value) > limit:
        raise ValidationError({name: _("Write at most %(limit)d characters.") % {
            "limit": limit}})
    return value


def _division(value) -> Division | None:
    if value in (None, ""):
        return None
    code = value.code if isinstance(value, Division) else str(value).strip()
    division = Division.objects.current().filter(code=code).first()
    if division is None:
        raise ValidationError({"division": _(
            "%(code)s is not a current division code (GB/T 2260, six digits such as "
            "610113).") % {"code": code}})
    return division


def _kind(value) -> str:
    if value not in PlaceKind.values:
        raise ValidationError({"kind": _("Choose what the place is.")})
    return value


def _gln_identifier(kind: str, gln: str, extension: str) -> str:
    problem = steps.gln_problem(gln)
    if problem:
        code, params = problem
        if code == "gln.format":
            raise ValidationError({"gln": _("%(value)s is not a GLN: a GLN has 13 digits.")
                                   % params})
        raise ValidationError({"gln": _(
            "The GLN %(value)s has the check digit %(found)s but should end in "
            "%(expected)s. Check the number.") % params})
    if kind == PlaceKind.PARTY:
        if extension:
            raise ValidationError({"extension": _(
                "A party has no GLN extension; leave it empty.")})
        return steps.party_identifier(gln)
    if extension and steps.lot_problem(extension):
        raise ValidationError({"extension": _(
            "A GLN extension has 1 to 20 characters: letters, digits and - . _ / only.")})
    return steps.location_identifier(gln, extension)


def _next_platform_identifier(owner: str) -> str:
    prefix = steps.platform_place(owner, 0)[:-1]
    numbers = [int(m.group(1)) for m in (
        re.fullmatch(r"(\d+)", identifier[len(prefix):]) for identifier in
        Place.objects.filter(identifier__startswith=prefix).values_list("identifier",
                                                                        flat=True)) if m]
    return steps.platform_place(owner, max(numbers, default=0) + 1)


def place_create(*, actor, data: dict) -> Place:
    """Register a place: ``data`` has kind, name and optionally gln, extension (of a
    location's GLN), uscc (of a party without GLN), division (GB/T 2260 code), address,
    public."""
    for attempt in (1, 2):  # two capturers may take the same platform number at once
        try:
            return _place_create(actor, data)
        except IntegrityError:
            if attempt == 2:
                raise
    raise AssertionError("unreachable")


@transaction.atomic
def _place_create(actor, data: dict) -> Place:
    scope = _registrar(actor)
    kind = _kind(data.get("kind"))
    name = _text(data, "name", 120, required=True)
    gln = _text(data, "gln", 13)
    extension = _text(data, "extension", 20)
    uscc = _text(data, "uscc", 18).upper()
    address = _text(data, "address", 200)
    division = _division(data.get("division"))
    own = organisation_of(scope)
    if extension and not gln:
        raise ValidationError({"extension": _("A GLN extension needs the GLN; fill in the GLN "
                                              "or leave the extension empty.")})
    links: dict = {}
    if kind == PlaceKind.PARTY:
        # A party is linked to the registered organisation it is (by its USCC), if any.
        org = None
        if uscc:
            try:
                validate_uscc(uscc)
            except ValidationError as exc:
                raise ValidationError({"uscc": exc.messages}) from None
            org = registered(uscc)
            if org is not None:
                links[_field_of(org)] = org
        if gln:
            identifier = _gln_identifier(kind, gln, extension)
        elif uscc:
            identifier = steps.platform_party(uscc)
        else:
            identifier = _next_platform_identifier(own.uscc if own else PLATFORM_OWNER)
    else:
        # A location belongs to the organisation that registers it.
        if uscc:
            raise ValidationError({"uscc": _(
                "Only a party (a company or organisation) is given by its unified social "
                "credit code; leave it empty for a location.")})
        if own is not None:
            links[ORGANISATIONS[scope.role][1]] = own
        identifier = (_gln_identifier(kind, gln, extension) if gln
                      else _next_platform_identifier(own.uscc if own else PLATFORM_OWNER))
    existing = Place.objects.filter(identifier=identifier).first()
    if existing is not None:
        raise ValidationError({"uscc" if uscc and not gln else "gln": _(
            "%(identifier)s is already in the directory as %(name)s.") % {
            "identifier": identifier, "name": existing.name}})
    place = Place.objects.create(
        identifier=identifier, kind=kind, name=name, division=division, address=address,
        public=bool(data.get("public")), org=access.org_key(scope), **links)
    audit.record(place, action="place.registered", actor=actor, before=None,
                 division=_audit_division(place, own))
    events.publish("place.registered", aggregate=place, payload={
        "place": place.pk, "identifier": place.identifier, "kind": place.kind,
        "org": place.org})
    return place


@transaction.atomic
def place_update(*, actor, place_id, data: dict) -> Place:
    """Change a place's name, kind (party stays party, a location stays a location),
    division, address or public flag. The identifier never changes: events name it."""
    _registrar(actor)
    place = access.place_for_change(actor, place_id)
    place = Place.objects.select_for_update().get(pk=place.pk)
    before = audit.snapshot(place)
    kind = _kind(data.get("kind", place.kind))
    if (kind == PlaceKind.PARTY) != (place.kind == PlaceKind.PARTY):
        raise ValidationError({"kind": _(
            "A party cannot become a location, nor a location a party: its identifier says "
            "which it is. Register a new place instead.")})
    place.kind = kind
    place.name = _text(data, "name", 120, required=True)
    place.address = _text(data, "address", 200)
    place.division = _division(data.get("division"))
    place.public = bool(data.get("public"))
    place.save(update_fields=list(EDITABLE))
    audit.record(place, action="place.updated", actor=actor, before=before,
                 division=_audit_division(place, place.organisation))
    events.publish("place.updated", aggregate=place, payload={
        "place": place.pk, "identifier": place.identifier, "kind": place.kind,
        "org": place.org})
    return place


def _audit_division(place: Place, organisation) -> str:
    if place.division_id:
        return place.division_id
    return getattr(organisation, "division_id", "") or ""
