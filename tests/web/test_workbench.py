"""Regulators register, change and import through the forms; every write goes through
a service and leaves an audit entry; refusals appear next to the field, in Chinese."""

import io
import re

import pytest

from tests import factories as f
from zhijian.core.models import AuditEntry
from zhijian.registry.models import (
    AccreditationScope,
    Inspector,
    Lab,
    MarketEntity,
    Product,
    UserUnit,
)


def field_error(html: str, name: str) -> str:
    match = re.search(rf'id="id_{name}_error">(.*?)</div>\s*</div>', html, re.S)
    assert match, f"no error shown next to {name}"
    return re.sub(r"<[^>]+>", "", match.group(1)).strip()


def entity_post(**overrides):
    data = {
        "uscc": f.uscc_for("610113"), "name": "西安新登记电缆有限公司", "entity_type": "enterprise",
        "division": "610113", "address": "西安市雁塔区科技路1号", "legal_representative": "李四",
        "chief_quality_officer": "王五", "contact_phone": "029-88886666",
        "registered_on": "2019-05-06", "status": "active", "risk_class": "B",
    }
    data.update(overrides)
    return data


def test_regulator_registers_an_entity_through_the_form(as_user, world, xian_officer):
    data = entity_post(categories=[world["categories"]["cable"].pk])
    response = as_user(xian_officer).post("/work/entities/new/", data)
    entity = MarketEntity.objects.get(uscc=data["uscc"])
    assert response.status_code == 302
    assert response["Location"] == f"/work/entities/{entity.pk}/"
    assert entity.name == "西安新登记电缆有限公司"
    assert list(entity.categories.values_list("code", flat=True)) == ["electrical.cable"]
    entry = AuditEntry.objects.get(object_type="registry.marketentity", object_id=str(entity.pk))
    assert (entry.action, entry.actor) == ("entity.registered", "xian")


def test_wrong_code_is_shown_next_to_its_field_in_chinese(as_user, world, xian_officer):
    before = AuditEntry.objects.count()
    response = as_user(xian_officer, "zh-hans").post(
        "/work/entities/new/", entity_post(uscc="91610113ABC"))
    assert response.status_code == 200
    html = response.content.decode()
    assert field_error(html, "uscc") == "统一社会信用代码应为18位，此代码为11位。"
    assert 'id="form-errors"' in html and "请更正下列错误。" in html
    assert AuditEntry.objects.count() == before
    assert not MarketEntity.objects.filter(name="西安新登记电缆有限公司").exists()


def test_wrong_check_character_names_the_expected_one_in_english(as_user, world, xian_officer):
    good = f.uscc_for("610113")
    bad = good[:17] + ("0" if good[17] != "0" else "1")
    response = as_user(xian_officer, "en").post("/work/entities/new/", entity_post(uscc=bad))
    message = field_error(response.content.decode(), "uscc")
    assert message.startswith("The check character (character 18) is wrong: expected “")
    assert f"found “{bad[17]}”" in message


def test_division_outside_jurisdiction_cannot_be_chosen(as_user, world, xian_officer):
    response = as_user(xian_officer, "zh-hans").post(
        "/work/entities/new/", entity_post(division="610302"))
    assert response.status_code == 200
    assert field_error(response.content.decode(), "division") == (
        "610302 不是您管辖范围内的现行行政区划代码。")
    assert not MarketEntity.objects.filter(name="西安新登记电缆有限公司").exists()


def test_service_refusal_lands_on_the_field_it_names(rf, world, xian_officer):
    """Denied(field=...) and ValidationError dicts from services go next to their field."""
    from django.core.exceptions import ValidationError

    from zhijian.core.access import Denied, scope_of
    from zhijian.web.common import call_service
    from zhijian.web.forms import EntityForm

    form = EntityForm(entity_post(), scope=scope_of(xian_officer))
    assert form.is_valid()

    def deny(**kw):
        raise Denied("行政区划 610302 不在您的管辖范围内。", field="division")

    def invalid(**kw):
        raise ValidationError({"contact_phone": ["bad phone"], "__all__": ["whole form"]})

    assert call_service(form, deny) is None
    assert form.errors["division"] == ["行政区划 610302 不在您的管辖范围内。"]
    assert call_service(form, invalid) is None
    assert form.errors["contact_phone"] == ["bad phone"]
    assert form.non_field_errors() == ["whole form"]
    assert "is-invalid" in form.fields["division"].widget.attrs["class"]


