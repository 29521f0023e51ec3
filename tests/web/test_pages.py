"""Every page renders for the persona it is meant for, in Chinese and in English."""

import re

import pytest

from tests import factories as f

# Personas are requested by name (getfixturevalue), so the database need is declared here.
pytestmark = pytest.mark.django_db

TITLE = re.compile(r'data-testid="page-title">\s*(.*?)\s*</h1>', re.S)


def page_title(response) -> str:
    match = TITLE.search(response.content.decode())
    assert match, "page has no data-testid=page-title heading"
    return match.group(1)


@pytest.fixture
def product(world):
    standard = f.StandardFactory(code="GB/T 12706.1-2020", title="额定电压电力电缆")
    p = f.ProductFactory(entity=world["xian_entity"], name="电力电缆", model="YJV 3x95",
                         category=world["categories"]["cable"])
    p.standards.set([standard])
    return p


def urls(world, product):
    e, lab, unit = world["xian_entity"].pk, world["lab"].pk, world["user_unit"].pk
    return {
        "regulator": [
            ("/work/", "监管工作台", "Regulator workbench"),
            ("/work/entities/", "市场主体", "Market entities"),
            ("/work/entities/new/", "登记市场主体", "Register a market entity"),
            ("/work/entities/import/", "导入市场主体", "Import market entities"),
            (f"/work/entities/{e}/", "产品及声明执行的标准", "Products and declared standards"),
            (f"/work/entities/{e}/edit/", "修改", "Change"),
            (f"/work/entities/{e}/products/new/", "添加产品", "Add a product"),
            (f"/work/entities/{e}/products/{product.pk}/edit/", "修改产品", "Change product"),
            ("/work/labs/", "检验检测机构", "Laboratories"),
            ("/work/labs/new/", "登记检验检测机构", "Register a laboratory"),
            (f"/work/labs/{lab}/", "资质认定能力范围", "Accreditation scope"),
            (f"/work/labs/{lab}/edit/", "修改", "Change"),
            ("/work/user-units/", "用户单位", "User units"),
            ("/work/user-units/new/", "登记用户单位", "Register a user unit"),
            (f"/work/user-units/{unit}/", "变更记录", "History"),
            (f"/work/user-units/{unit}/edit/", "修改", "Change"),
            ("/work/inspectors/", "执法检查人员", "Inspectors"),
            ("/work/inspectors/new/", "登记执法检查人员", "Register an inspector"),
            ("/work/departments/", "监管部门", "Departments"),
            ("/work/matrix/", "监管职责矩阵", "Responsibility matrix"),
        ],
        "enterprise": [
            ("/work/org/", "企业工作台", "Enterprise workspace"),
            ("/work/org/edit/", "修改本单位信息", "Change the record of"),
            ("/work/org/products/new/", "添加产品", "Add a product"),
            (f"/work/org/products/{product.pk}/edit/", "修改产品", "Change product"),
        ],
        "lab": [
            ("/work/org/", "检验检测机构工作台", "Laboratory workspace"),
            ("/work/org/edit/", "修改本单位信息", "Change the record of"),
        ],
        "user_unit": [
            ("/work/org/", "用户单位工作台", "User unit workspace"),
            ("/work/org/edit/", "修改本单位信息", "Change the record of"),
        ],
        "anonymous": [
            ("/", "全面质量监管", "comprehensive quality supervision"),
            ("/search/?q=西安", "市场主体查询", "Entity search"),
            ("/labs/", "检验检测机构", "Laboratories"),
            (f"/labs/{lab}/", "资质认定能力范围", "Accreditation scope"),
            ("/departments/", "监管部门", "Departments"),
            ("/matrix/", "监管职责矩阵", "Responsibility matrix"),
            ("/audit/", "审计公开", "Audit transparency"),
            ("/accounts/login/", "登录", "Sign in"),
        ],
    }


@pytest.mark.parametrize("lang", ["zh-hans", "en"])
@pytest.mark.parametrize("persona", ["regulator", "enterprise", "lab", "user_unit", "anonymous"])
def test_every_page_renders_for_its_persona(request, as_user, world, product, persona, lang):
    user = {
        "regulator": lambda: request.getfixturevalue("xian_officer"),
        "enterprise": lambda: request.getfixturevalue("enterprise_user"),
        "lab": lambda: request.getfixturevalue("lab_user"),
        "user_unit": lambda: request.getfixturevalue("user_unit_user"),
        "anonymous": lambda: None,
    }[persona]()
    client = as_user(user, lang)
    for url, zh, en in urls(world, product)[persona]:
        response = client.get(url)
        assert response.status_code == 200, url
        html = response.content.decode()
        expected = zh if lang == "zh-hans" else en
        assert expected in html, (url, expected)
        page_title(response)
        assert f'<html lang="{"zh-Hans" if lang == "zh-hans" else "en"}">' in html


@pytest.mark.parametrize("persona", ["admin_user", "province_officer", "xian_housing_officer"])
def test_workbench_renders_for_every_regulator_kind(request, as_user, persona):
    client = as_user(request.getfixturevalue(persona))
    response = client.get("/work/")
    assert response.status_code == 200
    assert page_title(response) == "监管工作台"


def test_main_page_titles_in_both_languages(as_user, world, xian_officer, enterprise_user):
    assert page_title(as_user(xian_officer, "zh-hans").get("/work/")) == "监管工作台"
    assert page_title(as_user(xian_officer, "en").get("/work/")) == "Regulator workbench"
    assert page_title(as_user(enterprise_user, "en").get("/work/org/")) == "西安测试电缆有限公司"


def test_not_found_page_is_translated(as_user, db):
    zh = as_user(None, "zh-hans").get("/no-such-page/")
    en = as_user(None, "en").get("/no-such-page/")
    assert zh.status_code == en.status_code == 404
    assert page_title(zh) == "页面不存在"
    assert page_title(en) == "Page not found"


def test_language_switch_sets_the_cookie_and_switches_pages(db):
    from django.test import Client

    client = Client()
    assert page_title(client.get("/matrix/")) == "监管职责矩阵"
    response = client.post("/i18n/setlang/", {"language": "en", "next": "/matrix/"})
    assert response.status_code == 302
    assert response["Location"] == "/matrix/"
    assert page_title(client.get("/matrix/")) == "Responsibility matrix"


def test_navigation_depends_on_role(as_user, world, xian_officer, enterprise_user):
    staff = as_user(xian_officer, "en").get("/work/").content.decode()
    org = as_user(enterprise_user, "en").get("/work/org/").content.decode()
    public = as_user(None, "en").get("/").content.decode()
    assert 'id="nav-entities"' in staff and 'id="nav-org"' not in staff
    assert 'id="nav-org"' in org and 'id="nav-entities"' not in org
    assert 'id="nav-entities"' not in public and 'id="login-link"' in public
    assert 'id="logout-form"' in staff and 'method="post"' in staff
