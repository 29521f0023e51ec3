"""Keeping the class current (zhijian/credit/services/rating.py): re-rating on a record
event, withdrawal, the nightly batch equal to scoring.rate, idempotence, the rating as
of a past day, and the draw frame reading the class."""

from __future__ import annotations

import datetime as dt

import pytest
from django.core.exceptions import ValidationError
from django.core.files.uploadedfile import SimpleUploadedFile
from django.core.management import call_command
from django.utils import timezone
from hypothesis import HealthCheck, given
from hypothesis import settings as hsettings
from hypothesis import strategies as st

from tests import factories as f
from zhijian.core import events
from zhijian.core import rules as rulebook
from zhijian.core.models import AuditEntry, OutboxEvent
from zhijian.credit import scoring
from zhijian.credit.models import CreditRating, CreditRecord, RatingChange
from zhijian.credit.services import rating as svc
from zhijian.credit.services.records import record_create, record_repair, record_withdraw
from zhijian.registry.models import MarketEntity

TODAY = timezone.localdate()


def days(n: int) -> dt.date:
    return TODAY - dt.timedelta(days=n)


def add(entity, kind, date, n, **kw):
    return record_create(entity=entity, kind=kind, date=date, source_type="test.source",
                         source_id=str(n), source_ref=f"SRC-{n}", **kw)


def expected(entity, on):
    recs = CreditRecord.objects.filter(entity=entity, status="active").values_list(
        *svc.RECORD_COLUMNS)
    return scoring.rate(list(recs), scoring.Rules.in_force(rulebook.get, on), on=on)


# --- on events ------------------------------------------------------------------------------

def test_a_fake_report_makes_the_firm_d_at_once(world):
    firm = world["xian_entity"]
    assert firm.risk_class == "B"
    rec = add(firm, "fake_report", days(3), 1)
    events.drain()
    rating = CreditRating.objects.get(entity=firm)
    assert (rating.risk_class, rating.score, rating.on) == ("D", 60, TODAY)
    assert rating.trigger == f"record.created:{rec.pk}"
    assert rating.versions == {k: "2021-09-01" for k in scoring.RULE_KEYS}
    firm = MarketEntity.objects.get(pk=firm.pk)
    # the rating is the class; the register keeps the initial class, untouched
    assert (firm.credit_class, firm.risk_class) == ("D", "B")
    assert MarketEntity.objects.with_credit_class().get(pk=firm.pk).credit_class == "D"
    change = RatingChange.objects.get(entity=firm)
    assert (change.from_class, change.to_class, change.from_score, change.to_score) == (
        "", "D", None, 60)
    assert change.counted == [[rec.pk, -40]]
    ev = OutboxEvent.objects.get(name="credit.rating_changed")
    assert ev.payload == {"entity": firm.pk, "from_class": "B", "to_class": "D", "score": 60}
    entry = AuditEntry.objects.get(action="entity.credit_class_changed")
    assert (entry.object_type, entry.object_id, entry.division) == (
        "registry.marketentity", str(firm.pk), firm.division_id)


def test_withdrawal_rates_the_firm_back(world):
    firm = world["xian_entity"]
    rec = add(firm, "fake_report", days(3), 1)
    keep = add(firm, "inspection_clean", days(2), 2)
    events.drain()
    assert CreditRating.objects.get(entity=firm).risk_class == "D"
    record_withdraw(record_id=rec.pk, reason="报告认定被撤销")
    events.drain()
    rating = CreditRating.objects.get(entity=firm)
    assert (rating.risk_class, rating.score) == ("B", 102)
    firm = MarketEntity.objects.get(pk=firm.pk)
    assert (firm.credit_class, firm.risk_class) == ("B", "B")
    last = RatingChange.objects.filter(entity=firm).order_by("-computed_at", "-id").first()
    assert (last.from_class, last.to_class, last.from_score, last.to_score) == ("D", "B", 62, 102)
    assert last.counted == [[keep.pk, 2]]
    assert list(OutboxEvent.objects.filter(name="credit.rating_changed").order_by("id")
                .values_list("payload", flat=True)) == [
        {"entity": firm.pk, "from_class": "B", "to_class": "D", "score": 62},
        {"entity": firm.pk, "from_class": "D", "to_class": "B", "score": 102}]


