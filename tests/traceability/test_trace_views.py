"""Trace pages, spreadsheet and CSV exports, and the trace API (trace_views.py, api.py,
docs/trace.md) on the cable chain of test_tracing.py: what each shows, bad input, and who
may trace (administrators and regulators; 404 for everyone else signed in)."""

from __future__ import annotations

import csv
import io
import re
from decimal import Decimal

import pytest

from tests import factories as f
from tests.reports.helpers import issue_report
from tests.traceability.test_tracing import (
    CABLE14,
    CABLE_GTIN,
    CU,
    L1,
    LA,
    LB,
    LOC,
    PARTY,
    P,
    build_chain,
    expected_stops,
)
from zhijian.core.models import AuditEntry, OutboxEvent
from zhijian.traceability.models import Capture, Event, Place

RESULT = "/work/trace/result"


def english(client):
    from django.conf import settings

    client.cookies[settings.LANGUAGE_COOKIE_NAME] = "en"
    return client
QUERY = f"gtin={CABLE_GTIN}&lot=L1"


@pytest.fixture
def chain(world):
    return build_chain(world)


@pytest.fixture
def report(chain, world):
    standard = f.StandardFactory(code="GB/T 5023.3-2008", title="聚氯乙烯绝缘电缆")
    standard.categories.set([world["categories"]["cable"]])
    return issue_report(lab=world["lab"], producer=world["xian_entity"],
                        category=world["categories"]["cable"], standard=standard, batch="L1",
                        quantity=Decimal("1000"), number="T2026-07001")


def state() -> tuple:
    return (Event.objects.count(), Capture.objects.count(), AuditEntry.objects.count(),
            OutboxEvent.objects.count(), Place.objects.count())


# --- who may trace ------------------------------------------------------------------------

PERSONAS = {
    "anonymous": None, "admin": "admin_user", "province": "province_officer",
    "xian": "xian_officer", "baoji": "baoji_officer", "enterprise": "enterprise_user",
    "lab": "lab_user", "user_unit": "user_unit_user",
}
TRACERS = {"admin", "province", "xian", "baoji"}


@pytest.mark.parametrize("who", PERSONAS)
@pytest.mark.parametrize("path", ["/work/trace/", f"{RESULT}?{QUERY}",
                                  f"{RESULT}.xlsx?{QUERY}", f"{RESULT}.csv?{QUERY}"])
def test_pages_matrix(request, client, chain, who, path):
    if PERSONAS[who]:
        client.force_login(request.getfixturevalue(PERSONAS[who]))
    before = state()
    resp = client.get(path)
    if who in TRACERS:
        assert resp.status_code == 200
    elif who == "anonymous":
        assert resp.status_code == 302
        assert resp["Location"].startswith("/accounts/login/")
    else:
        assert resp.status_code == 404
    assert state() == before


@pytest.mark.parametrize("who", PERSONAS)
def test_api_matrix(request, api, chain, who):
    if PERSONAS[who]:
        api.force_authenticate(request.getfixturevalue(PERSONAS[who]))
    before = state()
    resp = api.get(f"/api/v1/trace/?identifier={L1}")
    expected = 200 if who in TRACERS else 401 if who == "anonymous" else 404
    assert resp.status_code == expected
    assert state() == before


def test_firm_users_of_the_chain_do_not_trace(client, chain):
    """Even the maker of the batch: a trace shows other firms' events."""
    client.force_login(chain["users"]["M"])
    assert client.get(f"{RESULT}?{QUERY}").status_code == 404


# --- the page ------------------------------------------------------------------------------

def test_the_result_page(client, province_officer, chain, report):
    english(client).force_login(province_officer)
    resp = client.get(f"{RESULT}?{QUERY}")
    assert resp.status_code == 200
    html = resp.content.decode()
    result = resp.context["result"]
    assert result.start == (L1,)
    # The graph: one box per identifier and per place reached.
    ids = re.findall(r'<g class="zj-box" data-id="([^"]+)"', html)
    assert sorted(ids) == sorted([L1, CU, P, LA, LB, LOC["M_PLANT"], LOC["D_WH"],
                                  LOC["U_DEPOT"], LOC["K_YARD"], LOC["S1"], LOC["S2"]])
    assert html.count('class="zj-edge"') == 4  # the four links
    # The stops, with their tiers and names.
    stops = resp.context["tables"]["stops"]
    assert [(s["tier"], s["kind"], s["place_name"], s["holder"], s["quantity"], s["uom"])
            for s in stops] == [
        (r[6], r[3], Place.objects.get(identifier=r[1]).name,
         Place.objects.get(identifier=r[2]).name, r[4], r[5]) for r in expected_stops(chain)]
    assert stops[-1]["division"] == "610113 雁塔区"
    assert html.count('<tr data-kind="installed"') == 2
    # Each step links to its event and names the audit entry of its capture.
    steps = resp.context["tables"]["steps"]
    assert len(steps) == 18
    six = Event.objects.get(pk=chain["events"][6])
    entry = AuditEntry.objects.get(object_type="traceability.capture",
                                   object_id=str(six.capture_id))
    row = next(s for s in steps if s["event"] == six.pk)
    assert (row["step"], row["from"], row["to"], row["location"], row["capturer"],
            row["hash_id"], row["audit_seq"], row["audit_hash"]) == (
        "shipping", "西安测试电缆有限公司", "西安测试线缆经销有限公司; 经销商仓库", "电缆厂车间",
        "西安测试电缆有限公司", six.hash_id, entry.seq, entry.hash)
    assert f'href="/epcis/events/{six.event_id}"' in html
    assert f'id="proof-{six.capture_id}"' in html
    assert entry.hash in html
    # The report covering the batch, with its public verification page.
    assert '<a href="/verify/T2026-07001/"' in html
    assert [(r["number"], r["identifier"]) for r in resp.context["tables"]["reports"]] == [
        ("T2026-07001", L1)]
    assert 'id="trace-truncated"' not in html


