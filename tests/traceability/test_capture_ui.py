"""Recording steps in the web pages (/work/traceability/, docs/capture-without-gs1.md): who
may open what, each of the eight steps through its page as the cable maker (the stored
event and its exact index rows), problems shown on the field they are about, the success
page with the event hash ID, the events list with its query count.

`tworld` (also used by test_places, test_csv_capture and test_labels) adds to `world`:
the Xi'an cable maker's cable (GTIN 6901234000016) and its plant, the Baoji steel maker's
rebar, and the metro user unit's public station."""

from __future__ import annotations

import html
import re
from urllib.parse import quote

import pytest

from tests import factories as f
from tests.web.conftest import _audit_key, compiled_messages, make_client  # noqa: F401
from zhijian.core.models import AuditEntry
from zhijian.traceability import place_services, services
from zhijian.traceability.models import Capture, Event, EventEpc, EventSourceDest, Place

pytestmark = pytest.mark.django_db

GTIN = "6901234000016"
BATCH = "https://id.gs1.org/01/06901234000016/10/{}"
SDT = "https://ref.gs1.org/cbv/SDT-"
BIZ = "https://ref.gs1.org/cbv/BizStep-"
DISP = "https://ref.gs1.org/cbv/Disp-"


@pytest.fixture
def tworld(world, enterprise_user, user_unit_user):
    cable = f.ProductFactory(entity=world["xian_entity"], name="电力电缆", model="YJV 3x95",
                             category=world["categories"]["cable"], gtin=GTIN)
    rebar = f.ProductFactory(entity=world["baoji_entity"], name="热轧带肋钢筋", model="HRB400",
                             category=world["categories"]["steel"], gtin="6909876000012")
    plant = place_services.place_create(actor=enterprise_user, data={
        "kind": "plant", "name": "雁塔生产基地", "division": "610113", "address": "雁塔区测试路1号"})
    station = place_services.place_create(actor=user_unit_user, data={
        "kind": "station", "name": "测试站", "division": "610113", "public": True})
    depot = place_services.place_create(actor=user_unit_user, data={
        "kind": "warehouse", "name": "地铁物资库", "division": "610100"})
    return world | {"cable": cable, "rebar": rebar, "plant": plant, "station": station,
                    "depot": depot}


def en(user=None):
    return make_client(user, "en")


def field_error(text: str, name: str) -> str:
    match = re.search(rf'id="id_{name}_error">(.*?)</div>\s*</div>', text, re.S)
    assert match, f"no error shown next to {name}"
    return html.unescape(re.sub(r"<[^>]+>", "", match.group(1)).strip())


