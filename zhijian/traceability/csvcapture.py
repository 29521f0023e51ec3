"""CSV upload of supply-chain steps (docs/capture-without-gs1.md §4): one row per step, the
whole file one EPCIS document captured atomically (services.capture_document), every
problem reported as row + column + translated message.

The file is UTF-8 (with or without the byte-order mark Excel writes) or GB18030 (what
Excel and WPS save as "CSV" on a Chinese Windows). Headers may be the English column
names or the Chinese ones of the template. At most MAX_ROWS rows and MAX_BYTES bytes.

eventIDs are derived from the capturing organisation, the file's SHA-256 and the row
(steps.build's seed): uploading the same file again stores nothing new (every event a
duplicate, docs/epcis.md §7).
"""

from __future__ import annotations

import csv
import hashlib
import io
import re
from dataclasses import dataclass, field
from datetime import datetime

from django.utils import timezone
from django.utils.translation import get_language
from django.utils.translation import gettext as _

from zhijian.core.access import scope_of

from . import access, services, steps
from .forms import (
    NOT_OWN_PRODUCT,
    Resolver,
    Unresolved,
    own_product,
    parse_inputs,
    step_message,
)
from .models import Capture

MAX_ROWS = 1000
MAX_BYTES = 2 * 1024 * 1024

#: Canonical column -> (English header, Chinese header).
COLUMNS = {
    "step": ("step", "步骤"),
    "time": ("time", "时间"),
    "gtin": ("gtin", "商品条码"),
    "lot": ("lot", "批号"),
    "quantity": ("quantity", "数量"),
    "unit": ("unit", "单位"),
    "from": ("from", "发货方"),
    "to": ("to", "收货方"),
    "location": ("location", "地点"),
    "to_location": ("to_location", "目的地点"),
    "inputs": ("inputs", "投入批次"),
    "result": ("result", "检验结果"),
    "reason": ("reason", "增量原因"),
    "note": ("note", "备注"),
}
REQUIRED = ("step", "time", "gtin", "lot", "quantity", "unit")
_HEADER = {name.lower(): key for key, names in COLUMNS.items() for name in names}
STEP_WORDS = {
    "produce": "produce", "生产": "produce",
    "inspect": "inspect", "检验": "inspect",
    "ship": "ship", "发货": "ship",
    "receive": "receive", "收货": "receive",
    "transform": "transform", "cut": "transform", "分切": "transform", "加工": "transform",
    "install": "install", "安装": "install",
    "recall": "recall", "召回": "recall",
    "destroy": "destroy", "销毁": "destroy",
}
RESULT_WORDS = {"pass": "pass", "合格": "pass", "fail": "fail", "不合格": "fail", "": ""}
_TIME_FORMATS = ("%Y-%m-%d %H:%M", "%Y-%m-%d %H:%M:%S", "%Y/%m/%d %H:%M", "%Y/%m/%d %H:%M:%S",
                 "%Y-%m-%dT%H:%M", "%Y-%m-%dT%H:%M:%S")


@dataclass(frozen=True)
class RowProblem:
    """One problem: the spreadsheet row (the header is row 1; 0 = the whole file), the
    column as headed in the file ("" = the row or file) and the translated message."""

    row: int
    column: str
    message: str


class CsvRefused(Exception):
    def __init__(self, problems: list[RowProblem]):
        super().__init__(f"{len(problems)} problem(s)")
        self.problems = problems


@dataclass
class Parsed:
    events: list[dict] = field(default_factory=list)
    rows: list[int] = field(default_factory=list)  # the spreadsheet row of each event
    headers: dict[str, str] = field(default_factory=dict)  # column -> header in the file
    problems: list[RowProblem] = field(default_factory=list)


def decode(raw: bytes) -> str:
    """The text of an uploaded file: UTF-8 (BOM dropped) or else GB18030."""
    try:
        return raw.decode("utf-8-sig")
    except UnicodeDecodeError:
        pass
    try:
        return raw.decode("gb18030")
    except UnicodeDecodeError:
        raise CsvRefused([RowProblem(0, "", _(
            "The file is neither UTF-8 nor GB18030 text. Save it from the spreadsheet as "
            "CSV (UTF-8 or the default Chinese encoding) and upload it again."))]) from None


def parse_time(text: str) -> datetime:
    value = (text or "").strip()
    if not value:
        raise steps.StepError("time", "required", name="time")
    try:
        moment = datetime.fromisoformat(value)
    except ValueError:
        moment = None
        for fmt in _TIME_FORMATS:
            try:
                moment = datetime.strptime(value, fmt)  # noqa: DTZ007 - Beijing time below
                break
            except ValueError:
                continue
    if moment is None:
        raise steps.StepError("time", "time.format", value=value)
    return moment if moment.tzinfo else moment.replace(tzinfo=steps.CHINA)


