"""Periodic work of the serious-dishonesty list: the daily removal of cases whose
listing period has ended (services/blacklist.py, blacklist_expire_due)."""

from __future__ import annotations

import datetime as dt

from celery import shared_task


def blacklist_expire(on: dt.date | None = None) -> int:
    """Remove every listed case whose listed_until is on or before `on` (today by
    default); returns how many were removed. Idempotent."""
    from .services.blacklist import blacklist_expire_due

    return blacklist_expire_due(on=on)


@shared_task(name="credit.blacklist_expire_task")
def blacklist_expire_task() -> int:
    """Daily (Celery beat "credit-blacklist-expire"): listings end without any event
    announcing it."""
    return blacklist_expire()
