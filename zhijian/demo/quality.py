"""The demo's supervisory sampling, test reports and acceptance checks (MISSION M2.4, M2.5,
M3.3, M4.2): the cable story, worked end to end through the services of
`zhijian.sampling`, `zhijian.reports` and `zhijian.procurement`. No row of theirs is
written directly.

The story (docs/demo.md), autumn 2026:

* Labs record their instruments and calibrations. The story lab (渭川衡信) lets the platform
  hold its signing key; the lab the sampling department assigns (正澄) holds its own key —
  in the demo a key file under ZHIJIAN_DATA_DIR/demo-lab-keys stands for the lab's own key
  store, and reports are prepared on the platform and signed with it.
* August: the cable maker (关中汇川) commissions the story lab. Its report on batch
  HC-2026-0815 covers 2,000 m and tests insulation and sheath only — conductor resistance
  (GB/T 3956) is outside the story lab's scope, so it is simply not tested. Another
  commissioned report is superseded by a corrected one; a third is revoked by the Xi'an
  bureau in November (at build time) after a check of the lab's raw records.
* September: the maker delivers 1,500 m of HC-2026-0815 to the metro citing that report and a
  number that is not on the platform; the acceptance check rejects it (unknown report, no
  witness inspection) and the metro refers it to the competent department in one step. The
  power utility receives 1,000 m of the same batch on the same report: together the
  deliveries claim 2,500 m of a 2,000 m report (a fake-report signal), and its check
  rejects it too. The honest maker's delivery to the metro passes, with a witness
  inspection.
* October: the Xi'an bureau samples HC-2026-0815 at the maker (and buys another batch
  online, incognito); the seal and every hand-over are signed; the assigned lab finds the
  conductor resistance 31 % over the limit, reports the hazard in one click; the result is
  published, a disposal task opens for the responsible department, which opens a case; the
  maker falls off the metro's qualified-supplier list and appeals. The provincial bureau's
  own sampling of the same batch is flagged as a duplicate (mutual recognition) and its
  seal arrives broken, so no report may be issued on it.
"""

from __future__ import annotations

import datetime as dt
import hashlib
from collections.abc import Callable
from dataclasses import dataclass
from decimal import Decimal
from pathlib import Path
from zoneinfo import ZoneInfo

from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from django.conf import settings

from zhijian.accounts.models import User
from zhijian.core import events
from zhijian.procurement import services as procurement
from zhijian.procurement.models import SupplierList
from zhijian.registry.models import (
    Department,
    Lab,
    MarketEntity,
    ProductCategory,
    Standard,
    UserUnit,
)
from zhijian.reports import hazards
from zhijian.reports import services as reports
from zhijian.reports.models import Report
from zhijian.sampling import services as sampling
from zhijian.sampling.models import Disposal, Sample

from .plan import STORY

TZ = ZoneInfo("Asia/Shanghai")
POWER_CABLE = "electrical.cable.power"
PRODUCT = "交联聚乙烯绝缘聚氯乙烯护套电力电缆"
MODEL = "YJV-0.6/1kV 3×95+1×50"
STORY_BATCH = "HC-2026-0815"


def at(day: dt.date, hour: int, minute: int = 0) -> dt.datetime:
    return dt.datetime(day.year, day.month, day.day, hour, minute, tzinfo=TZ)


@dataclass
class Built:
    reports: int = 0
    samples: int = 0
    deliveries: int = 0
    accepted: int = 0
    rejected: int = 0


def exists() -> bool:
    return Report.objects.exists() or Sample.objects.exists()


# --- test items ------------------------------------------------------------------------------

def items_12706(thickness="0.92", sheath="1.82") -> list[dict]:
    return [
        {"parameter": "绝缘厚度", "requirement": "平均值≥0.90 mm", "measured": thickness,
         "unit": "mm", "verdict": "pass"},
        {"parameter": "护套厚度", "requirement": "平均值≥1.80 mm", "measured": sheath,
         "unit": "mm", "verdict": "pass"},
        {"parameter": "电压试验", "requirement": "3.5 kV/5 min 不击穿", "measured": "不击穿",
         "unit": "", "verdict": "pass"},
        {"parameter": "绝缘热延伸试验", "requirement": "负荷下伸长率≤175%", "measured": "95",
         "unit": "%", "verdict": "pass"},
    ]