def parse(raw: bytes, *, user) -> Parsed:
    """The events of an uploaded file, or every problem found (nothing is captured here)."""
    if len(raw) > MAX_BYTES:
        raise CsvRefused([RowProblem(0, "", _(
            "The file is %(size)s bytes; the limit is %(limit)s bytes (%(rows)s rows). Split "
            "it into several files.") % {"size": len(raw), "limit": MAX_BYTES,
                                           "rows": MAX_ROWS})])
    text = decode(raw)
    reader = csv.reader(io.StringIO(text, newline=""))
    parsed = Parsed()
    try:
        header = next(reader)
    except (StopIteration, csv.Error):
        raise CsvRefused([RowProblem(0, "", _("The file is empty: it needs the header row "
                                              "of the template and one row per step."))]) \
            from None
    columns: list[str | None] = []
    for name in header:
        key = _HEADER.get(name.strip().lower())
        if key is not None and key in parsed.headers:
            raise CsvRefused([RowProblem(1, name, _("The column %(column)s appears twice. "
                                                    "Keep one.") % {"column": name})])
        if key is not None:
            parsed.headers[key] = name.strip()
        columns.append(key)
    missing = [COLUMNS[c][0] for c in REQUIRED if c not in parsed.headers]
    if missing:
        raise CsvRefused([RowProblem(1, "", _(
            "The header row lacks the columns %(columns)s. Start from the template.") % {
            "columns": ", ".join(missing)})])
    seed = f"{access.org_key(scope_of(user))}:{hashlib.sha256(raw).hexdigest()}:"
    resolver = _CachedResolver(user)
    try:
        for number, values in enumerate(reader, start=2):
            if not any(v.strip() for v in values):
                continue
            if len(parsed.rows) >= MAX_ROWS:
                raise CsvRefused([RowProblem(number, "", _(
                    "The file has more than %(limit)s rows. Split it into several files.")
                    % {"limit": MAX_ROWS})])
            row = {key: values[i].strip() if i < len(values) else ""
                   for i, key in enumerate(columns) if key is not None}
            event = _event(row, number, seed, resolver, parsed)
            if event is not None:
                parsed.events.append(event)
                parsed.rows.append(number)
    except csv.Error as exc:
        raise CsvRefused([RowProblem(0, "", _("The file is not valid CSV (%(detail)s). Save "
                                              "it again from the spreadsheet.") % {
            "detail": exc})]) from None
    if not parsed.events and not parsed.problems:
        parsed.problems.append(RowProblem(0, "", _("The file has no steps: add one row per "
                                                   "step under the header.")))
    return parsed


def _event(row: dict, number: int, seed: str, resolver, parsed: Parsed) -> dict | None:
    def problem(column: str, message: str) -> None:
        parsed.problems.append(RowProblem(number, parsed.headers.get(column, column), message))

    step = STEP_WORDS.get(row.get("step", "").lower())
    if step is None:
        problem("step", _("%(value)s is not a step: write one of %(steps)s.") % {
            "value": row.get("step", ""), "steps": ", ".join(steps.STEPS)})
        return None
    result = RESULT_WORDS.get(row.get("result", "").lower())
    if result is None:
        problem("result", _("%(value)s is not an inspection result: use pass, fail or leave "
                            "it empty.") % {"value": row.get("result", "")})
        return None
    try:
        from_party = resolver.party(row.get("from", ""))
    except Unresolved as exc:
        problem("from", str(exc))
        return None
    try:
        to_party = resolver.party(row.get("to", ""))
    except Unresolved as exc:
        problem("to", str(exc))
        return None
    try:
        location = resolver.place(row.get("location", ""), installation=step == "install")
    except Unresolved as exc:
        problem("location", str(exc))
        return None
    try:
        to_location = resolver.place(row.get("to_location", ""))
    except Unresolved as exc:
        problem("to_location", str(exc))
        return None
    for column, needed in (("to", step == "ship"), ("from", step == "receive"),
                           ("location", step in ("receive", "install")),
                           ("inputs", step == "transform")):
        if needed and not row.get(column):
            problem(column, _("The step %(step)s needs the column %(column)s.") % {
                "step": step, "column": parsed.headers.get(column, COLUMNS[column][0])})
            return None
    if step == "ship":
        from_party = from_party or resolver.own_party
        if not from_party:
            problem("from", _("The step %(step)s needs the column %(column)s.") % {
                "step": step, "column": parsed.headers.get("from", "from")})
            return None
    if step == "receive":
        to_party = to_party or resolver.own_party
    try:
        time = parse_time(row.get("time", ""))
        batch = steps.Batch(row.get("gtin", ""), row.get("lot", ""), row.get("quantity", ""),
                            row.get("unit", ""))
        inputs = (parse_inputs(row.get("inputs", ""), batch.gtin, batch.unit)
                  if step == "transform" else ())
        event = steps.build(step, time=time, batch=batch, location=location,
                            from_party=from_party, to_party=to_party, to_location=to_location,
                            inputs=inputs, result=result, reason=row.get("reason", ""),
                            note=row.get("note", ""), seed=f"{seed}{number}")
    except steps.StepError as exc:
        column = re.split(r"[\[.]", exc.field, maxsplit=1)[0]
        problem(column if column in COLUMNS else "", step_message(exc))
        return None
    if step == "produce" and not resolver.own_product(batch.gtin):
        problem("gtin", str(NOT_OWN_PRODUCT))
        return None
    return event


