"""Fake-report signals on real data (zhijian/reports/signals.py): deliveries recorded
through the procurement services, reports issued through the report services, the
screens' findings recorded once with their explanation and event, the scan on
"report.issued", who sees and who closes a signal, and the regulator's pages."""

from __future__ import annotations

import datetime as dt
import re
from decimal import Decimal

import pytest
from django.conf import settings
from django.core.exceptions import ValidationError
from django.http import Http404
from django.test import Client
from django.utils import timezone, translation

from tests import factories as f
from tests.reports.helpers import issue_report
from tests.sampling.conftest import plan, received, sample, sworld  # noqa: F401
from zhijian.core.access import Denied
from zhijian.core.models import AuditEntry, OutboxEvent
from zhijian.procurement import services as procurement
from zhijian.registry.models import AccreditationScope
from zhijian.reports import services, signals
from zhijian.reports.models import Report, Signal
from zhijian.sampling.models import Sample

pytestmark = pytest.mark.django_db
TODAY = dt.date(2026, 11, 20)
N = "JC2026-0001"


@pytest.fixture(autouse=True)
def _keys(settings, tmp_path):
    settings.ZHIJIAN_AUDIT_KEY_FILE = tmp_path / "audit-key.pem"


@pytest.fixture
def standard(world):
    std = f.StandardFactory(code="GB/T 5023.3-2008", title="聚氯乙烯绝缘电缆")
    std.categories.set([world["categories"]["cable"]])
    return std


@pytest.fixture
def unit(world, user_unit_user):
    """The metro company keeps the Xi'an cable maker on its cable list."""
    cable = procurement.supplier_list_create(actor=user_unit_user,
                                             category_id=world["categories"]["cable"].pk)
    procurement.supplier_add(actor=user_unit_user, list_id=cable.pk,
                             entity_id=world["xian_entity"].pk)
    return user_unit_user


def issue(world, standard, number=N, **over):
    kwargs = {"lab": world["lab"], "producer": world["xian_entity"],
              "category": world["categories"]["cable"], "standard": standard,
              "batch": "2026-11-A", "issued_on": TODAY, "number": number}
    kwargs.update(over)
    return issue_report(**kwargs)


def deliver(world, user, note, quantity, numbers, *, batch="2026-11-A", unit_="m"):
    return procurement.delivery_record(actor=user, report_numbers=numbers, data={
        "number": note, "supplier": world["xian_entity"], "producer": world["xian_entity"],
        "product_name": "聚氯乙烯绝缘电缆 BV 2.5", "category": world["categories"]["cable"],
        "batch": batch, "quantity": Decimal(quantity), "unit": unit_,
        "site": "地铁8号线 长延堡站", "delivered_on": timezone.localdate()})


def found(number=None) -> list[tuple[str, str, str]]:
    qs = Signal.objects.order_by("kind", "key")
    if number:
        qs = qs.filter(number=number)
    return list(qs.values_list("number", "kind", "key"))


def english(signal: Signal) -> str:
    with translation.override("en"):
        return signals.explanation_of(signal)


def raised() -> list[dict]:
    return [e.payload for e in OutboxEvent.objects.filter(name="signal.raised").order_by("id")]


def state() -> tuple:
    return (list(Signal.objects.order_by("pk").values()), AuditEntry.objects.count(),
            OutboxEvent.objects.count())


# --- over-coverage, through recorded deliveries -------------------------------------------------

