"""A reason sent with a change is stored in the audit log with it (docs/api.md,
"Writing"), on every register, not only on market entities."""

from __future__ import annotations

import pytest

from tests.api.conftest import fingerprint
from zhijian.core import audit


def last_entry(object_type: str, pk) -> dict:
    """The newest entry of a record, as `zhijian audit show` prints it."""
    return audit.history(object_type, pk)[-1]


# (persona, URL, body, record, audited action) for a PATCH of every register.
CHANGES = [
    ("xian", lambda g: f"/api/v1/labs/{g['lab'].pk}/", {"address": "西安市雁塔区检测路2号"},
     lambda g: g["lab"], "lab.updated"),
    ("lab", lambda g: f"/api/v1/labs/{g['lab'].pk}/", {"monthly_capacity": 650},
     lambda g: g["lab"], "lab.updated"),
    ("xian", lambda g: f"/api/v1/user-units/{g['user_unit'].pk}/", {"contact_phone": "029-1"},
     lambda g: g["user_unit"], "user_unit.updated"),
    ("xian", lambda g: f"/api/v1/products/{g['products']['xian'].pk}/", {"model": "YJV-3×120"},
     lambda g: g["products"]["xian"], "product.updated"),
    ("xian", lambda g: f"/api/v1/inspectors/{g['inspectors']['xian'].pk}/", {"active": False},
     lambda g: g["inspectors"]["xian"], "inspector.updated"),
    ("admin", lambda g: f"/api/v1/departments/{g['departments']['xian'].pk}/",
     {"phone": "029-12345678"}, lambda g: g["departments"]["xian"], "department.updated"),
    ("xian", lambda g: f"/api/v1/entities/{g['xian_entity'].pk}/", {"address": "新址"},
     lambda g: g["xian_entity"], "entity.updated"),
]


@pytest.mark.parametrize(("who", "url", "body", "record", "action"), CHANGES,
                         ids=[f"{c[4]}-{c[0]}" for c in CHANGES])
def test_a_patch_stores_its_reason_in_the_audit_log(who, url, body, record, action, grid,
                                                    persona, api):
    user = persona(who)
    api.force_authenticate(user)
    response = api.patch(url(grid), body | {"reason": "依据现场核查结果更正"}, format="json")
    assert response.status_code == 200, response.content
    assert "reason" not in response.json()
    obj = record(grid)
    entry = last_entry(obj._meta.label_lower, obj.pk)
    assert (entry["action"], entry["actor"], entry["reason"]) == (
        action, user.username, "依据现场核查结果更正")
    field = next(iter(body))
    assert entry["after"][field] == body[field]


def test_a_patch_without_reason_stores_an_empty_one(grid, persona, api):
    api.force_authenticate(persona("xian"))
    response = api.patch(f"/api/v1/labs/{grid['lab'].pk}/", {"address": "一号"}, format="json")
    assert response.status_code == 200
    assert last_entry("registry.lab", grid["lab"].pk)["reason"] == ""


def test_a_too_long_reason_is_refused_and_nothing_changes(grid, persona, api):
    api.force_authenticate(persona("xian"))
    before = fingerprint()
    response = api.patch(f"/api/v1/labs/{grid['lab'].pk}/",
                         {"address": "一号", "reason": "因" * 501}, format="json",
                         HTTP_ACCEPT_LANGUAGE="en")
    assert response.status_code == 400
    assert response.json()["errors"] == [{
        "code": "max_length", "attr": "reason",
        "detail": "Ensure this field has no more than 500 characters."}]
    assert fingerprint() == before


def test_a_duty_of_the_matrix_is_set_with_its_reason(grid, persona, api):
    api.force_authenticate(persona("admin"))
    response = api.post("/api/v1/responsibilities/", {
        "category": "building.steel", "level": "province", "kind": "housing", "role": "assist",
        "reason": "省政府职责分工调整"}, format="json")
    assert response.status_code == 201, response.content
    assert "reason" not in response.json()
    entry = last_entry("registry.responsibility", response.json()["id"])
    assert (entry["action"], entry["reason"]) == ("responsibility.set", "省政府职责分工调整")
