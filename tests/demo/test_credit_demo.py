"""The demo's quality credit (zhijian/demo/credit.py): the story maker's penalties re-rate
it, the listing goes through notice, objection and decision, the power utility's listing
of the maker and a tendering platform's bid check are refused with the checks stored; a
rerun changes nothing.

Built once per module inside a transaction that is rolled back at the end (as
tests/demo/ does)."""

import pytest
from django.conf import settings
from django.db import connection, transaction

from zhijian.credit.choices import BlacklistStatus
from zhijian.credit.models import (
    BlacklistEntry,
    CreditCheck,
    CreditRating,
    CreditRecord,
    Measure,
    Penalty,
)
from zhijian.demo import build, plan, quality, supply_chain
from zhijian.demo import credit as demo_credit
from zhijian.demo import recall as demo_recall
from zhijian.procurement.models import Supplier
from zhijian.registry.models import MarketEntity

SEED = 2017
REAL_DATABASE = settings.DATABASES["default"]["NAME"]


@pytest.fixture(scope="module")
def story(django_db_setup, django_db_blocker):
    with django_db_blocker.unblock():
        assert connection.settings_dict["NAME"] != REAL_DATABASE, "not the test database"
        outer = transaction.atomic()
        outer.__enter__()
        try:
            build.province_build(seed=SEED)
            build.entities_build(seed=SEED, count=50)
            quality.quality_build(seed=SEED)
            supply_chain.supply_chain_build(seed=SEED)
            demo_recall.recall_build(seed=SEED)
            logged = []
            out = demo_credit.credit_build(seed=SEED, log=logged.append)
            yield {"out": out, "log": logged}
        finally:
            transaction.set_rollback(True)
            outer.__exit__(None, None, None)


def maker():
    return MarketEntity.objects.get(name=plan.STORY["maker"]["name"])


@pytest.mark.django_db
def test_the_maker_is_rated_d_from_its_records(story):
    m = maker()
    kinds = sorted(CreditRecord.objects.filter(entity=m, status="active")
                   .values_list("kind", flat=True))
    assert Penalty.objects.filter(entity=m).count() == 3
    assert kinds.count("penalty") == 2 and kinds.count("penalty_heavy") == 1
    assert "sampling_failed" in kinds and "recall_ordered" in kinds
    assert "blacklist_listed" in kinds
    assert CreditRating.objects.get(entity=m).risk_class == "D"
    assert MarketEntity.objects.get(pk=m.pk).credit_class == "D"
    assert MarketEntity.objects.with_credit_class().get(pk=m.pk).credit_class == "D"


@pytest.mark.django_db
def test_the_maker_is_listed_after_notice_and_objection(story):
    entry = BlacklistEntry.objects.get(entity=maker())
    assert entry.status == BlacklistStatus.LISTED
    assert entry.noticed_at is not None and entry.objection_text
    assert entry.decision_reasons == demo_credit.DECISION
    assert [c["criterion"] for c in entry.criteria] == ["heavy_penalty"]


@pytest.mark.django_db
def test_the_listing_decides_the_supplier_list_and_the_tender(story):
    m = maker()
    power_listing = CreditCheck.objects.get(entity=m, context="supplier_listing",
                                            requested_by__username="power",
                                            outcome="blocked")
    assert power_listing.outcome == "blocked" and power_listing.decision
    assert not Supplier.objects.filter(entity=m, supplier_list__category__code=
                                       demo_credit.BUILDING_WIRE).exists()
    bid = CreditCheck.objects.get(entity=m, reference=demo_credit.TENDER_BID)
    assert (bid.outcome, bid.risk_class, bid.token.name) == (
        "blocked", "", demo_credit.TENDER_PLATFORM)
    assert sorted(m["code"] for m in bid.measures) == ["bar_tender"] * 3  # three departments
    assert Measure.objects.count() == story["out"]["measures"] == 10


@pytest.mark.django_db
def test_every_entity_is_rated(story):
    assert CreditRating.objects.count() == MarketEntity.objects.count()


@pytest.mark.django_db
def test_a_rerun_changes_nothing(story):
    counts = (CreditRecord.objects.count(), CreditCheck.objects.count(),
              BlacklistEntry.objects.count(), Measure.objects.count())
    demo_credit.credit_build(seed=SEED)
    assert (CreditRecord.objects.count(), CreditCheck.objects.count(),
            BlacklistEntry.objects.count(), Measure.objects.count()) == counts


@pytest.mark.django_db
def test_a_distributor_signed_its_commitment_and_the_honest_maker_has_an_award(story):
    from zhijian.credit.models import Commitment

    signed = Commitment.objects.get(entity__users__username="distributor")
    assert (signed.occasion, signed.status) == ("registration", "in_force")
    honest = MarketEntity.objects.get(name=plan.STORY["honest_maker"]["name"])
    award = CreditRecord.objects.get(entity=honest, kind="award")
    assert award.public and award.evidence_sha256
