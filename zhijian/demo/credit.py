"""The demo's quality credit (MISSION M3.4: "the data existed but decided nothing. Here it
decides"; docs/credit.md, docs/demo.md).

Runs last, after the recall (recall.py), with the platform's services only:

* The cable maker's earlier record has been feeding the platform all along: its failed
  supervisory sample, the recall of HC-2026-0815 and the random inspections became
  credit records through the domain events as the story ran.
* The Xi'an and Yanta bureaus register the maker's three earlier penalty decisions, each
  with its decision document — one of them, heavier, for forged quality-inspection
  certificates. Each re-rates the maker at once (class D: a heavier penalty and the
  failures); the heavier penalty meets a list criterion, so the platform proposes
  listing the maker as seriously dishonest.
* The Yanta district bureau, the market supervision department of the maker's county,
  serves the notice; the maker objects; the bureau lists it with its reasons. The listing is public on the maker's credit report and the joint punishment
  measures the departments declared apply.
* The power utility opens a qualified-supplier list for cable and puts the maker forward:
  refused, and the credit check is kept with the decision. A tendering platform, with
  its own read token, checks the maker's bid on a metro tender: refused too.
* The honest cable maker signs its credit commitment and receives a provincial quality
  award; the nightly batch rates every firm of the province.

Idempotent: what is already there (a penalty by its decision number, the list case, the
token, the checks) is left as it is.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from decimal import Decimal

from django.core.exceptions import ValidationError
from django.core.files.uploadedfile import SimpleUploadedFile
from django.utils import timezone
from django.utils.html import escape

from zhijian.accounts.models import User
from zhijian.core import events
from zhijian.credit.choices import BlacklistStatus, CheckContext, CommitmentOccasion
from zhijian.credit.models import (
    BlacklistEntry,
    Commitment,
    CreditCheck,
    CreditRecord,
    ServiceToken,
)
from zhijian.credit.services import blacklist, measures, rating, records
from zhijian.credit.tokens import token_create
from zhijian.procurement import services as procurement
from zhijian.procurement.models import SupplierList
from zhijian.registry.models import Department, MarketEntity, ProductCategory

from . import plan

#: The maker's earlier penalty decisions (fictional numbers): (department code, number,
#: date, violation, legal basis, fine, heavy).
PENALTIES = [
    ("610113-market", "雁市监罚〔2025〕0312号", dt.date(2025, 4, 18),
     "生产销售的BV 2.5 mm²聚氯乙烯绝缘电线绝缘厚度不符合GB/T 5023.3-2008规定，"
     "经监督抽查判定不合格。",
     "《中华人民共和国产品质量法》第十三条、第四十九条", Decimal("48000.00"), False),
    ("610100-market", "西市监罚〔2026〕0056号", dt.date(2026, 2, 27),
     "向用户单位交付电力电缆时随货提供伪造的产品质量检验合格证明和检验报告，"
     "并在产品上冒用认证标志。",
     "《中华人民共和国产品质量法》第二十七条、第五十三条", Decimal("200000.00"), True),
    ("610113-market", "雁市监罚〔2026〕0418号", dt.date(2026, 6, 10),
     "出厂电缆产品标识未标注执行标准编号和生产日期，不符合产品标识规定。",
     "《中华人民共和国产品质量法》第二十七条、第五十四条", Decimal("12000.00"), False),
]
OBJECTION = ("我公司对伪造检验合格证明一事负有管理责任，但相关证明系原销售人员个人所为，"
             "公司已解除其劳动合同并全面整改，请求不予列入严重违法失信名单。")
DECISION = ("当事人在十二个月内因伪造产品质量检验合格证明受到较重行政处罚（西市监罚〔2026〕0056号），"
            "此后其产品在监督抽查中仍不合格并被责令召回，性质恶劣、情节严重；当事人所述"
            "“个人行为”不能免除其作为生产者的责任，申辩理由不成立。依据《市场监督管理严重"
            "违法失信名单管理办法》，决定将其列入严重违法失信名单。")
BUILDING_WIRE = "electrical.cable.building_wire"
TENDER_PLATFORM = "陕西省公共资源交易平台（演示）"
TENDER_BID = "XAMT-2026-ZB-0931-07"


def _document(number: str, entity: MarketEntity, violation: str, basis: str) -> SimpleUploadedFile:
    """The decision document as a PDF (synthetic text: the demo's own)."""
    from zhijian.reports.pdf import html_to_pdf

    html = (f"<html><body style='font-family: \"Noto Sans CJK SC\", sans-serif'>"
            f"<h1 style='text-align:center'>行政处罚决定书</h1>"
            f"<p style='text-align:right'>{escape(number)}</p>"
            f"<p>当事人：{escape(entity.name)}</p><p>统一社会信用代码：{entity.uscc}</p>"
            f"<p>违法事实：{escape(violation)}</p><p>处罚依据：{escape(basis)}</p>"
            f"<p>（演示数据，虚构文书）</p></body></html>")
    return SimpleUploadedFile(f"{number}.pdf", html_to_pdf(html),
                              content_type="application/pdf")


def _settle() -> None:
    """Let the subscribers (records, re-rating, list proposals) catch up, whatever the
    outbox mode; events their handlers publish are drained too."""
    while events.drain():
        pass


def _user(username: str) -> User:
    return User.objects.get(username=username)


def credit_build(*, seed: int, log: Callable[[str], None] = lambda _m: None) -> dict:
    admin = _user("admin")
    xian, yanta = _user("xian"), _user("yanta")
    maker = MarketEntity.objects.get(name=plan.STORY["maker"]["name"])
    maker_user = User.objects.filter(entity=maker, role="enterprise").first()
    now = timezone.now()
    today = timezone.localdate(now)
    out = {}

    # Measures first, so that the listing decides something at once: the provincial
    # departments declare them for the whole province.
    made = measures.measures_seed(admin, Department.objects.filter(division_id="610000"),
                                  on=dt.date(2021, 9, 1))
    out["measures"] = len(made)

    officers = {"610113-market": yanta, "610100-market": xian}
    for code, number, day, violation, basis, fine, heavy in PENALTIES:
        if maker.penalties.filter(decision_number=number).exists():
            continue
        records.penalty_record(
            actor=officers[code], entity_id=maker.pk, decision_number=number, decided_on=day,
            violation=violation, legal_basis=basis, fine=fine, heavy=heavy,
            department_id=Department.objects.get(code=code).pk,
            document=_document(number, maker, violation, basis))
    out["penalties"] = maker.penalties.count()
    _settle()

    entry = BlacklistEntry.objects.filter(entity=maker).order_by("-id").first()
    if entry is None:
        entry = blacklist.blacklist_propose(entity=maker)
    if entry is not None and entry.status == BlacklistStatus.PROPOSED:
        entry = blacklist.blacklist_notice(entry_id=entry.pk, actor=yanta)
    if entry is not None and entry.status == BlacklistStatus.NOTICED:
        if not entry.objection_at and maker_user is not None:
            entry = blacklist.objection_file(entry_id=entry.pk, text=OBJECTION, actor=maker_user)
        entry = blacklist.blacklist_decide(entry_id=entry.pk, listed=True, reasons=DECISION,
                                           actor=yanta)
    out["listed"] = bool(entry and entry.status == BlacklistStatus.LISTED)
    _settle()

    # The power utility opens a list for building wires and puts the maker forward:
    # refused, and the check is kept with the decision.
    power = _user("power")
    wires = ProductCategory.objects.get(code=BUILDING_WIRE)
    if not SupplierList.objects.filter(user_unit=power.user_unit, category=wires).exists():
        sl = procurement.supplier_list_create(actor=power, category_id=wires.pk)
        try:
            procurement.supplier_add(actor=power, list_id=sl.pk, entity_id=maker.pk,
                                     note="2027年度建筑用电线合格供方评审")
        except ValidationError:
            pass  # refused: the check stays stored with the decision
    # A tendering platform checks the maker's bid through the credit API.
    token = ServiceToken.objects.filter(name=TENDER_PLATFORM).first()
    if token is None:
        token, _key = token_create(actor=admin, name=TENDER_PLATFORM,
                                   contact="交易平台信用核查接口", today=today)
    if not CreditCheck.objects.filter(token=token, reference=TENDER_BID).exists():
        measures.credit_check(uscc=maker.uscc, context=CheckContext.TENDER,
                              reference=TENDER_BID, token=token)
    out["checks"] = CreditCheck.objects.filter(entity=maker).count()

    # A distributor signs its credit commitment (public, on its credit report).
    distributor = User.objects.filter(username="distributor").first()
    if distributor is not None and not Commitment.objects.filter(
            entity_id=distributor.entity_id).exists():
        records.commitment_sign(actor=distributor, occasion=CommitmentOccasion.REGISTRATION,
                                signatory=distributor.entity.legal_representative)
    # The honest maker: a provincial quality award, entered with its certificate.
    honest = MarketEntity.objects.get(name=plan.STORY["honest_maker"]["name"])
    if not CreditRecord.objects.filter(entity=honest, kind="award").exists():
        records.record_enter(
            actor=_user("province"), entity_id=honest.pk, kind="award",
            date=dt.date(2026, 9, 20), public=True,
            summary="陕西省质量奖提名奖（演示）：电力电缆全过程质量追溯体系。",
            evidence=SimpleUploadedFile("award.pdf", _award_pdf(honest),
                                        content_type="application/pdf"))

    _settle()
    result = rating.ratings_rerate_all(on=today)
    _settle()
    out["rated"] = result
    log(f"quality credit: {out['penalties']} penalties of the story maker, "
        f"listed: {'yes' if out['listed'] else 'no'}, {out['checks']} credit checks of it, "
        f"{out['measures']} measures declared; nightly batch: {result.entities} firms rated, "
        f"{result.class_changed} classes changed")
    return out


def _award_pdf(entity: MarketEntity) -> bytes:
    from zhijian.reports.pdf import html_to_pdf

    return html_to_pdf(
        "<html><body style='font-family: \"Noto Sans CJK SC\", sans-serif'>"
        f"<h1>陕西省质量奖提名奖</h1><p>{escape(entity.name)}</p>"
        "<p>（演示数据，虚构证书）</p></body></html>")
