"""The fake-report screens (zhijian/reports/screens.py), pure: each screen on plain data,
including the worked examples of docs/fake-report-signals.md."""

from __future__ import annotations

import datetime as dt
import hashlib
import json
from decimal import Decimal

from hypothesis import given
from hypothesis import strategies as st

from zhijian.reports import screens
from zhijian.reports.screens import DeliveryFacts, Finding, Item, ReportFacts, ScopeLine

STD = "GB/T 5023.3-2008"
ITEMS = (Item("导体电阻", "1.79", "Ω/km"), Item("绝缘厚度", "0.74", "mm"),
         Item("护套厚度", "1.26", "mm"))


def report(**over) -> ReportFacts:
    data = {"number": "JC2026-0001", "lab": 1, "producer": 10, "batch": "2026-11-A",
            "quantity_covered": Decimal("1000.000"), "unit": "m", "standard": STD,
            "issued_on": dt.date(2026, 11, 20), "received_on": dt.date(2026, 11, 15),
            "items": ITEMS, "producer_name": "西安测试电缆有限公司"}
    data.update(over)
    return ReportFacts(**data)


def delivery(id_, number, quantity, *, batch="2026-11-A", unit="m", numbers=("JC2026-0001",),
             producer=10) -> DeliveryFacts:
    return DeliveryFacts(id=id_, number=number, user_unit="西安测试地铁有限公司",
                         producer=producer, batch=batch, quantity=Decimal(quantity), unit=unit,
                         report_numbers=tuple(numbers))


# --- over_coverage -----------------------------------------------------------------------------

def test_a_delivery_covered_by_two_reports_claims_its_share_of_each():
    shared = DeliveryFacts(id=5, number="SH-005", user_unit="西安测试地铁有限公司", producer=10,
                           batch="2026-11-A", quantity=Decimal("1000"), unit="m",
                           report_numbers=("JC2026-0001", "JC2026-0002"),
                           covers=(("JC2026-0001", Decimal("1000")),
                                   ("JC2026-0002", Decimal("500"))))
    assert screens.over_coverage(report(), [shared]) == []
    assert screens.over_coverage(report(number="JC2026-0002",
                                        quantity_covered=Decimal("500")), [shared]) == []
    # With a second delivery on the first report alone, the shares add up past its cover:
    # 666.667 + 400 > 1,000.
    found = screens.over_coverage(report(), [shared, delivery(6, "SH-006", "400")])
    assert [(f.key, f.params["deliveries"]) for f in found] == [
        ("quantity:1066.667", ["SH-005", "SH-006"])]


def test_worked_example_deliveries_claim_more_than_the_report_covers():
    found = screens.over_coverage(report(), [delivery(1, "SH-001", "600"),
                                             delivery(2, "SH-002", "900")])
    assert found == [Finding("over_coverage", "JC2026-0001", "quantity:1500", "over_quantity", {
        "number": "JC2026-0001", "total": Decimal("1500"), "covered": Decimal("1000.000"),
        "unit": "m", "deliveries": ["SH-001", "SH-002"]})]


def test_exactly_the_covered_quantity_is_no_finding():
    assert screens.over_coverage(report(), [delivery(1, "SH-001", "400"),
                                            delivery(2, "SH-002", "600.000")]) == []


def test_deliveries_in_another_unit_or_not_citing_the_report_are_not_added():
    found = screens.over_coverage(report(), [
        delivery(1, "SH-001", "900"), delivery(2, "SH-002", "5", unit="km"),
        delivery(3, "SH-003", "900", numbers=("JC2026-0002",))])
    assert found == []