def items_3956(resistance: str) -> list[dict]:
    verdict = "fail" if Decimal(resistance) > Decimal("0.193") else "pass"
    return [
        {"parameter": "导体电阻", "requirement": "20℃时≤0.193 Ω/km（95 mm² 第2种导体）",
         "measured": resistance, "unit": "Ω/km", "verdict": verdict},
        {"parameter": "导体结构", "requirement": "紧压绞合圆形导体，单线根数≥15",
         "measured": "19", "unit": "根", "verdict": "pass"},
    ]


# --- keys and instruments -------------------------------------------------------------------

def _own_key_file(seed: int, lab: Lab) -> tuple[Path, Ed25519PrivateKey]:
    """The honest lab's own key (deterministic from the seed), kept where the lab keeps it:
    here a file under the demo's data directory standing for the lab's own key store."""
    raw = hashlib.sha256(f"zhijian-demo:{seed}:lab-key:{lab.uscc}".encode()).digest()
    key = Ed25519PrivateKey.from_private_bytes(raw)
    path = Path(settings.ZHIJIAN_DATA_DIR) / "demo-lab-keys" / f"{lab.uscc}.pem"
    path.parent.mkdir(parents=True, exist_ok=True)
    if not path.exists():
        path.write_bytes(key.private_bytes(serialization.Encoding.PEM,
                                           serialization.PrivateFormat.PKCS8,
                                           serialization.NoEncryption()))
        path.chmod(0o600)
    return path, key


def _instruments(signer, lab: Lab, specs) -> list[int]:
    ids = []
    for name, model, serial, cert, start in specs:
        inst = reports.instrument_add(actor=signer, data={"name": name, "model": model,
                                                          "serial_number": serial})
        reports.calibration_add(actor=signer, instrument_id=inst.pk, data={
            "certificate_number": cert, "calibrated_by": "陕西省计量科学研究院",
            "calibrated_on": start, "valid_until": start + dt.timedelta(days=364)})
        ids.append(inst.pk)
    return ids


# --- the story -------------------------------------------------------------------------------