def test_edit_requires_a_reason_and_records_before_and_after(as_user, world, xian_officer):
    entity = world["xian_entity"]
    client = as_user(xian_officer, "zh-hans")
    form = client.get(f"/work/entities/{entity.pk}/edit/")
    assert form.status_code == 200
    data = entity_post(name=entity.name, division=entity.division_id, contact_phone="029-12345678",
                       legal_representative=entity.legal_representative, registered_on="",
                       address="", chief_quality_officer="",
                       categories=[world["categories"]["cable"].pk])
    del data["uscc"]
    refused = client.post(f"/work/entities/{entity.pk}/edit/", data)
    assert field_error(refused.content.decode(), "reason") == "这个字段是必填项。"
    assert not AuditEntry.objects.filter(action="entity.updated").exists()

    saved = client.post(f"/work/entities/{entity.pk}/edit/", dict(data, reason="企业申请变更联系电话"))
    assert saved.status_code == 302
    entity.refresh_from_db()
    assert entity.contact_phone == "029-12345678"
    entry = AuditEntry.objects.get(action="entity.updated", object_id=str(entity.pk))
    assert entry.actor == "xian"
    assert '"reason":"企业申请变更联系电话"' in entry.body

    detail = client.get(f"/work/entities/{entity.pk}/").content.decode()
    history = detail[detail.index('id="history"'):]
    assert "企业申请变更联系电话" in history
    assert '<td class="zj-after">029-12345678</td>' in history
    assert "变更" in history and "xian" in history


def test_xian_officer_gets_404_for_a_baoji_entity(as_user, world, xian_officer):
    client = as_user(xian_officer)
    pk = world["baoji_entity"].pk
    for url in (f"/work/entities/{pk}/", f"/work/entities/{pk}/edit/",
                f"/work/entities/{pk}/products/new/"):
        response = client.get(url)
        assert response.status_code == 404, url
        assert "页面不存在" in response.content.decode()
    assert client.post(f"/work/entities/{pk}/edit/", {"reason": "x"}).status_code == 404


def test_entity_list_only_shows_the_jurisdiction_and_filters(as_user, world, xian_officer,
                                                             province_officer):
    xian = as_user(xian_officer).get("/work/entities/").content.decode()
    assert "西安测试电缆有限公司" in xian and "宝鸡测试钢铁有限公司" not in xian
    province = as_user(province_officer)
    both = province.get("/work/entities/").content.decode()
    assert "西安测试电缆有限公司" in both and "宝鸡测试钢铁有限公司" in both
    baoji_only = province.get("/work/entities/?division=610300").content.decode()
    assert "西安测试电缆有限公司" not in baoji_only and "宝鸡测试钢铁有限公司" in baoji_only
    building = province.get("/work/entities/?category=building").content.decode()
    assert "西安测试电缆有限公司" not in building and "宝鸡测试钢铁有限公司" in building
    by_code = province.get(f"/work/entities/?q={world['baoji_entity'].uscc}").content.decode()
    assert "宝鸡测试钢铁有限公司" in by_code and "西安测试电缆有限公司" not in by_code


def test_entity_list_queries_do_not_grow_with_rows(as_user, world, province_officer,
                                                   django_assert_num_queries):
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    client = as_user(province_officer)
    client.get("/work/entities/")  # warm the session
    with CaptureQueriesContext(connection) as few:
        client.get("/work/entities/")
    for _ in range(30):
        f.EntityFactory(division=f.division("610113")).categories.set([world["categories"]["cable"]])
    with CaptureQueriesContext(connection) as many:
        client.get("/work/entities/")
    assert len(many) == len(few)


def test_pagination_keeps_filters(as_user, world, province_officer):
    for _ in range(55):
        f.EntityFactory(division=f.division("610113"))
    html = as_user(province_officer, "en").get("/work/entities/?division=610100").content.decode()
    assert 'href="?division=610100&amp;page=2"' in html
    assert "Page 1 of 2 · 56 records" in html


def test_csv_import_refuses_all_rows_if_one_is_wrong_and_lists_errors(as_user, world,
                                                                      xian_officer):
    good = f.uscc_for("610113")
    text = ("uscc,name,division,legal_representative,categories\n"
            f"{good},导入测试一有限公司,610113,张三,electrical.cable\n"
            f"{good},导入测试二有限公司,610302,李四,nosuch\n")
    upload = io.BytesIO(text.encode("utf-8"))
    upload.name = "entities.csv"
    response = as_user(xian_officer, "zh-hans").post("/work/entities/import/", {"file": upload})
    assert response.status_code == 200
    html = response.content.decode()
    table = html[html.index('id="import-error-table"'):]
    rows = re.findall(r"<tr><td>(\d+)</td><td class=\"font-monospace\">(\w+)</td><td>(.*?)</td></tr>",
                      table)
    assert rows == [
        ("3", "uscc", "与本文件第 2 行重复。"),
        ("3", "division", "行政区划 610302 不在您的管辖范围内。"),
        ("3", "categories", "未知的产品类别代码：nosuch。"),
    ]
    assert not MarketEntity.objects.filter(name__startswith="导入测试").exists()


