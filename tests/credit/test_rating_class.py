"""One source of the class: CreditRating. MarketEntity.risk_class is the initial class
(before the first rating); every reader uses the credit class (MarketEntity.credit_class,
MarketEntityQuerySet.with_credit_class): the draw frame, the workbench entity pages, the
enterprise's own page, the registry API and admin, the credit overview; the re-ratings
never write the entity row."""

from __future__ import annotations

import datetime as dt

import pytest
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from tests import factories as f
from tests.inspections.conftest import inspection_world, plan_data  # noqa: F401 (fixture)
from zhijian.core import audit, events
from zhijian.core.models import AuditEntry, OutboxEvent
from zhijian.credit.models import CreditRating, RatingChange
from zhijian.credit.services import rating as svc
from zhijian.credit.services.records import record_create, record_withdraw
from zhijian.inspections import draw
from zhijian.inspections import services as insp
from zhijian.registry.choices import RiskClass
from zhijian.registry.models import MarketEntity

TODAY = timezone.localdate()


def days(n: int) -> dt.date:
    return TODAY - dt.timedelta(days=n)


def add(entity, kind, n, **kw):
    return record_create(entity=entity, kind=kind, date=days(3), source_type="test.source",
                         source_id=str(n), source_ref=f"SRC-{n}", **kw)


def rate(entity, klass: str, score: int = 50):
    return CreditRating.objects.create(entity=entity, risk_class=klass, score=score, on=TODAY,
                                       versions={}, trigger="test", computed_at=timezone.now())


def client(user, lang="en") -> Client:
    c = Client()
    c.cookies["django_language"] = lang
    c.force_login(user)
    return c


# --- the model ------------------------------------------------------------------------------

def test_credit_class_is_the_rating_or_else_the_initial_class(world):
    rated, unrated = world["xian_entity"], f.EntityFactory(risk_class="C")
    rate(rated, "D")
    assert (MarketEntity.objects.get(pk=rated.pk).credit_class,
            MarketEntity.objects.get(pk=unrated.pk).credit_class) == ("D", "C")
    got = dict(MarketEntity.objects.with_credit_class().filter(
        pk__in=[rated.pk, unrated.pk]).values_list("pk", "credit_class"))
    assert got == {rated.pk: "D", unrated.pk: "C"}
    annotated = MarketEntity.objects.with_credit_class().get(pk=rated.pk)
    assert (annotated.credit_class, annotated.risk_class) == ("D", "B")
    assert annotated.get_credit_class_display() == str(RiskClass.D.label)


def test_rerating_never_writes_the_entity_row(world):
    firm = world["xian_entity"]
    stamp = MarketEntity.objects.get(pk=firm.pk).updated_at
    add(firm, "fake_report", 1)
    events.drain()
    svc.ratings_rerate_all()
    row = MarketEntity.objects.get(pk=firm.pk)
    assert (row.risk_class, row.updated_at, row.credit_class) == ("B", stamp, "D")


# --- the class changes: from the rating, or the initial class before the first one --------

def test_first_rating_changes_from_the_initial_class(world):
    firm = world["xian_entity"]
    MarketEntity.objects.filter(pk=firm.pk).update(risk_class="D")
    OutboxEvent.objects.all().delete()
    svc.entity_rerate(entity_id=firm.pk, trigger="manual")  # no records: base score, B
    ev = OutboxEvent.objects.get(name="credit.rating_changed")
    assert ev.payload == {"entity": firm.pk, "from_class": "D", "to_class": "B", "score": 100}
    entry = audit.parse_body(AuditEntry.objects.get(action="entity.credit_class_changed").body)
    assert (entry["before"], entry["after"]["credit_class"]) == ({"credit_class": "D"}, "B")
    assert MarketEntity.objects.get(pk=firm.pk).risk_class == "D"  # initial, untouched


