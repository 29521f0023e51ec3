"""The class of every market entity (质量信用分类, M3.4), kept current.

- `entity_rerate` rates one entity from its records (scoring.rate) the moment a record
  changes (handlers_rating.py subscribes to "credit.record_changed"): it upserts the
  CreditRating, appends a RatingChange when the class or score changed (or on the first
  rating) with the records that counted, and when the entity's class changed (from its
  previous rating's class, or from the initial class of the register on the first
  rating) appends an audit entry and publishes "credit.rating_changed". The CreditRating
  is the one source of the class: MarketEntity.risk_class is only the initial class and
  is never written here; readers use MarketEntity.credit_class /
  MarketEntityQuerySet.with_credit_class().
- `ratings_rerate_all` is the nightly batch: records expire and repairs take effect
  without any event. It aggregates the counting records in SQL (one row per entity:
  points and hard-rule counts) and classifies in Python with the same per-day tables as
  scoring.rate_many, so it gives exactly the class and score of `rate`; only what changed
  is written back, in bulk.
- `rating_explain` / `rating_as_of` explain the current rating and reproduce the rating
  of a past day (docs/credit-rating.md).
"""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Callable
from dataclasses import dataclass

from django.core.exceptions import ValidationError
from django.db import connection, transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from zhijian.core import audit, events, rules
from zhijian.core.models import OutboxEvent
from zhijian.registry.models import MarketEntity

from .. import scoring
from ..choices import RecordStatus
from ..models import CreditRating, CreditRecord, RatingChange

RATING_CHANGED = "credit.rating_changed"
#: Trigger of the nightly batch (CreditRating.trigger, RatingChange.trigger).
TRIGGER_BATCH = "batch"
RECORD_COLUMNS = ("id", "kind", "date", "weight", "expires_on", "repaired_on", "source_ref")


def rules_on(on: dt.date) -> scoring.Rules:
    """The credit rules in force on `on` (refused with the date named when none is)."""
    try:
        return scoring.Rules.in_force(rules.get, on)
    except rules.RuleError as err:
        raise ValidationError({"on": _(
            "No credit rule is in force on %(date)s; choose a later date.") % {
            "date": on.isoformat()}}) from err


def _records(entity_id, *, known_on: dt.date | None = None) -> list[tuple]:
    """The entity's records as scoring.Record tuples: the active ones, or (known_on) the
    ones known on that day: created on or before it and not withdrawn by its end."""
    qs = CreditRecord.objects.filter(entity_id=entity_id)
    if known_on is None:
        qs = qs.filter(status=RecordStatus.ACTIVE)
    else:
        end = _day_end(known_on)
        qs = qs.filter(created_at__lt=end).exclude(withdrawn_at__lt=end)
    return list(qs.order_by().values_list(*RECORD_COLUMNS))


def _day_end(day: dt.date) -> dt.datetime:
    """The first instant after `day` in the site's time zone."""
    return timezone.make_aware(dt.datetime.combine(day + dt.timedelta(days=1), dt.time()))


def _counted(rating: scoring.Rating) -> list[list[int]]:
    return [[c.id, c.points] for c in rating.counted]


def _publish_changed(entity_id, from_class, to_class, score) -> None:
    events.publish(RATING_CHANGED, aggregate=MarketEntity(pk=entity_id), payload={
        "entity": entity_id, "from_class": from_class, "to_class": to_class,
        "score": score})


def _risk_change(entity_id, division, old, new, score, trigger) -> audit.Change:
    return audit.Change("entity.credit_class_changed", "registry.marketentity", str(entity_id),
                        {"credit_class": old}, {"credit_class": new, "score": score,
                                                "trigger": trigger}, division=division)