class Story:
    def __init__(self, seed: int, log: Callable[[str], None]):
        self.seed = seed
        self.log = log
        self.built = Built()
        self.users = {u.username: u for u in User.objects.filter(
            username__in=["admin", "province", "xian", "yanta", "enterprise", "lab", "testlab",
                          "metro", "power"])}
        self.maker = MarketEntity.objects.get(name=STORY["maker"]["name"])
        self.honest_maker = MarketEntity.objects.get(name=STORY["honest_maker"]["name"])
        self.story_lab = Lab.objects.get(name=STORY["lab"]["name"])
        self.honest_lab = Lab.objects.get(name=STORY["honest_lab"]["name"])
        self.metro = UserUnit.objects.get(name=STORY["metro"]["name"])
        self.power = UserUnit.objects.get(name=STORY["power"]["name"])
        self.cable = ProductCategory.objects.get(code=POWER_CABLE)
        self.std_12706 = Standard.objects.get(code="GB/T 12706.1-2020")
        self.std_3956 = Standard.objects.get(code="GB/T 3956-2008")
        self.product = self.maker.products.filter(model=MODEL).first()
        self.honest_product = self.honest_maker.products.filter(model=MODEL).first()

    def u(self, name: str) -> User:
        return self.users[name]

    def step(self) -> None:
        """Let the subscribers (sampling, procurement, signals) catch up, whatever the
        outbox mode, so that the next step sees their effects."""
        events.drain()

    # labs ------------------------------------------------------------------------------------
    def labs(self) -> None:
        story_signer, honest_signer = self.u("lab"), self.u("testlab")
        reports.key_generate_custodial(actor=story_signer)
        path, key = _own_key_file(self.seed, self.honest_lab)
        public_hex = key.public_key().public_bytes(serialization.Encoding.Raw,
                                                   serialization.PublicFormat.Raw).hex()
        self.honest_key = reports.key_register(actor=honest_signer, public_key_hex=public_hex)
        self.honest_private = key
        self.story_instruments = _instruments(story_signer, self.story_lab, [
            ("数显千分尺", "MDC-25", "WC-QF-0107", "JZ2026-01-0213", dt.date(2026, 1, 15)),
            ("工频耐压试验装置", "YDJ-10", "WC-NY-0032", "JZ2026-02-0871", dt.date(2026, 2, 20)),
        ])
        self.honest_instruments = _instruments(honest_signer, self.honest_lab, [
            ("直流双臂电桥", "QJ57P", "ZC-DZ-0211", "JZ2026-03-1188", dt.date(2026, 3, 10)),
            ("数显千分尺", "MDC-25", "ZC-QF-0302", "JZ2026-03-1190", dt.date(2026, 3, 10)),
            ("工频耐压试验装置", "YDJ-50", "ZC-NY-0019", "JZ2026-03-1191", dt.date(2026, 3, 10)),
        ])
        self.log("laboratories: 5 instruments with calibrations; the story lab's signing key "
                 "is held by the platform, the assigned lab holds its own")

    def _issue(self, *, lab_user: str, issued: dt.date, data: dict, items: list[dict],
               instruments: list[int], own_key: bool) -> Report:
        actor = self.u(lab_user)
        days = {"received_on": issued - dt.timedelta(days=6),
                "tested_from": issued - dt.timedelta(days=5),
                "tested_to": issued - dt.timedelta(days=2)}
        draft = reports.report_draft(
            actor=actor, data={"product_name": PRODUCT, "model": MODEL, "unit": "m",
                               "category": self.cable, "authorised_by": "授权签字人",
                               "conclusion": "pass",
                               **days, **data},
            items=items, instrument_ids=instruments, today=issued)
        if own_key:
            payload = reports.report_prepare(actor=actor, report_id=draft.pk,
                                             key_id=self.honest_key.key_id, today=issued)
            report = reports.report_sign(
                actor=actor, report_id=draft.pk,
                signature_hex=self.honest_private.sign(payload.encode("utf-8")).hex())
        else:
            report = reports.report_issue(actor=actor, report_id=draft.pk, today=issued)
        self.built.reports += 1
        self.step()
        return report

    def commissioned(self) -> None:
        common = {"kind": "commissioned", "producer": self.maker, "client": self.maker,
                  "product": self.product, "standard": self.std_12706}
        self.story_report = self._issue(
            lab_user="lab", issued=dt.date(2026, 8, 20), own_key=False,
            instruments=self.story_instruments, items=items_12706(),
            data={**common, "number": "WCHX-2026-0815", "batch": STORY_BATCH,
                  "quantity_covered": Decimal("2000"),
                  "remarks": "委托检验，样品由委托方送检。"})
        wrong = self._issue(
            lab_user="lab", issued=dt.date(2026, 7, 8), own_key=False,
            instruments=self.story_instruments, items=items_12706("0.91", "1.81"),
            data={**common, "number": "WCHX-2026-0701", "batch": "HC-2026-0701",
                  "quantity_covered": Decimal("1000")})
        self.revoke_later = wrong
        first = self._issue(
            lab_user="lab", issued=dt.date(2026, 9, 3), own_key=False,
            instruments=self.story_instruments, items=items_12706("0.94", "1.85"),
            data={**common, "number": "WCHX-2026-0902", "batch": "HC-2026-0902",
                  "quantity_covered": Decimal("1500")})
        self._issue(
            lab_user="lab", issued=dt.date(2026, 9, 10), own_key=False,
            instruments=self.story_instruments, items=items_12706("0.94", "1.85"),
            data={**common, "number": "WCHX-2026-0902-R1", "batch": "HC-2026-0902",
                  "quantity_covered": Decimal("1500"), "supersedes": first,
                  "remarks": "更正报告：原报告产品型号填写有误，本报告替代WCHX-2026-0902。"})
        self.honest_report = self._issue(
            lab_user="testlab", issued=dt.date(2026, 9, 25), own_key=True,
            instruments=self.honest_instruments, items=items_12706("0.95", "1.88"),
            data={"kind": "commissioned", "producer": self.honest_maker,
                  "client": self.honest_maker, "product": self.honest_product,
                  "standard": self.std_12706, "number": "ZC-2026-0930",
                  "batch": "CY-2026-0930", "quantity_covered": Decimal("5000")})
        self.log("test reports: commissioned reports signed (one revoked, one superseded)")

    # purchasing ------------------------------------------------------------------------------
    def supplier_lists(self) -> None:
        when = at(dt.date(2026, 6, 1), 9)
        for unit_user, makers in (("metro", (self.maker, self.honest_maker)),
                                  ("power", (self.maker,))):
            actor = self.u(unit_user)
            sl = procurement.supplier_list_create(actor=actor, category_id=self.cable.pk)
            for maker in makers:
                procurement.supplier_add(actor=actor, list_id=sl.pk, entity_id=maker.pk,
                                         note="年度合格供方评审通过", now=when)

    def deliveries(self) -> None:
        metro, power = self.u("metro"), self.u("power")
        good = procurement.delivery_record(actor=metro, data={
            "number": "CADT-2026-0412", "supplier": self.honest_maker,
            "producer": self.honest_maker, "product": self.honest_product,
            "product_name": PRODUCT, "category": self.cable, "batch": "CY-2026-0930",
            "quantity": Decimal("3000"), "unit": "m", "site": "地铁8号线 西安北站",
            "delivered_on": dt.date(2026, 10, 3)},
            report_numbers=["ZC-2026-0930"], now=at(dt.date(2026, 10, 3), 10))
        procurement.witness_record(actor=metro, delivery_id=good.pk, lab_id=self.honest_lab.pk,
                                   witness="监理工程师 周立新", witnessed_on=dt.date(2026, 10, 4),
                                   result="pass", now=at(dt.date(2026, 10, 4), 16))
        self._check(metro, good, at(dt.date(2026, 10, 5), 9))

        bad = procurement.delivery_record(actor=metro, data={
            "number": "CADT-2026-0388", "supplier": self.maker, "producer": self.maker,
            "product": self.product, "product_name": PRODUCT, "category": self.cable,
            "batch": STORY_BATCH, "quantity": Decimal("1500"), "unit": "m",
            "site": "地铁8号线 长延堡站", "delivered_on": dt.date(2026, 9, 10)},
            report_numbers=["WCHX-2026-0815", "WCHX-2026-0999"],
            now=at(dt.date(2026, 9, 10), 10))
        self.step()
        self._check(metro, bad, at(dt.date(2026, 9, 11), 9))
        procurement.delivery_refer(actor=metro, delivery_id=bad.pk,
                                   now=at(dt.date(2026, 9, 11), 11))

        other = procurement.delivery_record(actor=power, data={
            "number": "QYGD-2026-1107", "supplier": self.maker, "producer": self.maker,
            "product": self.product, "product_name": PRODUCT, "category": self.cable,
            "batch": STORY_BATCH, "quantity": Decimal("1000"), "unit": "m",
            "site": "110 kV 曲江变电站配套线路", "delivered_on": dt.date(2026, 9, 18)},
            report_numbers=["WCHX-2026-0815"], now=at(dt.date(2026, 9, 18), 10))
        self.step()
        self._check(power, other, at(dt.date(2026, 9, 19), 9))
        self.built.deliveries += 3
        self.log("deliveries: 3 (1 accepted, 2 rejected; one referred to the competent "
                 "department)")

    def _check(self, actor, delivery, when) -> None:
        check = procurement.acceptance_check(actor=actor, delivery_id=delivery.pk, now=when)
        if check.accepted:
            self.built.accepted += 1
        else:
            self.built.rejected += 1
        self.step()

    # sampling --------------------------------------------------------------------------------
    def sampling(self) -> None:
        xian = self.u("xian")
        plan = sampling.sampling_plan_save(actor=xian, data={
            "title": "2026年西安市电线电缆产品质量监督抽查",
            "department": Department.objects.get(code="610100-market"),
            "division_prefixes": ["6101"], "online": True,
            "period_start": dt.date(2026, 10, 1), "period_end": dt.date(2026, 12, 31),
            "target_count": 40}, categories=[self.cable.parent or self.cable])
        sampling.sampling_plan_activate(actor=xian, plan_id=plan.pk)
        on_site = sampling.sample_record(actor=xian, plan_id=plan.pk, lab_id=self.honest_lab.pk,
                                         data={
            "entity": self.maker, "producer": self.maker, "product": self.product,
            "product_name": PRODUCT, "model": MODEL, "category": self.cable,
            "batch": STORY_BATCH, "quantity": Decimal("10"), "unit": "m",
            "place": self.maker.address or "生产企业成品库", "seal_number": "XAJD-2026-F0118",
            "sampled_at": at(dt.date(2026, 10, 12), 10, 30), "channel": "on_site"})
        online = sampling.sample_record(actor=xian, plan_id=plan.pk, lab_id=self.honest_lab.pk,
                                        data={
            "entity": self.maker, "producer": self.maker, "product": self.product,
            "product_name": PRODUCT, "model": MODEL, "category": self.cable,
            "batch": "HC-2026-0902", "quantity": Decimal("5"), "unit": "m",
            "shop": "汇川线缆官方旗舰店", "order_number": "E20261013000871",
            "seal_number": "XAJD-2026-F0121",
            "sampled_at": at(dt.date(2026, 10, 13), 14), "channel": "online"})
        for sample, given, taken in ((on_site, at(dt.date(2026, 10, 12), 15),
                                      at(dt.date(2026, 10, 12), 16, 40)),
                                     (online, at(dt.date(2026, 10, 16), 9),
                                      at(dt.date(2026, 10, 16), 10, 15))):
            h = sampling.handover_give(actor=xian, sample_id=sample.pk,
                                       to_user_id=self.u("testlab").pk, now=given)
            sampling.handover_receive(actor=self.u("testlab"), handover_id=h.pk,
                                      seal_intact=True, seal_number_seen=sample.seal_number,
                                      now=taken)
        self.built.samples += 2
        failing = self._issue(
            lab_user="testlab", issued=dt.date(2026, 10, 20), own_key=True,
            instruments=self.honest_instruments[:1], items=items_3956("0.253"),
            data={"kind": "supervisory", "sample": Sample.objects.get(pk=on_site.pk),
                  "standard": self.std_3956, "number": "ZC-JD-2026-0118",
                  "quantity_covered": Decimal("10"), "conclusion": "fail",
                  "remarks": "导体电阻超出标准限值31%。"})
        self._issue(
            lab_user="testlab", issued=dt.date(2026, 10, 22), own_key=True,
            instruments=self.honest_instruments[:1], items=items_3956("0.189"),
            data={"kind": "supervisory", "sample": Sample.objects.get(pk=online.pk),
                  "standard": self.std_3956, "number": "ZC-JD-2026-0121",
                  "quantity_covered": Decimal("5"), "conclusion": "pass"})
        hazards.hazard_report(
            actor=self.u("testlab"), report_id=failing.pk,
            description="抽检批次HC-2026-0815电力电缆导体电阻超标31%，载流时发热加剧，存在"
                        "火灾隐患；据了解该批次已供往地铁及变电站工程使用。")
        self.step()
        disposal = Disposal.objects.filter(report=failing).select_related("department").first()
        if disposal is not None:
            officer = User.objects.filter(department=disposal.department,
                                          role="regulator").order_by("username").first()
            if officer is not None:
                sampling.disposal_decide(actor=officer, disposal_id=disposal.pk, kind="case",
                                         decision="涉嫌生产不合格产品，立案调查并责令停止销售、"
                                                  "召回同批次产品。",
                                         now=at(dt.date(2026, 10, 27), 10))
        self.log("supervisory sampling: a Xi'an plan with 2 samples (one bought online); the "
                 "story batch fails, its hazard is reported and a case opened")

    def province_duplicate(self) -> None:
        officer = self.u("province")
        plan = sampling.sampling_plan_save(actor=officer, data={
            "title": "2026年陕西省重点工程用电缆专项监督抽查",
            "department": Department.objects.get(code="610000-market"),
            "division_prefixes": ["61"], "online": False,
            "period_start": dt.date(2026, 10, 15), "period_end": dt.date(2026, 12, 15),
            "target_count": 20}, categories=[self.cable])
        sampling.sampling_plan_activate(actor=officer, plan_id=plan.pk)
        sample = sampling.sample_record(
            actor=officer, plan_id=plan.pk, lab_id=self.honest_lab.pk,
            duplicate_reason="省级专项复核：同批次电缆在地铁工地现场抽样，核实市级结论。",
            data={"entity": self.maker, "producer": self.maker, "product": self.product,
                  "product_name": PRODUCT, "model": MODEL, "category": self.cable,
                  "batch": STORY_BATCH, "quantity": Decimal("10"), "unit": "m",
                  "place": "地铁8号线 长延堡站 施工现场材料库", "seal_number": "SXJD-2026-0033",
                  "sampled_at": at(dt.date(2026, 10, 28), 10), "channel": "on_site"})
        h = sampling.handover_give(actor=officer, sample_id=sample.pk,
                                   to_user_id=self.u("testlab").pk,
                                   now=at(dt.date(2026, 10, 29), 9))
        sampling.handover_receive(actor=self.u("testlab"), handover_id=h.pk, seal_intact=False,
                                  seal_number_seen="SXJD-2026-0033",
                                  now=at(dt.date(2026, 10, 29), 11))
        self.built.samples += 1
        self.log("mutual recognition: the province's sample of the same batch is flagged as a "
                 "duplicate; its seal arrived broken, so no report can be issued on it")

    def revocation(self) -> None:
        """November: the Xi'an bureau checks the story lab's raw records and revokes a report
        whose data do not match them (a signed, public revocation)."""
        reports.report_revoke(actor=self.u("xian"), report_id=self.revoke_later.pk,
                              reason="检验原始记录与报告数据不符，经核查报告撤销。")
        self.step()
        self.log("test reports: the Xi'an bureau revoked a commissioned report of the story lab")

    def appeal(self) -> None:
        supplier = (SupplierList.objects.get(user_unit=self.metro, category=self.cable)
                    .suppliers.get(entity=self.maker))
        if supplier.standing == "removed":
            procurement.appeal_file(actor=self.u("enterprise"), supplier_id=supplier.pk,
                                    grounds="我公司已召回HC-2026-0815批次产品并完成整改，申请恢复"
                                            "合格供方资格。", now=at(dt.date(2026, 11, 2), 9))
            self.log("qualified suppliers: the cable maker fell off the metro's list after the "
                     "failed sampling and appealed")


def quality_build(*, seed: int, log: Callable[[str], None] = lambda _m: None) -> Built:
    """Build the story (skipped if the database already holds reports or samples). Each step
    is one or more service calls, each its own transaction, so that subscribers run between
    them as they would in production."""
    if exists():
        log("sampling, reports and acceptance: already in this database; keeping them")
        return Built()
    story = Story(seed, log)
    story.labs()
    story.commissioned()
    story.supplier_lists()
    story.deliveries()
    story.sampling()
    story.province_duplicate()
    story.revocation()
    story.appeal()
    story.step()
    b = story.built
    log(f"sampling, reports and acceptance: {b.reports} reports, {b.samples} samples, "
        f"{b.deliveries} deliveries ({b.accepted} accepted, {b.rejected} rejected)")
    return b
