"""The party and location directory (place_services.py, docs/capture-without-gs1.md §5):
identifiers with and without a GLN, refusals at their field with nothing written, audit and
domain events, who sees and changes which place, the list's query count."""

from __future__ import annotations

import json
import re

import pytest
from django.core.exceptions import ValidationError

from tests.traceability import test_capture_ui
from tests.traceability.test_capture_ui import en, field_error
from tests.web.conftest import _audit_key, compiled_messages  # noqa: F401
from zhijian.core.access import Denied
from zhijian.core.models import AuditEntry, OutboxEvent
from zhijian.traceability import place_services
from zhijian.traceability.models import Place

pytestmark = pytest.mark.django_db
tworld = test_capture_ui.tworld  # the shared fixture


def test_places_without_a_gln_get_platform_identifiers(tworld, enterprise_user, user_unit_user):
    w = tworld
    uscc, unit_uscc = w["xian_entity"].uscc, w["user_unit"].uscc
    assert w["plant"].identifier == f"urn:zhijian:place:{uscc}:1"
    assert (w["station"].identifier, w["depot"].identifier) == (
        f"urn:zhijian:place:{unit_uscc}:1", f"urn:zhijian:place:{unit_uscc}:2")
    second = place_services.place_create(actor=enterprise_user, data={
        "kind": "warehouse", "name": "成品库"})
    assert second.identifier == f"urn:zhijian:place:{uscc}:2"
    assert (second.entity_id, second.org, second.public) == (
        w["xian_entity"].pk, f"enterprise:{w['xian_entity'].pk}", False)
    party = place_services.place_create(actor=enterprise_user, data={
        "kind": "party", "name": "测试地铁", "uscc": unit_uscc.lower()})
    assert (party.identifier, party.user_unit_id, party.entity_id) == (
        f"urn:zhijian:party:{unit_uscc}", w["user_unit"].pk, None)
    shop = place_services.place_create(actor=enterprise_user, data={
        "kind": "party", "name": "个体经销商"})
    assert shop.identifier == f"urn:zhijian:place:{uscc}:3"


def test_places_with_a_gln(tworld, enterprise_user, admin_user):
    dock = place_services.place_create(actor=enterprise_user, data={
        "kind": "warehouse", "name": "发货站台", "gln": "6901234000009", "extension": "D1"})
    assert dock.identifier == "https://id.gs1.org/414/6901234000009/254/D1"
    maker = place_services.place_create(actor=enterprise_user, data={
        "kind": "party", "name": "西安测试电缆", "gln": "6901234000009",
        "uscc": tworld["xian_entity"].uscc})
    assert (maker.identifier, maker.entity_id) == (
        "https://id.gs1.org/417/6901234000009", tworld["xian_entity"].pk)
    # A registered PGLN becomes the organisation's party in events.
    assert place_services.own_party(enterprise_user) == maker.identifier
    site = place_services.place_create(actor=admin_user, data={
        "kind": "building", "name": "测试大厦工地", "division": "610113", "public": True})
    assert (site.identifier, site.org, site.division_id) == (
        "urn:zhijian:place:platform:1", "", "610113")


@pytest.mark.parametrize(("data", "field", "message"), [
    ({"kind": "plant", "name": "", }, "name", "This field is required."),
    ({"kind": "mine", "name": "X"}, "kind", "Choose what the place is."),
    ({"kind": "plant", "name": "X", "gln": "6901234000008"}, "gln",
     "The GLN 6901234000008 has the check digit 8 but should end in 9. Check the number."),
    ({"kind": "plant", "name": "X", "gln": "69012340"}, "gln",
     "69012340 is not a GLN: a GLN has 13 digits."),
    ({"kind": "plant", "name": "X", "extension": "D1"}, "extension",
     "A GLN extension needs the GLN; fill in the GLN or leave the extension empty."),
    ({"kind": "party", "name": "X", "gln": "6901234000009", "extension": "D1"}, "extension",
     "A party has no GLN extension; leave it empty."),
    ({"kind": "plant", "name": "X", "uscc": "91610113MA6TEST01X"}, "uscc",
     "Only a party (a company or organisation) is given by its unified social credit code; "
     "leave it empty for a location."),
    ({"kind": "plant", "name": "X", "division": "619999"}, "division",
     "619999 is not a current division code (GB/T 2260, six digits such as 610113)."),
])
def test_bad_input_is_refused_at_its_field(tworld, enterprise_user, data, field, message):
    from django.utils import translation

    before = (Place.objects.count(), AuditEntry.objects.count())
    with translation.override("en"), pytest.raises(ValidationError) as exc:
        place_services.place_create(actor=enterprise_user, data=data)
    assert exc.value.message_dict == {field: [message]}
    assert (Place.objects.count(), AuditEntry.objects.count()) == before


def test_an_identifier_already_in_the_directory_is_refused(tworld, enterprise_user,
                                                           user_unit_user):
    place_services.place_create(actor=user_unit_user, data={
        "kind": "station", "name": "测试二站", "gln": "6901234000009"})
    with pytest.raises(ValidationError) as exc:
        place_services.place_create(actor=enterprise_user, data={
            "kind": "warehouse", "name": "别名", "gln": "6901234000009"})
    assert list(exc.value.message_dict) == ["gln"]
    assert Place.objects.filter(identifier__contains="6901234000009").count() == 1


