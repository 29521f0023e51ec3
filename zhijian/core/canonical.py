"""Canonical JSON (RFC 8785, JSON Canonicalization Scheme) for hashing and signing."""

import datetime as dt
import decimal
import uuid
from typing import Any

import rfc8785


def to_jsonable(value: Any) -> Any:
    """Turn model field values into plain JSON types with one stable spelling each."""
    if isinstance(value, dict):
        return {str(k): to_jsonable(v) for k, v in value.items()}
    if isinstance(value, list | tuple | set | frozenset):
        items = [to_jsonable(v) for v in value]
        return sorted(items, key=str) if isinstance(value, set | frozenset) else items
    if isinstance(value, dt.datetime):
        return value.astimezone(dt.UTC).isoformat().replace("+00:00", "Z")
    if isinstance(value, dt.date):
        return value.isoformat()
    if isinstance(value, decimal.Decimal | uuid.UUID):
        return str(value)
    if isinstance(value, float) and value.is_integer():
        return int(value)
    return value


def canonical_bytes(value: Any) -> bytes:
    return rfc8785.dumps(to_jsonable(value))


def canonical_text(value: Any) -> str:
    return canonical_bytes(value).decode("utf-8")
