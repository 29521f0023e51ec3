"""Query-count pins on every list endpoint: with 25+ rows a per-row query (N+1) would
push the count far past the pin. Each request gets a freshly loaded user, as a real
request does, so the jurisdiction lookup is counted too."""

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from tests import factories as f
from tests.api.conftest import rows_of
from zhijian.accounts.models import User
from zhijian.core.models import AuditCheckpoint, Division, PublicKey
from zhijian.registry.models import Responsibility, SearchSample, uscc_search_key

# Personas are requested by name (getfixturevalue), so the database need is declared here.
pytestmark = pytest.mark.django_db

N = 25


@pytest.fixture
def crowd(world):
    """N rows in every register, all in Xi'an and in both the cable and steel sectors, so
    the Xi'an officer and the Xi'an housing bureau see them too."""
    cats = world["categories"]
    counties = list(Division.objects.current().filter(level="county")[:N])
    for i in range(N):
        entity = f.EntityFactory(division=f.division("610113"), name=f"测试批量{i:02d}有限公司")
        entity.categories.set([cats["cable"], cats["steel"]])
        standard = f.StandardFactory()
        standard.categories.set([cats["cable"], cats["steel"]])
        product = f.ProductFactory(entity=entity, category=cats["cable"])
        product.standards.set([standard])
        lab = f.LabFactory(division=f.division("610113"))
        f.ScopeFactory(lab=lab, standard=standard, parameter="导体电阻")
        f.ScopeFactory(lab=lab, standard=standard, parameter="绝缘厚度")
        unit = f.UserUnitFactory(division=f.division("610100"))
        unit.categories.set([cats["cable"], cats["steel"]])
        f.InspectorFactory(department=world["departments"]["xian"])
        category = f.CategoryFactory(code=f"building.c{i:02d}", parent=cats["building"])
        Responsibility.objects.create(category=category, level="city", kind="market",
                                      role="lead")
        dept = f.DepartmentFactory(division=counties[i], code=f"dept-{i:02d}",
                                   all_sectors=False)
        dept.sectors.set([cats["cable"]])
        key = PublicKey.objects.create(key_id=f"{i:016x}", purpose="audit-checkpoint",
                                       public_key="ab" * 32)
        AuditCheckpoint.objects.create(seq=i + 1, hash=f"{i:064x}", ts=timezone.now(),
                                       key_id=key.key_id, statement="s", signature="00")
    return world


# (url, persona, most queries allowed, fewest rows the page must hold)
PINS = [
    ("/api/v1/entities/", "admin_user", 3, N),
    ("/api/v1/entities/", "xian_officer", 5, N),
    ("/api/v1/entities/", "xian_housing_officer", 7, N),
    ("/api/v1/products/", "admin_user", 3, N),
    ("/api/v1/products/", "xian_officer", 5, N),
    ("/api/v1/labs/", "admin_user", 3, N),
    ("/api/v1/labs/", None, 3, N),
    ("/api/v1/user-units/", "admin_user", 3, N),
    ("/api/v1/user-units/", "xian_officer", 5, N),
    ("/api/v1/inspectors/", "admin_user", 2, N),
    ("/api/v1/inspectors/", "xian_officer", 4, N),
    ("/api/v1/departments/", None, 3, N),
    ("/api/v1/responsibilities/", None, 2, N),
    ("/api/v1/responsibilities/report/", None, 2, 0),
    ("/api/v1/divisions/", None, 1, 100),
    ("/api/v1/categories/", None, 1, N),
    ("/api/v1/standards/", None, 3, N),
    ("/api/v1/public/entities/?q=%E6%B5%8B%E8%AF%95", None, 1, 20),
    ("/api/v1/public/audit/checkpoints/", None, 2, N),
    ("/api/v1/public/keys/", None, 1, N),
]


@pytest.fixture(autouse=True)
def _fast_personas(settings):
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]


@pytest.fixture(autouse=True)
def _search_sample_loaded():
    """On PostgreSQL the public search reads a sample of the register once per process
    every SearchSample.TTL seconds (tests/registry/test_search_order.py counts that
    query); the pins count the queries of a request itself."""
    SearchSample.clear()
    SearchSample.share(connection.alias, "测试")


@pytest.mark.parametrize(("url", "who", "most", "rows"), PINS,
                         ids=[f"{u}-{w or 'anonymous'}" for u, w, _, _ in PINS])
def test_list_query_count(url, who, most, rows, crowd, api, request,
                          django_assert_max_num_queries):
    if who:
        user = User.objects.get(pk=request.getfixturevalue(who).pk)  # no cached scope
        api.force_authenticate(user)
    with django_assert_max_num_queries(most):
        resp = api.get(url)
    assert resp.status_code == 200
    if rows:
        assert len(rows_of(resp.json())) >= rows


def test_every_list_endpoint_is_pinned():
    from zhijian.config.api_urls import router

    lists = set()
    for prefix, viewset, _ in router.registry:
        if hasattr(viewset, "list"):
            lists.add(f"/api/v1/{prefix}/")
    pinned = {url.split("?")[0] for url, *_ in PINS}
    assert lists - pinned == set()


def test_public_search_never_counts(crowd, api):
    with CaptureQueriesContext(connection) as ctx:
        first = api.get("/api/v1/public/entities/", {"q": "测试"})
    assert [q["sql"] for q in ctx.captured_queries if "COUNT(" in q["sql"].upper()] == []
    assert len(ctx.captured_queries) == 1
    assert "LIMIT 21" in ctx.captured_queries[0]["sql"]  # page_size + 1
    page1 = first.json()
    assert set(page1) == {"next", "previous", "results"}
    assert (len(page1["results"]), page1["previous"]) == (20, None)

    second = api.get(page1["next"]).json()
    assert (len(second["results"]), second["next"]) == (N + 2 - 20, None)
    assert second["previous"] is not None
    names = [r["name"] for r in page1["results"] + second["results"]]
    usccs = [r["uscc"] for r in page1["results"] + second["results"]]
    assert usccs == sorted(usccs, key=uscc_search_key)  # hash-of-USCC order
    assert set(names) == {f"测试批量{i:02d}有限公司" for i in range(N)} | {
        "西安测试电缆有限公司", "宝鸡测试钢铁有限公司"}

    back = api.get(second["previous"]).json()
    assert back["results"] == page1["results"]
