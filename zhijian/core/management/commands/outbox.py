"""`zhijian outbox drain|status`: operate the domain-event outbox."""

from __future__ import annotations

from json import dumps

from django.core.management.base import BaseCommand
from django.utils.translation import gettext as _

from zhijian.core import events
from zhijian.core.models import OutboxEvent


class Command(BaseCommand):
    help = (
        "Operate the domain-event outbox. drain: apply the pending events here and now "
        "(for instance after the broker was down). status: count pending and failing "
        "events and show why the failing ones failed."
    )

    def add_arguments(self, parser):
        sub = parser.add_subparsers(dest="subcommand", required=True, metavar="SUBCOMMAND")
        drain = sub.add_parser("drain", help="apply the pending events in this process")
        drain.add_argument("--batch", type=int, default=200, help="events per query")
        status = sub.add_parser("status", help="pending and failing events")
        status.add_argument("--limit", type=int, default=10,
                            help="failing events to list (default 10)")
        status.add_argument("--json", action="store_true",
                            help="print the counts as JSON (for scripts and monitoring)")

    def handle(self, *args, subcommand, **options):
        return getattr(self, f"handle_{subcommand}")(**options)

    def handle_drain(self, *, batch, **options):
        done = events.drain(batch=batch)
        left = events.status()
        self.stdout.write(
            _("Processed %(done)s events; %(pending)s pending, %(failing)s of them failing.")
            % {"done": done, "pending": left["pending"], "failing": left["failing"]})

    def handle_status(self, *, limit, json=False, **options):
        s = events.status()
        if json:
            oldest = s["oldest_pending"]
            self.stdout.write(dumps(s | {"oldest_pending": oldest and oldest.isoformat()}))
            return
        self.stdout.write(_("pending: %(n)s") % {"n": s["pending"]})
        self.stdout.write(_("failing: %(n)s") % {"n": s["failing"]})
        self.stdout.write(_("processed: %(n)s") % {"n": s["processed"]})
        if s["oldest_pending"] is not None:
            self.stdout.write(_("oldest pending since: %(ts)s") % {
                "ts": s["oldest_pending"].isoformat()})
        failing = (OutboxEvent.objects.filter(processed_at__isnull=True, attempts__gt=0)
                   .order_by("id")[:limit])
        for event in failing:
            self.stdout.write(
                _("  #%(id)s %(name)s, %(attempts)s attempts: %(error)s") % {
                    "id": event.pk, "name": event.name, "attempts": event.attempts,
                    "error": event.last_error.splitlines()[0] if event.last_error else ""})
