"""Inspector qualifications are a fixed set of keys (Qualification) with translated labels:
the keys product categories require (ProductCategory.qualification) and inspectors hold.
Anything else is refused on write, naming `qualifications`."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from django.core.exceptions import ValidationError
from django.utils import translation

import zhijian.demo
from tests import factories as f
from zhijian.core.models import AuditEntry
from zhijian.registry import services
from zhijian.registry.choices import Qualification
from zhijian.registry.models import Inspector, ProductCategory

pytestmark = pytest.mark.django_db

ALLOWED = "special_equipment (Special equipment inspection)"


def test_the_keys_are_those_the_catalogue_requires():
    """Every qualification the demo catalogue's categories require is a key with a label."""
    def walk(nodes):
        for node in nodes:
            if node.get("qualification"):
                yield node["qualification"]
            yield from walk(node.get("children", []))

    data = json.loads((Path(zhijian.demo.__file__).parent / "data" / "catalogue.json")
                      .read_text(encoding="utf-8"))
    assert set(walk(data["categories"])) == set(Qualification.values) == {"special_equipment"}
    with translation.override("en"):
        assert str(Qualification.SPECIAL_EQUIPMENT.label) == "Special equipment inspection"


def register(actor, department, qualifications):
    return services.inspector_register(actor=actor, data={
        "name": "赵检查", "badge_number": "61019999", "department": department,
        "qualifications": qualifications})


def test_a_known_key_is_stored_and_shown_by_its_label(world, xian_officer):
    inspector = register(xian_officer, world["departments"]["xian"], ["special_equipment"])
    assert inspector.qualifications == ["special_equipment"]
    with translation.override("en"):
        assert inspector.qualification_labels() == ["Special equipment inspection"]


@pytest.mark.parametrize(("value", "message"), [
    (["特种设备"], f"“特种设备” is not a qualification. Use one of: {ALLOWED}."),
    (["special_equipment", "food"], f"“food” is not a qualification. Use one of: {ALLOWED}."),
    (["special_equipment", "special_equipment"],
     f"Give the qualifications as a list of distinct keys, from: {ALLOWED}."),
    ("special_equipment", f"Give the qualifications as a list of distinct keys, from: {ALLOWED}."),
])
def test_anything_else_is_refused_naming_qualifications(value, message, world, xian_officer):
    before = AuditEntry.objects.count()
    with translation.override("en"), pytest.raises(ValidationError) as exc:
        register(xian_officer, world["departments"]["xian"], value)
    assert exc.value.message_dict == {"qualifications": [message]}
    assert not Inspector.objects.filter(badge_number="61019999").exists()
    assert AuditEntry.objects.count() == before


def test_a_change_is_checked_too(world, xian_officer):
    inspector = f.InspectorFactory(department=world["departments"]["xian"])
    with translation.override("en"), pytest.raises(ValidationError) as exc:
        services.inspector_update(actor=xian_officer, inspector_id=inspector.pk,
                                  data={"qualifications": ["特种设备"]}, reason="取得资格")
    assert list(exc.value.message_dict) == ["qualifications"]
    inspector.refresh_from_db()
    assert inspector.qualifications == []


def test_the_api_refuses_an_unknown_key_naming_qualifications(world, xian_officer, api):
    api.force_authenticate(xian_officer)
    before = AuditEntry.objects.count()
    response = api.post("/api/v1/inspectors/", {
        "name": "赵检查", "badge_number": "61019999",
        "department": world["departments"]["xian"].pk, "qualifications": ["特种设备"]},
        format="json", HTTP_ACCEPT_LANGUAGE="en")
    assert response.status_code == 400
    assert response.json()["errors"] == [{
        "code": "invalid", "attr": "qualifications",
        "detail": f"“特种设备” is not a qualification. Use one of: {ALLOWED}."}]
    assert AuditEntry.objects.count() == before


def test_a_category_requires_a_known_qualification(world, admin_user):
    category = ProductCategory(code="lifting", name="起重机械", name_en="Lifting machinery",
                               qualification="特种设备检验员")
    with translation.override("en"):
        with pytest.raises(ValidationError) as exc:
            services.reference_save(actor=admin_user, instance=category, reason="新增")
        assert exc.value.message_dict == {"qualification": [
            "Value '特种设备检验员' is not a valid choice."]}
    assert not ProductCategory.objects.filter(code="lifting").exists()