def test_a_delivery_for_another_batch_is_one_finding_per_batch():
    found = screens.over_coverage(report(), [
        delivery(1, "SH-001", "300"), delivery(2, "SH-002", "200", batch="2026-10-C"),
        delivery(3, "SH-003", "100", batch="2026-10-C"),
        delivery(4, "SH-004", "100", batch="2026-09-B")])
    assert found == [
        Finding("over_coverage", "JC2026-0001", "batch:2026-09-B", "other_batch", {
            "number": "JC2026-0001", "batch": "2026-09-B", "covered_batch": "2026-11-A",
            "batches": 3, "deliveries": ["SH-004"]}),
        Finding("over_coverage", "JC2026-0001", "batch:2026-10-C", "other_batch", {
            "number": "JC2026-0001", "batch": "2026-10-C", "covered_batch": "2026-11-A",
            "batches": 3, "deliveries": ["SH-002", "SH-003"]}),
    ]


def test_quantity_and_batch_findings_together():
    found = screens.over_coverage(report(), [delivery(1, "SH-001", "800"),
                                             delivery(2, "SH-002", "300", batch="B9")])
    assert [(f.key, f.code) for f in found] == [("quantity:1100", "over_quantity"),
                                                 ("batch:B9", "other_batch")]


# --- issued_before_receipt ----------------------------------------------------------------------

def test_issued_before_the_stated_receipt_date():
    found = screens.issued_before_receipt(report(received_on=dt.date(2026, 11, 21)))
    assert found == [Finding("issued_before_receipt", "JC2026-0001", "received_on",
                             "issued_before_received", {
                                 "number": "JC2026-0001", "issued_on": dt.date(2026, 11, 20),
                                 "received_on": dt.date(2026, 11, 21)})]


def test_issued_on_the_receipt_day_is_no_finding():
    assert screens.issued_before_receipt(report(received_on=dt.date(2026, 11, 20))) == []


def test_supervisory_sample_received_by_the_lab_after_the_issue_day():
    found = screens.issued_before_receipt(report(sample="CY-2026-0042",
                                                 sample_received_on=dt.date(2026, 11, 22)))
    assert found == [Finding("issued_before_receipt", "JC2026-0001", "sample_received",
                             "issued_before_sample_received", {
                                 "number": "JC2026-0001", "issued_on": dt.date(2026, 11, 20),
                                 "sample": "CY-2026-0042",
                                 "received_on": dt.date(2026, 11, 22)})]


def test_supervisory_sample_never_received():
    found = screens.issued_before_receipt(report(sample="CY-2026-0042"))
    assert found == [Finding("issued_before_receipt", "JC2026-0001", "sample",
                             "sample_not_received", {
                                 "number": "JC2026-0001", "issued_on": dt.date(2026, 11, 20),
                                 "sample": "CY-2026-0042"})]


def test_sample_received_before_the_issue_and_no_issue_date():
    assert screens.issued_before_receipt(report(sample="CY-1",
                                                sample_received_on=dt.date(2026, 11, 14))) == []
    assert screens.issued_before_receipt(report(issued_on=None, sample="CY-1")) == []


# --- identical_values --------------------------------------------------------------------------

def test_the_fingerprint_is_the_documented_sha256():
    text = ('["GB/T 5023.3-2008",[["导体电阻","1.79","Ω/km"],["护套厚度","1.26","mm"],'
            '["绝缘厚度","0.74","mm"]]]')
    assert screens.fingerprint(STD, ITEMS) == hashlib.sha256(text.encode()).hexdigest()
    assert screens.fingerprint(STD, reversed(ITEMS)) == screens.fingerprint(STD, ITEMS)
    assert screens.fingerprint(STD, ITEMS[:2]) is None
    assert screens.fingerprint("GB/T 3956-2008", ITEMS) != screens.fingerprint(STD, ITEMS)


def test_worked_example_identical_values_on_another_producers_batch():
    earlier = report(number="JC2026-0317", producer=11, batch="QC-88",
                     issued_on=dt.date(2026, 10, 2), producer_name="宝鸡测试钢铁有限公司",
                     items=tuple(reversed(ITEMS)))
    found = screens.identical_values(report(), [earlier])
    assert found == [Finding("identical_values", "JC2026-0001", "same_as:JC2026-0317",
                             "identical_values", {
                                 "number": "JC2026-0001", "batch": "2026-11-A",
                                 "other": "JC2026-0317", "other_batch": "QC-88",
                                 "other_producer": "宝鸡测试钢铁有限公司",
                                 "same_producer": False, "standard": STD, "count": 3})]
    # The earlier report of the pair is not the one flagged.
    assert screens.identical_values(earlier, [report()]) == []