def test_deliveries_claiming_more_than_the_report_covers_raise_one_signal(world, standard,
                                                                          unit):
    report = issue(world, standard)
    deliver(world, unit, "DN-1", "600", [N])
    assert found() == []
    deliver(world, unit, "DN-2", "900", [N])
    assert found() == [(N, "over_coverage", "quantity:1500")]
    signal = Signal.objects.get()
    assert (signal.report, signal.lab, signal.closed_at) == (report, world["lab"], None)
    assert english(signal) == ("Deliveries cite report JC2026-0001 for 1,500 m; it covers "
                               "1,000 m (delivery notes: DN-1、DN-2).")
    with translation.override(settings.LANGUAGE_CODE):
        assert signal.explanation == signals.explanation_of(signal)
    assert signal.detail == {"code": "over_quantity", "params": {
        "number": N, "total": "1500.000", "covered": "1000.000", "unit": "m",
        "deliveries": ["DN-1", "DN-2"]}}
    assert raised() == [{"signal": signal.pk, "kind": "over_coverage", "number": N,
                         "lab": world["lab"].pk, "producer": world["xian_entity"].pk}]
    # Scanning again finds the same and records nothing.
    before = state()
    assert signals.signals_scan(numbers=[N, f" {N} "]) == []
    assert services.signals_scan(numbers=[N]) == []
    assert state() == before
    # A third delivery raises the total again: a new signal.
    deliver(world, unit, "DN-3", "100", [N])
    assert found() == [(N, "over_coverage", "quantity:1500"),
                       (N, "over_coverage", "quantity:1600")]


def test_a_delivery_for_another_batch(world, standard, unit):
    issue(world, standard)
    deliver(world, unit, "DN-1", "200", [N])
    deliver(world, unit, "DN-2", "100", [N], batch="2026-10-B")
    assert found() == [(N, "over_coverage", "batch:2026-10-B")]
    assert english(Signal.objects.get()) == (
        "Deliveries cite report JC2026-0001 for batch 2026-10-B; it covers batch 2026-11-A "
        "only. The deliveries name 2 batches for it in all (delivery notes for batch "
        "2026-10-B: DN-2).")
    # Another delivery for that batch (in km: not added to the metres) is the same finding.
    before = state()
    deliver(world, unit, "DN-3", "5", [N], batch="2026-10-B", unit_="km")
    assert found() == [(N, "over_coverage", "batch:2026-10-B")]
    assert state()[0] == before[0]


# --- unknown numbers ------------------------------------------------------------------------------

def test_numbers_on_papers_that_are_no_issued_report(world, standard, unit, lab_user,
                                                     xian_officer):
    issue(world, standard)
    services.report_draft(actor=lab_user, data={
        "number": "JC2026-0500", "producer": world["xian_entity"],
        "category": world["categories"]["cable"], "product_name": "电缆", "batch": "A1",
        "quantity_covered": Decimal("10"), "unit": "m", "standard": standard,
        "received_on": TODAY - dt.timedelta(days=3),
        "tested_from": TODAY - dt.timedelta(days=2), "tested_to": TODAY,
        "conclusion": "pass", "authorised_by": "王工"},
        items=[{"parameter": "导体电阻", "requirement": "≤1.83", "measured": "1.79",
                "verdict": "pass"}], instrument_ids=[world["lab"].instruments.get().pk],
        today=TODAY)
    d = deliver(world, unit, "DN-7", "100", [N, "FAKE-2026/01", "JC2026-0500", "检测-1"])
    assert found() == [("FAKE-2026/01", "unknown_number", f"delivery:{d.pk}"),
                       ("JC2026-0500", "unknown_number", f"delivery:{d.pk}"),
                       ("检测-1", "unknown_number", f"delivery:{d.pk}")]
    signal = Signal.objects.get(number="FAKE-2026/01")
    assert (signal.report, signal.lab) == (None, None)
    assert english(signal) == ("Delivery note DN-7 of 西安测试地铁有限公司 gives report number "
                               "FAKE-2026/01; no issued report on the platform has this number.")
    assert signal.detail["producer_division"] == "610113"
    assert signal.detail["category"] == "electrical.cable"
    assert {p["number"]: p["producer"] for p in raised()} == {
        n: world["xian_entity"].pk for n in ("FAKE-2026/01", "JC2026-0500", "检测-1")}
    before = state()
    assert signals.signals_scan(numbers=["FAKE-2026/01", "检测-1", "NEVER-CITED"]) == []
    assert state() == before
    # Any text can be on the papers: its page shows the number without a verification link.
    html = client(xian_officer).get(f"/work/reports/signals/{signal.pk}/").content.decode()
    assert 'id="report-link"' not in html and "FAKE-2026/01" in html
    html = client(xian_officer).get(
        f"/work/reports/signals/{Signal.objects.get(number='JC2026-0500').pk}/").content.decode()
    assert '<a href="/verify/JC2026-0500/" id="report-link">' in html


