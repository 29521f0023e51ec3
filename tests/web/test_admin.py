"""The Django admin: reference data, departments and the matrix are saved through the
services (audited); registers and the audit log are read-only."""

import re

import pytest

from zhijian.core.models import AuditEntry
from zhijian.registry.models import Department, ProductCategory, Responsibility, Standard

CHANGELISTS = [
    "core/auditentry", "core/auditcheckpoint", "core/publickey", "core/division",
    "core/outboxevent", "registry/productcategory", "registry/standard", "registry/department",
    "registry/responsibility", "registry/marketentity", "registry/product", "registry/lab",
    "registry/userunit", "registry/inspector", "registry/divisionstats", "accounts/user",
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


# --- the reason for a change reaches the audit log ------------------------------------------

def entries(object_type: str, pk) -> list[tuple[str, str]]:
    """(action, reason) of a record's audit entries, as `zhijian audit show` lists them."""
    from zhijian.core import audit

    return [(e["action"], e["reason"]) for e in audit.history(object_type, pk)]


def test_matrix_duty_set_and_changed_with_its_reason(as_user, world, admin_user):
    client = as_user(admin_user)
    cable = world["categories"]["cable"]
    response = client.post("/admin/registry/responsibility/add/", {
        "category": cable.pk, "level": "city", "kind": "market", "role": "lead",
        "legal_basis": "产品质量法", "reason": "按省政府职责分工"})
    assert response.status_code == 302
    duty = Responsibility.objects.get(category=cable, level="city", kind="market")
    response = client.post(f"/admin/registry/responsibility/{duty.pk}/change/", {
        "role": "assist", "legal_basis": "产品质量法", "reason": "改由住建部门牵头"})
    assert response.status_code == 302
    duty.refresh_from_db()
    assert duty.role == "assist"
    assert entries("registry.responsibility", duty.pk) == [
        ("responsibility.set", "按省政府职责分工"), ("responsibility.set", "改由住建部门牵头")]


def test_department_added_with_its_reason(as_user, world, admin_user):
    response = as_user(admin_user).post("/admin/registry/department/add/", {
        "code": "6103-transport", "name": "宝鸡市交通运输局", "name_en": "", "kind": "transport",
        "level": "city", "division": "610300", "all_sectors": "on", "phone": "",
        "reason": "机构改革新设"})
    assert response.status_code == 302
    dept = Department.objects.get(code="6103-transport")
    assert entries("registry.department", dept.pk) == [("department.registered", "机构改革新设")]


def test_user_account_changed_with_its_reason(as_user, world, admin_user, baoji_officer):
    response = as_user(admin_user).post(f"/admin/accounts/user/{baoji_officer.pk}/change/", {
        "username": "baoji", "first_name": "", "last_name": "", "email": "",
        "display_name": "宝鸡监管员", "role": "regulator",
        "department": world["departments"]["baoji"].pk, "is_active": "on",
        "last_login_0": "", "last_login_1": "", "date_joined_0": "2024-01-01",
        "date_joined_1": "08:00:00", "reason": "调入宝鸡市局"})
    assert response.status_code == 302
    assert entries("accounts.user", baoji_officer.pk) == [("user.updated", "调入宝鸡市局")]


# --- refusals land on the field they name ---------------------------------------------------

def form_errors(response) -> dict[str, list[str]]:
    assert response.status_code == 200
    return {k: list(v) for k, v in response.context["adminform"].form.errors.items()}


def test_department_refusals_name_level_and_sectors(as_user, world, admin_user):
    client = as_user(admin_user, "en")
    post = {"code": "6103-transport", "name": "宝鸡市交通运输局", "name_en": "",
            "kind": "transport", "level": "county", "division": "610300", "phone": "",
            "reason": ""}
    assert form_errors(client.post("/admin/registry/department/add/", post)) == {
        "level": ["The level must match the division: 610300 is at the level “City”."],
        "sectors": ["Choose the sectors (product categories) the department supervises, or "
                    "tick “supervises every sector”."],
    }
    assert not Department.objects.filter(code="6103-transport").exists()


@pytest.mark.parametrize(("role", "field", "message"), [
    ("regulator", "department", "A regulator acts for a department: choose the department."),
    ("enterprise", "entity",
     "An enterprise account acts for its market entity: choose the market entity."),
    ("lab", "lab", "A laboratory account acts for its laboratory: choose the laboratory."),
    ("user_unit", "user_unit",
     "A user unit account acts for its user unit: choose the user unit."),
])
def test_an_account_without_its_organisation_names_the_field_to_fill(
        role, field, message, as_user, world, admin_user):
    response = as_user(admin_user, "en").post("/admin/accounts/user/add/", {
        "username": "neworg", "password1": "a-long-password-2024",
        "password2": "a-long-password-2024", "usable_password": "true", "role": role,
        "display_name": "", "reason": ""})
    assert form_errors(response) == {field: [message]}
    assert "user_role_matches_organisation" not in response.content.decode()
    assert not AuditEntry.objects.filter(action="user.created").exists()


# --- column headings and names in the administrator's language -----------------------------

def headers(client, path) -> list[str]:
    from django.contrib.admin.templatetags.admin_list import result_headers

    response = client.get(path)
    assert response.status_code == 200
    # As the template shows them (capfirst).
    return [str(h["text"])[:1].upper() + str(h["text"])[1:]
            for h in result_headers(response.context["cl"])]


def test_kernel_tables_have_named_columns(as_user, admin_user):
    client = as_user(admin_user, "en")
    assert headers(client, "/admin/core/auditentry/") == [
        "Entry number", "Time", "Actor", "Action", "Record type", "Record id", "Division"]
    assert headers(client, "/admin/core/outboxevent/") == [
        "Event number", "Event", "Record type", "Record id", "Created at", "Processed at",
        "Attempts"]
    assert headers(client, "/admin/core/auditcheckpoint/") == [
        "Entry number", "Time", "Key id", "Hash"]
    assert headers(client, "/admin/core/division/") == [
        "Code", "Name", "English name", "Level", "Parent division", "Valid from (year)",
        "Valid to (year)", "Successor"]


def test_registry_admin_labels(as_user, world, admin_user):
    client = as_user(admin_user, "en")
    assert headers(client, "/admin/registry/productcategory/") == [
        "Code", "Name", "English name", "Parent category", "Compulsory certification (CCC)",
        "Key material (witness inspection on acceptance)", "Production licence required"]
    assert headers(client, "/admin/registry/divisionstats/") == ["Division", "Market entities"]
    index = client.get("/admin/").content.decode()
    assert "Division statistics" in index and "Division statss" not in index
    zh = as_user(admin_user, "zh-hans").get("/admin/registry/standard/add/").content.decode()
    assert '<label for="id_categories">产品类别:</label>' in zh


def test_inspector_qualifications_read_by_their_label(as_user, world, admin_user):
    from tests import factories as f

    inspector = f.InspectorFactory(department=world["departments"]["xian"],
                                   qualifications=["special_equipment"])
    client = as_user(admin_user, "en")
    listing = client.get("/admin/registry/inspector/").content.decode()
    assert '<td class="field-qualification_list">Special equipment inspection</td>' in listing
    detail = client.get(f"/admin/registry/inspector/{inspector.pk}/change/")
    assert detail.status_code == 200
    assert "Special equipment inspection" in detail.content.decode()
    assert "special_equipment" not in detail.content.decode()


def test_kernel_records_open_with_named_fields(as_user, world, admin_user, xian_officer):
    from zhijian.core.models import OutboxEvent
    from zhijian.registry import services

    services.entity_update(actor=xian_officer, entity_id=world["xian_entity"].pk,
                           data={"contact_phone": "029-1"}, reason="x")
    client = as_user(admin_user, "en")
    event = OutboxEvent.objects.get(name="entity.updated")
    html = client.get(f"/admin/core/outboxevent/{event.pk}/change/").content.decode()
    labels = re.findall(r"<label>(.*?):</label>", html)
    assert labels == ["Event number", "Event", "Record type", "Record id", "Payload",
                      "Created at", "Processed at", "Attempts", "Last error"]
    entry = AuditEntry.objects.get(action="entity.updated")
    html = client.get(f"/admin/core/auditentry/{entry.seq}/change/").content.decode()
    assert re.findall(r"<label>(.*?):</label>", html) == [
        "Entry number", "Time", "Actor", "User id of the actor", "Action", "Record type",
        "Record id", "Division", "Hash of the previous entry", "Hash", "Entry (canonical JSON)"]
