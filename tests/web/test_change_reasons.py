"""Every change form of the workbench and the organisation workspace passes its reason
(变更原因) to the service, which stores it in the audit entry of the change."""

import pytest

from tests import factories as f
from zhijian.core import audit

pytestmark = pytest.mark.django_db


def last(obj) -> tuple[str, str, str]:
    """(action, actor, reason) of the record's newest audit entry (`zhijian audit show`)."""
    entry = audit.history(obj._meta.label_lower, obj.pk)[-1]
    return entry["action"], entry["actor"], entry["reason"]


def lab_post(lab, **changes):
    data = {"name": lab.name, "division": lab.division_id, "address": lab.address,
            "cma_number": lab.cma_number, "cnas_number": lab.cnas_number,
            "status": lab.status, "monthly_capacity": lab.monthly_capacity}
    return data | changes


def unit_post(unit, **changes):
    data = {"name": unit.name, "division": unit.division_id, "sector": unit.sector,
            "contact_phone": unit.contact_phone, "categories": []}
    return data | changes


def test_regulator_changes_a_lab_with_its_reason(as_user, world, xian_officer):
    lab = world["lab"]
    response = as_user(xian_officer).post(f"/work/labs/{lab.pk}/edit/",
                                          lab_post(lab, address="科技路9号", reason="机构搬迁"))
    assert response.status_code == 302
    assert last(lab) == ("lab.updated", "xian", "机构搬迁")


def test_regulator_changes_a_user_unit_with_its_reason(as_user, world, xian_officer):
    unit = world["user_unit"]
    response = as_user(xian_officer).post(
        f"/work/user-units/{unit.pk}/edit/",
        unit_post(unit, contact_phone="029-6", reason="更换联系电话"))
    assert response.status_code == 302
    assert last(unit) == ("user_unit.updated", "xian", "更换联系电话")


def test_regulator_changes_a_product_with_its_reason(as_user, world, xian_officer):
    product = f.ProductFactory(entity=world["xian_entity"], name="电力电缆",
                               category=world["categories"]["cable"])
    response = as_user(xian_officer).post(
        f"/work/entities/{world['xian_entity'].pk}/products/{product.pk}/edit/",
        {"name": "电力电缆", "model": "YJV-3×95", "category": product.category_id,
         "standards": "", "gtin": "", "reason": "补充型号"})
    assert response.status_code == 302
    assert last(product) == ("product.updated", "xian", "补充型号")


@pytest.mark.parametrize(("persona", "record", "data", "action"), [
    ("lab_user", "lab", {"address": "新址1号", "monthly_capacity": 700}, "lab.updated"),
    ("user_unit_user", "user_unit", {"contact_phone": "029-7", "categories": []},
     "user_unit.updated"),
    ("enterprise_user", "xian_entity", {"address": "新址2号", "chief_quality_officer": "",
                                        "contact_phone": "", "categories": []},
     "entity.updated"),
])
def test_an_organisation_changes_its_record_with_its_reason(request, as_user, world, persona,
                                                            record, data, action):
    user = request.getfixturevalue(persona)
    response = as_user(user).post("/work/org/edit/", data | {"reason": "本单位信息更新"})
    assert response.status_code == 302
    obj = world[record]
    assert last(obj) == (action, user.username, "本单位信息更新")
