"""The organisation workspace: each account sees and edits its own record only, within
the fields access.py leaves to it, and cannot reach the regulator workbench."""

import pytest

from tests import factories as f
from zhijian.core.models import AuditEntry
from zhijian.registry.models import Product

# Personas are requested by name (getfixturevalue), so the database need is declared here.
pytestmark = pytest.mark.django_db

REGULATOR_PAGES = ["/work/entities/", "/work/entities/new/", "/work/entities/import/",
                   "/work/labs/", "/work/labs/new/", "/work/user-units/", "/work/inspectors/",
                   "/work/inspectors/new/", "/work/departments/", "/work/matrix/"]


@pytest.mark.parametrize("persona", ["enterprise_user", "lab_user", "user_unit_user"])
def test_organisations_cannot_open_regulator_pages(request, as_user, world, persona):
    client = as_user(request.getfixturevalue(persona), "zh-hans")
    for url in [*REGULATOR_PAGES, f"/work/entities/{world['xian_entity'].pk}/",
                f"/work/labs/{world['lab'].pk}/"]:
        response = client.get(url)
        assert response.status_code == 403, url
        assert "无权访问" in response.content.decode()
    landing = client.get("/work/")
    assert landing.status_code == 302 and landing["Location"] == "/work/org/"


def test_regulators_are_sent_from_the_org_workspace_to_the_workbench(as_user, world,
                                                                     xian_officer):
    response = as_user(xian_officer).get("/work/org/")
    assert response.status_code == 302 and response["Location"] == "/work/"


def test_enterprise_sees_its_own_record_and_products(as_user, world, enterprise_user):
    f.ProductFactory(entity=world["xian_entity"], name="西安电缆产品",
                     category=world["categories"]["cable"])
    f.ProductFactory(entity=world["baoji_entity"], name="宝鸡钢筋产品",
                     category=world["categories"]["steel"])
    html = as_user(enterprise_user).get("/work/org/").content.decode()
    assert "西安测试电缆有限公司" in html and "西安电缆产品" in html
    assert "宝鸡" not in html


def test_enterprise_changes_only_its_own_fields(as_user, world, enterprise_user):
    entity = world["xian_entity"]
    client = as_user(enterprise_user)
    data = {"address": "西安市雁塔区新地址8号", "chief_quality_officer": "孙质量",
            "contact_phone": "029-55554444", "categories": [world["categories"]["cable"].pk],
            "name": "改名企图有限公司", "status": "revoked", "risk_class": "A"}
    response = client.post("/work/org/edit/", data)
    assert response.status_code == 302 and response["Location"] == "/work/org/"
    entity.refresh_from_db()
    assert (entity.address, entity.chief_quality_officer, entity.contact_phone) == (
        "西安市雁塔区新地址8号", "孙质量", "029-55554444")
    assert (entity.name, entity.status, entity.risk_class) == ("西安测试电缆有限公司", "active", "B")
    entry = AuditEntry.objects.get(action="entity.updated", object_id=str(entity.pk))
    assert entry.actor == "enterprise"
    form = client.get("/work/org/edit/").content.decode()
    assert 'name="address"' in form and 'name="name"' not in form and 'name="status"' not in form


def test_enterprise_adds_and_changes_a_product(as_user, world, enterprise_user):
    f.StandardFactory(code="GB/T 12706.1-2020")
    f.StandardFactory(code="GB/T 3956-2008")
    client = as_user(enterprise_user)
    data = {"name": "电力电缆", "model": "YJV", "category": world["categories"]["cable"].pk,
            "standards": "GB/T 12706.1-2020", "gtin": ""}
    assert client.post("/work/org/products/new/", data).status_code == 302
    product = Product.objects.get(entity=world["xian_entity"])
    response = client.post(f"/work/org/products/{product.pk}/edit/",
                           dict(data, standards="GB/T 12706.1-2020; GB/T 3956-2008",
                                reason="增加导体标准"))
    assert response.status_code == 302
    assert sorted(product.standards.values_list("code", flat=True)) == [
        "GB/T 12706.1-2020", "GB/T 3956-2008"]
    actions = list(AuditEntry.objects.filter(object_type="registry.product",
                                             object_id=str(product.pk))
                   .values_list("action", flat=True))
    assert actions == ["product.registered", "product.updated"]


def test_enterprise_cannot_open_another_entitys_product(as_user, world, enterprise_user):
    other = f.ProductFactory(entity=world["baoji_entity"], category=world["categories"]["steel"])
    response = as_user(enterprise_user).get(f"/work/org/products/{other.pk}/edit/")
    assert response.status_code == 404


def test_lab_changes_its_capacity_but_not_its_scope(as_user, world, lab_user):
    lab = world["lab"]
    client = as_user(lab_user)
    html = client.get("/work/org/").content.decode()
    assert 'id="scope-table"' in html and 'id="scope-form"' not in html
    response = client.post("/work/org/edit/", {"address": "西安市高新区", "monthly_capacity": "800",
                                               "cma_number": "999"})
    assert response.status_code == 302
    lab.refresh_from_db()
    assert (lab.address, lab.monthly_capacity) == ("西安市高新区", 800)
    assert lab.cma_number != "999"
    assert AuditEntry.objects.filter(action="lab.updated", object_id=str(lab.pk)).count() == 1


def test_user_unit_changes_its_phone_and_categories(as_user, world, user_unit_user):
    unit = world["user_unit"]
    response = as_user(user_unit_user).post("/work/org/edit/", {
        "contact_phone": "029-87654321", "categories": [world["categories"]["cable"].pk],
        "name": "改名企图"})
    assert response.status_code == 302
    unit.refresh_from_db()
    assert unit.contact_phone == "029-87654321" and unit.name == "西安测试地铁有限公司"
    assert list(unit.categories.values_list("code", flat=True)) == ["electrical.cable"]
    assert AuditEntry.objects.filter(action="user_unit.updated",
                                     object_id=str(unit.pk)).count() == 1


def test_unchanged_form_writes_nothing(as_user, world, lab_user):
    lab = world["lab"]
    response = as_user(lab_user).post("/work/org/edit/", {
        "address": lab.address, "monthly_capacity": str(lab.monthly_capacity)})
    assert response.status_code == 302
    assert not AuditEntry.objects.filter(object_id=str(lab.pk), action="lab.updated").exists()
