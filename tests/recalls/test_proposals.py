"""Proposals (docs/recalls.md, "Proposals"): a failed report, a failed supervisory sample
and a rejected delivery each propose a recall of the producer's batch through the real
domain events; later failures of the same batch add their source to the same proposed
recall; a redelivered event changes nothing; a regulator proposes by hand within their
jurisdiction only."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest
from django.core.exceptions import ValidationError
from django.utils import timezone, translation

from tests import factories as f
from tests.recalls.conftest import GTIN, LOT, OTHER_GTIN, batch
from tests.reports.helpers import issue_report
from tests.sampling.conftest import deliver, issue, record
from zhijian.core import events
from zhijian.core.access import Denied
from zhijian.core.models import AuditEntry, OutboxEvent
from zhijian.procurement import services as procurement
from zhijian.recalls import handlers, services
from zhijian.recalls.models import Recall, RecallBatch, RecallSource

YEAR = timezone.localdate().year


@pytest.fixture(autouse=True)
def _english():
    with translation.override("en"):
        yield


@pytest.fixture
def cable_std(rworld):
    std = f.StandardFactory(code="GB/T 5023.3-2008", title="聚氯乙烯绝缘电缆")
    std.categories.set([rworld["cable"]])
    return std


def fail_report(w, std, lot=LOT, number=None):
    report = issue_report(lab=w["lab"], producer=w["maker"], category=w["cable"], standard=std,
                          batch=lot, conclusion="fail", number=number)
    events.drain()
    return report


def reject_delivery(w, number: str, lot=LOT):
    """The metro records a delivery of the batch with a report number that is not on the
    platform; the acceptance check rejects it."""
    actor = w["metro_user"]
    lists = procurement.access.lists_visible_to(actor)
    sl = lists.first() or procurement.supplier_list_create(actor=actor,
                                                           category_id=w["cable"].pk)
    if not sl.suppliers.filter(entity=w["maker"]).exists():
        procurement.supplier_add(actor=actor, list_id=sl.pk, entity_id=w["maker"].pk)
    d = procurement.delivery_record(actor=actor, data={
        "number": number, "supplier": w["maker"], "producer": w["maker"],
        "product": w["product"], "product_name": "聚氯乙烯绝缘电缆", "category": w["cable"],
        "batch": lot, "quantity": Decimal("200"), "unit": "m", "site": "测试一号站",
        "delivered_on": dt.date.today() - dt.timedelta(days=1)},
        report_numbers=["NOT-ON-PLATFORM-1"])
    check = procurement.acceptance_check(actor=actor, delivery_id=d.pk)
    assert not check.accepted
    events.drain()
    return d


def test_a_failed_report_proposes_a_recall_of_the_batch(rworld, cable_std):
    w = rworld
    report = fail_report(w, cable_std)
    recall = Recall.objects.get()
    assert recall.number == f"ZJ-RC-{YEAR}-0001"
    assert recall.status == "proposed"
    assert (recall.maker, recall.product, recall.gtin, recall.lot) == (
        w["maker"], w["product"], GTIN, LOT)
    assert recall.category == w["cable"]
    # No duty in the matrix: the most local market supervision department where the maker
    # is (Yanta has none, so Xi'an).
    assert recall.department == w["departments"]["xian"]
    assert recall.product_name == "聚氯乙烯绝缘电缆"
    assert list(recall.batches.values_list("identifier", flat=True)) == [batch()]
    assert list(recall.sources.values_list("kind", "reference", "object_id")) == [
        ("report", report.number, report.pk)]
    assert report.number in recall.reason and LOT in recall.reason
    assert AuditEntry.objects.filter(action="recall.proposed", object_id=str(recall.pk)
                                     ).count() == 1
    assert OutboxEvent.objects.filter(name="recall.proposed").get().payload == {
        "recall": recall.pk, "number": recall.number, "maker": w["maker"].pk, "lot": LOT,
        "department": w["departments"]["xian"].pk, "source": "report"}


def test_a_failed_sample_joins_the_recall_its_report_proposed(rworld, sworld, plan,
                                                              xian_officer, lab_user):
    w = rworld | {"standard": sworld["standard"]}
    sample = record(w, plan, xian_officer, batch=LOT, product=w["product"])
    deliver(sample, xian_officer, lab_user)
    report = issue(w, sample=sample, number="BG2026-0009", conclusion="fail")
    events.drain()  # sample.nonconforming, published by the sampling handler
    recall = Recall.objects.get()
    assert sorted(recall.sources.values_list("kind", "reference", "object_id")) == [
        ("report", "BG2026-0009", report.pk), ("sample", "BG2026-0009", sample.pk)]
    assert recall.product == w["product"]
    assert OutboxEvent.objects.filter(name="recall.proposed").count() == 1
    assert AuditEntry.objects.filter(action="recall.source_added").count() == 1


def test_rejected_deliveries_of_one_batch_add_to_one_proposal(rworld):
    w = rworld
    first = reject_delivery(w, "DN-1")
    second = reject_delivery(w, "DN-2")
    recall = Recall.objects.get()
    assert list(recall.sources.values_list("kind", "reference", "object_id")) == [
        ("delivery", "DN-1", first.pk), ("delivery", "DN-2", second.pk)]
    assert recall.reason.count("DN-1") == 1 and recall.reason.count("DN-2") == 1
    # Redelivery of the same event (e.g. after a crash): nothing changes.
    event = OutboxEvent.objects.filter(name="delivery.rejected").order_by("id").first()
    audit_before = AuditEntry.objects.count()
    handlers.propose_on_rejected_delivery(event)
    handlers.propose_on_rejected_delivery(event)
    assert RecallSource.objects.count() == 2
    assert Recall.objects.count() == 1
    assert AuditEntry.objects.count() == audit_before


def test_another_batch_or_product_gets_its_own_recall(rworld, cable_std):
    w = rworld
    fail_report(w, cable_std, lot=LOT)
    fail_report(w, cable_std, lot="C2026-02")
    numbers = list(Recall.objects.order_by("id").values_list("number", "lot"))
    assert numbers == [(f"ZJ-RC-{YEAR}-0001", LOT), (f"ZJ-RC-{YEAR}-0002", "C2026-02")]
    # The same lot of another product of the maker (another GTIN) is another batch.
    services.recall_propose(actor=f.UserFactory(username="xian",
                                                department=w["departments"]["xian"]),
                            source_kind="manual", maker_id=w["maker"].pk,
                            category_code="electrical.cable", lot=LOT, gtin=OTHER_GTIN,
                            reason="用户投诉同批号另一型号电缆发热。")
    assert Recall.objects.count() == 3
    assert RecallBatch.objects.filter(identifier=batch(LOT, OTHER_GTIN)).count() == 1


def test_a_dismissed_proposal_does_not_swallow_a_new_failure(rworld, cable_std, xian_officer):
    w = rworld
    fail_report(w, cable_std)
    first = Recall.objects.get()
    services.recall_dismiss(actor=xian_officer, recall_id=first.pk,
                            reason="复检合格，原检测报告已撤销。")
    fail_report(w, cable_std)
    assert Recall.objects.filter(status="proposed").exclude(pk=first.pk).count() == 1


def test_manual_proposal_by_a_regulator(rworld, xian_officer, province_officer, baoji_officer,
                                        enterprise_user, admin_user):
    w = rworld
    kwargs = {"source_kind": "manual", "maker_id": w["maker"].pk,
              "category_code": "electrical.cable", "lot": LOT,
              "reason": "市民举报该批次电缆导体截面不足。"}
    for who in (enterprise_user, admin_user):
        with pytest.raises(Denied):
            services.recall_propose(actor=who, **kwargs)
    with pytest.raises(Denied, match="outside your jurisdiction"):
        services.recall_propose(actor=baoji_officer, **kwargs)
    assert Recall.objects.count() == 0
    with pytest.raises(ValidationError) as bad:
        services.recall_propose(actor=xian_officer, **(kwargs | {
            "lot": " ", "gtin": "9520200000010", "reason": "短", "category_code": "nope"}))
    assert set(bad.value.message_dict) == {"lot", "gtin", "reason", "category"}
    assert Recall.objects.count() == 0
    recall = services.recall_propose(actor=xian_officer, **kwargs)
    assert (recall.gtin, recall.product) == (GTIN, w["product"])  # the one GTIN product
    assert list(recall.sources.values_list("kind", flat=True)) == ["manual"]
    # The province, above Xi'an, adds itself as a source of the same proposal.
    again = services.recall_propose(actor=province_officer, **kwargs)
    assert again.pk == recall.pk and recall.sources.count() == 2
