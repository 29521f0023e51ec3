"""`zhijian demo`: build the deterministic synthetic Shaanxi and serve it."""

from __future__ import annotations

import sys
import time

from django.conf import settings
from django.core.management import call_command
from django.core.management.base import BaseCommand, CommandError
from tqdm import tqdm

from zhijian.core import audit
from zhijian.demo import build, credit, inspections, plan, quality, recall, supply_chain


def _count(value: str) -> int:
    n = int(value)
    if n < 0:
        raise ValueError(value)
    return n


class Command(BaseCommand):
    help = (
        "Build the demo province (departments, responsibility matrix, inspectors, labs, "
        "user units, the cable story, N synthetic market entities, three random "
        "inspection plans, drawn and partly inspected, and a multi-tier supply chain of "
        "EPCIS events) in the database "
        "named by DATABASE_URL, print one login per role, and serve it. Deterministic for "
        "a given --seed; running it again adds nothing."
    )

    def add_arguments(self, parser):
        parser.add_argument("--entities", type=_count, default=2000, metavar="N",
                            help="number of synthetic market entities (default 2000; "
                                 "a few hundred up to 1,000,000)")
        parser.add_argument("--chain-events", type=_count, default=supply_chain.DEFAULT_EVENTS,
                            metavar="N",
                            help="EPCIS events of the demo supply chain (default "
                                 f"{supply_chain.DEFAULT_EVENTS}; up to 1,000,000 and more)")
        parser.add_argument("--seed", type=int, default=2017,
                            help="random seed; the same seed gives the same province "
                                 "(default 2017)")
        parser.add_argument("--no-serve", action="store_true",
                            help="build and exit instead of running the web server")
        parser.add_argument("--reset", action="store_true",
                            help="empty the database first (deletes the SQLite file or "
                                 "drops the PostgreSQL schema)")
        parser.add_argument("--addr", default="127.0.0.1:8000",
                            help="address for the web server (default 127.0.0.1:8000)")

    def handle(self, *args, entities, seed, no_serve, reset, addr, chain_events=None,
               **options):
        if settings.PRODUCTION:
            raise CommandError("The demo does not run in the production profile: it creates "
                               "accounts with a published password.")
        verbosity = options.get("verbosity", 1)
        say = self.stdout.write if verbosity else (lambda _m: None)
        started = time.monotonic()
        created_db = build.database_create()
        if created_db:
            say(f"Created the database {created_db}.")
        if reset:
            try:
                where = build.database_reset()
            except build.DemoError as exc:
                raise CommandError(str(exc)) from exc
            say(f"Emptied the database {where}.")
        call_command("migrate", interactive=False, verbosity=0)

        if build.province_exists():
            say("The demo province is already in this database; keeping it.")
        else:
            say(f"Building the demo province (seed {seed}) ...")
            build.province_build(seed=seed, log=lambda m: say("  " + m))

        bar = tqdm(total=entities, desc="market entities", unit=" entities", file=sys.stderr,
                   disable=verbosity == 0, dynamic_ncols=True)
        try:
            created = build.entities_build(seed=seed, count=entities, progress=bar.update)
        except build.DemoError as exc:
            raise CommandError(str(exc)) from exc
        finally:
            bar.close()
        say(f"  market entities: {created} added")
        inspections.inspections_build(seed=seed, log=lambda m: say("  " + m))
        quality.quality_build(seed=seed, log=lambda m: say("  " + m))
        if chain_events is None:
            chain_events = supply_chain.DEFAULT_EVENTS
        bar = tqdm(total=max(chain_events, supply_chain.story_size(seed)),
                   desc="supply chain", unit=" events", file=sys.stderr,
                   disable=verbosity == 0, dynamic_ncols=True)
        try:
            supply_chain.supply_chain_build(seed=seed, events=chain_events,
                                            log=lambda m: say("  " + m), progress=bar.update)
        finally:
            bar.close()
        recall.recall_build(seed=seed, log=lambda m: say("  " + m))
        credit.credit_build(seed=seed, log=lambda m: say("  " + m))
        checkpoint = audit.checkpoint_create()
        if checkpoint is not None:
            say(f"  audit checkpoint signed at entry {checkpoint.seq}")
        say(f"Done in {time.monotonic() - started:.1f} s.")

        self.print_logins(addr)
        if no_serve:
            return
        call_command("collectstatic", interactive=False, verbosity=0)
        call_command("runserver", addr, use_reloader=False)

    def print_logins(self, addr: str) -> None:
        rows = [("role", "username", "password", "who")]
        rows += [(p.role, p.username, plan.PASSWORD, p.label) for p in plan.PERSONAS]
        rows += [("enterprise", username, plan.PASSWORD, label)
                 for username, label in supply_chain.PRINTED_LOGINS]
        widths = [max(len(r[i]) for r in rows) for i in range(3)]
        out = self.stdout
        out.write("")
        out.write("Demo logins (all with the same password):")
        for i, row in enumerate(rows):
            out.write("  " + "  ".join(c.ljust(w) for c, w in zip(row, widths, strict=False))
                      + "  " + row[3])
            if i == 0:
                out.write("  " + "  ".join("-" * w for w in widths) + "  " + "-" * 3)
        out.write("")
        out.write(f"Public portal:   http://{addr}/")
        out.write(f"Workbench:       http://{addr}/work/")
        out.write(f"API and docs:    http://{addr}/api/v1/  http://{addr}/api/v1/docs/")
        out.write("API token for scripts: zhijian create_token USERNAME")