class _CachedResolver(Resolver):
    """A Resolver that looks each distinct value up once per file."""

    def __init__(self, user):
        super().__init__(user)
        self._cache: dict = {}

    def _cached(self, key, compute):
        if key not in self._cache:
            try:
                self._cache[key] = (True, compute())
            except Unresolved as exc:
                self._cache[key] = (False, exc)
        ok, value = self._cache[key]
        if not ok:
            raise value
        return value

    def party(self, text: str) -> str:
        return self._cached(("party", text), lambda: super(_CachedResolver, self).party(text))

    def place(self, text: str, *, installation: bool = False) -> str:
        return self._cached(("place", text, installation),
                            lambda: super(_CachedResolver, self).place(
                                text, installation=installation))

    def own_product(self, gtin: str) -> bool:
        return self._cached(("product", gtin), lambda: own_product(self.user, gtin))


def capture(raw: bytes, *, user) -> Capture:
    """Parse the file and capture all its steps as one document, or raise CsvRefused with
    every problem (nothing stored)."""
    parsed = parse(raw, user=user)
    if parsed.problems:
        raise CsvRefused(parsed.problems)
    doc = steps.document(parsed.events, created=timezone.now())
    try:
        return services.capture_document(actor=user, raw=steps.encode(doc))
    except services.CaptureRefused as exc:
        raise CsvRefused(_problems(exc.problems, parsed)) from None


def _problems(problems, parsed: Parsed) -> list[RowProblem]:
    """The store's problems (JSON pointers) as rows and columns of the file."""
    out = []
    for p in problems:
        tokens = [t.replace("~1", "/").replace("~0", "~") for t in p.pointer.split("/")[1:]]
        row, column = 0, ""
        if tokens[:2] == ["epcisBody", "eventList"] and len(tokens) > 2 and tokens[2].isdigit():
            index = int(tokens[2])
            if index < len(parsed.rows):
                row = parsed.rows[index]
                key = steps.field_of(parsed.events[index], tokens[3:])
                column = parsed.headers.get(key, key)
        problem = RowProblem(row, column, services.message(p))
        if problem not in out:  # readPoint and bizLocation name the same place
            out.append(problem)
    return out


def template(user) -> bytes:
    """A CSV template with the header row (Chinese headers in the Chinese interface) and an
    example of each step, for the user's first product and places where there are any;
    UTF-8 with BOM so that Excel opens it right."""
    from .forms import product_suggestions

    chinese = (get_language() or "").startswith("zh")
    header = [names[1] if chinese else names[0] for names in COLUMNS.values()]
    product = product_suggestions(user).first()
    gtin = product.gtin if product is not None else EXAMPLE_GTIN
    place = (access.places_selectable(user).exclude(kind="party")
             .filter(org=access.org_key(scope_of(user))).order_by("pk").first())
    where = place.name if place is not None else ""
    rows = [
        ["produce", "2026-07-20 08:00", gtin, "L2026A", "5000", "m", "", "", where, "", "",
         "", "", ""],
        ["inspect", "2026-07-20 15:00", gtin, "L2026A", "5000", "m", "", "", where, "", "",
         "pass", "", ""],
        ["transform", "2026-07-21 09:00", gtin, "L2026A-01", "1000", "m", "", "", where, "",
         "L2026A:1000", "", "", ""],
        ["ship", "2026-07-22 08:30", gtin, "L2026A-01", "1000", "m", "", EXAMPLE_GLN, "", "",
         "", "", "", ""],
    ]
    out = io.StringIO(newline="")
    writer = csv.writer(out, lineterminator="\r\n")
    writer.writerow(header)
    writer.writerows(rows)
    return ("\ufeff" + out.getvalue()).encode("utf-8")


#: The examples' GTIN and customer GLN when the user has no product: numbers under GS1's
#: documentation company prefix 0614141, with valid check digits (nobody's goods).
EXAMPLE_GTIN = "0614141123452"
EXAMPLE_GLN = "0614141000012"
