"""Event subscribers of the registry: per-division counts for dashboards."""

from django.db.models import F

from zhijian.core.events import subscribe

from .models import DivisionStats


def _add(division: str, n: int) -> None:
    if not division or not n:
        return
    updated = DivisionStats.objects.filter(division_id=division).update(entities=F("entities") + n)
    if not updated:
        DivisionStats.objects.create(division_id=division, entities=max(n, 0))


@subscribe("entity.registered")
def count_registered(event) -> None:
    _add(event.payload.get("division", ""), 1)


@subscribe("entities.imported")
def count_imported(event) -> None:
    for division, n in event.payload.get("per_division", {}).items():
        _add(division, n)


@subscribe("entity.updated")
def count_moved(event) -> None:
    new, old = event.payload.get("division"), event.payload.get("previous_division")
    if new and old and new != old:
        _add(old, -1)
        _add(new, 1)
