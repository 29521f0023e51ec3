"""The Django admin: reference data, departments and the matrix are saved through the
services (audited); registers and the audit log are read-only."""

import pytest

from zhijian.core.models import AuditEntry
from zhijian.registry.models import Department, ProductCategory, Responsibility, Standard

CHANGELISTS = [
    "core/auditentry", "core/auditcheckpoint", "core/publickey", "core/division",
    "core/outboxevent", "registry/productcategory", "registry/standard", "registry/department",
    "registry/responsibility", "registry/marketentity", "registry/product", "registry/lab",
    "registry/userunit", "registry/inspector", "accounts/user",
]


@pytest.mark.parametrize("lang", ["zh-hans", "en"])
def test_every_changelist_renders(as_user, admin_user, lang):
    client = as_user(admin_user, lang)
    assert client.get("/admin/").status_code == 200
    for path in CHANGELISTS:
        assert client.get(f"/admin/{path}/").status_code == 200, path


def test_regulated_registers_are_read_only(as_user, world, admin_user):
    client = as_user(admin_user)
    entity = world["xian_entity"]
    assert client.get("/admin/registry/marketentity/add/").status_code == 403
    view = client.get(f"/admin/registry/marketentity/{entity.pk}/change/")
    assert view.status_code == 200 and 'name="_save"' not in view.content.decode()
    assert client.post(f"/admin/registry/marketentity/{entity.pk}/change/",
                       {"name": "改名"}).status_code == 403
    assert client.get(f"/admin/registry/marketentity/{entity.pk}/delete/").status_code == 403


def test_audit_log_cannot_be_changed_in_the_admin(as_user, world, admin_user, xian_officer):
    from zhijian.registry import services

    services.entity_update(actor=xian_officer, entity_id=world["xian_entity"].pk,
                           data={"contact_phone": "029-1"}, reason="x")
    entry = AuditEntry.objects.get(action="entity.updated")
    client = as_user(admin_user)
    assert client.get("/admin/core/auditentry/add/").status_code == 403
    assert client.get(f"/admin/core/auditentry/{entry.seq}/delete/").status_code == 403
    view = client.get(f"/admin/core/auditentry/{entry.seq}/change/").content.decode()
    assert entry.hash in view and 'name="_save"' not in view
    before = entry.body
    client.post(f"/admin/core/auditentry/{entry.seq}/change/", {"actor": "someone"})
    entry.refresh_from_db()
    assert entry.body == before


def test_category_saved_in_the_admin_is_audited(as_user, world, admin_user):
    response = as_user(admin_user).post("/admin/registry/productcategory/add/", {
        "code": "children", "name": "儿童用品", "name_en": "Children's products",
        "qualification": "", "reason": "新增产品目录"})
    assert response.status_code == 302
    category = ProductCategory.objects.get(code="children")
    entry = AuditEntry.objects.get(object_type="registry.productcategory",
                                   object_id=str(category.pk))
    assert (entry.action, entry.actor) == ("productcategory.saved", "admin")
    assert '"reason":"新增产品目录"' in entry.body


def test_standard_categories_are_in_its_audit_entry(as_user, world, admin_user):
    cable = world["categories"]["cable"]
    response = as_user(admin_user).post("/admin/registry/standard/add/", {
        "code": "GB/T 3956-2008", "title": "电缆的导体", "title_en": "Conductors of cables",
        "categories": [cable.pk], "reason": ""})
    assert response.status_code == 302
    standard = Standard.objects.get(code="GB/T 3956-2008")
    assert list(standard.categories.all()) == [cable]
    entry = AuditEntry.objects.get(object_type="registry.standard", object_id=str(standard.pk))
    assert f'"categories":["{cable.pk}"]' in entry.body


def test_department_registered_and_changed_through_services(as_user, world, admin_user):
    client = as_user(admin_user)
    response = client.post("/admin/registry/department/add/", {
        "code": "6103-housing", "name": "宝鸡市住房和城乡建设局", "name_en": "", "kind": "housing",
        "level": "city", "division": "610300", "sectors": [world["categories"]["building"].pk],
        "phone": "", "reason": ""})
    assert response.status_code == 302
    dept = Department.objects.get(code="6103-housing")
    response = client.post(f"/admin/registry/department/{dept.pk}/change/", {
        "name": "宝鸡市住房和城乡建设局", "name_en": "Baoji Housing Bureau", "kind": "housing",
        "level": "city", "division": "610300", "sectors": [world["categories"]["building"].pk],
        "phone": "0917-1", "reason": "补充英文名称"})
    assert response.status_code == 302
    dept.refresh_from_db()
    assert (dept.name_en, dept.phone) == ("Baoji Housing Bureau", "0917-1")
    actions = list(AuditEntry.objects.filter(object_type="registry.department",
                                             object_id=str(dept.pk))
                   .values_list("action", flat=True))
    assert actions == ["department.registered", "department.updated"]


def test_matrix_duty_set_and_removed_through_services(as_user, world, admin_user):
    client = as_user(admin_user)
    cable = world["categories"]["cable"]
    response = client.post("/admin/registry/responsibility/add/", {
        "category": cable.pk, "level": "city", "kind": "market", "role": "lead",
        "legal_basis": "产品质量法", "reason": ""})
    assert response.status_code == 302
    duty = Responsibility.objects.get(category=cable, level="city", kind="market")
    response = client.post(f"/admin/registry/responsibility/{duty.pk}/delete/", {"post": "yes"})
    assert response.status_code == 302
    assert not Responsibility.objects.filter(pk=duty.pk).exists()
    actions = list(AuditEntry.objects.filter(object_type="registry.responsibility")
                   .values_list("action", flat=True))
    assert actions == ["responsibility.set", "responsibility.deleted"]


def test_user_account_changes_are_audited_without_the_password(as_user, world, admin_user):
    response = as_user(admin_user).post("/admin/accounts/user/add/", {
        "username": "newofficer", "password1": "a-long-password-2024", "password2":
        "a-long-password-2024", "usable_password": "true", "display_name": "新监管员",
        "role": "regulator", "department": world["departments"]["baoji"].pk})
    assert response.status_code == 302, response.content.decode()[:2000]
    entry = AuditEntry.objects.get(action="user.created")
    assert '"username":"newofficer"' in entry.body
    assert "password" not in entry.body


def test_non_staff_users_cannot_open_the_admin(as_user, xian_officer):
    response = as_user(xian_officer).get("/admin/")
    assert response.status_code == 302 and "/admin/login/" in response["Location"]
