"""A slightly larger province for the API tests: every register has rows inside and
outside each persona's jurisdiction, so each list shows exactly whose rows it must."""

import datetime as dt

import pytest
from django.utils import timezone

from tests import factories as f
from zhijian.core.identifiers import make_uscc
from zhijian.core.models import AuditCheckpoint, AuditEntry, OutboxEvent, PublicKey
from zhijian.registry.models import (
    AccreditationScope,
    Department,
    Inspector,
    Lab,
    MarketEntity,
    Product,
    ProductCategory,
    Responsibility,
    Standard,
    UserUnit,
)

PERSONAS = ["anonymous", "admin", "province", "xian", "baoji", "xian_housing", "enterprise",
            "lab", "user_unit"]
_FIXTURE = {
    "admin": "admin_user",
    "province": "province_officer",
    "xian": "xian_officer",
    "baoji": "baoji_officer",
    "xian_housing": "xian_housing_officer",
    "enterprise": "enterprise_user",
    "lab": "lab_user",
    "user_unit": "user_unit_user",
}


@pytest.fixture(autouse=True)
def _fast_password_hashing(settings):
    # The personas get passwords; PBKDF2 at production strength costs ~1 s per user.
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]


def uscc(division: str, body: str) -> str:
    """A valid code with a chosen 8-character body (deterministic test data)."""
    return make_uscc(division=division, org_body8=body)


@pytest.fixture
def grid(world):
    """world + a Xi'an building-materials maker, products, a Baoji lab and user unit,
    a standard with a scope line, inspectors in every department, two duties of the
    responsibility matrix and a published checkpoint."""
    cats = world["categories"]
    deps = world["departments"]
    xian_builder = f.EntityFactory(division=f.division("610102"), name="西安测试建材有限公司")
    xian_builder.categories.set([cats["steel"]])
    standard = f.StandardFactory(code="GB/T 3956-2008", title="电缆的导体")
    standard.categories.set([cats["cable"]])
    products = {
        "xian": f.ProductFactory(entity=world["xian_entity"], name="西安电缆产品",
                                 category=cats["cable"]),
        "baoji": f.ProductFactory(entity=world["baoji_entity"], name="宝鸡钢筋产品",
                                  category=cats["steel"]),
        "builder": f.ProductFactory(entity=xian_builder, name="西安建材产品",
                                    category=cats["steel"]),
    }
    products["xian"].standards.set([standard])
    baoji_lab = f.LabFactory(division=f.division("610302"), name="宝鸡测试检测中心")
    f.ScopeFactory(lab=world["lab"], standard=standard, parameter="导体电阻",
                   valid_from=dt.date(2020, 1, 1))
    baoji_unit = f.UserUnitFactory(division=f.division("610300"), name="宝鸡测试电力有限公司",
                                   sector="power")
    inspectors = {
        key: f.InspectorFactory(department=deps[key], name=name, badge_number=badge)
        for key, name, badge in [
            ("province", "省检查员", "6100000001"),
            ("xian", "西安检查员", "6101000001"),
            ("baoji", "宝鸡检查员", "6103000001"),
            ("xian_housing", "住建检查员", "6101000002"),
        ]
    }
    duties = [
        Responsibility.objects.create(category=cats["cable"], level="province", kind="market",
                                      role="lead"),
        Responsibility.objects.create(category=cats["steel"], level="city", kind="housing",
                                      role="lead"),
    ]
    key = PublicKey.objects.create(key_id="0123456789abcdef", purpose="audit-checkpoint",
                                   public_key="ab" * 32)
    checkpoint = AuditCheckpoint.objects.create(
        seq=1000, hash="cd" * 32, ts=timezone.now(), key_id=key.key_id,
        statement=f"zhijian-audit-checkpoint:v1:1000:{'cd' * 32}", signature="ef" * 64)
    return world | {
        "xian_builder": xian_builder,
        "standard": standard,
        "products": products,
        "baoji_lab": baoji_lab,
        "baoji_unit": baoji_unit,
        "inspectors": inspectors,
        "duties": duties,
        "key": key,
        "checkpoint": checkpoint,
    }


@pytest.fixture
def persona(request):
    """persona("xian") -> the user of that persona (None for anonymous)."""

    def get(name: str):
        if name == "anonymous":
            return None
        return request.getfixturevalue(_FIXTURE[name])

    return get


def fingerprint() -> dict:
    """Everything a refused request must leave as it was: the registers row by row
    (M2M links included), the audit log and the outbox."""
    def rows(model):
        return list(model.objects.order_by("pk").values())

    def links(model, name):
        through = getattr(model, name).through
        return sorted(through.objects.values_list(*[f.attname for f in through._meta.fields]))

    return {
        "entities": rows(MarketEntity),
        "entity_categories": links(MarketEntity, "categories"),
        "products": rows(Product),
        "product_standards": links(Product, "standards"),
        "labs": rows(Lab),
        "scopes": rows(AccreditationScope),
        "user_units": rows(UserUnit),
        "user_unit_categories": links(UserUnit, "categories"),
        "inspectors": rows(Inspector),
        "departments": rows(Department),
        "department_sectors": links(Department, "sectors"),
        "responsibilities": rows(Responsibility),
        "categories": rows(ProductCategory),
        "standards": rows(Standard),
        "audit_entries": AuditEntry.objects.count(),
        "outbox_events": OutboxEvent.objects.count(),
    }


def rows_of(data):
    """The rows of a list response, paginated or not."""
    return data["results"] if isinstance(data, dict) and "results" in data else data
