"""The public search order (MarketEntity.search_key, registry migration 0003): every write
path fills the key, the SQL of the migration computes the same value as Python, and
paging the public search in that order returns exactly the entities `search` matches,
each once, on SQLite and PostgreSQL alike."""

import hashlib
import random
from importlib import import_module

import pytest
from django.apps import apps
from django.db import connection
from django.test.utils import CaptureQueriesContext
from hypothesis import given
from hypothesis import strategies as st

from tests import factories as f
from zhijian.core.pagination import PublicSearchPagination
from zhijian.demo import build
from zhijian.registry import models, services
from zhijian.registry.models import SEARCH_ORDER, MarketEntity, SearchSample, uscc_search_key

migration = import_module("zhijian.registry.migrations.0003_entity_search_key")

USCC_ALPHABET = "0123456789ABCDEFGHJKLMNPQRTUWXY"


class Editor:
    """The part of a schema editor that the data migration uses. (SQLite refuses a real
    one inside the test's transaction.)"""

    connection = connection

    def execute(self, sql):
        with connection.cursor() as cur:
            cur.execute(sql)


def stored_keys(**filters) -> dict[str, int]:
    return dict(MarketEntity.objects.filter(**filters).values_list("uscc", "search_key"))


def expected_keys(usccs) -> dict[str, int]:
    return {u: uscc_search_key(u) for u in usccs}


# --- the key ---------------------------------------------------------------------------------


def test_key_is_the_first_53_bits_of_sha256():
    uscc = "91610113MA6TXXXX2X"
    digest = hashlib.sha256(uscc.encode()).hexdigest()
    assert uscc_search_key(uscc) == int(digest[:16], 16) // 2**11


@given(st.text(USCC_ALPHABET, min_size=18, max_size=18))
def test_key_is_exact_in_json(uscc):
    assert 0 <= uscc_search_key(uscc) < 2**53  # RFC 8785 (the audit log) refuses more


@pytest.mark.skipif(connection.vendor != "postgresql", reason="the SQL of migration 0003")
def test_migration_sql_computes_the_python_key(db):
    rng = random.Random(2017)
    usccs = ["0" * 18, "Y" * 18, *("".join(rng.choices(USCC_ALPHABET, k=18))
                                   for _ in range(2000))]
    with connection.cursor() as cur:
        cur.execute(
            "SELECT uscc, " + migration.SEARCH_KEY_SQL  # noqa: S608 (a constant)
            + " FROM unnest(%s::text[]) AS t(uscc)", [usccs])
        assert dict(cur.fetchall()) == expected_keys(usccs)


# --- every write path fills it ---------------------------------------------------------------


def test_factory_save_fills_the_key(world):
    assert stored_keys() == expected_keys(stored_keys())
    assert len(stored_keys()) == 2


def test_register_and_update_fill_the_key(world, province_officer):
    code = f.uscc_for("610113")
    entity = services.entity_register(actor=province_officer, data={
        "uscc": code.lower(), "name": "西安顺序测试有限公司", "division": "610113",
        "legal_representative": "张三"})
    assert entity.search_key == uscc_search_key(code)
    services.entity_update(actor=province_officer, entity_id=entity.pk,
                           data={"name": "西安顺序测试二有限公司"})
    assert stored_keys(pk=entity.pk) == {code: uscc_search_key(code)}


def test_import_fills_the_key(world, province_officer):
    codes = [f.uscc_for("610602") for _ in range(5)]
    report = services.entities_import(actor=province_officer, rows=[
        {"uscc": code, "name": f"延安导入测试{i}有限公司", "division": "610602",
         "legal_representative": "李四", "categories": "electrical.cable"}
        for i, code in enumerate(codes)
    ], batch_size=2)
    assert report.ok, report.errors
    assert stored_keys(uscc__in=codes) == expected_keys(codes)


