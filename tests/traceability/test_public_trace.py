"""The public trace page a product's QR label opens (public_views.py, docs/public-trace.md):
batch, item and product pages over the demo supply chain, what they do not show, the recall
banner, 404s for bad or unknown numbers, anonymous access and a query-count pin.

The province, the cable story and the default chain are built once per module inside a
transaction that is rolled back at the end; each test runs in its own savepoint."""

import json

import pytest
from django.conf import settings
from django.db import connection, transaction
from django.test import Client
from django.utils import translation

from zhijian.accounts.models import User
from zhijian.demo import build, quality, supply_chain
from zhijian.recalls import services as recalls
from zhijian.recalls.models import Recall
from zhijian.registry.models import MarketEntity, Product
from zhijian.traceability import services, steps
from zhijian.traceability.models import Event, EventEpc, Place

SEED = 2017
REAL_DATABASE = settings.DATABASES["default"]["NAME"]
LOT = quality.STORY_BATCH


@pytest.fixture(scope="module")
def chain(django_db_setup, django_db_blocker):
    with django_db_blocker.unblock():
        assert connection.settings_dict["NAME"] != REAL_DATABASE, "not the test database"
        outer = transaction.atomic()
        outer.__enter__()
        try:
            build.province_build(seed=SEED)
            quality.quality_build(seed=SEED)
            supply_chain.supply_chain_build(seed=SEED)
            yield
        finally:
            transaction.set_rollback(True)
            outer.__exit__(None, None, None)


@pytest.fixture
def product(db, chain):
    return Product.objects.get(entity__name=supply_chain.FIRM["maker"].name,
                               model=quality.MODEL)


def url(product, lot=LOT, slash=True, gtin=None):
    return f"/01/{gtin or product.gtin.zfill(14)}/10/{lot}" + ("/" if slash else "")


def get(path, user=None):
    client = Client()
    if user is not None:
        client.force_login(user)
    with translation.override("en"):
        return client.get(path, HTTP_ACCEPT_LANGUAGE="en")


def open_recall(product) -> Recall:
    """The story batch's recall, opened by the Xi'an bureau (through the services)."""
    xian = User.objects.get(username="xian")
    maker = product.entity
    recall = Recall.objects.for_batch(maker.pk, LOT).exclude(status="dismissed").first()
    if recall is None:
        recall = recalls.recall_propose(actor=xian, source_kind="manual", maker_id=maker.pk,
                                        category_code=product.category.code, lot=LOT,
                                        product_id=product.pk, gtin=product.gtin,
                                        reason="导体电阻不合格")
    return recalls.recall_open(actor=xian, recall_id=recall.pk, severity="1",
                               reason="导体电阻超标31%，存在火灾隐患。")


# --- the batch page -----------------------------------------------------------------------------

def test_story_batch_page_shows_the_public_facts(product):
    response = get(url(product))
    assert response.status_code == 200
    ctx = response.context
    maker = MarketEntity.objects.get(name=supply_chain.FIRM["maker"].name)
    assert ctx["maker"] == maker and ctx["product"] == product
    assert ctx["produced"].isoformat() == "2026-08-15"
    body = response.content.decode()
    assert maker.name in body and maker.uscc in body
    # Public reports covering the batch, each linked to its verification page.
    assert [r.number for r in ctx["reports"]] == ["ZC-JD-2026-0118", "WCHX-2026-0815"]
    assert 'href="/verify/ZC-JD-2026-0118/"' in body
    assert 'href="/verify/WCHX-2026-0815/"' in body
    # Installed at metro stations (public places), by name.
    assert sorted(s.place for s in ctx["public_sites"]) == sorted([
        "地铁1号线 三桥站", "地铁1号线 汉城路站", "地铁2号线 会展中心站", "地铁2号线 小寨站",
        "地铁2号线 纬一街站", "地铁3号线 北池头站", "地铁3号线 大雁塔站", "地铁8号线 长延堡站"])
    for name in ("地铁2号线 小寨站", "地铁8号线 长延堡站"):
        assert name in body
    # The substation is not public: its kind and city only.
    assert ctx["other_sites"] == ["Building or construction site in Xi'an"]
    assert ctx["materials"] == ["电工用铜线坯 T1 Φ8 mm", "电缆用交联聚乙烯绝缘料 YJ-10",
                                "电缆用聚氯乙烯护套料 H-90"]
    assert ctx["recalls"] == []