@transaction.atomic
def entity_rerate(*, entity_id, trigger: str, now: dt.datetime | None = None) -> CreditRating:
    """Rate one entity today from its active records and keep the result (see module)."""
    now = now or timezone.now()
    on = timezone.localdate(now)
    # The entity row is locked (not written) so that two re-ratings of one firm queue.
    entity = (MarketEntity.objects.select_for_update().only("pk", "risk_class", "division_id")
              .get(pk=entity_id))
    rating = scoring.rate(_records(entity.pk), rules_on(on), on=on)
    current = CreditRating.objects.filter(entity_id=entity.pk).first()
    new_class, score = rating.risk_class, rating.score
    first = current is None
    old_class = entity.risk_class if first else current.risk_class
    changed = first or current.risk_class != new_class or current.score != score
    if first:
        current = CreditRating(entity_id=entity.pk)
    if changed or current.versions != rating.versions:
        previous = (None, None) if first else (current.risk_class, current.score)
        current.risk_class, current.score, current.on = new_class, score, on
        current.versions, current.trigger, current.computed_at = (
            dict(rating.versions), trigger[:60], now)
        current.save()
        if changed:
            RatingChange.objects.create(
                entity_id=entity.pk, on=on, computed_at=now, from_class=previous[0] or "",
                to_class=new_class, from_score=previous[1], to_score=score,
                versions=dict(rating.versions), trigger=trigger[:60], counted=_counted(rating))
    if old_class != new_class:
        audit.append(_risk_change(entity.pk, entity.division_id, old_class, new_class, score,
                                  trigger), actor=None)
        _publish_changed(entity.pk, old_class, new_class, score)
    return current


# --- the nightly batch ----------------------------------------------------------------------

@dataclass(frozen=True)
class BatchResult:
    on: dt.date
    entities: int       # entities rated
    changed: int        # ratings written (new, or class/score/versions changed)
    class_changed: int  # entities whose credit class changed
    seconds: float
    phases: dict        # seconds per phase (for the benchmark and the operators)


def _kinds_table(r: scoring.Rules, on: dt.date) -> list[tuple]:
    """(kind, first open date, default weight, sign, hard flags...) per kind of the rules."""
    kinds, _by_score, hard, _names = r.table(on)
    out = []
    for name, (open_from, _points, sign, hits) in kinds.items():
        out.append((name, open_from, r.kinds[name].weight, sign,
                    *[1 if i in hits else 0 for i in range(len(hard))]))
    return out


def _values_sql(table: list[tuple], n_hard: int) -> tuple[str, list]:
    pg = connection.vendor == "postgresql"
    cols = ["kind", "open_from", "weight", "sign"] + [f"h{i}" for i in range(n_hard)]
    if pg:
        row = "(%s, CAST(%s AS date), %s, %s" + ", %s" * n_hard + ")"
        sql = f"(VALUES {', '.join([row] * len(table))}) AS k({', '.join(cols)})"
    else:
        # SQLite names VALUES columns column1..n; a sub-select names them.
        first = ", ".join(f"%s AS {c}" for c in cols)
        rest = " UNION ALL ".join([f"SELECT {', '.join(['%s'] * len(cols))}"] * (len(table) - 1))
        sql = f"(SELECT {first}{' UNION ALL ' + rest if rest else ''}) AS k"
    params = [v.isoformat() if isinstance(v, dt.date) and not pg else v
              for row in table for v in row]
    return sql, params


def _counting(on: dt.date) -> tuple[str, list]:
    """The WHERE of a counting record (docs/credit-classification.md, step 2), joined to
    the kinds table k: active, dated on or before `on`, not expired, not repaired."""
    day = on if connection.vendor == "postgresql" else on.isoformat()
    return ("r.status = %s AND r.date <= %s AND (r.repaired_on IS NULL OR r.repaired_on > %s)"
            " AND ((r.expires_on IS NULL AND r.date >= k.open_from)"
            " OR r.expires_on > %s)", [RecordStatus.ACTIVE, day, day, day])


def aggregate_sql(r: scoring.Rules, on: dt.date) -> tuple[str, list]:
    """One row per market entity: id, initial risk_class, current rating (class, score,
    versions as stored), points of its counting records, and per hard rule their count."""
    table = _kinds_table(r, on)
    n_hard = len(r.hard)
    values, vparams = _values_sql(table, n_hard)
    where, wparams = _counting(on)
    hard_sums = "".join(f", SUM(k.h{i}) AS h{i}" for i in range(n_hard))
    hard_cols = "".join(f", a.h{i}" for i in range(n_hard))
    sql = (
        f"SELECT e.id, e.risk_class, e.division_id, cr.risk_class, cr.score, "  # noqa: S608 (table and column names are constants; values are parameters)
        f"CASE WHEN cr.versions = {_jsonb()} THEN 1 ELSE 0 END, "
        f"a.points{hard_cols} "
        "FROM registry_marketentity e "
        "LEFT JOIN credit_creditrating cr ON cr.entity_id = e.id "
        "LEFT JOIN (SELECT r.entity_id, SUM(k.sign * COALESCE(r.weight, k.weight)) AS points"
        f"{hard_sums} FROM credit_creditrecord r JOIN {values} ON k.kind = r.kind "
        f"WHERE {where} GROUP BY r.entity_id) a ON a.entity_id = e.id")
    return sql, [json.dumps(dict(r.versions))] + vparams + wparams