def test_from_a_delivery_and_its_link(client, province_officer, chain, world, user_unit_user):
    from zhijian.procurement import services as procurement

    sl = procurement.supplier_list_create(actor=user_unit_user,
                                          category_id=world["categories"]["cable"].pk)
    procurement.supplier_add(actor=user_unit_user, list_id=sl.pk,
                             entity_id=world["xian_entity"].pk)
    delivery = procurement.delivery_record(actor=user_unit_user, report_numbers=["T1"], data={
        "number": "DN-77", "supplier": world["xian_entity"], "producer": world["xian_entity"],
        "product": chain["product"], "product_name": "电缆", "category":
        world["categories"]["cable"], "batch": "L1", "quantity": 400, "unit": "m",
        "site": "地铁8号线", "delivered_on": __import__("datetime").date(2026, 7, 20)})
    client.force_login(province_officer)
    for query in ("delivery=DN-77", f"delivery_id={delivery.pk}", f"delivery={delivery.pk}"):
        resp = client.get(f"{RESULT}?{query}")
        assert resp.status_code == 200, query
        assert resp.context["result"].start == (L1,)
        assert 'id="trace-delivery"' in resp.content.decode()
    # The unit's own delivery page: no Trace link for the unit; the admin sees one.
    client.force_login(user_unit_user)
    page = client.get(f"/work/procurement/deliveries/{delivery.pk}/")
    assert page.status_code == 200
    assert 'id="delivery-trace"' not in page.content.decode()


@pytest.mark.parametrize(("query", "field", "message"), [
    ("", "__all__", "Give where the trace starts: an identifier, a GTIN with its lot, or a "
                    "delivery."),
    (f"{QUERY}&identifier={L1}", "__all__", "Give only one of: an identifier, a GTIN with its "
                                            "lot, or a delivery."),
    ("gtin=6901234000017&lot=L1", "gtin", "6901234000017 is not a GTIN: write its 13 or 14 "
                                          "digits, the last being the check digit."),
    (f"gtin={CABLE_GTIN}", "lot", "Give the lot (batch number) to trace."),
    ("lot=L1", "gtin", "Give the GTIN of the product this lot is of."),
    ("identifier=L1", "identifier", "L1 is not an identifier. Enter an EPC URN such as "
                                    "urn:epc:id:sgtin:0614141.107346.2018, a GS1 Digital Link "
                                    "such as https://id.gs1.org/01/06901234567892/10/LOT1, or "
                                    "GTIN and lot."),
    ("delivery=DN-404", "delivery", "No delivery has the note number or number DN-404."),
    ("direction=sideways&identifier=urn:uuid:1", "direction",
     "Select a valid choice. sideways is not one of the available choices."),
])
def test_bad_input_names_the_field(client, api, admin_user, chain, query, field, message):
    english(client).force_login(admin_user)
    resp = client.get(f"{RESULT}?{query}")
    assert resp.status_code == 400
    assert resp.context["form"].errors[field] == [message]
    api.force_authenticate(admin_user)
    body = api.get(f"/api/v1/trace/?{query}", HTTP_ACCEPT_LANGUAGE="en").json()
    attr = "non_field_errors" if field == "__all__" else field
    assert [(e["attr"], e["detail"]) for e in body["errors"]] == [(attr, message)]


def test_the_form_page(client, admin_user):
    client.force_login(admin_user)
    html = client.get("/work/trace/").content.decode()
    for name in ("gtin", "lot", "identifier", "delivery", "direction"):
        assert f'name="{name}"' in html
    assert 'id="nav-trace"' in html


# --- exports -------------------------------------------------------------------------------

def test_the_spreadsheet(client, admin_user, chain, report):
    import zipfile

    english(client).force_login(admin_user)
    resp = client.get(f"{RESULT}.xlsx?{QUERY}")
    assert resp["Content-Type"] == (
        "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet")
    assert resp["Content-Disposition"].startswith('attachment; filename="trace-')
    book = zipfile.ZipFile(io.BytesIO(resp.content))
    workbook = book.read("xl/workbook.xml").decode()
    assert re.findall(r'<sheet name="([^"]+)"', workbook) == [
        "Steps", "Where it went", "Goods", "Test reports", "Audit proofs"]
    shared = book.read("xl/sharedStrings.xml").decode()
    for text in ("Tier", "Holder", "Division", "8号线 长延堡站", "T2026-07001",
                 "西安测试机电安装工程有限公司"):
        assert text in shared
    stops_sheet = book.read("xl/worksheets/sheet2.xml").decode()
    assert stops_sheet.count("<row ") == 1 + len(expected_stops(chain))
    assert "<autoFilter" in stops_sheet