# --- receipt, scope, identical values, capacity ---------------------------------------------------

def test_issued_before_the_receipt_date_it_states(world, standard):
    report = issue(world, standard)
    Report.objects.filter(pk=report.pk).update(received_on=TODAY + dt.timedelta(days=2))
    assert [s.key for s in signals.signals_scan(numbers=[N])] == ["received_on"]
    assert english(Signal.objects.get()) == (
        "Report JC2026-0001 was issued on 2026-11-20, before the date it gives for the receipt "
        "of the sample, 2026-11-22.")


def test_a_supervisory_sample_received_after_the_issue_or_never(sworld, received):  # noqa: F811
    report = issue_report(lab=received.lab, producer=received.producer,
                          category=received.category, standard=sworld["standard"],
                          batch=received.batch, sample=received, issued_on=TODAY,
                          number="BG2026-0001")
    assert signals.signals_scan(numbers=[report.number]) == []
    later = dt.datetime(2026, 11, 21, 0, 30, tzinfo=dt.timezone(dt.timedelta(hours=8)))
    Sample.objects.filter(pk=received.pk).update(received_at=later)
    assert found() == [] and [s.key for s in signals.signals_scan(
        numbers=[report.number])] == ["sample_received"]
    assert english(Signal.objects.get()) == (
        f"Report BG2026-0001 was issued on 2026-11-20, before the laboratory recorded "
        f"receiving sample {received.code} on 2026-11-21.")
    Sample.objects.filter(pk=received.pk).update(received_at=None)
    assert [s.key for s in signals.signals_scan(numbers=[report.number])] == ["sample"]
    assert english(Signal.objects.get(key="sample")) == (
        f"Report BG2026-0001 was issued on 2026-11-20, but the laboratory has not recorded "
        f"receiving sample {received.code}.")


def test_a_parameter_or_the_standard_outside_the_scope_on_the_issue_day(world, standard):
    issue(world, standard)
    line = AccreditationScope.objects.get(lab=world["lab"], standard=standard)
    line.parameter = "导体电阻"
    line.save()
    assert found() == [] and [s.key for s in signals.signals_scan(numbers=[N])] == [
        "parameter:绝缘厚度"]
    assert english(Signal.objects.get()) == (
        "On 2026-11-20, the day report JC2026-0001 was issued, the parameter 绝缘厚度 of "
        "GB/T 5023.3-2008 was outside the laboratory's accredited scope.")
    AccreditationScope.objects.filter(pk=line.pk).update(valid_to=TODAY - dt.timedelta(days=1))
    assert [s.key for s in signals.signals_scan(numbers=[N])] == ["standard"]


THREE = [{"parameter": "导体电阻", "requirement": "≤1.83 Ω/km", "measured": "1.79",
          "unit": "Ω/km", "verdict": "pass"},
         {"parameter": "绝缘厚度", "requirement": "≥0.7 mm", "measured": "0.74", "unit": "mm",
          "verdict": "pass"},
         {"parameter": "护套厚度", "requirement": "≥1.2 mm", "measured": "1.26", "unit": "mm",
          "verdict": "pass"}]


