"""The demo's recall of the story batch HC-2026-0815 (MISSION: "a recall is ordered and
tracked to completion"; docs/recalls.md).

Runs after the sampling story (quality.py) and the supply chain (supply_chain.py), with
the platform's services only:

* The batch's failures have already proposed a recall: the metro's and the power
  utility's rejected deliveries (September) and the failed supervisory sample and its
  report (October) are its sources (recalls.handlers).
* 28 October: the Xi'an market supervision bureau opens it, severity level 1 (conductor
  resistance 31 % over the limit: overheating and fire). The platform traces the batch
  through the chain's events and lists every distributor, contractor, metro station and
  substation it reached, and notifies the maker and every registered holder.
* The following days: the maker, the metro company and most holders acknowledge; the metro
  company locates and removes the cable at its first stations and replaces it at one; a
  distributor destroys what it still had in stock. The recall stays open: the demo shows
  it in progress, with the correction rate by level.

Idempotent: a recall of the batch that is already open is left as it is.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from decimal import Decimal
from zoneinfo import ZoneInfo

from zhijian.accounts.models import User
from zhijian.core import events
from zhijian.recalls import services
from zhijian.recalls.choices import RecallStatus
from zhijian.recalls.models import Recall
from zhijian.registry.models import MarketEntity

from . import plan

TZ = ZoneInfo("Asia/Shanghai")
STORY_BATCH = "HC-2026-0815"
REASON = ("监督抽查检验报告ZC-JD-2026-0118判定该批次电力电缆导体电阻不合格（超出GB/T "
          "3956-2008限值31%），载流时发热加剧，存在火灾隐患；地铁和供电用户单位到货验收"
          "亦拒收该批次。责令生产者召回该批次全部产品。")


def at(day: dt.date, hour: int, minute: int = 0) -> dt.datetime:
    return dt.datetime(day.year, day.month, day.day, hour, minute, tzinfo=TZ)


def _user_of(item_or_notice) -> User | None:
    entity_id = getattr(item_or_notice, "holder_entity_id", None) or getattr(
        item_or_notice, "entity_id", None)
    unit_id = getattr(item_or_notice, "holder_unit_id", None) or getattr(
        item_or_notice, "user_unit_id", None)
    qs = User.objects.filter(is_active=True)
    if entity_id:
        qs = qs.filter(entity_id=entity_id, role="enterprise")
    elif unit_id:
        qs = qs.filter(user_unit_id=unit_id, role="user_unit")
    else:
        return None
    return qs.order_by("username").first()


def recall_build(*, seed: int, log: Callable[[str], None] = lambda _m: None) -> Recall | None:
    events.drain()  # the proposals come from the story's events (whatever the outbox mode)
    maker = MarketEntity.objects.filter(name=plan.STORY["maker"]["name"]).first()
    if maker is None:
        log("recall: the story maker is not in this database; skipped")
        return None
    recall = (Recall.objects.for_batch(maker.pk, STORY_BATCH)
              .exclude(status=RecallStatus.DISMISSED).order_by("id").first())
    if recall is None:
        log("recall: no proposal for the story batch (its failures were not recorded); "
            "skipped")
        return None
    if recall.status != RecallStatus.PROPOSED:
        log(f"recall: {recall.number} is already {recall.status}; keeping it")
        return recall
    xian = User.objects.get(username="xian")
    opened = max(at(dt.date(2026, 10, 28), 9, 30), recall.proposed_at + dt.timedelta(hours=1))
    recall = services.recall_open(actor=xian, recall_id=recall.pk, severity="1",
                                  reason=REASON, now=opened)

    # Acknowledgements: everyone but the last holder, over three days.
    notices = list(recall.notices.order_by("role", "id"))
    for n, notice in enumerate(notices[:-1] if len(notices) > 1 else notices):
        user = _user_of(notice)
        if user is not None:
            services.notice_acknowledge(actor=user, notice_id=notice.pk,
                                        now=opened + dt.timedelta(days=1 + n % 3, hours=n))

    # Progress: the metro company at its stations, a distributor with stock left.
    items = list(recall.items.select_related("place_ref").order_by("tier", "place", "id"))
    metro_items = [i for i in items if i.holder_unit_id and i.listed and i.kind in (
        "installed", "received")]
    for k, item in enumerate(metro_items[:3]):
        user = _user_of(item)
        if user is None:
            continue
        services.item_update(actor=user, item_id=item.pk, status="located",
                             located=item.listed, note="已在现场核实该批次电缆敷设位置。",
                             now=opened + dt.timedelta(days=2, hours=k))
        services.item_update(actor=user, item_id=item.pk, status="removed",
                             located=item.listed, removed=item.listed,
                             note="已停用并拆除该批次电缆。",
                             now=opened + dt.timedelta(days=3, hours=k))
        if k == 0:
            services.item_update(actor=user, item_id=item.pk, status="replaced",
                                 located=item.listed, removed=item.listed,
                                 replaced=item.listed, note="已更换为合格批次电缆并通过验收。",
                                 now=opened + dt.timedelta(days=5, hours=6))
    stock = next((i for i in items if i.tier == 1 and i.holder_entity_id and i.listed
                  and i.kind in ("received", "held")), None)
    if stock is not None:
        user = _user_of(stock)
        if user is not None:
            half = (stock.listed / 2).quantize(Decimal("0.001"))
            services.item_update(actor=user, item_id=stock.pk, status="removed",
                                 located=half, removed=half,
                                 note="库存部分已封存下架，其余已发往下游。",
                                 now=opened + dt.timedelta(days=3, hours=2))
    recall.refresh_from_db()
    log(f"recall: {recall.number} of batch {STORY_BATCH} opened by the Xi'an bureau, "
        f"{recall.items.count()} items, {recall.notices.count()} notices")
    return recall
