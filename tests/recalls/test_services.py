"""Opening, dismissal, notices, progress, refresh and completion (docs/recalls.md), on the
impact list traced from real captured events (tests/recalls/conftest.py): every
transition and every refusal, with exact outcomes; a refusal leaves nothing changed."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from zoneinfo import ZoneInfo

import pytest
from django.core.exceptions import ValidationError
from django.utils import translation

from tests.recalls.conftest import (
    CONTR_P,
    DISTR_P,
    DISTR_WH,
    GTIN,
    LOT,
    MAKER_PLANT,
    METRO_DEPOT,
    S1,
    S2,
    UNKNOWN_FIRM,
    UNKNOWN_SITE,
    batch,
    capture,
    document,
    event,
)
from zhijian.core.access import Denied
from zhijian.core.models import AuditEntry, OutboxEvent
from zhijian.recalls import services
from zhijian.recalls.models import (
    Recall,
    RecallItem,
    RecallItemUpdate,
    RecallNotice,
)

TZ = ZoneInfo("Asia/Shanghai")
OPENED = dt.datetime(2026, 7, 20, 10, 0, tzinfo=TZ)  # a Monday
D = Decimal


@pytest.fixture(autouse=True)
def _english():
    with translation.override("en"):
        yield


def propose(w, officer, **over):
    kwargs = {"source_kind": "manual", "maker_id": w["maker"].pk,
              "category_code": "electrical.cable", "lot": LOT,
              "reason": "监督抽查发现该批次导体电阻不合格。",
              "now": OPENED - dt.timedelta(days=3)} | over
    return services.recall_propose(actor=officer, **kwargs)


@pytest.fixture
def proposed(chain, xian_officer):
    return propose(chain, xian_officer)


@pytest.fixture
def opened(chain, proposed, xian_officer):
    return services.recall_open(actor=xian_officer, recall_id=proposed.pk, severity="1",
                                now=OPENED)


def items_of(recall):
    return [(i.tier, i.place, i.kind, i.listed, i.uom, i.holder.name if i.holder else None)
            for i in recall.items.order_by("tier", "place", "identifier", "kind")]


def item_at(recall, place) -> RecallItem:
    return recall.items.get(place=place)


def snapshot():
    return {
        "recalls": list(Recall.objects.order_by("pk").values()),
        "items": list(RecallItem.objects.order_by("pk").values()),
        "notices": list(RecallNotice.objects.order_by("pk").values()),
        "updates": RecallItemUpdate.objects.count(),
        "audit": AuditEntry.objects.count(),
        "outbox": OutboxEvent.objects.count(),
    }


# --- opening ----------------------------------------------------------------------------------

def test_opening_lists_every_holder_and_location_and_notifies_the_firms(opened, chain):
    w = chain
    r = Recall.objects.get(pk=opened.pk)
    assert r.status == "open" and r.severity == "1"
    assert r.opened_at == OPENED
    # 3 working days to acknowledge, 20 (level 1) to complete, from Monday 20 July 2026.
    assert r.due_on == dt.date(2026, 8, 17)
    assert r.rule_version.startswith(
        "recall.acknowledge_working_days@2017-01-01+recall.completion_working_days@2017-01-01/")
    assert items_of(r) == [
        (0, MAKER_PLANT, "held", D("1000"), "MTR", w["maker"].name),
        (1, DISTR_WH, "received", D("800"), "MTR", w["distributor"].name),
        (1, METRO_DEPOT, "received", D("200"), "MTR", w["metro"].name),
        (2, CONTR_P, "shipped_to", D("500"), "MTR", w["contractor"].name),
        # installed at the metro's stations: the metro holds them, whoever laid the cable
        (3, S1, "installed", D("300"), "MTR", w["metro"].name),
        (3, S2, "installed", D("200"), "MTR", w["metro"].name),
    ]
    assert set(r.items.values_list("identifier", flat=True)) == {batch()}
    assert r.items.get(place=S1).place_ref == w["places"][S1]
    notices = sorted((n.role, n.addressee.name, n.due_on, n.acknowledged_at)
                     for n in r.notices.all())
    assert notices == sorted([
        ("maker", w["maker"].name, dt.date(2026, 7, 23), None),
        ("holder", w["distributor"].name, dt.date(2026, 7, 23), None),
        ("holder", w["contractor"].name, dt.date(2026, 7, 23), None),
        ("holder", w["metro"].name, dt.date(2026, 7, 23), None),
    ])
    from zhijian.traceability import tracing

    assert r.impact_digest == services.impact_digest(tracing.impact(start=[batch()]))
    assert len(r.impact_digest) == 64 and r.impact_truncated is False
    assert OutboxEvent.objects.filter(name="recall.opened").get().payload == {
        "recall": r.pk, "number": r.number, "maker": w["maker"].pk,
        "department": w["departments"]["xian"].pk, "severity": "1", "items": 6,
        "notices": 4}
    assert AuditEntry.objects.filter(action="recall.opened", object_id=str(r.pk)).count() == 1


def test_covering_finds_open_and_completed_recalls_only(opened, chain, xian_officer):
    other = propose(chain, xian_officer, lot="C2026-99")
    assert list(Recall.objects.covering([batch(), "https://id.gs1.org/01/x"])) == [opened]
    assert list(Recall.objects.covering([batch("C2026-99")])) == []  # proposed: not yet
    assert list(Recall.objects.covering([])) == []
    services.recall_dismiss(actor=xian_officer, recall_id=other.pk,
                            reason="复检合格，不需要召回。")
    assert list(Recall.objects.covering([batch("C2026-99")])) == []


def test_who_may_open(proposed, chain, baoji_officer, xian_housing_officer, admin_user,
                      enterprise_user, province_officer):
    before = snapshot()
    for who, error in ((baoji_officer, "404"), (xian_housing_officer, "404"),
                       (enterprise_user, "404"), (admin_user, Denied)):
        if error == "404":
            from django.http import Http404

            with pytest.raises(Http404):
                services.recall_open(actor=who, recall_id=proposed.pk, severity="1")
        else:
            with pytest.raises(Denied):
                services.recall_open(actor=who, recall_id=proposed.pk, severity="1")
    assert snapshot() == before
    # The province is above Xi'an: it may act.
    services.recall_open(actor=province_officer, recall_id=proposed.pk, severity="2",
                         now=OPENED)
    assert Recall.objects.get(pk=proposed.pk).due_on == dt.date(2026, 9, 14)  # 40 days


def test_opening_refuses_bad_input_and_changes_nothing(proposed, xian_officer):
    before = snapshot()
    with pytest.raises(ValidationError) as bad:
        services.recall_open(actor=xian_officer, recall_id=proposed.pk, severity="4",
                             reason="短", gtin="123")
    assert set(bad.value.message_dict) == {"severity", "reason", "gtin"}
    with pytest.raises(ValidationError) as other:
        services.recall_open(actor=xian_officer, recall_id=proposed.pk, severity="1",
                             gtin="9520200000026")
    assert other.value.message_dict == {"gtin": [f"This recall is of GTIN {GTIN}."]}
    assert snapshot() == before


def test_a_recall_without_gtin_is_given_one_when_opened(chain, xian_officer):
    w = chain
    w["product"].gtin = ""
    w["product"].save()
    recall = propose(w, xian_officer)
    assert recall.gtin == "" and not recall.batches.exists()
    with pytest.raises(ValidationError) as bad:
        services.recall_open(actor=xian_officer, recall_id=recall.pk, severity="1")
    assert list(bad.value.message_dict) == ["gtin"]
    services.recall_open(actor=xian_officer, recall_id=recall.pk, severity="1", gtin=GTIN,
                         now=OPENED)
    recall.refresh_from_db()
    assert recall.gtin == GTIN
    assert list(recall.batches.values_list("identifier", flat=True)) == [batch()]
    assert recall.items.count() == 6


def test_transitions_follow_the_table(opened, xian_officer):
    with pytest.raises(ValidationError) as e:
        services.recall_open(actor=xian_officer, recall_id=opened.pk, severity="1")
    assert list(e.value.message_dict) == ["status"]
    with pytest.raises(ValidationError):
        services.recall_dismiss(actor=xian_officer, recall_id=opened.pk,
                                reason="已启动的召回不能不予召回。")


# --- dismissal --------------------------------------------------------------------------------

def test_dismissal(proposed, xian_officer):
    before = snapshot()
    with pytest.raises(ValidationError) as short:
        services.recall_dismiss(actor=xian_officer, recall_id=proposed.pk, reason="不")
    assert list(short.value.message_dict) == ["reason"]
    assert snapshot() == before
    r = services.recall_dismiss(actor=xian_officer, recall_id=proposed.pk,
                                reason="复检合格，原检测报告已撤销。", now=OPENED)
    assert (r.status, r.dismissal_reason, r.dismissed_at, r.dismissed_by) == (
        "dismissed", "复检合格，原检测报告已撤销。", OPENED, xian_officer)
    assert OutboxEvent.objects.filter(name="recall.dismissed").count() == 1
    with pytest.raises(ValidationError):
        services.recall_open(actor=xian_officer, recall_id=proposed.pk, severity="1")


# --- notices ----------------------------------------------------------------------------------

def test_acknowledgement(opened, chain, enterprise_user, user_unit_user, xian_officer):
    w = chain
    maker_notice = opened.notices.get(role="maker")
    metro_notice = opened.notices.get(user_unit=w["metro"])
    before = snapshot()
    from django.http import Http404

    for who, notice in ((xian_officer, metro_notice), (enterprise_user, metro_notice)):
        with pytest.raises(Denied):  # they see it (the maker sees every notice)
            services.notice_acknowledge(actor=who, notice_id=notice.pk)
    for who, notice in ((user_unit_user, maker_notice),
                        (w["contractor_user"], metro_notice)):
        with pytest.raises(Http404):  # not addressed to them: not even visible
            services.notice_acknowledge(actor=who, notice_id=notice.pk)
    assert snapshot() == before
    at = OPENED + dt.timedelta(days=1)
    n = services.notice_acknowledge(actor=enterprise_user, notice_id=maker_notice.pk, now=at)
    assert (n.acknowledged_at, n.acknowledged_by) == (at, enterprise_user)
    with pytest.raises(ValidationError) as again:
        services.notice_acknowledge(actor=enterprise_user, notice_id=maker_notice.pk)
    assert again.value.message_dict == {
        "notice": ["This notice was already acknowledged on 2026-07-21."]}


# --- progress ---------------------------------------------------------------------------------

def update(actor, item, status, **q):
    return services.item_update(actor=actor, item_id=item.pk, status=status, **q)


def test_progress_goes_forward_within_the_quantities(opened, chain, user_unit_user):
    depot = item_at(opened, METRO_DEPOT)
    before = snapshot()
    cases = [
        ({"status": "located", "located": "250"}, {"located"}),   # more than listed
        ({"status": "removed", "located": "100", "removed": "150"}, {"removed"}),
        ({"status": "located", "located": "0"}, {"located"}),
        ({"status": "located", "located": "-1"}, {"located"}),
        ({"status": "located", "located": "1.0005"}, {"located"}),
        ({"status": "located", "located": "abc"}, {"located"}),
        ({"status": "bogus", "located": "10"}, {"status"}),
        ({"status": "located", "located": "100", "removed": "50"}, {"status"}),
        ({"status": "replaced", "located": "100", "removed": "100", "replaced": "60"},
         {"replaced"}),
        ({"status": "destroyed", "located": "100", "removed": "100", "replaced": "100"},
         {"destroyed"}),
        ({"status": "not_found"}, {"note"}),
        ({"status": "removed", "located": "100", "removed": "100", "replaced": "70",
          "destroyed": "40"}, {"replaced"}),
    ]
    for kwargs, fields in cases:
        status = kwargs.pop("status")
        with pytest.raises(ValidationError) as bad:
            update(user_unit_user, depot, status, **kwargs)
        assert set(bad.value.message_dict) == fields, (status, kwargs)
    assert snapshot() == before

    t1 = OPENED + dt.timedelta(days=1)
    item = services.item_update(actor=user_unit_user, item_id=depot.pk, status="located",
                                located="200", note="物资库清点全部在库。", now=t1)
    assert (item.status, item.located, item.updated_at) == ("located", D("200"), t1)
    with pytest.raises(ValidationError) as back:
        update(user_unit_user, item, "listed")
    assert list(back.value.message_dict) == ["status"]
    with pytest.raises(ValidationError) as lower:
        update(user_unit_user, item, "removed", located="150", removed="100")
    assert lower.value.message_dict == {
        "located": ["Progress does not go back: 200 was already recorded."]}
    with pytest.raises(ValidationError) as same:
        update(user_unit_user, item, "located")
    assert list(same.value.message_dict) == ["status"]
    update(user_unit_user, item, "removed", removed="200")
    item = update(user_unit_user, item, "destroyed", replaced="50", destroyed="150",
                  note="150米已销毁，50米更换为合格电缆。")
    assert (item.status, item.located, item.removed, item.replaced, item.destroyed) == (
        "destroyed", D("200"), D("200"), D("50"), D("150"))
    assert list(item.updates.values_list("status_before", "status")) == [
        ("listed", "located"), ("located", "removed"), ("removed", "destroyed")]
    with pytest.raises(ValidationError) as closed:
        update(user_unit_user, item, "destroyed", destroyed="151")
    assert list(closed.value.message_dict) == ["status"]
    assert AuditEntry.objects.filter(action="recall.item_updated").count() == 3
    assert OutboxEvent.objects.filter(name="recall.item_updated").count() == 3


def test_closing_short_of_the_listed_quantity_needs_a_note(opened, chain):
    w = chain
    wh = item_at(opened, DISTR_WH)
    actor = w["distributor_user"]
    with pytest.raises(ValidationError) as bad:
        update(actor, wh, "destroyed", located="300", removed="300", destroyed="300")
    assert list(bad.value.message_dict) == ["note"]
    item = update(actor, wh, "destroyed", located="300", removed="300", destroyed="300",
                  note="其余500米已发往下游施工单位。")
    assert item.status == "destroyed"
    cp = item_at(opened, CONTR_P)
    item = update(w["contractor_user"], cp, "not_found", note="已全部敷设于两座车站，见安装记录。")
    assert item.status == "not_found"


def test_who_records_progress(opened, chain, enterprise_user, user_unit_user, xian_officer,
                              baoji_officer, admin_user):
    w = chain
    s1 = item_at(opened, S1)
    wh = item_at(opened, DISTR_WH)
    before = snapshot()
    from django.http import Http404

    # The maker sees every item but updates only its own (and unregistered ones).
    with pytest.raises(Denied):
        update(enterprise_user, s1, "located", located="1")
    # Baoji sees the recall (the distributor's warehouse is in Baoji) but does not act.
    with pytest.raises(Denied):
        update(baoji_officer, s1, "located", located="1")
    with pytest.raises(Denied):
        update(admin_user, s1, "located", located="1")
    # Another holder does not even see the metro's item.
    with pytest.raises(Http404):
        update(w["distributor_user"], s1, "located", located="1")
    with pytest.raises(Http404):
        update(user_unit_user, wh, "located", located="1")
    assert snapshot() == before
    update(user_unit_user, s1, "located", located="300")
    update(xian_officer, s1, "removed", removed="300")  # the department may record too
    assert item_at(opened, S1).status == "removed"


def test_the_maker_records_for_holders_not_on_the_platform(chain, xian_officer,
                                                           enterprise_user, user_unit_user):
    w = chain
    # The distributor ships 100 m to a firm and site nobody registered.
    capture.capture_document(actor=w["distributor_user"], raw=document(
        event(20, 6, "shipping", 100, disposition="in_transit",
              src=[("owning_party", DISTR_P)],
              dst=[("owning_party", UNKNOWN_FIRM), ("location", UNKNOWN_SITE)])))
    recall = services.recall_open(actor=xian_officer, recall_id=propose(w, xian_officer).pk,
                                  severity="3", now=OPENED)
    site = item_at(recall, UNKNOWN_SITE)
    assert (site.tier, site.kind, site.party, site.listed) == (
        2, "shipped_to", UNKNOWN_FIRM, D("100"))
    assert site.place_ref is None and site.holder is None
    from django.http import Http404

    with pytest.raises(Http404):  # not theirs: other holders do not see it
        update(w["distributor_user"], site, "located", located="1")
    with pytest.raises(Http404):
        update(user_unit_user, site, "located", located="1")
    item = update(enterprise_user, site, "not_found",
                  note="收货单位未在平台登记，已电话联系未果。")
    assert item.status == "not_found"


# --- completion -------------------------------------------------------------------------------

def close_all(recall, w, *, skip=()):
    who = {w["maker"].pk: w["maker_user"], w["distributor"].pk: w["distributor_user"],
           w["contractor"].pk: w["contractor_user"]}
    for item in recall.items.order_by("tier", "place"):
        if item.place in skip:
            continue
        actor = who.get(item.holder_entity_id) or w["metro_user"]
        update(actor, item, "destroyed", located=str(item.listed), removed=str(item.listed),
               destroyed=str(item.listed))


def test_the_recall_completes_when_the_last_item_closes(opened, chain):
    close_all(opened, chain, skip=(S2,))
    assert Recall.objects.get(pk=opened.pk).status == "open"
    last = item_at(opened, S2)
    update(chain["metro_user"], last, "replaced", located="200", removed="200",
           replaced="200")
    r = Recall.objects.get(pk=opened.pk)
    assert r.status == "completed" and r.completed_by == chain["metro_user"]
    with translation.override("zh-hans"):  # stored in the site's language
        assert r.completion_note == str(services.ALL_CLOSED)
    assert OutboxEvent.objects.filter(name="recall.completed").get().payload["open_items"] == 0
    with pytest.raises(ValidationError):
        update(chain["metro_user"], item_at(opened, S1), "destroyed", destroyed="300")


def test_explicit_completion(opened, xian_officer, baoji_officer):
    with pytest.raises(Denied):
        services.recall_complete(actor=baoji_officer, recall_id=opened.pk,
                                 note="宝鸡不能完成西安的召回。")
    with pytest.raises(ValidationError) as bad:
        services.recall_complete(actor=xian_officer, recall_id=opened.pk)
    assert bad.value.message_dict == {"note": [
        "6 items are still open: say in the note why the recall ends now."]}
    r = services.recall_complete(actor=xian_officer, recall_id=opened.pk,
                                 note="生产者已破产，剩余产品由属地监管部门跟踪处置。",
                                 now=OPENED + dt.timedelta(days=30))
    assert r.status == "completed"
    assert OutboxEvent.objects.filter(name="recall.completed").get().payload["open_items"] == 6


# --- refresh ----------------------------------------------------------------------------------

def test_refresh_adds_what_was_captured_since_and_keeps_progress(opened, chain, xian_officer,
                                                                 user_unit_user):
    w = chain
    update(user_unit_user, item_at(opened, S1), "removed", located="300", removed="300")
    digest = opened.impact_digest
    # The contractor records late: 50 m more at S1, and 100 m at a site nobody registered.
    capture.capture_document(actor=w["contractor_user"], raw=document(
        event(21, 6, "installing", 50, where=S1, disposition="in_progress"),
        event(22, 6, "installing", 100, where=UNKNOWN_SITE, disposition="in_progress")))
    services.recall_refresh(actor=xian_officer, recall_id=opened.pk,
                            now=OPENED + dt.timedelta(days=2))
    r = Recall.objects.get(pk=opened.pk)
    s1 = item_at(r, S1)
    assert (s1.listed, s1.located, s1.removed, s1.status) == (
        D("350"), D("300"), D("300"), "removed")
    assert item_at(r, UNKNOWN_SITE).listed == D("100")
    assert r.items.count() == 7 and r.notices.count() == 4
    assert r.impact_digest != digest
    assert OutboxEvent.objects.filter(name="recall.refreshed").get().payload == {
        "recall": r.pk, "number": r.number, "items": 1, "notices": 0}
    with pytest.raises(Denied):
        services.recall_refresh(actor=user_unit_user, recall_id=opened.pk)


# --- correction rate --------------------------------------------------------------------------

def test_correction_rate_by_level(opened, chain, user_unit_user):
    """The worked example of docs/recalls.md."""
    w = chain
    update(user_unit_user, item_at(opened, METRO_DEPOT), "destroyed", located="200",
           removed="200", destroyed="150", replaced="50")
    update(w["distributor_user"], item_at(opened, DISTR_WH), "removed", located="300",
           removed="300")
    update(user_unit_user, item_at(opened, S1), "replaced", located="300", removed="300",
           replaced="300")
    rows = [(r.tier, r.uom, r.listed, r.removed, r.removal_rate, r.corrected,
             r.correction_rate, r.closed, r.items)
            for r in RecallItem.objects.filter(recall=opened).rates()]
    assert rows == [
        (0, "MTR", D("1000"), D("0"), D("0.0"), D("0"), D("0.0"), 0, 1),
        (1, "MTR", D("1000"), D("500"), D("50.0"), D("200"), D("20.0"), 1, 2),
        (2, "MTR", D("500"), D("0"), D("0.0"), D("0"), D("0.0"), 0, 1),
        (3, "MTR", D("500"), D("300"), D("60.0"), D("300"), D("60.0"), 1, 2),
        (None, "MTR", D("3000"), D("800"), D("26.7"), D("500"), D("16.7"), 2, 6),
    ]