def test_identical_values_flag_the_later_report(world, standard):
    issue(world, standard, items=THREE, issued_on=TODAY - dt.timedelta(days=30))
    issue(world, standard, number="JC2026-0002", items=THREE[:2])  # too few items
    issue(world, standard, number="JC2026-0003", items=THREE, batch="2026-11-A",
          quantity=Decimal("5"), issued_on=TODAY - dt.timedelta(days=20))  # the same batch
    baoji = f.EntityFactory(division=f.division("610302"), name="宝鸡测试电缆有限公司")
    issue(world, standard, number="JC2026-0004", items=list(reversed(THREE)), producer=baoji,
          batch="QC-88")
    assert signals.signals_scan(numbers=[N, "JC2026-0002", "JC2026-0003"]) == []
    new = signals.signals_scan(numbers=["JC2026-0004"])
    assert [(s.number, s.key) for s in new] == [("JC2026-0004", "same_as:JC2026-0001"),
                                                ("JC2026-0004", "same_as:JC2026-0003")]
    assert english(new[0]) == (
        "Report JC2026-0004 (batch QC-88) gives exactly the same 3 measured values under "
        "GB/T 5023.3-2008 as report JC2026-0001, which is about batch 2026-11-A of "
        "西安测试电缆有限公司.")
    assert signals.signals_scan(numbers=[N, "JC2026-0003", "JC2026-0004"]) == []


def test_a_lab_beyond_its_monthly_capacity(world, standard):
    lab = world["lab"]
    lab.monthly_capacity = 2
    lab.save()
    issue(world, standard, number="R-1", issued_on=dt.date(2026, 10, 31))
    issue(world, standard, number="R-2", issued_on=dt.date(2026, 11, 2))
    issue(world, standard, number="R-3", issued_on=dt.date(2026, 11, 3))
    assert signals.signals_scan(numbers=["R-1", "R-2", "R-3"]) == []
    issue(world, standard, number="R-4", issued_on=dt.date(2026, 11, 4))
    issue(world, standard, number="R-5", issued_on=dt.date(2026, 11, 5))
    new = signals.signals_scan(numbers=["R-5"])
    assert [(s.number, s.kind, s.key, s.report, s.lab) for s in new] == [
        ("R-4", "over_capacity", f"lab:{lab.pk}:2026-11", None, lab)]
    assert english(new[0]) == (
        "西安测试检测中心 issued 4 reports in 2026-11; its recorded capacity is 2 a month, 2 with "
        "the tolerance of 0 %. Report R-4 was the first beyond it.")
    assert raised()[-1] == {"signal": new[0].pk, "kind": "over_capacity", "number": "R-4",
                            "lab": lab.pk, "producer": None}
    # One signal per lab and month, whichever of its reports is scanned.
    assert signals.signals_scan(numbers=["R-2", "R-4", "R-5"]) == []


def test_the_issued_event_scans_the_report(world, standard, django_capture_on_commit_callbacks):
    lab = world["lab"]
    lab.monthly_capacity = 0
    lab.save()
    with django_capture_on_commit_callbacks(execute=True):
        issue(world, standard)
    assert found() == [(N, "over_capacity", f"lab:{lab.pk}:2026-11")]


# --- visibility and closing ---------------------------------------------------------------------

@pytest.fixture
def pair(world, standard, unit):
    """An over-coverage signal on the Xi'an lab's report and an unknown-number signal on a
    Baoji steel delivery."""
    issue(world, standard)
    deliver(world, unit, "DN-1", "1200", [N])
    steel = procurement.supplier_list_create(actor=unit,
                                             category_id=world["categories"]["steel"].pk)
    procurement.supplier_add(actor=unit, list_id=steel.pk, entity_id=world["baoji_entity"].pk)
    procurement.delivery_record(actor=unit, report_numbers=["GJ-404"], data={
        "number": "DN-S1", "supplier": world["baoji_entity"], "producer": world["baoji_entity"],
        "product_name": "热轧带肋钢筋", "category": world["categories"]["steel"], "batch": "S1",
        "quantity": Decimal("40"), "unit": "t", "site": "地铁8号线",
        "delivered_on": timezone.localdate()})
    return {"cable": Signal.objects.get(number=N), "steel": Signal.objects.get(number="GJ-404")}


