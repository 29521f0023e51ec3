"""Helpers every app's services use: one transaction, validation, audit and event."""

from __future__ import annotations

import hashlib
from collections.abc import Iterable

from django.core.exceptions import ValidationError
from django.db import models, transaction
from django.utils.translation import gettext as _

from . import audit, events
from .models import Division


def upload_sha256(upload) -> str:
    """The SHA-256 of an uploaded file (read in chunks), left ready to be read again."""
    h = hashlib.sha256()
    for chunk in upload.chunks():
        h.update(chunk)
    upload.seek(0)
    return h.hexdigest()


def current_division(code, field: str = "division") -> Division:
    """A division that records may be filed under now: known and not superseded."""
    code = str(code or "").strip()
    div = Division.objects.filter(pk=code).select_related("successor").first()
    if div is None:
        raise ValidationError(
            {field: _("“%(code)s” is not an administrative division code of the province.")
             % {"code": code}}
        )
    if div.valid_to is not None:
        msg = _("Division %(code)s %(name)s was abolished in %(year)s.") % {
            "code": div.code, "name": div.name, "year": div.valid_to,
        }
        if div.successor_id:
            msg += " " + _("Use the current code %(new)s %(name)s.") % {
                "new": div.successor_id, "name": div.successor.name,
            }
        raise ValidationError({field: msg})
    return div


def clean_instance(instance: models.Model, exclude: Iterable[str] = ()) -> None:
    """Full model validation; raises ValidationError keyed by field."""
    instance.full_clean(exclude=list(exclude))


def apply_fields(instance: models.Model, data: dict, allowed: Iterable[str]) -> dict:
    """Set the allowed concrete fields from data; return the M2M values to set later."""
    allowed = set(allowed)
    unknown = set(data) - allowed
    if unknown:
        raise ValidationError(
            {f: _("This field cannot be changed here.") for f in sorted(unknown)}
        )
    m2m_names = {f.name for f in instance._meta.many_to_many}
    m2m = {}
    for name, value in data.items():
        if name in m2m_names:
            m2m[name] = value
        else:
            setattr(instance, name, value)
    return m2m


def save_audited(
    instance: models.Model,
    *,
    actor,
    action: str,
    event: str | None,
    before: dict | None,
    m2m: dict | None = None,
    reason: str = "",
    division: str = "",
    payload: dict | None = None,
):
    """Save, set M2M, audit and publish, all in the caller's transaction."""
    assert transaction.get_connection().in_atomic_block
    instance.save()
    for name, values in (m2m or {}).items():
        getattr(instance, name).set(values)
    audit.record(instance, action=action, actor=actor, before=before, reason=reason,
                 division=division)
    if event:
        events.publish(event, aggregate=instance, payload=payload or {})
    return instance