def _classifier(r: scoring.Rules, on: dt.date) -> Callable[[int, tuple], tuple[str, int]]:
    _kinds, by_score, hard, names = r.table(on)
    base, low, high = r.base, r.min_score, r.max_score

    def classify(points, counts) -> tuple[str, int]:
        total = base + (points or 0)
        score = low if total < low else high if total > high else total
        rank = by_score[score - low]
        for (at_least, cap), n in zip(hard, counts, strict=True):
            if n is not None and n >= at_least and cap > rank:
                rank = cap
        return names[rank], score

    return classify


def ratings_rerate_all(*, on: dt.date | None = None, progress: Callable | None = None,
                       chunk: int = 50_000) -> BatchResult:
    """Re-rate every market entity on `on` (default today): the nightly batch.

    Exactly the class and score scoring.rate gives each entity from its active records
    (entities without records get the base score's class). Writes only what changed:
    the CreditRating rows, a RatingChange per changed class or score with the records
    counted, and per changed class (from the previous rating's class, or the initial
    class of the register on a first rating) an audit entry and a "credit.rating_changed"
    event; MarketEntity.risk_class, the initial class, is not written. A rating an event
    wrote after the batch started is left as it is. Running it twice on the same day
    changes nothing the second time. `progress(done, total)` is called as the entities
    are rated."""
    import time

    started = time.monotonic()
    now = timezone.now()
    on = on or timezone.localdate(now)
    r = rules_on(on)
    versions = dict(r.versions)
    classify = _classifier(r, on)
    n_hard = len(r.hard)
    total = MarketEntity.objects.count()
    sql, params = aggregate_sql(r, on)
    done = changed = class_changed = 0
    pending: list[tuple] = []
    phases: dict[str, float] = {}
    with transaction.atomic():
        _tmp_create()
        with connection.chunked_cursor() as cursor:
            cursor.execute(sql, params)
            while True:
                rows = cursor.fetchmany(chunk)
                if not rows:
                    break
                for row in rows:
                    new_class, score = classify(row[6], row[7:7 + n_hard])
                    if row[3] != new_class or row[4] != score or not row[5]:
                        # old_risk: the class the entity had until now
                        pending.append((row[0], new_class, score, row[3], row[4],
                                        row[3] or row[1], row[2]))
                done += len(rows)
                if len(pending) >= chunk:
                    _tmp_put(pending)
                    changed += len(pending)
                    pending = []
                if progress is not None:
                    progress(done, total)
        if pending:
            _tmp_put(pending)
            changed += len(pending)
        phases["rate"] = time.monotonic() - started
        if changed:
            if connection.vendor == "postgresql":
                with connection.cursor() as c:
                    c.execute(f"ANALYZE {_TMP}")
            class_changed = _write_back(r, on, now, versions, phases)
        _tmp_drop()
    return BatchResult(on, done, changed, class_changed, time.monotonic() - started, phases)


_TMP = "credit_rerate_tmp"
_TMP_COLS = ("entity_id", "risk_class", "score", "from_class", "from_score", "old_risk",
             "division_id")


def _tmp_create() -> None:
    with connection.cursor() as c:
        c.execute(f"DROP TABLE IF EXISTS {_TMP}")
        c.execute(f"CREATE TEMP TABLE {_TMP} (entity_id bigint PRIMARY KEY, "
                  "risk_class varchar(1), score smallint, from_class varchar(1), "
                  "from_score smallint, old_risk varchar(1), division_id varchar(12))")


def _tmp_drop() -> None:
    with connection.cursor() as c:
        c.execute(f"DROP TABLE IF EXISTS {_TMP}")


def _tmp_put(rows: list[tuple]) -> None:
    with connection.cursor() as c:
        if connection.vendor == "postgresql":
            with c.cursor.copy(f"COPY {_TMP} ({', '.join(_TMP_COLS)}) FROM STDIN") as copy:
                for row in rows:
                    copy.write_row(row)
        else:
            c.executemany(f"INSERT INTO {_TMP} VALUES ({', '.join(['%s'] * len(_TMP_COLS))})",  # noqa: S608 (table and column names are constants; values are parameters)
                          rows)