def test_a_rated_firm_changes_from_its_rating_not_its_initial_class(world):
    firm = world["xian_entity"]           # initial B
    rate(firm, "D", 60)
    OutboxEvent.objects.all().delete()
    svc.entity_rerate(entity_id=firm.pk, trigger="manual")   # D -> B: a change
    assert [e.payload["from_class"] for e in OutboxEvent.objects.filter(
        name="credit.rating_changed")] == ["D"]
    OutboxEvent.objects.all().delete()
    MarketEntity.objects.filter(pk=firm.pk).update(risk_class="A")  # edited initial class
    svc.entity_rerate(entity_id=firm.pk, trigger="manual")   # B -> B: none
    assert not OutboxEvent.objects.filter(name="credit.rating_changed").exists()
    assert CreditRating.objects.get(entity=firm).risk_class == "B"


def test_batch_counts_class_changes_against_the_credit_class(world):
    b_firm = world["xian_entity"]                      # initial B, no records: B, no change
    d_firm = f.EntityFactory(risk_class="D")           # initial D, no records: D -> B
    rated = world["baoji_entity"]                      # rated D, initial B, no records: D -> B
    rate(rated, "D", 60)
    OutboxEvent.objects.all().delete()
    stamps = dict(MarketEntity.objects.values_list("pk", "updated_at"))
    result = svc.ratings_rerate_all()
    assert result.class_changed == 2
    assert sorted((e.payload["entity"], e.payload["from_class"], e.payload["to_class"])
                  for e in OutboxEvent.objects.filter(name="credit.rating_changed")) == sorted(
        [(d_firm.pk, "D", "B"), (rated.pk, "D", "B")])
    entry = audit.parse_body(AuditEntry.objects.get(action="credit.risk_classes_rerated").body)
    assert sorted(entry["after"]["changes"]) == sorted(
        [[d_firm.pk, "D", "B", 100], [rated.pk, "D", "B", 100]])
    assert dict(MarketEntity.objects.values_list("pk", "updated_at")) == stamps
    assert dict(MarketEntity.objects.values_list("pk", "risk_class"))[d_firm.pk] == "D"
    assert RatingChange.objects.get(entity=b_firm).from_class == ""


# --- the draw --------------------------------------------------------------------------------

def test_the_draw_frame_uses_the_credit_class_and_keeps_it(inspection_world, xian_officer):  # noqa: F811
    world = inspection_world
    firm = world["xian_entity"]
    xian = world["departments"]["xian"]
    MarketEntity.objects.filter(pk=firm.pk).update(risk_class="A")   # initial A
    other = world["firms"][3]                                         # initial C, unrated
    rec = add(firm, "fake_report", 1)
    events.drain()                                                    # rated D
    plan = insp.plan_save(actor=xian_officer, data=plan_data(world), departments=[xian],
                          categories=[world["categories"]["cable"]],
                          checklist=[(xian.pk, "出厂检验记录完整")])
    d = insp.plan_publish(actor=xian_officer, plan=plan)
    strata = {e["uscc"]: e["stratum"] for e in d.frame["entities"]}
    assert (strata[firm.uscc], strata[other.uscc]) == ("D", "C")
    assert [s["key"] for s in d.frame["strata"]] == ["A", "B", "C", "D"]
    assert sum(s == "D" for s in strata.values()) == 3   # 2 initial D + the rated firm
    frame = d.frame
    # a later re-rating does not move the published frame
    record_withdraw(record_id=rec.pk, reason="报告认定被撤销")
    events.drain()
    assert MarketEntity.objects.get(pk=firm.pk).credit_class == "B"
    d = insp.draw_seed(actor=xian_officer, draw_id=d.pk, dice="3 5 1 6 2 4 4 1 5 3",
                       witnesses="公证员 张三")
    d.refresh_from_db()
    assert d.frame == frame
    checks = draw.verify_bundle(draw.loads(draw.canonical(d.bundle())))
    assert [c.name for c in checks if not c.ok] == []


# --- the workbench pages ----------------------------------------------------------------------

def test_entity_list_filters_and_shows_the_credit_class(world, xian_officer,
                                                        django_assert_max_num_queries):
    firm = world["xian_entity"]                         # initial B, rated D
    rate(firm, "D")
    plain = f.EntityFactory(division=f.division("610113"), risk_class="D")   # initial D
    b_only = f.EntityFactory(division=f.division("610113"), risk_class="B")
    c = client(xian_officer)
    url = reverse("web:entity_list")
    with django_assert_max_num_queries(12):
        resp = c.get(url, {"risk_class": "D"})
    assert resp.status_code == 200
    shown = [e.uscc for e in resp.context["page"]]
    assert sorted(shown) == sorted([firm.uscc, plain.uscc])
    assert [e.credit_class for e in resp.context["page"]] == ["D", "D"]
    assert b"Credit class" in resp.content
    resp = c.get(url, {"risk_class": "B"})
    assert [e.uscc for e in resp.context["page"]] == [b_only.uscc]


