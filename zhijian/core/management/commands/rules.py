"""`zhijian rules show [KEY] [--on DATE]`: the regulatory parameters in force."""

from __future__ import annotations

import argparse
import datetime as dt
import json

from django.core.management.base import BaseCommand, CommandError
from django.utils import timezone
from django.utils.translation import gettext as _

from zhijian.core import rules


def _iso_date(text: str) -> dt.date:
    try:
        return dt.date.fromisoformat(text)
    except ValueError:
        raise argparse.ArgumentTypeError(
            _("%(value)s is not a date; write it as YYYY-MM-DD, e.g. 2025-10-01.")
            % {"value": text}) from None


def _json(value) -> str:
    return json.dumps(value, ensure_ascii=False)


class Command(BaseCommand):
    help = (
        "Show the regulatory parameters (rules) and the legal source of each. show: the "
        "version of every rule in force on a date (default today); with KEY, one rule or "
        "one family (e.g. 'inspections') and, for one rule, all its versions."
    )

    def add_arguments(self, parser):
        sub = parser.add_subparsers(dest="subcommand", required=True, metavar="SUBCOMMAND")
        show = sub.add_parser("show", help="rules in force on a date, with their sources")
        show.add_argument("key", nargs="?", metavar="KEY",
                          help="a rule key (inspections.min_team_size) or a family "
                               "(inspections); default: all rules")
        show.add_argument("--on", type=_iso_date, metavar="DATE",
                          help="the date, YYYY-MM-DD (default: today in Asia/Shanghai)")

    def handle(self, *args, subcommand, **options):
        return getattr(self, f"handle_{subcommand}")(**options)

    def handle_show(self, *, key=None, on=None, **options):
        on = on or timezone.localdate()
        known = rules.keys()
        if key is None:
            selected = known
        else:
            selected = [k for k in known if k == key or k.startswith(key + ".")]
        if not selected:
            raise CommandError(
                _("No rule or rule family is called %(key)s. Known rules: %(keys)s.")
                % {"key": key, "keys": ", ".join(known)})

        self.stdout.write(_("Rules in force on %(date)s:") % {"date": on.isoformat()})
        for name in selected:
            self.stdout.write("")
            try:
                rule = rules.get(name, on)
            except rules.RuleNotInForce as exc:
                self.stdout.write(
                    _("%(key)s: no version in force; the first takes effect on %(date)s.")
                    % {"key": name, "date": exc.first_effective.isoformat()})
            else:
                self.stdout.write(f"{name} = {_json(rule.value)}")
                self.stdout.write(
                    _("  version %(version)s, in force since %(date)s")
                    % {"version": rule.version, "date": rule.effective.isoformat()})
                self.stdout.write(_("  source: %(reference)s") % {"reference": rule.reference})
            if name == key:
                self._show_history(name, on)

    def _show_history(self, key: str, on: dt.date) -> None:
        self.stdout.write(_("  all versions:"))
        for rule in rules.versions(key):
            in_force = rule.effective <= on and (rule.superseded is None or on < rule.superseded)
            if rule.superseded is None:
                period = _("from %(start)s") % {"start": rule.effective.isoformat()}
            else:
                period = _("%(start)s to %(end)s (superseded)") % {
                    "start": rule.effective.isoformat(),
                    "end": (rule.superseded - dt.timedelta(days=1)).isoformat()}
            self.stdout.write(
                f"  {'*' if in_force else ' '} {rule.version}: {_json(rule.value)}, {period}")