def test_same_score_again_writes_no_history(world):
    firm = world["xian_entity"]
    add(firm, "commitment_made", days(1), 1)  # neutral: score 100, class B
    events.drain()
    assert CreditRating.objects.get(entity=firm).score == 100
    assert RatingChange.objects.filter(entity=firm).count() == 1  # the first rating
    svc.entity_rerate(entity_id=firm.pk, trigger="manual")
    assert RatingChange.objects.filter(entity=firm).count() == 1
    assert not OutboxEvent.objects.filter(name="credit.rating_changed").exists()
    assert MarketEntity.objects.get(pk=firm.pk).credit_class == "B"


def test_a_repair_rates_up(world):
    firm = world["xian_entity"]
    rec = add(firm, "penalty_heavy", days(30), 1)
    events.drain()
    assert CreditRating.objects.get(entity=firm).risk_class == "C"
    record_repair(record_id=rec.pk, on=TODAY, reason="已履行处罚，完成整改")
    events.drain()
    assert (CreditRating.objects.get(entity=firm).risk_class,
            CreditRating.objects.get(entity=firm).score) == ("B", 100)


# --- the batch ------------------------------------------------------------------------------

def _mixed(world):
    """Entities with every case of step 2: expired, repaired, own weight and expiry,
    withdrawn, future-dated, severe, heavy; and one without records."""
    firms = [world["xian_entity"], world["baoji_entity"]] + [
        f.EntityFactory(division=f.division("610113")) for _ in range(4)]
    a, b, c, d, e, _none = firms
    n = iter(range(1, 100))
    add(a, "award", days(40), next(n))
    add(a, "sampling_passed", days(400), next(n))                 # expired (12 months)
    add(a, "inspection_clean", days(10), next(n))
    add(b, "sampling_failed", days(20), next(n), weight=25)
    add(b, "penalty", days(50), next(n), expires_on=days(5))      # own expiry, passed
    add(b, "inspection_problem", days(9), next(n), expires_on=TODAY + dt.timedelta(days=9))
    r = add(c, "fake_report", days(100), next(n))
    record_repair(record_id=r.pk, on=days(1), reason="修复")
    add(c, "penalty_heavy", days(200), next(n))
    w = add(d, "blacklist_listed", days(5), next(n))
    record_withdraw(record_id=w.pk, reason="撤销")
    add(d, "recall_ordered", days(3), next(n))
    add(d, "recall_ordered", TODAY + dt.timedelta(days=3), next(n))  # future-dated
    add(e, "fake_report", days(60), next(n))
    add(e, "award", days(60), next(n))
    add(e, "award", days(61), next(n))
    add(e, "award", days(62), next(n))
    return firms


def _clear_ratings():
    CreditRating.objects.all().delete()
    RatingChange.objects.all().delete()
    MarketEntity.objects.update(risk_class="B")
    OutboxEvent.objects.filter(name="credit.rating_changed").delete()


def test_batch_equals_rate_for_every_entity(world):
    firms = _mixed(world)
    _clear_ratings()  # nothing drained: the batch does all
    OutboxEvent.objects.all().delete()
    result = svc.ratings_rerate_all()
    assert result.entities == MarketEntity.objects.count()
    for firm in MarketEntity.objects.all():
        want = expected(firm, TODAY)
        got = CreditRating.objects.get(entity=firm)
        assert (got.risk_class, got.score) == (want.risk_class, want.score), firm
        assert (firm.credit_class, firm.risk_class) == (want.risk_class, "B")
        change = RatingChange.objects.get(entity=firm)
        assert change.counted == [[c.id, c.points] for c in want.counted]
        assert (change.from_class, change.to_class, change.trigger) == ("", want.risk_class,
                                                                        "batch")
    got = {e: (c, s) for e, c, s in CreditRating.objects.values_list(
        "entity_id", "risk_class", "score")}
    assert [got[x.pk] for x in firms] == [("A", 112), ("C", 70), ("C", 70), ("B", 90),
                                         ("D", 90), ("B", 100)]
    moved = OutboxEvent.objects.filter(name="credit.rating_changed")
    assert sorted(e.payload["entity"] for e in moved) == sorted(
        x.pk for x in firms if got[x.pk][0] != "B")
    assert result.class_changed == 4


