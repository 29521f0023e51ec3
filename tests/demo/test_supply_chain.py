"""The demo's supply chain (zhijian/demo/supply_chain.py): firms, places and EPCIS events
captured through the services; exact counts by business step, where the story batch went,
idempotent reruns and a prefix-stable stream.

The province, the cable story and the default chain are built once per module inside a
transaction that is rolled back at the end (as tests/demo/test_demo.py does)."""

import collections
import itertools

import pytest
from django.conf import settings
from django.db import connection, transaction

from zhijian.accounts.models import User
from zhijian.core.models import AuditEntry
from zhijian.demo import build, quality, supply_chain
from zhijian.registry.models import MarketEntity, Product
from zhijian.traceability.eventhash import check_digit
from zhijian.traceability.models import Capture, Event, EventEpc, EventKey, Place

SEED = 2017
REAL_DATABASE = settings.DATABASES["default"]["NAME"]
CBV = "https://ref.gs1.org/cbv/BizStep-"


@pytest.fixture(scope="module")
def chain(django_db_setup, django_db_blocker):
    with django_db_blocker.unblock():
        assert connection.settings_dict["NAME"] != REAL_DATABASE, "not the test database"
        outer = transaction.atomic()
        outer.__enter__()
        try:
            build.province_build(seed=SEED)
            quality.quality_build(seed=SEED)
            seen = []
            built = supply_chain.supply_chain_build(seed=SEED, progress=seen.append)
            yield {"built": built, "progress": sum(seen)}
        finally:
            transaction.set_rollback(True)
            outer.__exit__(None, None, None)


def story_batch(lot="HC-2026-0815", model=quality.MODEL, maker="maker"):
    product = Product.objects.get(entity__name=supply_chain.FIRM[maker].name, model=model)
    return supply_chain.batch_id(product.gtin, lot)


def steps_of(qs) -> dict[str, int]:
    return dict(collections.Counter(b.removeprefix(CBV) for b in qs.values_list("biz_step",
                                                                                 flat=True)))


# --- the stream (pure) ------------------------------------------------------------------------

def test_stream_is_deterministic_and_prefix_stable():
    a = [c.event["eventID"] for _i, c in itertools.islice(supply_chain.stream(SEED), 2500)]
    b = [c.event["eventID"] for _i, c in itertools.islice(supply_chain.stream(SEED), 2600)]
    assert a == b[:2500]
    assert len(set(b)) == 2600
    other = [c.event["eventID"] for _i, c in itertools.islice(supply_chain.stream(SEED + 1),
                                                              2500)]
    assert other[:160] != a[:160]  # the story's IDs depend on the seed too
    assert supply_chain.story_size(SEED) == 160


def test_identifiers_are_valid_gs1_keys_under_the_demonstration_prefix():
    for p in supply_chain.firm_places():
        key = p.identifier.rsplit("/", 1)[1]
        assert len(key) == 13 and key.startswith("9520")
        assert key[-1] == check_digit(key[:-1])
    code = supply_chain.sscc(1, 260820_00)
    assert len(code) == 18 and code[-1] == check_digit(code[:-1])
    assert len({p.identifier for p in supply_chain.firm_places()}) == len(
        supply_chain.firm_places())


def test_growth_episode_quantities_balance():
    for i in range(1, 40):
        raws, cb = supply_chain.episode(SEED, i)
        assert sum(leg.metres for leg in cb.legs) == cb.metres
        for leg in cb.legs:
            assert sum(sub.metres for sub in leg.legs) == leg.metres
            for sub in leg.legs:
                if sub.cut:
                    assert sum(p.metres for p in sub.cut) == sub.metres
        for raw, kg in cb.inputs:
            assert raw.kg >= kg and raw.made < cb.made
        assert {r.lot for r in raws} == {r.lot for r, _kg in cb.inputs}


# --- the default build ------------------------------------------------------------------------

def test_default_chain_has_exact_counts(db, chain):
    built = chain["built"]
    assert built.stored == supply_chain.DEFAULT_EVENTS == Event.objects.count()
    assert chain["progress"] == supply_chain.DEFAULT_EVENTS
    assert built.duplicates == built.skipped == 0
    assert built.firms == 11
    assert steps_of(Event.objects.all()) == EXPECTED_STEPS
    assert dict(collections.Counter(Event.objects.values_list("type", flat=True))) == {
        "object": 1224, "transformation": 218, "aggregation": 58}
    # Every capture is one firm's document of at most 1,000 events, audited once.
    assert Capture.objects.count() == built.documents == 15
    assert max(Capture.objects.values_list("event_count", flat=True)) <= 1000
    assert AuditEntry.objects.filter(action="epcis.captured").count() == 15