def test_demo_build_fills_the_key(db):
    build.province_build(seed=2017)
    assert build.entities_build(seed=2017, count=40) == 40
    keys = stored_keys()
    assert len(keys) == 40 + len(build.reserved(2017).makers)  # imported + registered
    assert keys == expected_keys(keys)


def test_migration_fill_restores_every_key(world):
    for i in range(5):
        f.EntityFactory(division=f.division("610602"), name=f"延安迁移测试{i}有限公司")
    MarketEntity.objects.update(search_key=0)
    migration.fill(apps, Editor())
    keys = stored_keys()
    assert len(keys) == 7
    assert keys == expected_keys(keys)


# --- public search: the same results, in the new order ---------------------------------------

PLACES = {"610113": "西安", "610602": "延安", "610302": "宝鸡", "610402": "咸阳"}
TRADES = ["电缆", "钢铁", "建材", "电线电缆"]


@pytest.fixture
def province(world):
    """world + 48 entities: every place name in every trade, twice, with the USCCs of
    the place's division (so USCC order groups them by place, as in the real register)."""
    for code, place in PLACES.items():
        for trade in TRADES:
            for k in range(3):
                f.EntityFactory(division=f.division(code), name=f"{place}{trade}{k}号有限公司")
    return world


def public_search(api, q: str, page_size: int = 5) -> list[str]:
    """The USCCs of every page of the public search, following `next` to the end."""
    usccs = []
    resp = api.get("/api/v1/public/entities/", {"q": q, "page_size": page_size})
    while True:
        assert resp.status_code == 200, resp.content
        body = resp.json()
        usccs += [r["uscc"] for r in body["results"]]
        if body["next"] is None:
            return usccs
        resp = api.get(body["next"])


def in_search_order(usccs) -> list[str]:
    return sorted(usccs, key=lambda u: (uscc_search_key(u), u))


def terms() -> list[str]:
    entity = MarketEntity.objects.get(name="延安电缆1号有限公司")
    return ["西安", "延安", "电缆", "安电", "宝鸡钢", "咸阳建材2", "测试", "鳌鹳", "91", "9161",
            entity.uscc, entity.uscc[:8], entity.uscc[:10], entity.uscc[:12],
            entity.uscc.lower()]


@pytest.fixture(params=["sampled", "walk", "index"])
def query_form(request, monkeypatch):
    """On PostgreSQL public_search() tests a common name fragment without the bigram
    index ("walk") and any other with it ("index"); "sampled" lets the sample choose.
    The results must not depend on it."""
    SearchSample.clear()
    if request.param != "sampled":
        monkeypatch.setattr(models, "COMMON_SHARE", 0.0 if request.param == "walk" else 2.0)
    yield request.param
    SearchSample.clear()


def test_public_search_returns_what_search_matches_in_search_order(province, api, query_form):
    for q in terms():
        matched = set(MarketEntity.objects.search(q).values_list("uscc", flat=True))
        got = public_search(api, q)
        assert len(got) == len(set(got)), q  # no entity twice across pages
        assert set(got) == matched, q
        assert got == in_search_order(matched), q
        assert list(MarketEntity.objects.public_search(q).values_list("uscc", flat=True)) == got


@pytest.mark.skipif(connection.vendor != "postgresql", reason="the bigram index")
@pytest.mark.parametrize(("form", "uses"), [("walk", "STRPOS("), ("index", "zhijian_bigrams(")])
def test_the_form_is_the_one_chosen(province, form, uses, monkeypatch):
    monkeypatch.setattr(models, "COMMON_SHARE", 0.0 if form == "walk" else 2.0)
    sql = str(MarketEntity.objects.public_search("延安").query)
    assert uses in sql
    assert ("zhijian_bigrams(" in sql, "STRPOS(" in sql) == (form == "index", form == "walk")