def test_batch_twice_changes_nothing(world):
    _mixed(world)
    first = svc.ratings_rerate_all()
    assert first.changed > 0
    counts = (RatingChange.objects.count(), OutboxEvent.objects.count(),
              AuditEntry.objects.count())
    stamps = list(CreditRating.objects.order_by("pk").values_list("computed_at", flat=True))
    second = svc.ratings_rerate_all()
    assert (second.changed, second.class_changed) == (0, 0)
    assert (RatingChange.objects.count(), OutboxEvent.objects.count(),
            AuditEntry.objects.count()) == counts
    assert list(CreditRating.objects.order_by("pk").values_list(
        "computed_at", flat=True)) == stamps


def test_batch_after_events_agrees_and_records_expiry(world):
    firm = world["xian_entity"]
    add(firm, "inspection_problem", days(20), 1, expires_on=TODAY + dt.timedelta(days=1))
    events.drain()
    assert CreditRating.objects.get(entity=firm).score == 95
    assert svc.ratings_rerate_all().changed == 1  # the Baoji firm's first rating only
    tomorrow = TODAY + dt.timedelta(days=1)
    result = svc.ratings_rerate_all(on=tomorrow)  # the record expires: no event says so
    assert result.changed == 1
    rating = CreditRating.objects.get(entity=firm)
    assert (rating.score, rating.on, rating.trigger) == (100, tomorrow, "batch")
    last = RatingChange.objects.filter(entity=firm).order_by("-computed_at").first()
    assert (last.from_score, last.to_score, last.counted) == (95, 100, [])


def test_batch_leaves_a_rating_an_event_wrote_after_it_started(world, monkeypatch):
    firm = world["xian_entity"]
    svc.ratings_rerate_all()
    later = timezone.now() + dt.timedelta(hours=1)
    add(firm, "award", days(1), 1)
    OutboxEvent.objects.all().delete()
    svc.entity_rerate(entity_id=firm.pk, trigger="event", now=later)
    CreditRecord.objects.filter(entity=firm).update(status="withdrawn")  # batch would say B
    svc.ratings_rerate_all()
    assert CreditRating.objects.get(entity=firm).score == 110


def test_command_prints_progress(world, capsys):
    _mixed(world)
    call_command("credit_rerate", "--on", TODAY.isoformat())
    n = MarketEntity.objects.count()
    out = capsys.readouterr().out
    assert f"{n} / {n} " in out


def test_command_refuses_a_bad_date(world):
    from django.core.management.base import CommandError

    with pytest.raises(CommandError):
        call_command("credit_rerate", "--on", "2026-13-01")
    with pytest.raises(CommandError):
        call_command("credit_rerate", "--on", "2020-01-01")  # no credit rule yet


KINDS = list(rulebook.get("credit.record_kinds", TODAY).value) + ["quality_star"]


@st.composite
def record_sets(draw):
    out = []
    for _ in range(draw(st.integers(0, 3))):
        recs = []
        for _ in range(draw(st.integers(0, 6))):
            date = TODAY - dt.timedelta(days=draw(st.integers(-5, 1500)))
            expires = draw(st.one_of(st.none(), st.integers(1, 800).map(
                lambda n, d=date: d + dt.timedelta(days=n))))
            repaired = draw(st.one_of(st.none(), st.integers(0, 900).map(
                lambda n, d=date: d + dt.timedelta(days=n))))
            recs.append((draw(st.sampled_from(KINDS)), date,
                         draw(st.one_of(st.none(), st.integers(0, 60))), expires, repaired,
                         draw(st.sampled_from(["active", "active", "withdrawn"]))))
        out.append(recs)
    return out


@hsettings(max_examples=25, suppress_health_check=[HealthCheck.function_scoped_fixture,
                                                    HealthCheck.too_slow])
@given(sets=record_sets())
def test_batch_equals_rate_property(world, sets):
    CreditRecord.objects.all().delete()
    _clear_ratings()
    firms = list(MarketEntity.objects.order_by("pk")[:2])
    while len(firms) < len(sets):
        firms.append(f.EntityFactory())
    n = 0
    rows = []
    for firm, recs in zip(firms, sets, strict=False):
        for kind, date, weight, expires, repaired, status in recs:
            n += 1
            rows.append(CreditRecord(entity=firm, kind=kind, date=date, weight=weight,
                                     expires_on=expires, repaired_on=repaired, status=status,
                                     source_type="test.prop", source_id=str(n),
                                     source_ref=f"P{n}", rule_version="2021-09-01"))
    CreditRecord.objects.bulk_create(rows)  # test data: bypasses the events on purpose
    svc.ratings_rerate_all()
    for firm in MarketEntity.objects.all():
        want = expected(firm, TODAY)
        got = CreditRating.objects.get(entity=firm)
        assert (got.risk_class, got.score) == (want.risk_class, want.score)
        assert RatingChange.objects.get(entity=firm).counted == [
            [c.id, c.points] for c in want.counted]