EXPECTED_STEPS = {"commissioning": 127, "inspecting": 310, "shipping": 306, "receiving": 306,
                  "creating_class_instance": 218, "installing": 175, "packing": 29,
                  "unpacking": 29}


def test_story_events_by_step_and_firm(db, chain):
    story_ids = [c.event["eventID"] for _i, c in itertools.islice(
        supply_chain.stream(SEED), supply_chain.story_size(SEED))]
    story = Event.objects.filter(event_id__in=story_ids)
    assert story.count() == 160
    assert steps_of(story) == {"commissioning": 7, "inspecting": 32, "shipping": 32,
                               "receiving": 32, "creating_class_instance": 28,
                               "installing": 25, "packing": 2, "unpacking": 2}
    orgs = collections.Counter(story.values_list("org", flat=True))
    metro = User.objects.get(username="metro").user_unit_id
    contractor = User.objects.get(username="contractor").entity_id
    assert orgs[f"user_unit:{metro}"] == 22
    assert orgs[f"enterprise:{contractor}"] == 14


def test_story_batch_was_made_with_too_little_copper(db, chain):
    made = Event.objects.get(type="transformation", epcs__role="class_output",
                             epcs__epc=story_batch())
    rows = {(r.role, r.uom): r.quantity for r in made.epcs.all()}
    assert rows[("class_output", "MTR")] == 6000
    copper = made.epcs.get(epc__contains="/10/CU-2026-0728")
    assert (copper.quantity, copper.uom) == (13680.0, "KGM")  # 2.28 kg/m instead of 3.02
    assert made.org == f"enterprise:{User.objects.get(username='enterprise').entity_id}"


def test_story_batch_reaches_named_stations(db, chain):
    gtin = Product.objects.get(entity__name=supply_chain.FIRM["maker"].name,
                               model=quality.MODEL).gtin.zfill(14)
    prefix = f"https://id.gs1.org/01/{gtin}/10/HC-2026-0815-"
    installed = Event.objects.filter(biz_step=CBV + "installing",
                                     epcs__epc__startswith=prefix)
    places = dict(Place.objects.values_list("identifier", "name"))
    assert sorted(places[e.biz_location] for e in installed) == sorted([
        "地铁2号线 小寨站", "地铁2号线 纬一街站", "地铁2号线 会展中心站", "地铁8号线 长延堡站",
        "地铁3号线 北池头站", "地铁3号线 大雁塔站", "地铁1号线 三桥站", "地铁1号线 汉城路站"])
    # The metro's direct delivery was rejected and went back; its station saw it anyway
    # through a contractor (contractor-supplied material).
    rejected = Event.objects.get(biz_step=CBV + "inspecting",
                                 disposition="https://ref.gs1.org/cbv/Disp-non_conformant",
                                 epcs__epc=story_batch(),
                                 biz_location=Place.objects.get(
                                     name="地铁8号线 长延堡站").identifier)
    assert rejected.event_time.date().isoformat() == "2026-09-11"
    # The power utility installed 400 m of it at a substation (not a public place).
    substation = Place.objects.get(name="110 kV 鱼化变电站")
    assert not substation.public
    assert EventEpc.objects.get(event__biz_step=CBV + "installing", epc=story_batch(),
                                event__biz_location=substation.identifier).quantity == 400


def test_tiers_of_the_story_batch(db, chain):
    """Shipping hops from the maker: distributors (1), contractors and the power utility
    (2), the sites where the contractors install (3)."""
    ships = Event.objects.filter(biz_step=CBV + "shipping", epcs__epc=story_batch())
    parties = {p.identifier: p for p in Place.objects.filter(kind="party")}
    hops = collections.defaultdict(set)
    for e in ships.prefetch_related("sources_dests"):
        src = {sd.identifier for sd in e.sources_dests.all() if sd.kind == "source"}
        dst = {sd.identifier for sd in e.sources_dests.all()
               if sd.kind == "destination" and sd.identifier in parties}
        for s in src:
            for d in dst:
                hops[parties[s].name].add(parties[d].name)
    maker = supply_chain.FIRM["maker"].name
    assert hops[maker] == {"西安弘朔电工器材有限公司", "咸阳泾骐机电设备有限公司",
                           supply_chain.FIRM["metro"].name, supply_chain.FIRM["power"].name}
    assert hops["西安弘朔电工器材有限公司"] == {
        "西安璞泰轨道机电工程有限公司", "陕西珑安机电安装工程有限公司",
        supply_chain.FIRM["power"].name}
    assert hops["咸阳泾骐机电设备有限公司"] == {"咸阳沣禾机电工程有限公司"}
    # the rejected deliveries went back to the maker
    assert hops[supply_chain.FIRM["metro"].name] == {maker}


