"""Canonical JSON (RFC 8785, JSON Canonicalization Scheme) for hashing and signing.

For the values Zhijian hashes — strings, integers within ±2^53, booleans, null, and
objects and arrays of them, with ASCII keys — the RFC 8785 form is exactly what the
standard library's C encoder writes with sorted keys, no whitespace and no ASCII
escaping: RFC 8785 escapes only the quote, the backslash and control characters (with the
same short forms and lowercase \\u00XX as `json`), and writes such integers in plain
decimal. That fast path is used when it applies and the `rfc8785` package otherwise
(floats, big integers, non-ASCII keys); tests/core/test_canonical.py checks the two agree.
"""

import datetime as dt
import decimal
import json
import uuid
from typing import Any

import rfc8785

_MAX_SAFE = 2**53 - 1
_encode = json.JSONEncoder(
    ensure_ascii=False, sort_keys=True, separators=(",", ":"), allow_nan=False
).encode


def to_jsonable(value: Any) -> Any:
    """Turn model field values into plain JSON types with one stable spelling each."""
    t = type(value)
    if t is str or t is bool or value is None:
        return value
    if t is int:
        return value
    if t is dict:
        return {str(k): to_jsonable(v) for k, v in value.items()}
    if t is list or t is tuple:
        return [to_jsonable(v) for v in value]
    if isinstance(value, set | frozenset):
        return sorted((to_jsonable(v) for v in value), key=str)
    if isinstance(value, dt.datetime):
        return value.astimezone(dt.UTC).isoformat().replace("+00:00", "Z")
    if isinstance(value, dt.date):
        return value.isoformat()
    if isinstance(value, decimal.Decimal | uuid.UUID):
        return str(value)
    if isinstance(value, float) and value.is_integer() and abs(value) <= _MAX_SAFE:
        return int(value)
    if isinstance(value, str):  # str subclasses such as TextChoices members
        return str.__str__(value)
    if isinstance(value, int) and not isinstance(value, bool):
        return int.__int__(value)
    if isinstance(value, dict):
        return {str(k): to_jsonable(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [to_jsonable(v) for v in value]
    return value


def _simple(value: Any) -> bool:
    """True if the fast encoder writes exactly the RFC 8785 form of this value."""
    t = type(value)
    if t is str or t is bool or value is None:
        return True
    if t is int:
        return -_MAX_SAFE <= value <= _MAX_SAFE
    if t is dict:
        for k, v in value.items():
            if type(k) is not str or not k.isascii() or not _simple(v):
                return False
        return True
    if t is list:
        return all(_simple(v) for v in value)
    return False


def canonical_text(value: Any) -> str:
    value = to_jsonable(value)
    if _simple(value):
        return _encode(value)
    return rfc8785.dumps(value).decode("utf-8")


def canonical_bytes(value: Any) -> bytes:
    return canonical_text(value).encode("utf-8")
