"""`zhijian export_draw latest|ID [--output FILE]`: the bundle of a draw, canonical JSON."""

from __future__ import annotations

from pathlib import Path

from django.core.management.base import BaseCommand, CommandError
from django.utils.translation import gettext as _

from zhijian.inspections import draw
from zhijian.inspections.models import Draw


class Command(BaseCommand):
    help = (
        "Print the bundle of a random-inspection draw: plan, frozen register and inspector "
        "pool, commitment, seed and result, as RFC 8785 canonical JSON "
        "(docs/draw-algorithm.md). 'latest' is the most recently drawn draw that stands. "
        "Anyone can check the bundle with 'python -m zhijian.verify draw FILE'."
    )

    def add_arguments(self, parser):
        parser.add_argument("which", metavar="latest|ID",
                            help="'latest' or the id of a draw (as in /api/v1/draws/ID/)")
        parser.add_argument("--output", "-o", metavar="FILE",
                            help="write the bundle to FILE (exactly the canonical bytes) "
                                 "instead of printing it")

    def handle(self, *args, which: str, output: str | None = None, **options):
        d = self.find(which)
        if not d.seed:
            raise CommandError(
                _("Draw %(id)s (plan %(plan)s) has no seed yet; its bundle exists once the "
                  "seed is entered.") % {"id": d.pk, "plan": d.plan.code})
        data = draw.canonical(d.bundle())
        if output is None:
            self.stdout.write(data.decode("utf-8"))
            return
        try:
            Path(output).write_bytes(data)
        except OSError as exc:
            raise CommandError(_("Cannot write %(file)s: %(error)s") % {
                "file": output, "error": exc.strerror or exc}) from exc
        self.stdout.write(_("Wrote the bundle of draw %(id)s (plan %(plan)s, draw number "
                            "%(number)s) to %(file)s: %(size)d bytes, SHA-256 %(sha)s.") % {
            "id": d.pk, "plan": d.plan.code, "number": d.number, "file": output,
            "size": len(data), "sha": draw.sha256_hex(data)})

    def find(self, key: str) -> Draw:
        qs = Draw.objects.select_related("plan")
        if key.strip().lower() == "latest":
            d = qs.latest_drawn()
            if d is None:
                raise CommandError(_("No draw has been drawn yet, so there is no bundle to "
                                     "export. Publish a plan and enter its seed first."))
            return d
        try:
            pk = int(key)
        except ValueError:
            raise CommandError(_("%(value)s is not a draw id: give the number of a draw or "
                                 "“latest”.") % {"value": key}) from None
        d = qs.filter(pk=pk).first()
        if d is None:
            raise CommandError(_("There is no draw %(id)s. The draws are listed at "
                                 "/api/v1/draws/.") % {"id": pk})
        return d

