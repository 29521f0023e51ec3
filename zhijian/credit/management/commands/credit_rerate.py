"""`zhijian credit_rerate [--on YYYY-MM-DD]`: the nightly re-rating, by hand."""

from __future__ import annotations

import datetime as dt

from django.core.management.base import BaseCommand, CommandError
from django.utils.translation import gettext as _

from zhijian.credit.services import rating


def _day(value: str) -> dt.date:
    try:
        return dt.date.fromisoformat(value)
    except ValueError:
        raise CommandError(_("--on takes a date as YYYY-MM-DD, not %(value)s.") % {
            "value": value}) from None


class Command(BaseCommand):
    help = (
        "Re-rate the quality-credit class of every market entity (what the nightly task "
        "does): only changed ratings are written, with their history, the entity's risk "
        "class, an audit entry and a credit.rating_changed event per changed class.")

    def add_arguments(self, parser):
        parser.add_argument("--on", type=_day, default=None,
                            help="rate as of this day (YYYY-MM-DD; default today)")

    def handle(self, *args, on=None, **options):
        shown = [0]

        def progress(done, total):
            if done - shown[0] >= 100_000 or done == total:
                shown[0] = done
                self.stdout.write(_("%(done)s / %(total)s entities rated") % {
                    "done": done, "total": total})

        try:
            result = rating.ratings_rerate_all(on=on, progress=progress)
        except Exception as exc:  # a ValidationError names the day without rules
            if hasattr(exc, "messages"):
                raise CommandError(" ".join(exc.messages)) from exc
            raise
        self.stdout.write(_(
            "Rated %(entities)s entities as of %(on)s in %(seconds).1f s: %(changed)s "
            "ratings changed, %(moved)s classes changed.") % {
            "entities": result.entities, "on": result.on.isoformat(),
            "seconds": result.seconds, "changed": result.changed,
            "moved": result.class_changed})