def _jsonb() -> str:
    return "CAST(%s AS jsonb)" if connection.vendor == "postgresql" else "%s"


def _write_back(r: scoring.Rules, on: dt.date, now: dt.datetime, versions: dict,
                phases: dict) -> int:
    import time

    mark = time.monotonic()

    def phase(name):
        nonlocal mark
        phases[name] = time.monotonic() - mark
        mark = time.monotonic()

    pg = connection.vendor == "postgresql"
    vjson = json.dumps(versions)
    on_db = connection.ops.adapt_datefield_value(on)
    now_db = connection.ops.adapt_datetimefield_value(now)
    with connection.cursor() as c:
        # 1. the ratings; one an event wrote since the batch started is left alone
        c.execute(
            "INSERT INTO credit_creditrating (entity_id, risk_class, score, \"on\", versions, "  # noqa: S608 (table and column names are constants; values are parameters)
            f"trigger, computed_at) SELECT entity_id, risk_class, score, %s, {_jsonb()}, %s, %s "
            f"FROM {_TMP} WHERE true ON CONFLICT (entity_id) DO UPDATE SET "
            "risk_class = excluded.risk_class, score = excluded.score, \"on\" = excluded.\"on\", "
            "versions = excluded.versions, trigger = excluded.trigger, "
            "computed_at = excluded.computed_at "
            "WHERE credit_creditrating.computed_at < excluded.computed_at",
            [on_db, vjson, TRIGGER_BATCH, now_db])
        phase("ratings")
        mine = (f"FROM {_TMP} t JOIN credit_creditrating cr ON cr.entity_id = t.entity_id "
                "AND cr.computed_at = %s")
        # 2. the history: a change of class or score (or a first rating)
        changed_where = ("(t.from_class IS NULL OR t.from_class <> t.risk_class "
                         "OR t.from_score <> t.score)")
        if pg:
            table = _kinds_table(r, on)
            values, vparams = _values_sql(table, len(r.hard))
            where, wparams = _counting(on)
            c.execute(
                "INSERT INTO credit_ratingchange (entity_id, \"on\", computed_at, from_class, "  # noqa: S608 (table and column names are constants; values are parameters)
                "to_class, from_score, to_score, versions, trigger, counted) "
                "SELECT t.entity_id, %s, %s, COALESCE(t.from_class, ''), t.risk_class, "
                "t.from_score, t.score, CAST(%s AS jsonb), %s, "
                "COALESCE(x.counted, CAST('[]' AS jsonb)) "
                f"{mine} LEFT JOIN (SELECT r.entity_id, jsonb_agg(jsonb_build_array(r.id, "
                "k.sign * COALESCE(r.weight, k.weight)) ORDER BY r.date, r.id) AS counted "
                f"FROM credit_creditrecord r JOIN {values} ON k.kind = r.kind "
                f"JOIN {_TMP} t2 ON t2.entity_id = r.entity_id WHERE {where} "
                f"AND (t2.from_class IS NULL OR t2.from_class <> t2.risk_class "
                "OR t2.from_score <> t2.score) "
                "GROUP BY r.entity_id) x ON x.entity_id = t.entity_id "
                f"WHERE {changed_where}",
                [on_db, now_db, vjson, TRIGGER_BATCH, now_db] + vparams + wparams)
        else:
            c.execute(f"SELECT t.entity_id, t.from_class, t.risk_class, t.from_score, t.score "
                      f"{mine} WHERE {changed_where}", [now_db])
            rows = c.fetchall()
            _history_python(rows, r, on, now, versions)
        phase("history")
        # 3. the class changes (the rating is the class: nothing else to write), audited,
        # with their events
        c.execute(f"SELECT t.entity_id, t.division_id, t.old_risk, t.risk_class, t.score "
                  f"{mine} WHERE t.old_risk <> t.risk_class ORDER BY t.entity_id", [now_db])
        moved = c.fetchall()
        phase("class_changes")
    # One audit entry per AUDIT_CHUNK class changes, listing them (entity, from, to,
    # score): the batch's changes are in the tamper-evident log without one hash-chained
    # entry per firm (entity_rerate audits each of its changes on the entity itself).
    for i in range(0, len(moved), AUDIT_CHUNK):
        part = moved[i:i + AUDIT_CHUNK]
        audit.append(audit.Change(
            "credit.risk_classes_rerated", "credit.creditrating",
            f"batch:{on.isoformat()}:{i // AUDIT_CHUNK + 1}", None,
            {"on": on.isoformat(), "versions": versions,
             "changes": [[e, old, new, score] for e, _d, old, new, score in part]},
            division=_common_prefix([d for _e, d, *_rest in part])), actor=None)
    _events_put([(e, old, new, score) for e, _d, old, new, score in moved])
    if moved:
        transaction.on_commit(events.schedule_drain)
    phase("audit_events")
    return len(moved)


