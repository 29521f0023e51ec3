"""The audit trail of a register record as the web pages and the API show it (M3.7).

Most records are one row of the audit log's (object_type, object_id). A laboratory's
accredited scope is kept as separate rows (AccreditationScope) audited under their own
type, but a change to the scope is a change to the laboratory: its history includes the
entries of its scope lines, in the order they were written.
"""

from __future__ import annotations

from django.db.models import Q

from zhijian.core import audit
from zhijian.core.models import AuditEntry

from .models import AccreditationScope, Lab

SCOPE_TYPE = AccreditationScope._meta.label_lower


def record_history(obj) -> list[dict]:
    """Entries oldest first, each as audit.history() gives them (with object_type and
    object_id, so that a scope line's entry can be told from the lab's own)."""
    where = Q(object_type=obj._meta.label_lower, object_id=str(obj.pk))
    if isinstance(obj, Lab):
        lines = [str(pk) for pk in AccreditationScope.objects.filter(lab=obj)
                 .values_list("pk", flat=True)]
        if lines:
            where |= Q(object_type=SCOPE_TYPE, object_id__in=lines)
    rows = AuditEntry.objects.filter(where).order_by("seq").only("body", "hash")
    return [audit.parse_body(e.body) | {"hash": e.hash} for e in rows]