def test_the_later_of_two_reports_issued_the_same_day_is_the_one_by_number():
    a, b = report(number="JC2026-0001"), report(number="JC2026-0002", batch="B2")
    assert [f.key for f in screens.identical_values(b, [a])] == ["same_as:JC2026-0001"]
    assert screens.identical_values(a, [b]) == []


def test_same_producer_other_batch_counts_but_the_same_batch_does_not():
    day = dt.date(2026, 11, 1)
    same_batch = report(number="JC2026-0102", issued_on=day)  # a replaced report
    other_batch = report(number="JC2026-0103", batch="2026-10-A", issued_on=day)
    found = screens.identical_values(report(), [report(), same_batch, other_batch])
    assert [(f.key, f.params["same_producer"]) for f in found] == [
        ("same_as:JC2026-0103", True)]


def test_one_value_different_or_fewer_than_three_items_is_no_finding():
    before = dt.date(2026, 11, 1)
    changed = (*ITEMS[:2], Item("护套厚度", "1.27", "mm"))
    assert screens.identical_values(report(), [report(number="X-2", batch="B", items=changed,
                                                      issued_on=before)]) == []
    two = ITEMS[:2]
    assert screens.identical_values(report(items=two), [
        report(number="X-2", batch="B", items=two, issued_on=before)]) == []
    other_unit = (*ITEMS[:2], Item("护套厚度", "1.26", "cm"))
    assert screens.identical_values(report(), [report(number="X-3", batch="B",
                                                      items=other_unit, issued_on=before)]) == []
    # The control: the same values issued before are found.
    assert len(screens.identical_values(report(), [report(number="X-4", batch="B",
                                                          issued_on=before)])) == 1


@given(st.lists(st.tuples(st.text(max_size=5), st.text(max_size=5), st.text(max_size=3)),
                min_size=3, max_size=8), st.randoms())
def test_the_fingerprint_ignores_the_order_of_items(triples, rnd):
    items = [Item(*t) for t in triples]
    shuffled = list(items)
    rnd.shuffle(shuffled)
    assert screens.fingerprint(STD, shuffled) == screens.fingerprint(STD, items)
    text = json.dumps([STD, sorted(list(t) for t in triples)], ensure_ascii=False,
                      separators=(",", ":"))
    assert screens.fingerprint(STD, items) == hashlib.sha256(text.encode()).hexdigest()


# --- over_capacity -----------------------------------------------------------------------------

def test_worked_example_over_capacity_names_the_first_report_beyond_the_limit():
    issued = [f"R-{i:03d}" for i in range(1, 13)]
    found = screens.over_capacity(lab=7, lab_name="西安测试检测中心", capacity=10,
                                  tolerance_percent=10, month=dt.date(2026, 11, 1),
                                  issued=issued)
    assert found == [Finding("over_capacity", "R-012", "lab:7:2026-11", "over_capacity", {
        "number": "R-012", "lab": "西安测试检测中心", "lab_id": 7, "month": "2026-11",
        "count": 12, "capacity": 10, "tolerance": "10", "limit": 11})]