def test_custody_names_only_the_maker_and_public_parties(product):
    ctx = get(url(product)).context
    steps_ = ctx["steps"]
    assert [s.day.isoformat() for s in steps_] == sorted(s.day.isoformat() for s in steps_)
    named = {s.holder.label for s in steps_ if s.holder.named}
    assert named == {supply_chain.FIRM["maker"].name, supply_chain.FIRM["metro"].name}
    kinds = {s.holder.label for s in steps_ if not s.holder.named}
    assert kinds == {"a distributor in Xi'an", "a distributor in Xianyang",
                     "a contractor or installer in Xi'an", "a contractor or installer in Xianyang",
                     "a purchasing user unit in Xi'an"}
    first = steps_[0]
    assert (first.step, first.action, first.holder.label) == (
        "creating_class_instance", "Produced", supply_chain.FIRM["maker"].name)
    cut = [s for s in steps_ if s.step == "creating_class_instance" and s.lot]
    assert {s.lot for s in cut} == {f"{LOT}-PT01", f"{LOT}-PT02", f"{LOT}-PT03", f"{LOT}-PT04",
                                    f"{LOT}-LA05", f"{LOT}-LA06", f"{LOT}-FH07", f"{LOT}-FH08"}


def test_what_the_page_does_not_show(product):
    body = get(url(product)).content.decode()
    private_names = [f.name for f in supply_chain.NEW_FIRMS] + [
        supply_chain.FIRM["power"].name, "110 kV 鱼化变电站", "110 kV 曲江变电站"]
    private_names += list(Place.objects.filter(kind="building").values_list("name", flat=True))
    for name in private_names:
        assert name not in body, name
    # No quantity or unit of any event of the batch or its cut lengths.
    quantities = {int(q) for q in EventEpc.objects.filter(
        epc__contains=f"/10/{LOT}").exclude(quantity=None).values_list("quantity", flat=True)}
    assert quantities >= {6000, 2000, 1500, 1000, 600, 400, 250}
    for q in quantities:
        assert f">{q}" not in body and f" {q} " not in body and f"{q} m" not in body
    for unit in ("MTR", "KGM", "13680"):
        assert unit not in body
    assert "WCHX-2026-0999" not in body  # cited on a delivery, not a report on the platform


def test_gtin13_and_no_trailing_slash(product):
    short = get(url(product, slash=False, gtin=product.gtin))
    assert len(product.gtin) == 13 and short.status_code == 200
    assert short.context["identifier"] == get(url(product)).context["identifier"] == (
        f"https://id.gs1.org/01/{product.gtin.zfill(14)}/10/{LOT}")


def test_cut_length_page_links_its_batch(product):
    response = get(url(product, lot=f"{LOT}-PT01"))
    assert response.status_code == 200
    ctx = response.context
    assert [p["lot"] for p in ctx["parents"]] == [LOT]
    assert [s.place for s in ctx["public_sites"]] == ["地铁2号线 小寨站"]
    # The parent batch's reports cover the cut length too.
    assert [r.number for r in ctx["reports"]] == ["ZC-JD-2026-0118", "WCHX-2026-0815"]


# --- recalls ------------------------------------------------------------------------------------

def test_recall_banner_on_the_batch_and_its_cut_lengths(product):
    recall = open_recall(product)
    notice = f'href="/recalls/{recall.number}/"'
    for lot in (LOT, f"{LOT}-PT01", f"{LOT}-FH08"):
        response = get(url(product, lot=lot))
        assert response.status_code == 200
        assert [r["recall"] for r in response.context["recalls"]] == [recall]
        body = response.content.decode()
        assert 'id="recall-banner-1"' in body and notice in body
    other = get(url(product, lot="HC-2026-0902"))
    assert other.status_code == 200 and other.context["recalls"] == []
    assert 'id="recall-banner-1"' not in other.content.decode()
    page = get(f"/01/{product.gtin}/")
    assert [r["recall"] for r in page.context["recalls"]] == [recall]


# --- the product and item pages ---------------------------------------------------------------------

def test_product_page_and_lot_form(product):
    response = get(f"/01/{product.gtin}/")
    assert response.status_code == 200
    assert response.context["maker"] == product.entity
    assert response.context["gtin"] == product.gtin.zfill(14)
    redirect = get(f"/01/{product.gtin}/?lot={LOT}")
    assert redirect.status_code == 302
    assert redirect["Location"] == url(product)
    bad = get(f"/01/{product.gtin}/?lot=a%2Fb%20c")
    assert bad.status_code == 404 and "is not a batch number" in bad.context["message"]