def test_places_and_logins(db, chain):
    stations = Place.objects.filter(kind="station")
    assert stations.count() == len(supply_chain.STATIONS) == 63
    assert not stations.filter(public=False).exists()
    assert set(stations.values_list("user_unit__name", flat=True)) == {
        supply_chain.FIRM["metro"].name}
    assert Place.objects.filter(kind="party", public=True).count() == 3  # makers, metro
    assert Place.objects.filter(kind="building", public=True).count() == 0
    # 5 substations and the building sites of the story and the first 44 growth batches
    assert Place.objects.filter(kind="building").count() == 5 + 7
    for username in ("distributor", "contractor", "chain_copper", "chain_chengyuan"):
        user = User.objects.get(username=username)
        assert user.role == "enterprise" and user.check_password("zhijian-demo-2017")
    assert User.objects.get(username="distributor").entity.name == "西安弘朔电工器材有限公司"
    copper = MarketEntity.objects.get(name="宝鸡嵘钰铜材有限公司")
    assert copper.products.get().gtin == supply_chain.gtin13(10, 1)


# --- reruns -----------------------------------------------------------------------------------

def test_rerun_adds_nothing(db, chain):
    before = (Event.objects.count(), Capture.objects.count(), Place.objects.count(),
              MarketEntity.objects.count(), User.objects.count())
    again = supply_chain.supply_chain_build(seed=SEED)
    assert (again.stored, again.documents, again.firms, again.places) == (0, 0, 0, 0)
    assert again.skipped == supply_chain.DEFAULT_EVENTS
    assert (Event.objects.count(), Capture.objects.count(), Place.objects.count(),
            MarketEntity.objects.count(), User.objects.count()) == before


def test_larger_n_adds_only_the_tail(db, chain):
    n = supply_chain.DEFAULT_EVENTS
    more = supply_chain.supply_chain_build(seed=SEED, events=n + 300)
    # Documents mixing stored and new events are sent again: the stored ones are counted as
    # duplicates and nothing changes for them.
    assert more.stored == 300 and more.duplicates + more.skipped == n
    expected = [c.event["eventID"] for _i, c in itertools.islice(
        supply_chain.stream(SEED), n, n + 300)]
    assert EventKey.objects.filter(event_id__in=expected).count() == 300
    assert Event.objects.count() == n + 300


def test_fewer_events_than_the_story_still_build_the_story(db, chain):
    again = supply_chain.supply_chain_build(seed=SEED, events=10)
    assert again.stored == 0 and again.skipped == supply_chain.story_size(SEED)


def test_impact_tiers_of_the_story_batch(db, chain):
    """The recall-impact list (tracing.impact) over the chain: the distributors are tier 1,
    the contractors 2, the stations they installed at 3."""
    from zhijian.traceability import tracing

    stops = tracing.impact(start=[story_batch()])
    names = dict(Place.objects.values_list("identifier", "name"))
    installed = {names[st.place]: st.tier for st in stops if st.kind == "installed"}
    assert installed == {
        "地铁2号线 小寨站": 3, "地铁2号线 纬一街站": 3, "地铁2号线 会展中心站": 3,
        "地铁8号线 长延堡站": 3, "地铁3号线 北池头站": 3, "地铁3号线 大雁塔站": 3,
        "地铁1号线 三桥站": 3, "地铁1号线 汉城路站": 3,
        "110 kV 鱼化变电站": 2}  # the utility also bought from the maker directly (tier 1)
    holders = {names[st.party]: st.tier for st in stops if st.party and st.kind == "received"}
    assert holders["西安弘朔电工器材有限公司"] == holders["咸阳泾骐机电设备有限公司"] == 1
    assert {k: v for k, v in holders.items() if k.endswith("工程有限公司")} == {
        "西安璞泰轨道机电工程有限公司": 2, "陕西珑安机电安装工程有限公司": 2,
        "咸阳沣禾机电工程有限公司": 2}
