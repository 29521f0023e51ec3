"""`zhijian credit_export [--since CURSOR] --out FILE`: the credit record feed as one file."""

import json
import sys

from django.core.exceptions import ValidationError
from django.core.management.base import BaseCommand, CommandError
from django.utils import timezone

from zhijian.credit import export


class Command(BaseCommand):
    help = ("Write every credit record changed after the cursor --since (all records when "
            "left out) to --out, in the export format of the feed "
            "/api/v1/credit/export/records/ (docs/credit-public.md), for offline transfer "
            "to the provincial public credit platform. Its \"next\" is the cursor for the "
            "next export.")

    def add_arguments(self, parser):
        parser.add_argument("--since", default=None,
                            help="the \"next\" cursor of the previous export")
        parser.add_argument("--out", required=True, help="the file to write ('-': stdout)")

    def handle(self, *args, since=None, out, **options):
        now = timezone.now()
        try:
            first = export.feed(since=since, now=now)
        except ValidationError as err:
            raise CommandError(" ".join(err.message_dict.get("since", err.messages))) from err
        stream = sys.stdout if out == "-" else open(out, "w", encoding="utf-8")  # noqa: SIM115
        count = 0
        try:
            head = {k: first[k] for k in ("format", "generated_at", "since")}
            stream.write(json.dumps(head, ensure_ascii=False)[:-1] + ', "records": [')
            page = first
            while True:
                for row in page["records"]:
                    stream.write(("," if count else "") + "\n"
                                 + json.dumps(row, ensure_ascii=False))
                    count += 1
                if not page["more"]:
                    break
                page = export.feed(since=page["next"], now=now)
            tail = json.dumps({"next": page["next"], "more": False}, ensure_ascii=False)
            stream.write("\n], " + tail[1:] + "\n")
        finally:
            if stream is not sys.stdout:
                stream.close()
        self.stderr.write(f"{count} records written; next cursor: {page['next'] or '-'}")