def test_csv_import_registers_every_row_with_an_audit_entry(as_user, world, xian_officer):
    a, b = f.uscc_for("610113"), f.uscc_for("610104")
    text = ("uscc,name,division,legal_representative,categories\n"
            f"{a},导入测试一有限公司,610113,张三,electrical.cable\n"
            f"{b},导入测试二有限公司,610104,李四,\n")
    upload = io.BytesIO(("\ufeff" + text).encode("utf-8"))
    upload.name = "entities.csv"
    client = as_user(xian_officer, "zh-hans")
    response = client.post("/work/entities/import/", {"file": upload})
    assert response.status_code == 302 and response["Location"] == "/work/entities/"
    assert "已导入 2 个市场主体。" in client.get("/work/entities/").content.decode()
    created = MarketEntity.objects.filter(name__startswith="导入测试")
    assert created.count() == 2
    assert AuditEntry.objects.filter(action="entity.registered",
                                     object_id__in=[str(e.pk) for e in created]).count() == 2


def test_csv_import_without_required_columns(as_user, world, xian_officer):
    upload = io.BytesIO(b"uscc,name\nX,Y\n")
    upload.name = "entities.csv"
    response = as_user(xian_officer, "en").post("/work/entities/import/", {"file": upload})
    assert field_error(response.content.decode(), "file") == (
        "Missing columns: division, legal_representative.")


def test_regulator_adds_a_product_with_declared_standards(as_user, world, xian_officer):
    f.StandardFactory(code="GB/T 12706.1-2020")
    f.StandardFactory(code="GB/T 3956-2008")
    entity = world["xian_entity"]
    client = as_user(xian_officer, "zh-hans")
    data = {"name": "电力电缆", "model": "YJV 3x95", "category": world["categories"]["cable"].pk,
            "standards": "GB/T 12706.1-2020； GB/T 3956-2008", "gtin": ""}
    response = client.post(f"/work/entities/{entity.pk}/products/new/", data)
    assert response.status_code == 302
    product = Product.objects.get(entity=entity)
    assert sorted(product.standards.values_list("code", flat=True)) == [
        "GB/T 12706.1-2020", "GB/T 3956-2008"]
    assert AuditEntry.objects.filter(action="product.registered",
                                     object_id=str(product.pk)).count() == 1

    refused = client.post(f"/work/entities/{entity.pk}/products/new/",
                          dict(data, standards="GB/T 9999-1999"))
    assert field_error(refused.content.decode(), "standards") == (
        "未知的标准编号：GB/T 9999-1999。请使用标准目录中的编号，以分号分隔。")
    assert Product.objects.filter(entity=entity).count() == 1


def test_lab_scope_line_added_through_the_service(as_user, world, xian_officer, baoji_officer):
    f.StandardFactory(code="GB/T 3956-2008")
    lab = world["lab"]
    data = {"standard": "GB/T 3956-2008", "parameter": "导体电阻", "valid_from": "2024-01-01",
            "valid_to": ""}
    # Baoji does not regulate a Xi'an lab: it sees the lab (public) but not the form.
    baoji = as_user(baoji_officer)
    assert 'id="scope-form"' not in baoji.get(f"/work/labs/{lab.pk}/").content.decode()
    assert baoji.post(f"/work/labs/{lab.pk}/scopes/add/", data).status_code == 403

    client = as_user(xian_officer, "zh-hans")
    response = client.post(f"/work/labs/{lab.pk}/scopes/add/", data)
    assert response.status_code == 302
    line = AccreditationScope.objects.get(lab=lab)
    assert (line.standard.code, line.parameter) == ("GB/T 3956-2008", "导体电阻")
    assert AuditEntry.objects.filter(action="lab.scope_added", object_id=str(line.pk)).count() == 1

    wrong = client.post(f"/work/labs/{lab.pk}/scopes/add/",
                        dict(data, valid_from="2024-01-01", valid_to="2023-01-01"))
    assert field_error(wrong.content.decode(), "valid_to") == "截止日期不能早于起始日期。"
    unknown = client.post(f"/work/labs/{lab.pk}/scopes/add/", dict(data, standard="GB 1-1900"))
    assert field_error(unknown.content.decode(), "standard") == "标准目录中没有该标准编号。"
    assert AccreditationScope.objects.filter(lab=lab).count() == 1


