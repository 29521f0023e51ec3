"""The demo's recall (zhijian/demo/recall.py): the story batch's failures proposed one
recall; the Xi'an bureau opened it over the demo supply chain; the firms acknowledged and
recorded progress; a rerun changes nothing.

The province, the cable story, the default chain and the recall are built once per module
inside a transaction that is rolled back at the end (as tests/demo/ does)."""

import pytest
from django.conf import settings
from django.db import connection, transaction

from zhijian.demo import build, quality, supply_chain
from zhijian.demo import recall as demo_recall
from zhijian.recalls.models import Recall, RecallItem, RecallItemUpdate, RecallNotice

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
            quality.quality_build(seed=SEED)
            supply_chain.supply_chain_build(seed=SEED)
            logged = []
            recall = demo_recall.recall_build(seed=SEED, log=logged.append)
            yield {"recall": recall, "log": logged}
        finally:
            transaction.set_rollback(True)
            outer.__exit__(None, None, None)


@pytest.mark.django_db
def test_the_story_batch_is_recalled_over_the_chain(story):
    recall = Recall.objects.get(pk=story["recall"].pk)
    assert Recall.objects.for_batch(recall.maker_id, "HC-2026-0815").count() == 1
    assert recall.status == "open" and recall.severity == "1"
    assert recall.opened_by.username == "xian"
    assert recall.maker.name == "关中汇川线缆制造有限公司"
    # Both rejected deliveries and the failed supervisory sample (report and sample).
    assert sorted(recall.sources.values_list("kind", "reference")) == [
        ("delivery", "CADT-2026-0388"), ("delivery", "QYGD-2026-1107"),
        ("report", "ZC-JD-2026-0118"), ("sample", "ZC-JD-2026-0118")]
    items = list(recall.items.select_related("place_ref"))
    stations = [i for i in items if i.place_ref and i.place_ref.kind == "station"]
    assert stations, "the story batch reached metro stations"
    assert {i.holder_unit.name for i in stations} == {"长安地铁运营有限公司"}
    assert {i.tier for i in items} >= {0, 1, 2}
    notices = RecallNotice.objects.filter(recall=recall)
    assert notices.filter(role="maker").count() == 1
    assert notices.filter(acknowledged_at__isnull=False).count() == notices.count() - 1
    assert RecallItemUpdate.objects.filter(item__recall=recall).exists()
    assert RecallItem.objects.filter(recall=recall, status="replaced").count() == 1
    assert story["log"][-1].startswith(f"recall: {recall.number} of batch HC-2026-0815")


@pytest.mark.django_db
def test_a_rerun_changes_nothing(story):
    before = (Recall.objects.count(), RecallItem.objects.count(),
              RecallItemUpdate.objects.count(), RecallNotice.objects.count())
    again = demo_recall.recall_build(seed=SEED)
    assert again.pk == story["recall"].pk
    assert (Recall.objects.count(), RecallItem.objects.count(),
            RecallItemUpdate.objects.count(), RecallNotice.objects.count()) == before
