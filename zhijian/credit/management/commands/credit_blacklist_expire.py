"""`zhijian credit_blacklist_expire [--on YYYY-MM-DD]`: remove the list cases whose
listing period has ended (what the daily Celery task does)."""

import datetime as dt

from django.core.management.base import BaseCommand, CommandError

from zhijian.credit.tasks_blacklist import blacklist_expire


class Command(BaseCommand):
    help = ("Remove from the serious-dishonesty list every case whose listing period has "
            "ended (listed_until on or before the day; default today). Safe to run again.")

    def add_arguments(self, parser):
        parser.add_argument("--on", help="the day to remove for (YYYY-MM-DD), default today")

    def handle(self, *args, on=None, **options):
        day = None
        if on:
            try:
                day = dt.date.fromisoformat(on)
            except ValueError:
                raise CommandError(f"--on {on!r} is not a date: give YYYY-MM-DD.") from None
        n = blacklist_expire(day)
        self.stdout.write(f"{n} case(s) removed: listing period ended.")