VISIBLE = {"admin_user": {N, "GJ-404"}, "province_officer": {N, "GJ-404"},
           "xian_officer": {N}, "baoji_officer": {"GJ-404"}, "xian_housing_officer": set(),
           "enterprise_user": set(), "lab_user": set(), "user_unit_user": set()}


@pytest.mark.parametrize("who", list(VISIBLE))
def test_who_sees_which_signals(who, pair, request):
    user = request.getfixturevalue(who)
    assert set(signals.signals_visible_to(user).values_list("number", flat=True)) == VISIBLE[who]
    assert not signals.signals_visible_to(None).exists()


def test_a_sector_scoped_department_sees_its_sector_only(world, pair, xian_housing_officer):
    baoji_housing = f.DepartmentFactory(division=f.division("610300"), kind="housing",
                                        code="6103-housing", name="宝鸡市住房和城乡建设局",
                                        all_sectors=False)
    baoji_housing.sectors.set([world["categories"]["building"]])
    officer = f.UserFactory(username="baoji_housing", department=baoji_housing)
    assert list(signals.signals_visible_to(officer).values_list("number", flat=True)) == [
        "GJ-404"]


CLOSERS = {"admin_user": "ok", "province_officer": "ok", "xian_officer": "ok",
           "baoji_officer": 404, "xian_housing_officer": 404, "enterprise_user": "denied",
           "lab_user": "denied", "user_unit_user": "denied"}


@pytest.mark.parametrize("who", list(CLOSERS))
def test_who_may_close_the_cable_signal(who, pair, request):
    user = request.getfixturevalue(who)
    signal = pair["cable"]
    before = state()
    expected = CLOSERS[who]
    if expected == "ok":
        closed = signals.signal_close(actor=user, signal_id=signal.pk,
                                      note="  已调取供货合同，分两批供货，数量已核对。 ")
        assert closed.closed_note == "已调取供货合同，分两批供货，数量已核对。"
        assert closed.closed_at is not None
        entry = AuditEntry.objects.order_by("-seq").first()
        assert (entry.action, entry.object_id, entry.actor, entry.division) == (
            "signal.closed", str(signal.pk), user.username, world_division(signal))
        event = OutboxEvent.objects.filter(name="signal.closed").get()
        assert event.payload == {"signal": signal.pk, "kind": "over_coverage", "number": N,
                                 "lab": signal.lab_id, "producer": signal.report.producer_id,
                                 "outcome": "",
                                 "department": None if who == "admin_user"
                                 else user.department_id}
        return
    with pytest.raises(Http404 if expected == 404 else Denied):
        signals.signal_close(actor=user, signal_id=signal.pk, note="核查")
    assert state() == before


def world_division(signal) -> str:
    return signal.lab.division_id


def test_closing_needs_a_note_and_happens_once(pair, province_officer, baoji_officer):
    before = state()
    for note in ["", "   "]:
        with translation.override("en"), pytest.raises(ValidationError) as exc:
            signals.signal_close(actor=province_officer, signal_id=pair["cable"].pk, note=note)
        assert exc.value.message_dict == {
            "note": ["Write a note: what you looked at and what you found."]}
    assert state() == before
    steel = signals.signal_close(actor=baoji_officer, signal_id=pair["steel"].pk,
                                 note="供方提供的报告编号系笔误，已更正为平台报告。")
    assert OutboxEvent.objects.filter(name="signal.closed").get().payload["producer"] == \
        steel.detail["params"]["producer"]
    before = state()
    with pytest.raises(ValidationError) as exc:
        signals.signal_close(actor=baoji_officer, signal_id=steel.pk, note="再次关闭")
    assert list(exc.value.message_dict) == ["note"]
    assert state() == before
    with pytest.raises(Http404):
        signals.signal_close(actor=province_officer, signal_id=10**9, note="核查")