def test_create_and_update_are_audited_and_announced(tworld, enterprise_user):
    before = AuditEntry.objects.count()
    place = place_services.place_create(actor=enterprise_user, data={
        "kind": "warehouse", "name": "成品库", "division": "610113"})
    updated = place_services.place_update(actor=enterprise_user, place_id=place.pk, data={
        "kind": "plant", "name": "成品库（改）", "division": "610113", "address": "新址",
        "public": False})
    assert (updated.kind, updated.name, updated.address, updated.identifier) == (
        "plant", "成品库（改）", "新址", place.identifier)
    entries = list(AuditEntry.objects.order_by("seq")[before:])
    assert [(e.action, e.object_id, e.division) for e in entries] == [
        ("place.registered", str(place.pk), "610113"),
        ("place.updated", str(place.pk), "610113")]
    body = json.loads(entries[1].body)["state"]
    assert body["before"]["kind"] == "warehouse" and body["after"]["kind"] == "plant"
    assert list(OutboxEvent.objects.filter(aggregate_id=str(place.pk),
                                           aggregate_type="traceability.place")
                .order_by("id").values_list("name", "payload")) == [
        ("place.registered", {"place": place.pk, "identifier": place.identifier,
                              "kind": "warehouse", "org": place.org}),
        ("place.updated", {"place": place.pk, "identifier": place.identifier,
                           "kind": "plant", "org": place.org})]


def test_a_party_stays_a_party(tworld, enterprise_user):
    party = place_services.place_create(actor=enterprise_user, data={
        "kind": "party", "name": "经销商"})
    with pytest.raises(ValidationError) as exc:
        place_services.place_update(actor=enterprise_user, place_id=party.pk, data={
            "kind": "warehouse", "name": "经销商"})
    assert list(exc.value.message_dict) == ["kind"]
    assert Place.objects.get(pk=party.pk).kind == "party"


def test_who_changes_which_place(tworld, enterprise_user, user_unit_user, xian_officer,
                                 admin_user, lab_user):
    plant = tworld["plant"]
    for user in (user_unit_user, lab_user):
        with pytest.raises(Exception) as exc:
            place_services.place_update(actor=user, place_id=plant.pk, data={
                "kind": "plant", "name": "改名"})
        assert exc.value.__class__.__name__ == "Http404"
    with pytest.raises(Denied):
        place_services.place_update(actor=xian_officer, place_id=plant.pk, data={
            "kind": "plant", "name": "改名"})
    with pytest.raises(Denied):
        place_services.place_create(actor=xian_officer, data={"kind": "plant", "name": "X"})
    assert Place.objects.get(pk=plant.pk).name == "雁塔生产基地"
    place_services.place_update(actor=admin_user, place_id=plant.pk, data={
        "kind": "plant", "name": "雁塔基地"})
    assert Place.objects.get(pk=plant.pk).name == "雁塔基地"


# --- pages -----------------------------------------------------------------------------------

def listed(page: str) -> set[int]:
    return set(map(int, re.findall(r'id="place-(\d+)"', page)))


def test_who_sees_which_places(tworld, enterprise_user, user_unit_user, province_officer,
                               admin_user, django_assert_max_num_queries):
    w = tworld
    client = en(enterprise_user)
    with django_assert_max_num_queries(8):
        page = client.get("/work/traceability/places/").content.decode()
    assert listed(page) == {w["plant"].pk}
    assert f"urn:zhijian:party:{w['xian_entity'].uscc}" in page  # its own party identifier
    page = en(user_unit_user).get("/work/traceability/places/").content.decode()
    assert listed(page) == {w["station"].pk, w["depot"].pk}
    every = {w["plant"].pk, w["station"].pk, w["depot"].pk}
    page = en(province_officer).get("/work/traceability/places/").content.decode()
    assert listed(page) == every
    assert 'id="place-new"' not in page and "/edit/" not in page
    for n in range(5):
        place_services.place_create(actor=enterprise_user, data={
            "kind": "warehouse", "name": f"仓库{n}", "division": "610113"})
    client = en(admin_user)
    with django_assert_max_num_queries(8):
        page = client.get("/work/traceability/places/").content.decode()
    assert len(listed(page)) == 8


def test_register_and_change_through_the_pages(tworld, enterprise_user, user_unit_user,
                                              province_officer):
    client = en(enterprise_user)
    resp = client.post("/work/traceability/places/new/", {
        "kind": "warehouse", "name": "成品库", "gln": "6901234000008"})
    assert resp.status_code == 200
    assert field_error(resp.content.decode(), "gln") == (
        "The GLN 6901234000008 has the check digit 8 but should end in 9. Check the number.")
    resp = client.post("/work/traceability/places/new/", {
        "kind": "warehouse", "name": "成品库", "division": "610113", "public": "on"})
    assert resp.status_code == 302
    place = Place.objects.get(name="成品库")
    assert (place.public, place.division_id) == (True, "610113")
    url = f"/work/traceability/places/{place.pk}/edit/"
    resp = client.post(url, {"kind": "plant", "name": "成品库二", "division": "610113"})
    assert resp.status_code == 302
    place.refresh_from_db()
    assert (place.kind, place.name, place.public) == ("plant", "成品库二", False)
    # Not yours: 404, and a regulator 403; nothing changes.
    audit = AuditEntry.objects.count()
    assert en(user_unit_user).post(url, {"kind": "plant", "name": "X"}).status_code == 404
    assert en(user_unit_user).get(url).status_code == 404
    assert en(province_officer).post(url, {"kind": "plant", "name": "X"}).status_code == 403
    place.refresh_from_db()
    assert place.name == "成品库二" and AuditEntry.objects.count() == audit