def test_item_page(product):
    """One serialised drum (SGTIN), commissioned and installed at a station by the maker."""
    maker = User.objects.get(username="enterprise")
    station = Place.objects.get(name="地铁2号线 钟楼站").identifier
    plant = Place.objects.get(name__endswith="生产基地", entity=product.entity).identifier
    drum = f"https://id.gs1.org/01/{product.gtin.zfill(14)}/21/D2026-0001"
    base = {"eventTimeZoneOffset": "+08:00", "epcList": [drum]}
    doc = steps.document([
        {"type": "ObjectEvent", "eventID": "urn:uuid:0f8c0c56-1d2e-4a51-9b1e-000000000001",
         "eventTime": "2026-10-01T08:00:00+08:00", **base, "action": "ADD",
         "bizStep": "commissioning", "disposition": "active", "bizLocation": {"id": plant}},
        {"type": "ObjectEvent", "eventID": "urn:uuid:0f8c0c56-1d2e-4a51-9b1e-000000000002",
         "eventTime": "2026-10-09T10:00:00+08:00", **base, "action": "OBSERVE",
         "bizStep": "installing", "bizLocation": {"id": station}},
    ], created=supply_chain._at(supply_chain.dt.date(2026, 10, 9), 12))
    services.capture_document(actor=maker, raw=json.dumps(doc).encode())
    response = get(f"/01/{product.gtin}/21/D2026-0001")
    assert response.status_code == 200
    ctx = response.context
    assert ctx["serial"] == "D2026-0001" and ctx["produced"].isoformat() == "2026-10-01"
    assert [(s.step, s.place) for s in ctx["steps"]] == [
        ("commissioning", ctx["steps"][0].place), ("installing", "地铁2号线 钟楼站")]
    assert get(f"/01/{product.gtin}/21/D2026-0002").status_code == 404


# --- not found ----------------------------------------------------------------------------------

@pytest.mark.parametrize("path,message", [
    ("/01/6920001000015/10/HC-2026-0815/", "is not a valid GTIN"),  # wrong check digit
    ("/01/69200010000/10/HC-2026-0815/", "is not a valid GTIN"),  # 11 digits
    ("/01/abc/", "is not a valid GTIN"),
    ("/01/6920001000015/", "is not a valid GTIN"),
    ("/01/6920001000015/21/X1/", "is not a valid GTIN"),
    ("/01/{gtin}/10/HC-2099-0001/", "Nothing is recorded on this platform for the batch "
                                    "HC-2099-0001 of"),
    ("/01/{gtin}/10/{long}/", "is not a batch number"),
    ("/01/{free}/10/X1/", "Nothing is recorded on this platform for the batch X1 of the GTIN "
                          "0{free}"),
    ("/01/{free}/", "Nothing is recorded on this platform for the GTIN 0{free}"),
])
def test_not_found_pages(product, path, message):
    free = supply_chain.gtin13(99, 1)  # a valid GTIN that no product has
    assert steps.gtin14(free) == "0" + free
    response = get(path.format(gtin=product.gtin, long="X" * 21, free=free))
    assert response.status_code == 404
    assert response.templates[0].name == "traceability/public_not_found.html"
    assert message.format(free=free) in response.context["message"]


# --- access and queries ----------------------------------------------------------------------------

def test_anonymous_and_signed_in_see_the_same(product):
    anonymous = get(url(product))
    assert not anonymous.wsgi_request.user.is_authenticated
    for username in ("xian", "enterprise", "distributor", "metro"):
        user = User.objects.get(username=username)
        signed = get(url(product), user=user)
        assert signed.status_code == 200
        assert [vars(s) for s in signed.context["steps"]] == [
            vars(s) for s in anonymous.context["steps"]]
    before = Event.objects.count()
    assert Client().post(url(product), {}).status_code == 405
    assert Event.objects.count() == before


def test_query_count_is_pinned(product, django_assert_max_num_queries):
    """The trace takes a few queries per level of the walk (docs/trace.md); the page adds a
    fixed few (product, organisations, public parties, reports, recalls), none per step."""
    with django_assert_max_num_queries(20):
        assert get(url(product)).status_code == 200
    with django_assert_max_num_queries(4):
        assert get(f"/01/{product.gtin}/").status_code == 200