def test_entity_detail_shows_credit_and_initial_class(world, xian_officer):
    firm = world["xian_entity"]
    rate(firm, "C")
    resp = client(xian_officer).get(reverse("web:entity_detail", args=[firm.pk]))
    html = resp.content.decode()
    assert 'id="entity-credit-class">Credit class C</span>' in html
    assert 'id="entity-initial-class">B</dd>' in html


def test_enterprise_sees_its_credit_class(world, enterprise_user):
    rate(world["xian_entity"], "D")
    resp = client(enterprise_user).get(reverse("web:org_home"))
    html = resp.content.decode()
    assert 'id="entity-credit-class">D (high risk / poor credit) · ' in html
    assert 'href="/work/credit/mine/"' in html


def test_credit_overview_counts_by_credit_class(world, xian_officer):
    rate(world["xian_entity"], "D")
    resp = client(xian_officer).get(reverse("credit:home"), {"risk_class": "D"})
    assert dict(resp.context["classes"])["D"] == 1
    assert [e.uscc for e in resp.context["page"]] == [world["xian_entity"].uscc]


# --- the registry API -------------------------------------------------------------------------

@pytest.mark.parametrize("filter_, expect", [
    ({"credit_class": "D"}, ["rated", "plain_d"]),
    ({"credit_class": "B"}, ["plain_b"]),
    ({"risk_class": "B"}, ["rated", "plain_b"]),     # the initial class
    ({"risk_class": "D"}, ["plain_d"]),
])
def test_api_credit_class_field_and_filter(world, api, admin_user, filter_, expect):
    firms = {"rated": f.EntityFactory(division=f.division("610113"), risk_class="B"),
             "plain_d": f.EntityFactory(division=f.division("610113"), risk_class="D"),
             "plain_b": f.EntityFactory(division=f.division("610113"), risk_class="B")}
    rate(firms["rated"], "D")
    api.force_authenticate(admin_user)
    resp = api.get("/api/v1/entities/", {"division": "610113", **filter_})
    assert resp.status_code == 200
    rows = {r["uscc"]: (r["risk_class"], r["credit_class"]) for r in resp.json()["results"]}
    mine = {e.uscc for e in firms.values()}
    assert set(rows) & mine == {firms[k].uscc for k in expect}
    assert rows.get(firms["rated"].uscc, ("B", "D")) == ("B", "D")


def test_api_detail_and_bad_credit_class(world, api, xian_officer):
    firm = world["xian_entity"]
    rate(firm, "A", 115)
    api.force_authenticate(xian_officer)
    data = api.get(f"/api/v1/entities/{firm.pk}/").json()
    assert (data["risk_class"], data["credit_class"]) == ("B", "A")
    bad = api.get("/api/v1/entities/", {"credit_class": "E"})
    assert bad.status_code == 400
    assert bad.json()["errors"][0]["attr"] == "credit_class"


def test_api_credit_class_is_read_only(world, api, xian_officer):
    firm = world["xian_entity"]
    api.force_authenticate(xian_officer)
    resp = api.patch(f"/api/v1/entities/{firm.pk}/", {"credit_class": "D",
                                                       "reason": "试图改等级"}, format="json")
    assert (resp.status_code, resp.json()["credit_class"]) == (200, "B")  # ignored
    assert not CreditRating.objects.filter(entity=firm).exists()
    assert MarketEntity.objects.get(pk=firm.pk).credit_class == "B"


def test_admin_lists_the_credit_class(world, admin_user):
    rate(world["xian_entity"], "D")
    resp = client(admin_user).get("/admin/registry/marketentity/")
    assert resp.status_code == 200
    assert b'<td class="field-credit_class">D</td>' in resp.content