@pytest.mark.skipif(connection.vendor != "postgresql", reason="the sample serves PostgreSQL")
def test_the_sample_is_read_once_per_ttl(province, monkeypatch):
    SearchSample.clear()
    with CaptureQueriesContext(connection) as first:
        list(MarketEntity.objects.public_search("延安")[:21])
    with CaptureQueriesContext(connection) as second:
        list(MarketEntity.objects.public_search("宝鸡")[:21])
    assert (len(first), len(second)) == (2, 1)
    assert SearchSample.share(connection.alias, "延安") == 12 / 50
    assert SearchSample.share(connection.alias, "鳌鹳") == 0
    code = MarketEntity.objects.get(name="延安电缆1号有限公司").uscc
    assert SearchSample.share(connection.alias, "XX", code[:8]) == 12 / 50
    monkeypatch.setattr(SearchSample, "TTL", -1.0)
    SearchSample.clear()
    with CaptureQueriesContext(connection) as expired:
        SearchSample.share(connection.alias, "延安")
        SearchSample.share(connection.alias, "延安")
    assert len(expired) == 2
    SearchSample.clear()


def test_public_results_name_the_division(province, api):
    entity = MarketEntity.objects.get(name="宝鸡钢铁2号有限公司")
    resp = api.get("/api/v1/public/entities/", {"q": "宝鸡钢铁2"})
    assert resp.json()["results"] == [{
        "uscc": entity.uscc, "name": "宝鸡钢铁2号有限公司", "entity_type": "enterprise",
        "division": "610302", "division_name": entity.division.name, "status": "active",
        "registered_on": None}]
    detail = api.get(f"/api/v1/public/entities/{entity.uscc}/").json()
    assert (detail["division"], detail["division_name"]) == ("610302", entity.division.name)


def test_pagination_follows_the_search_order():
    assert PublicSearchPagination.ordering == SEARCH_ORDER


def test_name_fragments_match_by_contains_and_codes_by_prefix(province, api):
    everything = dict(MarketEntity.objects.values_list("uscc", "name"))
    for q in ["西安", "延安", "电缆", "安电", "宝鸡钢", "咸阳建材2"]:
        assert set(public_search(api, q)) == {u for u, n in everything.items() if q in n}, q
    code = MarketEntity.objects.get(name="延安电缆1号有限公司").uscc
    assert public_search(api, code) == [code]
    for size in (8, 10, 12):
        prefix = code[:size]
        assert set(public_search(api, prefix)) == {u for u in everything if u.startswith(prefix)}
    assert public_search(api, "鳌鹳") == []


def test_pages_hold_when_keys_tie(province, api):
    """A 53-bit hash makes ties improbable, not impossible: equal keys are ordered by
    USCC, and the cursor still yields each entity once, forwards and backwards, also
    where a page ends between two equal keys."""
    yanan = sorted(MarketEntity.objects.filter(name__startswith="延安"),
                   key=lambda e: (e.search_key, e.uscc))
    assert len(yanan) == 12
    for i in range(0, 12, 2):  # six pairs, each sharing the key of its first entity
        MarketEntity.objects.filter(pk=yanan[i + 1].pk).update(search_key=yanan[i].search_key)
    expected = list(MarketEntity.objects.filter(name__startswith="延安")
                    .order_by("search_key", "uscc").values_list("uscc", flat=True))
    assert len(set(stored_keys(name__startswith="延安").values())) == 6
    got = public_search(api, "延安", page_size=5)
    assert got == expected
    backwards = []
    resp = api.get("/api/v1/public/entities/", {"q": "延安", "page_size": 5})
    while resp.json()["next"]:
        resp = api.get(resp.json()["next"])
    while True:
        body = resp.json()
        backwards = [r["uscc"] for r in body["results"]] + backwards
        if body["previous"] is None:
            break
        resp = api.get(body["previous"])
    assert backwards == got


def test_the_order_is_not_the_uscc_order(province, api):
    """The point of the key: in USCC order the 延安 entities (division 610602) come after
    all those of 610113 and before 610302's; in search order the places interleave."""
    got = public_search(api, "有限公司", page_size=100)
    assert len(got) == 50
    assert got == in_search_order(got)
    assert got != sorted(got)
