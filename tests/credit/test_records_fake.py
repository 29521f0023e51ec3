# ruff: noqa: F811  (fixtures imported from tests.reports.test_signals)
"""fake_report credit records from a regulator's finding (docs/credit-records.md, "False
test reports"): a report revoked on the ground "false", and a fake-report signal closed
with the outcome "confirmed", against the party responsible — the laboratory's market
entity (same USCC) for how a report was issued, the supplier who presented it for the
delivery papers. Each finding makes one record however often its event is applied."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest
from django.db import transaction
from django.utils import timezone, translation

from tests import factories as f
from tests.reports.test_signals import TODAY, N, issue, pair, standard, unit  # noqa: F401
from zhijian.core import events
from zhijian.core.models import EventDelivery, OutboxEvent
from zhijian.credit import handlers_records
from zhijian.credit.models import CreditRecord
from zhijian.credit.views.records import source_url
from zhijian.procurement import services as procurement
from zhijian.procurement.models import SupplierList
from zhijian.reports import services as reports
from zhijian.reports import signals
from zhijian.reports.models import Report, Signal

pytestmark = pytest.mark.django_db
LAB_ENTITY = "西安测试检测中心（市场主体）"


@pytest.fixture(autouse=True)
def _keys(settings, tmp_path):
    settings.ZHIJIAN_AUDIT_KEY_FILE = tmp_path / "audit-key.pem"


@pytest.fixture(autouse=True)
def _english():
    with translation.override("en"):
        yield


@pytest.fixture
def lab_entity(world):
    lab = world["lab"]
    return f.EntityFactory(uscc=lab.uscc, division=lab.division, name=LAB_ENTITY)


def settle() -> None:
    while events.drain():
        pass


def redeliver(name: str) -> None:
    """Apply the credit-record handlers again to every event of that name, as a worker
    would after losing its deliveries."""
    mine = [fn for key, fn in events.handlers_for(name)
            if key.startswith(handlers_records.__name__ + ".")]
    assert mine
    for event in OutboxEvent.objects.filter(name=name):
        EventDelivery.objects.filter(event=event).delete()
        for fn in mine:
            with transaction.atomic():
                fn(event)


def fakes() -> list[tuple]:
    return list(CreditRecord.objects.filter(kind="fake_report").order_by("pk").values_list(
        "entity__name", "source_type", "source_id", "public", "status"))


def close(officer, signal, outcome="confirmed", note="经核查属实"):
    closed = signals.signal_close(actor=officer, signal_id=signal.pk, note=note,
                                  outcome=outcome)
    settle()
    return closed


# --- revoked on the ground "false" -------------------------------------------------------------

def test_a_report_revoked_as_false_is_one_record_against_the_lab(world, standard, lab_entity,
                                                                 xian_officer):
    report = issue(world, standard)
    revocation = reports.report_revoke(actor=xian_officer, report_id=report.pk,
                                       reason="样品未经检验即出具报告", ground="false")
    settle()
    record = CreditRecord.objects.get(kind="fake_report")
    assert (record.entity, record.source_type, record.source_id, record.public) == (
        lab_entity, "reports.report", str(report.pk), True)
    assert (record.date, record.department, record.summary, record.source_ref) == (
        timezone.localdate(revocation.revoked_at), world["departments"]["xian"],
        "样品未经检验即出具报告", f"Report {N} revoked as false or forged")
    assert record.event.name == "report.revoked"
    assert source_url(record) == f"/work/reports/{report.pk}/"
    redeliver("report.revoked")
    redeliver("report.revoked")
    assert CreditRecord.objects.filter(kind="fake_report").count() == 1


def test_a_revocation_for_an_error_is_no_finding(world, standard, lab_entity, lab_user,
                                                 xian_officer):
    first = issue(world, standard)
    reports.report_revoke(actor=lab_user, report_id=first.pk, reason="报告系伪造（录入错误）")
    second = issue(world, standard, number="JC2026-0002")
    reports.report_revoke(actor=xian_officer, report_id=second.pk, reason="虚假", ground="error")
    settle()
    redeliver("report.revoked")
    assert fakes() == []


def test_the_signed_ground_decides_not_the_payload(world, standard, lab_entity, lab_user):
    """An event claiming "false" for a revocation signed as "error" writes nothing."""
    report = issue(world, standard)
    reports.report_revoke(actor=lab_user, report_id=report.pk, reason="录入错误")
    event = OutboxEvent.objects.get(name="report.revoked")
    event.payload = {**event.payload, "ground": "false"}
    event.save()
    redeliver("report.revoked")
    assert fakes() == []


# --- a signal confirmed: against the laboratory -------------------------------------------------

def test_a_confirmed_receipt_signal_is_a_record_against_the_lab(world, standard, lab_entity,
                                                                xian_officer):
    report = issue(world, standard)
    Report.objects.filter(pk=report.pk).update(received_on=TODAY + dt.timedelta(days=2))
    signal = signals.signals_scan(numbers=[N])[0]
    closed = close(xian_officer, signal, note="实验室承认报告签发时样品尚未到达")
    record = CreditRecord.objects.get(kind="fake_report")
    assert (record.entity, record.source_type, record.source_id, record.public) == (
        lab_entity, "reports.report", str(report.pk), True)
    assert (record.date, record.department) == (
        timezone.localdate(closed.closed_at), world["departments"]["xian"])
    assert record.summary == ("Issued before the sample was received: "
                              "实验室承认报告签发时样品尚未到达")
    assert record.source_ref == f"Report {N} found false on a fake-report signal"
    assert record.event.name == "signal.closed"
    redeliver("signal.closed")
    # The same report revoked as false afterwards is the same finding: still one record.
    reports.report_revoke(actor=xian_officer, report_id=report.pk, reason="虚假报告",
                          ground="false")
    settle()
    assert fakes() == [(LAB_ENTITY, "reports.report", str(report.pk), True, "active")]


def test_a_confirmed_capacity_signal_has_the_signal_as_its_source(world, standard, lab_entity,
                                                                  province_officer):
    lab = world["lab"]
    lab.monthly_capacity = 1
    lab.save()
    issue(world, standard, number="R-1", issued_on=dt.date(2026, 11, 2))
    issue(world, standard, number="R-2", issued_on=dt.date(2026, 11, 3))
    signal = signals.signals_scan(numbers=["R-2"])[0]
    assert (signal.kind, signal.report) == ("over_capacity", None)
    close(province_officer, signal)
    assert fakes() == [(LAB_ENTITY, "reports.signal", str(signal.pk), True, "active")]
    record = CreditRecord.objects.get(kind="fake_report")
    assert record.department == world["departments"]["province"]
    assert source_url(record) == f"/work/reports/signals/{signal.pk}/"


def test_a_lab_that_is_no_market_entity_gets_no_record(world, standard, xian_officer):
    report = issue(world, standard)
    Report.objects.filter(pk=report.pk).update(received_on=TODAY + dt.timedelta(days=2))
    close(xian_officer, signals.signals_scan(numbers=[N])[0])
    assert fakes() == []


@pytest.mark.parametrize("outcome", ["", "unfounded"])
def test_a_signal_not_confirmed_writes_nothing(world, standard, lab_entity, xian_officer,
                                               outcome):
    report = issue(world, standard)
    Report.objects.filter(pk=report.pk).update(received_on=TODAY + dt.timedelta(days=2))
    close(xian_officer, signals.signals_scan(numbers=[N])[0], outcome=outcome)
    redeliver("signal.closed")
    assert fakes() == []


# --- a signal confirmed: against the supplier who presented the report --------------------------

def test_a_confirmed_unknown_number_is_a_record_against_the_supplier(world, pair, lab_entity,
                                                                     baoji_officer):
    steel = pair["steel"]
    close(baoji_officer, steel, note="供方伪造报告编号 GJ-404")
    record = CreditRecord.objects.get(kind="fake_report")
    assert (record.entity, record.source_type, record.source_id, record.public) == (
        world["baoji_entity"], "reports.signal", str(steel.pk), True)
    assert record.source_ref == "Report GJ-404 presented on delivery papers, found false"
    assert record.department == world["departments"]["baoji"]
    redeliver("signal.closed")
    assert CreditRecord.objects.filter(kind="fake_report").count() == 1


def test_a_confirmed_over_coverage_with_one_supplier_is_against_it(world, pair, lab_entity,
                                                                   xian_officer):
    close(xian_officer, pair["cable"])
    assert fakes() == [(world["xian_entity"].name, "reports.signal", str(pair["cable"].pk),
                        True, "active")]


def supply(world, user, note, quantity, numbers, supplier, *, batch="2026-11-A"):
    return procurement.delivery_record(actor=user, report_numbers=numbers, data={
        "number": note, "supplier": supplier, "producer": world["xian_entity"],
        "product_name": "聚氯乙烯绝缘电缆 BV 2.5", "category": world["categories"]["cable"],
        "batch": batch, "quantity": Decimal(quantity), "unit": "m",
        "site": "地铁8号线 长延堡站", "delivered_on": timezone.localdate()})


@pytest.fixture
def dealer(world, unit):
    """A second cable supplier on the metro company's list (a dealer of the same maker)."""
    dealer = f.EntityFactory(division=world["xian_entity"].division, name="西安测试电缆经销部")
    cable = SupplierList.objects.get(user_unit=unit.user_unit,
                                     category=world["categories"]["cable"])
    procurement.supplier_add(actor=unit, list_id=cable.pk, entity_id=dealer.pk)
    return dealer


def test_over_coverage_by_two_suppliers_names_no_one(world, standard, unit, dealer, lab_entity,
                                                     xian_officer):
    issue(world, standard)
    supply(world, unit, "DN-1", "700", [N], world["xian_entity"])
    supply(world, unit, "DN-2", "700", [N], dealer)
    signal = Signal.objects.get(kind="over_coverage")
    assert handlers_records.presenter_of(signal) is None
    close(xian_officer, signal)
    assert fakes() == []


def test_another_batch_is_against_the_supplier_who_cited_it_for_that_batch(
        world, standard, unit, dealer, lab_entity, xian_officer):
    issue(world, standard)
    supply(world, unit, "DN-1", "100", [N], world["xian_entity"])
    supply(world, unit, "DN-2", "100", [N], dealer, batch="2026-10-B")
    signal = Signal.objects.get(kind="over_coverage")
    assert signal.key == "batch:2026-10-B"
    close(xian_officer, signal)
    assert fakes() == [("西安测试电缆经销部", "reports.signal", str(signal.pk), True, "active")]
