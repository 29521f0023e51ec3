"""Named personas (DESIGN.md): each test says who acts.

`world` is a small province: a provincial, a Xi'an and a Baoji market supervision
bureau, a Xi'an housing bureau that only covers building materials, two categories, and
an entity in Xi'an (Yanta) and one in Baoji (Weibin)."""

import pytest
from hypothesis import settings as hypothesis_settings
from rest_framework.test import APIClient

from tests import factories as f
from zhijian.accounts.models import Role

# Hypothesis's per-example deadline is a timing assertion: on a loaded CI machine it fails
# correct code. Timings belong in benchmarks/.
hypothesis_settings.register_profile("zhijian", deadline=None)
hypothesis_settings.load_profile("zhijian")


@pytest.fixture(scope="session")
def django_db_setup(django_db_setup, django_db_blocker):
    """PostgreSQL refuses TRUNCATE of the audit log unless the session allows maintenance
    (core migration 0004); the test database allows it so transactional tests can flush."""
    from django.db import connection

    with django_db_blocker.unblock():
        if connection.vendor == "postgresql":
            with connection.cursor() as cursor:
                name = connection.ops.quote_name(connection.settings_dict["NAME"])
                cursor.execute(f"ALTER DATABASE {name} SET zhijian.audit_maintenance = 'on'")
                cursor.execute("SET zhijian.audit_maintenance = 'on'")


@pytest.fixture(autouse=True, scope="session")
def private_files(tmp_path_factory):
    """Uploads, report PDFs and lab keys the tests write go to a temporary directory, not
    to the working copy's media/ and var/."""
    from django.test.utils import override_settings

    root = tmp_path_factory.mktemp("files")
    with override_settings(MEDIA_ROOT=root / "media", ZHIJIAN_LAB_KEY_DIR=root / "lab-keys"):
        yield


@pytest.fixture(autouse=True)
def quick_pdf(request, monkeypatch):
    """Report PDFs are rendered by WeasyPrint in 0.3–1 s each; tests that are not about the
    PDF itself get a stand-in that is still one distinct document per report (its bytes
    carry the SHA-256 of the HTML), so digests, signatures and verification work as with
    the real file. Tests marked `real_pdf` (tests/reports/test_pdf.py, test_qr_flow.py)
    render with WeasyPrint."""
    if request.node.get_closest_marker("real_pdf"):
        return
    import hashlib

    from zhijian.reports import pdf

    def stand_in(html: str) -> bytes:
        digest = hashlib.sha256(html.encode("utf-8")).hexdigest()
        return b"%PDF-1.4\n% zhijian test stand-in " + digest.encode() + b"\n%%EOF\n"

    monkeypatch.setattr(pdf, "html_to_pdf", stand_in)


@pytest.fixture(autouse=True)
def site_language():
    """Every test starts in the site's language (zh-hans), whatever the previous test left
    active in this thread (a response leaves its language active); a test that wants
    English messages from a service says so with translation.override("en")."""
    from django.conf import settings
    from django.utils import translation

    translation.activate(settings.LANGUAGE_CODE)
    yield
    translation.deactivate()


@pytest.fixture(autouse=True, scope="session")
def fast_password_hashing():
    """The personas log in hundreds of times; a fast hasher keeps the suite quick. The
    production hasher is exercised by Django's own tests, not ours."""
    from django.test.utils import override_settings

    with override_settings(PASSWORD_HASHERS=["django.contrib.auth.hashers.MD5PasswordHasher"]):
        yield


@pytest.fixture
def world(db):
    electrical = f.CategoryFactory(code="electrical", name="电工产品", name_en="Electrical")
    cable = f.CategoryFactory(code="electrical.cable", name="电线电缆", name_en="Wires and cables",
                              parent=electrical, key_material=True)
    building = f.CategoryFactory(code="building", name="建筑材料", name_en="Building materials")
    steel = f.CategoryFactory(code="building.steel", name="钢筋", name_en="Rebar", parent=building,
                              key_material=True)
    province = f.DepartmentFactory(division=f.division("610000"), code="61-market",
                                   name="陕西省市场监督管理局")
    xian = f.DepartmentFactory(division=f.division("610100"), code="6101-market",
                               name="西安市市场监督管理局")
    baoji = f.DepartmentFactory(division=f.division("610300"), code="6103-market",
                                name="宝鸡市市场监督管理局")
    xian_housing = f.DepartmentFactory(division=f.division("610100"), kind="housing",
                                       code="6101-housing", name="西安市住房和城乡建设局",
                                       all_sectors=False)
    xian_housing.sectors.set([building])
    xian_entity = f.EntityFactory(division=f.division("610113"), name="西安测试电缆有限公司")
    xian_entity.categories.set([cable])
    baoji_entity = f.EntityFactory(division=f.division("610302"), name="宝鸡测试钢铁有限公司")
    baoji_entity.categories.set([steel])
    lab = f.LabFactory(division=f.division("610113"), name="西安测试检测中心")
    unit = f.UserUnitFactory(division=f.division("610100"), name="西安测试地铁有限公司")
    return {
        "categories": {"electrical": electrical, "cable": cable, "building": building,
                       "steel": steel},
        "departments": {"province": province, "xian": xian, "baoji": baoji,
                        "xian_housing": xian_housing},
        "xian_entity": xian_entity,
        "baoji_entity": baoji_entity,
        "lab": lab,
        "user_unit": unit,
    }


@pytest.fixture
def admin_user(world):
    return f.UserFactory(username="admin", role=Role.ADMIN, is_staff=True, is_superuser=True)


@pytest.fixture
def province_officer(world):
    return f.UserFactory(username="province", department=world["departments"]["province"])


@pytest.fixture
def xian_officer(world):
    return f.UserFactory(username="xian", department=world["departments"]["xian"])


@pytest.fixture
def baoji_officer(world):
    return f.UserFactory(username="baoji", department=world["departments"]["baoji"])


@pytest.fixture
def xian_housing_officer(world):
    return f.UserFactory(username="xian_housing",
                         department=world["departments"]["xian_housing"])


@pytest.fixture
def enterprise_user(world):
    return f.UserFactory(username="enterprise", role=Role.ENTERPRISE,
                         entity=world["xian_entity"])


@pytest.fixture
def lab_user(world):
    return f.UserFactory(username="lab", role=Role.LAB, lab=world["lab"])


@pytest.fixture
def user_unit_user(world):
    return f.UserFactory(username="metro", role=Role.USER_UNIT, user_unit=world["user_unit"])


@pytest.fixture
def api():
    """An API client; call api.force_authenticate(user) for a persona, or leave anonymous."""
    return APIClient()
