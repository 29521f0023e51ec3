"""Event subscribers of the reports app: every issued report is screened for fake-report
signals (signals.py), together with its lab's calendar month for the capacity screen.
Idempotent: a finding already recorded is not recorded again."""

from zhijian.core.events import subscribe

from . import signals


@subscribe("report.issued")
def scan_issued_report(event) -> None:
    number = (event.payload or {}).get("number")
    if number:
        signals.signals_scan(numbers=[number])