# --- as of a past day -----------------------------------------------------------------------

def test_as_of_reproduces_the_stored_rating(world):
    firm = world["xian_entity"]
    d1 = TODAY - dt.timedelta(days=10)
    r1 = add(firm, "sampling_failed", d1 - dt.timedelta(days=5), 1)
    at1 = timezone.make_aware(dt.datetime.combine(d1, dt.time(10)))
    CreditRecord.objects.filter(pk=r1.pk).update(created_at=at1)
    OutboxEvent.objects.all().delete()
    svc.entity_rerate(entity_id=firm.pk, trigger="test", now=at1)
    # later: a fake report, known on d2; the earlier record is withdrawn on d2
    d2 = TODAY - dt.timedelta(days=3)
    at2 = timezone.make_aware(dt.datetime.combine(d2, dt.time(9)))
    r2 = add(firm, "fake_report", d2, 2)
    CreditRecord.objects.filter(pk=r2.pk).update(created_at=at2)
    record_withdraw(record_id=r1.pk, reason="撤销", now=at2)
    OutboxEvent.objects.all().delete()
    svc.entity_rerate(entity_id=firm.pk, trigger="test", now=at2)

    past = svc.rating_as_of(firm, d1)
    assert (past.rating.risk_class, past.rating.score) == ("B", 90)
    assert [c.id for c in past.rating.counted] == [r1.pk]
    assert past.stored.to_score == 90 and past.matches is True
    between = svc.rating_as_of(firm, d1 + dt.timedelta(days=2))
    assert between.matches is True and between.rating.score == 90
    now = svc.rating_as_of(firm, d2)
    assert (now.rating.risk_class, now.rating.score, now.matches) == ("D", 60, True)
    before = svc.rating_as_of(firm, d1 - dt.timedelta(days=1))
    assert before.stored is None and before.matches is None
    assert before.rating.score == 100  # r1 was not yet known


def test_as_of_refuses_future_and_ruleless_days(world):
    firm = world["xian_entity"]
    with pytest.raises(ValidationError) as err:
        svc.rating_as_of(firm, TODAY + dt.timedelta(days=1))
    assert "as_of" in err.value.message_dict
    with pytest.raises(ValidationError) as err:
        svc.rating_as_of(firm, dt.date(2020, 1, 1))
    assert "as_of" in err.value.message_dict


# --- the class drives the draw --------------------------------------------------------------

def test_a_firm_turned_d_lands_in_the_d_stratum(world, xian_officer):
    from tests.inspections.conftest import plan_data
    from zhijian.inspections import services as insp

    firm = world["xian_entity"]
    xian = world["departments"]["xian"]
    plan = insp.plan_save(actor=xian_officer, data=plan_data(world), departments=[xian],
                          categories=[world["categories"]["cable"]],
                          checklist=[(xian.pk, "出厂检验记录完整")])
    before = insp.frame_build(plan, TODAY)
    assert [e["stratum"] for e in before["entities"] if e["uscc"] == firm.uscc] == ["B"]
    add(firm, "fake_report", days(1), 1,
        evidence=None)
    events.drain()
    frame = insp.frame_build(plan, TODAY)
    assert [e["stratum"] for e in frame["entities"] if e["uscc"] == firm.uscc] == ["D"]
    assert {"key": "D", "ratio_bp": 10000} in frame["strata"]


def test_manual_record_needs_evidence_and_then_rates(world):
    firm = world["xian_entity"]
    rec = record_create(entity=firm, kind="award", date=days(2), source_type="manual",
                        source_ref="陕西省质量奖", evidence=SimpleUploadedFile("a.pdf", b"%PDF"))
    events.drain()
    assert CreditRating.objects.get(entity=firm).score == 110
    assert RatingChange.objects.get(entity=firm).counted == [[rec.pk, 10]]