def test_regulator_registers_a_lab_and_a_user_unit(as_user, world, xian_officer):
    client = as_user(xian_officer)
    lab_data = {"name": "西安新检测有限公司", "uscc": f.uscc_for("610113"), "division": "610113",
                "address": "", "cma_number": "231234567890", "cnas_number": "L12345",
                "status": "active", "monthly_capacity": "300"}
    assert client.post("/work/labs/new/", lab_data).status_code == 302
    lab = Lab.objects.get(cma_number="231234567890")
    assert AuditEntry.objects.filter(action="lab.registered", object_id=str(lab.pk)).count() == 1

    unit_data = {"name": "西安测试供电公司", "uscc": f.uscc_for("610100"), "division": "610100",
                 "sector": "power", "contact_phone": "029-1",
                 "categories": [world["categories"]["cable"].pk]}
    assert client.post("/work/user-units/new/", unit_data).status_code == 302
    unit = UserUnit.objects.get(name="西安测试供电公司")
    assert AuditEntry.objects.filter(action="user_unit.registered",
                                     object_id=str(unit.pk)).count() == 1


def test_regulator_registers_an_inspector_of_its_own_department(as_user, world, xian_officer):
    client = as_user(xian_officer)
    dept = world["departments"]["xian"]
    data = {"name": "赵检查", "badge_number": "61019999", "department": dept.pk,
            "qualifications": ["special_equipment"], "active": "on"}
    assert client.post("/work/inspectors/new/", data).status_code == 302
    inspector = Inspector.objects.get(badge_number="61019999")
    assert inspector.qualifications == ["special_equipment"]
    assert AuditEntry.objects.filter(action="inspector.registered",
                                     object_id=str(inspector.pk)).count() == 1
    # A Baoji department is not among the choices of a Xi'an officer.
    other = client.post("/work/inspectors/new/",
                        dict(data, badge_number="61039999",
                             department=world["departments"]["baoji"].pk))
    assert other.status_code == 200
    assert not Inspector.objects.filter(badge_number="61039999").exists()
    listing = client.get("/work/inspectors/").content.decode()
    assert "赵检查" in listing


def test_matrix_shows_blind_spots_and_overlaps(as_user, world, province_officer):
    from zhijian.registry.models import Responsibility

    electrical = world["categories"]["electrical"]
    Responsibility.objects.create(category=electrical, level="city", kind="market", role="lead")
    Responsibility.objects.create(category=electrical, level="city", kind="housing", role="lead")
    Responsibility.objects.create(category=electrical, level="province", kind="market",
                                  role="lead")
    html = as_user(province_officer, "en").get("/work/matrix/").content.decode()
    # 4 categories × 3 levels = 12 cells; electrical and cable are covered at province level
    # and overlap at city level (cable inherits from electrical).
    assert html.count('data-state="overlap"') == 2
    assert html.count('data-state="blind"') == 8
    assert html.count('data-state="ok"') == 2
    assert "8 blind spots" in html and "2 overlaps" in html
    assert html.count("table-danger") == 8 and html.count("table-warning") == 2


def test_dashboard_counts_entities_by_city(as_user, world, province_officer, xian_officer):
    from zhijian.registry.models import DivisionStats

    DivisionStats.objects.create(division=f.division("610113"), entities=7)
    DivisionStats.objects.create(division=f.division("610104"), entities=3)
    DivisionStats.objects.create(division=f.division("610302"), entities=5)
    html = as_user(province_officer).get("/work/").content.decode()
    table = html[html.index('id="by-division"'):]
    rows = re.findall(r'\?division=(\d+)">(.*?)</a>.*?<td class="text-end">(\d+)</td>', table, re.S)
    assert rows == [("610100", "西安市", "10"), ("610300", "宝鸡市", "5")]
    xian = as_user(xian_officer).get("/work/").content.decode()
    rows = re.findall(r'\?division=(\d+)">', xian[xian.index('id="by-division"'):])
    assert rows == ["610104", "610113"]


@pytest.mark.parametrize("url", ["/work/", "/work/entities/", "/work/matrix/"])
def test_anonymous_users_are_sent_to_login(client, db, url):
    response = client.get(url)
    assert response.status_code == 302
    assert response["Location"].startswith("/accounts/login/?next=")


def test_matrix_can_show_only_the_problems(as_user, world, province_officer):
    from zhijian.registry.models import Responsibility

    for level in ("province", "city", "county"):
        Responsibility.objects.create(category=world["categories"]["electrical"], level=level,
                                      kind="market", role="lead")
    html = as_user(province_officer, "en").get("/work/matrix/?problems=1").content.decode()
    rows = re.findall(r'<th scope="row"[^>]*>(.*?)<br>', html)
    assert rows == ["Building materials", "Rebar"]
    assert 'id="matrix-problems-toggle" href="?"' in html
    assert "6 blind spots" in html