def form_errors(text: str) -> str:
    match = re.search(r'id="form-errors">(.*?)</div>\s*\n', text, re.S)
    assert match, "no error on top of the form"
    return html.unescape(re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", match.group(1))).strip())


def rows(event: Event):
    return (sorted((e.role, e.epc, e.quantity, e.uom) for e in event.epcs.all()),
            sorted((s.kind, s.type, s.identifier) for s in event.sources_dests.all()))


def post_step(user, step: str, **data):
    fields = {"time": "2026-07-22T08:30", "gtin": GTIN, "lot": "L2026A", "quantity": "5000",
              "unit": "MTR"} | data
    return en(user).post(f"/work/traceability/record/{step}/", fields)


def stored_count() -> tuple[int, int, int]:
    return Capture.objects.count(), Event.objects.count(), EventEpc.objects.count()


# --- who may open what -------------------------------------------------------------------------

PAGES = ["/work/traceability/", "/work/traceability/record/ship/",
         "/work/traceability/record/produce/", "/work/traceability/upload/",
         "/work/traceability/upload/template.csv", "/work/traceability/places/",
         "/work/traceability/places/new/", "/work/traceability/labels/"]


@pytest.mark.parametrize(("who", "expected"), [
    (None, [302] * 8),
    ("admin_user", [200] * 8),
    ("enterprise_user", [200] * 8),
    ("user_unit_user", [200, 200, 404, 200, 200, 200, 200, 403]),
    ("province_officer", [200, 403, 403, 403, 403, 200, 403, 403]),
    ("xian_officer", [200, 403, 403, 403, 403, 200, 403, 403]),
    ("lab_user", [403] * 8),
])
def test_who_opens_which_page(tworld, who, expected, request):
    user = request.getfixturevalue(who) if who else None
    got = [en(user).get(url).status_code for url in PAGES]
    assert got == expected
    if user is None:
        resp = en().get(PAGES[1])
        assert resp["Location"] == "/accounts/login/?next=/work/traceability/record/ship/"


@pytest.mark.parametrize("who", ["province_officer", "lab_user", None])
def test_a_refused_capture_stores_nothing(tworld, who, request):
    user = request.getfixturevalue(who) if who else None
    before, audit = stored_count(), AuditEntry.objects.count()
    resp = post_step(user, "ship", to_party="6901234000009")
    assert resp.status_code == (302 if user is None else 403)
    assert stored_count() == before and AuditEntry.objects.count() == audit


def test_the_nav_has_a_traceability_link_for_enterprises_and_user_units(
        tworld, enterprise_user, user_unit_user, lab_user):
    for user in (enterprise_user, user_unit_user):
        assert 'id="nav-traceability"' in en(user).get("/work/org/").content.decode()
    assert 'id="nav-traceability"' not in en(lab_user).get("/work/org/").content.decode()


# --- the eight steps -------------------------------------------------------------------------------

def test_produce_through_the_page(tworld, enterprise_user):
    w = tworld
    resp = post_step(enterprise_user, "produce", location=w["plant"].pk, note="首批")
    capture = Capture.objects.get()
    assert resp.status_code == 302
    assert resp["Location"] == f"/work/traceability/captures/{capture.pk}/"
    event = Event.objects.get()
    assert (event.type, event.action, event.biz_step, event.disposition) == (
        "object", "ADD", BIZ + "commissioning", DISP + "active")
    assert (event.biz_location, event.read_point) == (w["plant"].identifier,) * 2
    assert event.org == f"enterprise:{w['xian_entity'].pk}"
    assert event.event_time.isoformat() == "2026-07-22T00:30:00+00:00"
    assert event.event["zhijian:note"] == "首批"
    assert rows(event) == ([("class", BATCH.format("L2026A"), 5000.0, "MTR")], [])

    page = en(enterprise_user).get(resp["Location"]).content.decode()
    assert event.hash_id in page
    assert f'href="/epcis/events/{quote(event.event_id, safe="")}"' in page
    api = en(enterprise_user).get(f"/epcis/events/{quote(event.event_id, safe='')}")
    assert api.status_code == 200 and api.json()["eventID"] == event.event_id


def test_inspect_ship_receive_through_the_pages(tworld, enterprise_user, user_unit_user):
    w = tworld
    maker = f"urn:zhijian:party:{w['xian_entity'].uscc}"
    metro = f"urn:zhijian:party:{w['user_unit'].uscc}"
    post_step(enterprise_user, "inspect", result="fail", location=w["plant"].pk)
    post_step(enterprise_user, "ship", to_party=w["user_unit"].uscc,
              to_location=w["station"].pk)
    post_step(user_unit_user, "receive", from_party=w["xian_entity"].uscc,
              location=w["depot"].pk)
    inspect, ship, receive = Event.objects.order_by("id")
    assert (inspect.biz_step, inspect.disposition) == (BIZ + "inspecting",
                                                       DISP + "non_conformant")
    assert rows(ship) == ([("class", BATCH.format("L2026A"), 5000.0, "MTR")], [
        ("destination", SDT + "location", w["station"].identifier),
        ("destination", SDT + "owning_party", metro),
        ("destination", SDT + "possessing_party", metro),
        ("source", SDT + "owning_party", maker),
        ("source", SDT + "possessing_party", maker)])
    assert (ship.biz_step, ship.disposition, ship.biz_location) == (
        BIZ + "shipping", DISP + "in_transit", "")
    assert rows(receive)[1] == [
        ("destination", SDT + "owning_party", metro),
        ("destination", SDT + "possessing_party", metro),
        ("source", SDT + "owning_party", maker), ("source", SDT + "possessing_party", maker)]
    assert (receive.biz_step, receive.biz_location, receive.org) == (
        BIZ + "receiving", w["depot"].identifier, f"user_unit:{w['user_unit'].pk}")


def test_a_registered_pgln_is_the_party_in_events(tworld, enterprise_user, user_unit_user):
    place_services.place_create(actor=user_unit_user, data={
        "kind": "party", "name": "测试地铁", "gln": "6901234000009",
        "uscc": tworld["user_unit"].uscc})
    post_step(enterprise_user, "ship", to_party=tworld["user_unit"].uscc)
    assert sorted(EventSourceDest.objects.filter(kind="destination").values_list(
        "identifier", flat=True)) == ["https://id.gs1.org/417/6901234000009"] * 2


def test_cut_install_recall_destroy_through_the_pages(tworld, enterprise_user, user_unit_user):
    w = tworld
    resp = post_step(enterprise_user, "transform", lot="L2026A-01", quantity="1000",
                     inputs="L2026A:1000", location=w["plant"].pk)
    assert resp.status_code == 302
    post_step(user_unit_user, "install", lot="L2026A-01", quantity="820.5",
              location=w["station"].pk)
    post_step(user_unit_user, "recall", lot="L2026A-01", quantity="179.5",
              location=w["depot"].pk)
    post_step(user_unit_user, "destroy", lot="L2026A-01", quantity="179.5")
    cut, install, recall, destroy = Event.objects.order_by("id")
    assert (cut.type, cut.biz_step, cut.disposition) == (
        "transformation", BIZ + "creating_class_instance", DISP + "active")
    assert rows(cut) == ([("class_input", BATCH.format("L2026A"), 1000.0, "MTR"),
                          ("class_output", BATCH.format("L2026A-01"), 1000.0, "MTR")], [])
    assert (install.biz_step, install.disposition, install.biz_location) == (
        BIZ + "installing", "", w["station"].identifier)
    assert rows(install)[0] == [("class", BATCH.format("L2026A-01"), 820.5, "MTR")]
    assert (recall.action, recall.biz_step, recall.disposition) == (
        "OBSERVE", BIZ + "holding", DISP + "recalled")
    assert (destroy.action, destroy.biz_step, destroy.disposition, destroy.biz_location) == (
        "DELETE", BIZ + "destroying", DISP + "destroyed", "")


# --- problems on their fields --------------------------------------------------------------------

def test_bad_input_is_shown_on_its_field_and_nothing_is_stored(tworld, enterprise_user):
    w = tworld
    resp = post_step(enterprise_user, "produce", gtin="6901234000017", location=w["plant"].pk)
    assert resp.status_code == 200
    assert field_error(resp.content.decode(), "gtin") == (
        "The GTIN 6901234000017 has the check digit 7 but should end in 6. Check the number "
        "on the bar code.")
    resp = post_step(enterprise_user, "produce", gtin="6909876000012")
    assert field_error(resp.content.decode(), "gtin").startswith(
        "You record production only of your own products")
    resp = post_step(enterprise_user, "produce", lot="批次 1")
    assert field_error(resp.content.decode(), "lot").startswith(
        "The lot 批次 1 cannot be used: a lot has 1 to 20 characters")
    resp = post_step(enterprise_user, "ship", to_party="91610000XXXXXXXXXX")
    assert field_error(resp.content.decode(), "to_party")
    resp = post_step(enterprise_user, "ship", to_party="6901234000008")
    assert field_error(resp.content.decode(), "to_party") == (
        "The GLN 6901234000008 has the check digit 8 but should end in 9. Check the number.")
    resp = post_step(enterprise_user, "ship", to_party="某某公司")
    assert field_error(resp.content.decode(), "to_party").startswith(
        "某某公司 is no party the platform knows")
    resp = post_step(enterprise_user, "transform", lot="L2026A-01", quantity="1200",
                     inputs="L2026A:1000")
    assert field_error(resp.content.decode(), "quantity") == (
        "The outputs total 1200 MTR, more than the inputs (1000 MTR). Correct the "
        "quantities, or give the reason the output is larger.")
    resp = post_step(enterprise_user, "transform", lot="L2026A-01", inputs="L2026A")
    assert field_error(resp.content.decode(), "inputs").startswith("L2026A is not an input")
    resp = post_step(enterprise_user, "install", location=w["plant"].pk)
    assert field_error(resp.content.decode(), "location") == (
        "Select a valid choice. That choice is not one of the available choices.")
    assert stored_count() == (0, 0, 0)


def test_a_larger_output_with_a_reason_is_stored(tworld, enterprise_user):
    resp = post_step(enterprise_user, "transform", lot="L2026A-01", quantity="1200",
                     inputs="L2026A:1000", reason="加装护套后按米重新计量")
    assert resp.status_code == 302
    assert Event.objects.get().event["zhijian:quantityGainReason"] == "加装护套后按米重新计量"


def test_a_problem_the_store_finds_lands_on_the_field_it_points_to(tworld, enterprise_user):
    # A place in the directory whose GLN check digit is wrong (written straight into the
    # table: the place services refuse it) is refused by the EPCIS validator at bizLocation.
    bad = Place.objects.create(identifier="https://id.gs1.org/414/6901234000008",
                               kind="warehouse", name="旧仓库",
                               org=f"enterprise:{tworld['xian_entity'].pk}")
    resp = post_step(enterprise_user, "recall", location=bad.pk)
    assert resp.status_code == 200
    assert field_error(resp.content.decode(), "location") == (
        "bizLocation is https://id.gs1.org/414/6901234000008: the check digit of the GLN "
        "6901234000008 is 8 but should be 9. Check the number.").replace(
        "bizLocation", "id")
    assert stored_count() == (0, 0, 0)


def test_the_same_step_twice_is_refused_on_top_of_the_form(tworld, enterprise_user):
    post_step(enterprise_user, "produce", location=tworld["plant"].pk)
    resp = post_step(enterprise_user, "produce", location=tworld["plant"].pk)
    assert resp.status_code == 200
    assert "has the same content" in form_errors(resp.content.decode())
    assert Event.objects.count() == 1


def test_a_user_unit_cannot_produce(tworld, user_unit_user):
    assert post_step(user_unit_user, "produce").status_code == 404
    assert stored_count() == (0, 0, 0)


# --- lists and the success page -----------------------------------------------------------------

def test_the_events_list_shows_the_organisations_events_only(
        tworld, enterprise_user, user_unit_user, province_officer, django_assert_max_num_queries):
    for lot in ("A1", "A2", "A3"):
        post_step(enterprise_user, "produce", lot=lot, location=tworld["plant"].pk)
    post_step(user_unit_user, "receive", from_party=tworld["xian_entity"].uscc,
              location=tworld["depot"].pk)
    mine = set(Event.objects.filter(org__startswith="enterprise").values_list("pk", flat=True))
    client = en(enterprise_user)
    with django_assert_max_num_queries(9):
        page = client.get("/work/traceability/").content.decode()
    assert set(map(int, re.findall(r'id="event-(\d+)"', page))) == mine
    assert "雁塔生产基地" in page
    for lot in ("B1", "B2", "B3", "B4"):
        post_step(enterprise_user, "produce", lot=lot, location=tworld["plant"].pk)
    with django_assert_max_num_queries(9):
        client.get("/work/traceability/")
    every = set(Event.objects.values_list("pk", flat=True))
    page = en(province_officer).get("/work/traceability/").content.decode()
    assert set(map(int, re.findall(r'id="event-(\d+)"', page))) == every
    assert 'id="record-steps"' not in page


def test_another_organisations_capture_is_absent(tworld, enterprise_user, user_unit_user):
    post_step(enterprise_user, "produce", location=tworld["plant"].pk)
    capture = Capture.objects.get()
    assert en(user_unit_user).get(
        f"/work/traceability/captures/{capture.pk}/").status_code == 404
    assert en(enterprise_user).get(
        f"/work/traceability/captures/{capture.pk}/").status_code == 200
    assert services.events_verify().ok