#: Class changes of the batch listed in one audit entry.
AUDIT_CHUNK = 5000


def _common_prefix(codes: list[str]) -> str:
    """The longest division prefix the codes share (the audit entry's division)."""
    if not codes:
        return ""
    low, high = min(codes), max(codes)
    n = 0
    while n < min(len(low), len(high)) and low[n] == high[n]:
        n += 1
    return low[:n]


def _events_put(rows: list[tuple]) -> None:
    """One "credit.rating_changed" outbox event per class change, written in bulk (what
    events.publish writes one at a time); the drain is scheduled after the commit."""
    if not rows:
        return
    now = timezone.now()
    if connection.vendor == "postgresql":
        with connection.cursor() as c, c.cursor.copy(
                "COPY core_outboxevent (name, aggregate_type, aggregate_id, payload, "
                "created_at, attempts, last_error) FROM STDIN") as copy:
            for e, old, new, score in rows:
                copy.write_row((RATING_CHANGED, "registry.marketentity", str(e), json.dumps(
                    {"entity": e, "from_class": old, "to_class": new, "score": score}),
                    now, 0, ""))
        return
    OutboxEvent.objects.bulk_create([OutboxEvent(
        name=RATING_CHANGED, aggregate_type="registry.marketentity", aggregate_id=str(e),
        payload={"entity": e, "from_class": old, "to_class": new, "score": score})
        for e, old, new, score in rows], batch_size=2000)


def _history_python(rows, r: scoring.Rules, on: dt.date, now, versions: dict) -> None:
    """RatingChange rows with their counted records, computed by scoring.rate (SQLite)."""
    step = 1000
    for i in range(0, len(rows), step):
        part = rows[i:i + step]
        by_entity: dict[int, list] = {row[0]: [] for row in part}
        for rec in CreditRecord.objects.filter(
                entity_id__in=by_entity, status=RecordStatus.ACTIVE).order_by().values_list(
                "entity_id", *RECORD_COLUMNS):
            by_entity[rec[0]].append(rec[1:])
        RatingChange.objects.bulk_create([RatingChange(
            entity_id=e, on=on, computed_at=now, from_class=fc or "", to_class=tc,
            from_score=fs, to_score=ts, versions=versions, trigger=TRIGGER_BATCH,
            counted=_counted(scoring.rate(by_entity[e], r, on=on)))
            for e, fc, tc, fs, ts in part])


# --- explanation and as-of -------------------------------------------------------------------

@dataclass
class AsOf:
    """The rating of a past day, reproduced, and the stored history entry in force then."""

    on: dt.date
    rating: scoring.Rating
    stored: RatingChange | None   # the last RatingChange computed on or before that day

    @property
    def matches(self) -> bool | None:
        if self.stored is None:
            return None
        return (self.stored.to_class == self.rating.risk_class
                and self.stored.to_score == self.rating.score)


def rating_explain(entity, *, on: dt.date | None = None) -> scoring.Rating:
    """The rating of `entity` today (from its active records), with every record's
    contribution."""
    on = on or timezone.localdate()
    return scoring.rate(_records(entity.pk), rules_on(on), on=on)


def rating_as_of(entity, on: dt.date) -> AsOf:
    """The rating of `entity` as of the end of `on`, from the records known then (created
    on or before that day and not withdrawn by then) and the rules in force then."""
    if on > timezone.localdate():
        raise ValidationError({"as_of": _("Choose a day that is not in the future.")})
    try:
        r = scoring.Rules.in_force(rules.get, on)
    except rules.RuleError as err:
        raise ValidationError({"as_of": _(
            "No credit rule was in force on %(date)s; choose a later date.") % {
            "date": on.isoformat()}}) from err
    rating = scoring.rate(_records(entity.pk, known_on=on), r, on=on)
    stored = (RatingChange.objects.filter(entity_id=entity.pk, computed_at__lt=_day_end(on))
              .order_by("-computed_at", "-id").first())
    return AsOf(on, rating, stored)