def test_the_csv_of_the_stops(client, admin_user, chain):
    english(client).force_login(admin_user)
    resp = client.get(f"{RESULT}.csv?{QUERY}&sheet=stops")
    assert resp["Content-Type"] == "text/csv; charset=utf-8"
    rows = list(csv.reader(io.StringIO(resp.content.decode("utf-8-sig"))))
    assert rows[0] == ["Tier", "How", "Goods", "Identifier", "Place", "Place identifier",
                       "Kind of place", "Division", "Holder", "Holder identifier", "Quantity",
                       "Unit", "Latest event time"]
    assert [(r[0], r[3], r[5], r[9], r[10], r[11]) for r in rows[1:]] == [
        (str(r[6]), r[0], r[1], r[2], str(r[4]), r[5]) for r in expected_stops(chain)]
    assert rows[-1][1] == "Installed"
    assert rows[-1][12] == "2026-07-13 09:00:00"


def test_the_csv_of_the_steps_by_default(client, admin_user, chain):
    client.force_login(admin_user)
    resp = client.get(f"{RESULT}.csv?{QUERY}&sheet=nonsense")
    rows = list(csv.reader(io.StringIO(resp.content.decode("utf-8-sig"))))
    assert len(rows) == 1 + 18


# --- the API -------------------------------------------------------------------------------

def test_the_api(api, xian_officer, chain, report):
    api.force_authenticate(xian_officer)
    body = api.get(f"/api/v1/trace/?gtin={CABLE14}&lot=L1&direction=forward").json()
    assert (body["start"], body["direction"], body["truncated"]) == ([L1], "forward", False)
    assert sorted((n["identifier"], n["side"], n["depth"]) for n in body["nodes"]) == sorted([
        (L1, "start", 0), (P, "forward", 1), (LA, "forward", 1), (LB, "forward", 1)])
    assert [(lk["src"], lk["dst"], lk["kind"]) for lk in body["links"]] == [
        (L1, P, "aggregation"), (L1, LA, "transformation"), (L1, LB, "transformation")]
    assert [(s["identifier"], s["place"], s["party"], s["kind"], s["quantity"], s["uom"],
             s["tier"], s["event"]) for s in body["stops"]] == [
        r[:8] for r in expected_stops(chain)]
    step = next(s for s in body["steps"] if s["event"] == chain["events"][6])
    assert step["sources"] == [{"type": "owning_party", "identifier": PARTY["M"]},
                               {"type": "possessing_party", "identifier": PARTY["M"]}]
    assert step["audit"]["seq"] == AuditEntry.objects.get(
        object_type="traceability.capture",
        object_id=str(Event.objects.get(pk=step["event"]).capture_id)).seq
    assert {p["identifier"] for p in body["places"]} >= {LOC["S1"], LOC["S2"]}
    assert [(r["number"], r["identifier"], r["verify_url"]) for r in body["reports"]] == [
        ("T2026-07001", L1, "http://testserver/verify/T2026-07001/")]
    assert [(n["identifier"], n["product"], n["maker"]) for n in body["nodes"]][:2] == [
        (L1, "聚氯乙烯绝缘电缆 BV 2.5", "西安测试电缆有限公司"), (P, "", "")]


def test_the_api_query_count_is_pinned(api, admin_user, chain,
                                       django_assert_max_num_queries):
    api.force_authenticate(admin_user)
    with django_assert_max_num_queries(22):
        assert api.get(f"/api/v1/trace/?identifier={L1}").status_code == 200


def test_the_page_query_count_is_pinned(client, admin_user, chain,
                                        django_assert_max_num_queries):
    client.force_login(admin_user)
    with django_assert_max_num_queries(24):
        assert client.get(f"{RESULT}?{QUERY}").status_code == 200


def test_the_schema_documents_the_trace(api, admin_user):
    api.force_authenticate(admin_user)
    schema = api.get("/api/v1/schema/?format=json").json()
    op = schema["paths"]["/api/v1/trace/"]["get"]
    assert {p["name"] for p in op["parameters"]} >= {"identifier", "gtin", "lot", "delivery",
                                                     "direction"}


def test_long_tables_are_cut_on_the_page_not_in_the_spreadsheet(client, admin_user, chain,
                                                                 monkeypatch):
    from zhijian.traceability import trace_views

    monkeypatch.setattr(trace_views, "PAGE_ROWS", 5)
    client.force_login(admin_user)
    html = client.get(f"{RESULT}?{QUERY}").content.decode()
    assert 'id="trace-cut"' in html
    assert html.count("<tr data-event=") == 5
    rows = list(csv.reader(io.StringIO(client.get(
        f"{RESULT}.csv?{QUERY}&sheet=steps").content.decode("utf-8-sig"))))
    assert len(rows) == 1 + 18