def test_at_the_limit_is_no_finding_and_the_limit_is_rounded_down():
    kw = {"lab": 7, "lab_name": "L", "month": dt.date(2026, 11, 1)}
    issued = [f"R-{i}" for i in range(11)]
    assert screens.over_capacity(capacity=10, tolerance_percent=10, issued=issued, **kw) == []
    assert screens.over_capacity(capacity=10, tolerance_percent=0, issued=issued[:10],
                                 **kw) == []
    found = screens.over_capacity(capacity=10, tolerance_percent=0, issued=issued, **kw)
    assert [(f.number, f.params["limit"]) for f in found] == [("R-10", 10)]
    # 7 × 1.15 = 8.05: the ninth report is the first beyond.
    found = screens.over_capacity(capacity=7, tolerance_percent="15", issued=issued[:9], **kw)
    assert [(f.number, f.params["limit"], f.params["tolerance"]) for f in found] == [
        ("R-8", 8, "15")]


def test_month_of():
    assert screens.month_of(dt.date(2026, 2, 14)) == (dt.date(2026, 2, 1), dt.date(2026, 2, 28))
    assert screens.month_of(dt.date(2028, 2, 29)) == (dt.date(2028, 2, 1), dt.date(2028, 2, 29))
    assert screens.month_of(dt.date(2026, 12, 31)) == (dt.date(2026, 12, 1),
                                                       dt.date(2026, 12, 31))


# --- out_of_scope ------------------------------------------------------------------------------

def test_worked_example_a_parameter_outside_the_scope_on_the_issue_day():
    lines = [ScopeLine(STD, "导体电阻", dt.date(2020, 1, 1), None),
             ScopeLine(STD, "绝缘厚度", dt.date(2020, 1, 1), None),
             ScopeLine(STD, "护套厚度", dt.date(2020, 1, 1), dt.date(2026, 11, 19))]
    found = screens.out_of_scope(report(), lines)
    assert found == [Finding("out_of_scope", "JC2026-0001", "parameter:护套厚度",
                             "parameter_out_of_scope", {
                                 "number": "JC2026-0001", "parameter": "护套厚度",
                                 "standard": STD, "day": dt.date(2026, 11, 20)})]
    # On the last day of the line it was still in scope.
    assert screens.out_of_scope(report(issued_on=dt.date(2026, 11, 19)), lines) == []


def test_a_whole_standard_line_covers_every_parameter_and_na_items_are_not_tested():
    whole = [ScopeLine(STD, "", dt.date(2020, 1, 1), None)]
    assert screens.out_of_scope(report(), whole) == []
    items = (*ITEMS, Item("燃烧试验", "—", "", "na"))
    lines = [ScopeLine(STD, i.parameter, dt.date(2020, 1, 1), None) for i in ITEMS]
    assert screens.out_of_scope(report(items=items), lines) == []


def test_no_line_for_the_standard_on_the_issue_day():
    lines = [ScopeLine("GB/T 3956-2008", "", dt.date(2020, 1, 1), None),
             ScopeLine(STD, "", dt.date(2026, 12, 1), None)]
    assert screens.out_of_scope(report(), lines) == [
        Finding("out_of_scope", "JC2026-0001", "standard", "standard_out_of_scope", {
            "number": "JC2026-0001", "standard": STD, "day": dt.date(2026, 11, 20)})]


# --- unknown_number ----------------------------------------------------------------------------

def test_worked_example_an_unknown_number_on_delivery_papers():
    papers = [delivery(5, "SH-005", "100", numbers=("JC2026-9999", "JC2026-0001")),
              delivery(3, "SH-003", "100", numbers=("JC2026-9999",)),
              delivery(4, "SH-004", "100")]
    found = screens.unknown_number("JC2026-9999", issued=False, deliveries=papers)
    assert found == [
        Finding("unknown_number", "JC2026-9999", "delivery:3", "unknown_number", {
            "number": "JC2026-9999", "delivery": "SH-003", "user_unit": "西安测试地铁有限公司",
            "delivery_id": 3, "producer": 10}),
        Finding("unknown_number", "JC2026-9999", "delivery:5", "unknown_number", {
            "number": "JC2026-9999", "delivery": "SH-005", "user_unit": "西安测试地铁有限公司",
            "delivery_id": 5, "producer": 10}),
    ]
    assert screens.unknown_number("JC2026-0001", issued=True, deliveries=papers) == []
