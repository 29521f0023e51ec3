"""The index columns of an EPCIS 2.0 event: what the store keeps beside the event's JSON so
that queries by time, business step, EPC or batch are index scans (docs/epcis.md §4).

Pure Python, no Django import. Every identifier is brought to one canonical form, so that
the same object written as an EPC URN, as a GS1 Digital Link on another domain or as a
CURIE is one key:

- EPCs, EPC classes (batches: GTIN + lot), locations, parties and transactions: the
  constrained canonical GS1 Digital Link of CBV 2.0 §8.9 (``urn:epc:id:sgtin:0614141.
  107346.2018`` -> ``https://id.gs1.org/01/00614141073461/21/2018``), computed by the same
  functions as the event hash ID (eventhash.py); anything that is not a GS1 key stays as
  it is, with a declared CURIE prefix expanded;
- business steps, dispositions and the types of transactions, sources and destinations:
  the CBV 2.0 Web URI (``shipping`` and ``urn:epcglobal:cbv:bizstep:shipping`` ->
  ``https://ref.gs1.org/cbv/BizStep-shipping``); other vocabularies' URIs as they are.

The query side (query.py) puts parameter values through the same functions.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import UTC, datetime

from zhijian.traceability.eventhash import (
    BIZ_STEP,
    BIZ_TRANSACTION_TYPE,
    DISPOSITION,
    SOURCE_DESTINATION_TYPE,
    STANDARD_PREFIXES,
    canonical_uri,
    context_prefixes,
    epc_to_digital_link,
)

__all__ = [
    "EVENT_TYPES", "IDENTIFIER_MAX", "ROLE_OF_LIST", "Indexed", "event_prefixes", "identifier",
    "index_event", "parse_time", "pattern_prefix", "vocabulary",
]

#: The longest identifier or URI the store indexes (characters). Longer ones are refused:
#: an index entry must stay well inside PostgreSQL's B-tree limit (2704 bytes).
IDENTIFIER_MAX = 1024

#: EPCIS event type -> the store's key for it.
EVENT_TYPES = {
    "ObjectEvent": "object",
    "AggregationEvent": "aggregation",
    "TransactionEvent": "transaction",
    "TransformationEvent": "transformation",
    "AssociationEvent": "association",
}

#: The list an identifier comes from -> its role in the EPC index (choices.EpcRole).
ROLE_OF_LIST = {
    "epcList": "epc",
    "childEPCs": "child",
    "inputEPCList": "input",
    "outputEPCList": "output",
    "quantityList": "class",
    "childQuantityList": "class_child",
    "inputQuantityList": "class_input",
    "outputQuantityList": "class_output",
}

_FRACTION = re.compile(r"(\.\d{6})\d+")


@dataclass
class Indexed:
    """The columns and index rows of one event. ``problems`` are (path, code, params) of
    values the store cannot index, relative to the event."""

    type: str
    action: str
    biz_step: str
    disposition: str
    event_time: datetime | None
    event_timezone_offset: str
    read_point: str
    biz_location: str
    error_declaration: dict | None
    epcs: list[tuple[str, str, float | None, str]] = field(default_factory=list)
    transactions: list[tuple[str, str]] = field(default_factory=list)
    source_dest: list[tuple[str, str, str]] = field(default_factory=list)
    problems: list[tuple[tuple, str, dict]] = field(default_factory=list)


def event_prefixes(event: dict, context, document: dict[str, str] | None = None
                   ) -> dict[str, str]:
    """The namespace prefixes in force inside an event: the standard ones, those the
    document's @context declares, then those of the event's own @context. ``document``,
    when given, is ``context_prefixes(context)`` computed once for many events (it is not
    changed)."""
    if not (isinstance(event, dict) and "@context" in event):
        return context_prefixes(context) if document is None else document
    prefixes = context_prefixes(context) if document is None else dict(document)
    own = context_prefixes(event["@context"])
    prefixes.update({k: v for k, v in own.items()
                     if k not in STANDARD_PREFIXES or v != STANDARD_PREFIXES[k]})
    return prefixes


def identifier(value: str, prefixes: dict[str, str] | None = None) -> str:
    """The canonical form of an EPC, EPC class, location, party or transaction ID."""
    return canonical_uri(value.strip(), prefixes)


def vocabulary(value: str, base: str, prefixes: dict[str, str] | None = None) -> str:
    """The canonical URI of a vocabulary value: a bare word is a term of the CBV
    vocabulary whose Web URI starts with ``base``."""
    text = value.strip()
    if text and ":" not in text:
        return base + text
    return canonical_uri(text, prefixes) if text else ""


def pattern_prefix(value: str) -> str | None:
    """For an EPC Pattern URI whose last component is ``*`` (urn:epc:idpat:sgtin:0614141.
    107346.*), the canonical Digital Link every matching EPC starts with (followed by
    "/"); None when ``value`` is no such pattern."""
    if not value.startswith("urn:epc:idpat:"):
        return None
    return epc_to_digital_link(value)


def parse_time(text) -> datetime | None:
    """An RFC 3339 date-time as an aware UTC datetime (microseconds kept, further digits
    dropped), or None when it is not one."""
    if not isinstance(text, str):
        return None
    try:
        moment = datetime.fromisoformat(_FRACTION.sub(r"\1", text.strip()))
    except ValueError:
        return None
    if moment.tzinfo is None:
        return None
    return moment.astimezone(UTC)


def index_event(event: dict, context, *, prefixes: dict[str, str] | None = None) -> Indexed:
    """The index columns of an event that passed validation (validation.py): the type,
    action, vocabulary values, times, locations and the rows of the EPC, transaction and
    source/destination indexes. ``prefixes``: as for event_prefixes."""
    prefixes = event_prefixes(event, context, prefixes)
    problems: list[tuple[tuple, str, dict]] = []

    def checked(path: tuple, value: str) -> str:
        if len(value) > IDENTIFIER_MAX:
            problems.append((path, "identifier.too_long",
                             {"length": len(value), "limit": IDENTIFIER_MAX}))
            return value[:IDENTIFIER_MAX]
        return value

    def text(name):
        value = event.get(name)
        return value if isinstance(value, str) else ""

    def location(name):
        value = event.get(name)
        value = value.get("id") if isinstance(value, dict) else value
        if not isinstance(value, str) or not value.strip():
            return ""
        return checked((name, "id") if isinstance(event.get(name), dict) else (name,),
                       identifier(value, prefixes))

    event_time = parse_time(event.get("eventTime"))
    if event_time is None:
        problems.append((("eventTime",), "schema.date_time",
                         {"value": str(event.get("eventTime"))}))
    declaration = event.get("errorDeclaration")
    indexed = Indexed(
        type=EVENT_TYPES[event["type"]],
        action=text("action"),
        biz_step=checked(("bizStep",), vocabulary(text("bizStep"), BIZ_STEP, prefixes)),
        disposition=checked(("disposition",),
                            vocabulary(text("disposition"), DISPOSITION, prefixes)),
        event_time=event_time,
        event_timezone_offset=text("eventTimeZoneOffset"),
        read_point=location("readPoint"),
        biz_location=location("bizLocation"),
        error_declaration=declaration if isinstance(declaration, dict) else None,
        problems=problems,
    )
    parent = event.get("parentID")
    if isinstance(parent, str) and parent.strip():
        indexed.epcs.append(("parent", checked(("parentID",), identifier(parent, prefixes)),
                             None, ""))
    for name, role in ROLE_OF_LIST.items():
        items = event.get(name)
        for i, item in enumerate(items if isinstance(items, list) else []):
            if role.startswith("class"):
                if not isinstance(item, dict) or not isinstance(item.get("epcClass"), str):
                    continue
                amount = item.get("quantity")
                amount = (float(amount) if isinstance(amount, int | float)
                          and not isinstance(amount, bool) else None)
                uom = item.get("uom") if isinstance(item.get("uom"), str) else ""
                key = checked((name, i, "epcClass"), identifier(item["epcClass"], prefixes))
                indexed.epcs.append((role, key, amount, uom))
            elif isinstance(item, str) and item.strip():
                indexed.epcs.append((role, checked((name, i), identifier(item, prefixes)),
                                     None, ""))
    for i, item in _items(event, "bizTransactionList"):
        value = item.get("bizTransaction")
        if isinstance(value, str) and value.strip():
            kind = item.get("type") if isinstance(item.get("type"), str) else ""
            indexed.transactions.append((
                checked(("bizTransactionList", i, "type"),
                        vocabulary(kind, BIZ_TRANSACTION_TYPE, prefixes)),
                checked(("bizTransactionList", i, "bizTransaction"),
                        identifier(value, prefixes))))
    for list_name, key, kind in (("sourceList", "source", "source"),
                                 ("destinationList", "destination", "destination")):
        for i, item in _items(event, list_name):
            value = item.get(key)
            if isinstance(value, str) and value.strip():
                sd_type = item.get("type") if isinstance(item.get("type"), str) else ""
                indexed.source_dest.append((
                    kind,
                    checked((list_name, i, "type"),
                            vocabulary(sd_type, SOURCE_DESTINATION_TYPE, prefixes)),
                    checked((list_name, i, key), identifier(value, prefixes))))
    return indexed


def _items(event: dict, name: str) -> list[tuple[int, dict]]:
    items = event.get(name)
    return [(i, x) for i, x in enumerate(items if isinstance(items, list) else [])
            if isinstance(x, dict)]