# --- the regulator's pages ----------------------------------------------------------------------

def client(user, lang="en") -> Client:
    c = Client()
    c.cookies["django_language"] = lang
    if user is not None:
        c.force_login(user)
    return c


ROW = re.compile(r'<tr id="signal-(\d+)" data-kind="(\w+)">')


def test_the_list_shows_open_signals_in_my_jurisdiction_by_kind(pair, xian_officer,
                                                                 province_officer):
    c = client(province_officer)
    html = c.get("/work/reports/signals/").content.decode()
    assert ROW.findall(html) == [(str(pair["steel"].pk), "unknown_number"),
                                 (str(pair["cable"].pk), "over_coverage")]
    assert "Deliveries cite report JC2026-0001 for 1,200 m; it covers 1,000 m" in html
    html = c.get("/work/reports/signals/", {"kind": "over_coverage"}).content.decode()
    assert ROW.findall(html) == [(str(pair["cable"].pk), "over_coverage")]
    html = client(xian_officer).get("/work/reports/signals/").content.decode()
    assert ROW.findall(html) == [(str(pair["cable"].pk), "over_coverage")]
    signals.signal_close(actor=province_officer, signal_id=pair["cable"].pk, note="已核查")
    assert ROW.findall(c.get("/work/reports/signals/").content.decode()) == [
        (str(pair["steel"].pk), "unknown_number")]
    html = c.get("/work/reports/signals/", {"state": "closed"}).content.decode()
    assert ROW.findall(html) == [(str(pair["cable"].pk), "over_coverage")]
    html = c.get("/work/reports/signals/", {"kind": "nonsense"}).content.decode()
    assert len(ROW.findall(html)) == 1  # an unknown kind is ignored: the open signals


def test_the_detail_explains_and_links_and_the_form_closes(world, pair, xian_officer):
    c = client(xian_officer)
    signal = pair["cable"]
    response = c.get(f"/work/reports/signals/{signal.pk}/")
    html = response.content.decode()
    assert response.status_code == 200
    assert "Deliveries cite report JC2026-0001 for 1,200 m; it covers 1,000 m" in html
    assert f'<a href="/verify/{N}/" id="report-link">' in html
    assert f'<a href="/labs/{world["lab"].pk}/" id="lab-link">' in html
    assert 'id="deliveries">DN-1' in html
    before = state()
    response = c.post(f"/work/reports/signals/{signal.pk}/close/", {"note": "  "})
    assert response.status_code == 200
    assert re.search(r'id="id_note_error"><div>(.*?)</div>', response.content.decode()).group(
        1) == "This field is required."
    assert state() == before
    response = c.post(f"/work/reports/signals/{signal.pk}/close/", {"note": "已核对合同"})
    assert response.status_code == 302
    assert response["Location"] == f"/work/reports/signals/{signal.pk}/"
    html = c.get(response["Location"]).content.decode()
    assert 'id="closed-note">已核对合同</p>' in html and 'id="close-form"' not in html


def test_pages_are_for_regulators_and_hide_other_jurisdictions(pair, baoji_officer,
                                                                enterprise_user):
    signal = pair["cable"]
    before = state()
    c = client(baoji_officer)
    assert c.get(f"/work/reports/signals/{signal.pk}/").status_code == 404
    assert c.post(f"/work/reports/signals/{signal.pk}/close/", {"note": "x"}).status_code == 404
    assert c.get("/work/reports/signals/10000000/").status_code == 404
    assert client(enterprise_user).get("/work/reports/signals/").status_code == 403
    response = client(None).get("/work/reports/signals/")
    assert response.status_code == 302 and "/accounts/login/" in response["Location"]
    assert state() == before
