"""A sampling world: the Xi'an market bureau's active cable plan (CJ2026-0001) with the
world lab accredited for the cable standard, a second Xi'an officer who carries samples,
a Baoji lab that is not accredited for cable and a suspended lab that is.

Times are explicit (November 2026, Beijing time), so the tests do not depend on the
clock. `issue` stands in for the reports app's issue_report when a test needs only the
issued report row and its events."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from zoneinfo import ZoneInfo

import pytest
from django.db import transaction

from tests import factories as f
from tests.reports.helpers import issue_report
from zhijian.accounts.models import Role
from zhijian.core import events
from zhijian.reports.models import Report
from zhijian.sampling import services
from zhijian.sampling.models import Disposal

TZ = ZoneInfo("Asia/Shanghai")
PLAN = "CJ2026-0001"
P1, P2, P3 = "CJ2026-0001", "CJ2026-0002", "CJ2026-0003"
S1, S2, S3, S4 = (f"CY2026-00000{i}" for i in range(1, 5))


def at(day: int, hour: int = 9, minute: int = 0) -> dt.datetime:
    return dt.datetime(2026, 11, day, hour, minute, tzinfo=TZ)


@pytest.fixture
def sworld(world):
    cable = world["categories"]["cable"]
    standard = f.StandardFactory(code="GB/T 12706.1-2020", title="额定电压1kV到35kV挤包绝缘电力电缆")
    standard.categories.set([cable])
    f.ScopeFactory(lab=world["lab"], standard=standard, valid_from=dt.date(2020, 1, 1))
    baoji_lab = f.LabFactory(division=f.division("610302"), name="宝鸡测试检测中心")
    suspended = f.LabFactory(division=f.division("610113"), name="西安停业检测中心",
                             status="suspended")
    f.ScopeFactory(lab=suspended, standard=standard, valid_from=dt.date(2020, 1, 1))
    shop = f.EntityFactory(division=f.division("610104"), name="西安测试电缆经销部")
    shop.categories.set([cable])
    return world | {"standard": standard, "baoji_lab": baoji_lab, "suspended_lab": suspended,
                    "shop": shop}


@pytest.fixture
def courier(sworld):
    """A second officer of the Xi'an market bureau, who carries samples to the lab."""
    return f.UserFactory(username="xian2", department=sworld["departments"]["xian"])


@pytest.fixture
def other_lab_user(sworld):
    return f.UserFactory(username="baojilab", role=Role.LAB, lab=sworld["baoji_lab"])


def plan_data(w, **over) -> dict:
    data = {"title": "2026年西安市电线电缆产品质量监督抽查",
            "department": w["departments"]["xian"], "division_prefixes": ["6101"],
            "online": True, "period_start": dt.date(2026, 11, 1),
            "period_end": dt.date(2026, 12, 31), "target_count": 20}
    data.update(over)
    return data


@pytest.fixture
def plan(sworld, xian_officer):
    p = services.sampling_plan_save(actor=xian_officer, data=plan_data(sworld),
                                    categories=[sworld["categories"]["cable"]])
    return services.sampling_plan_activate(actor=xian_officer, plan_id=p.pk)


def sample_data(w, **over) -> dict:
    data = {"channel": "on_site", "entity": w["xian_entity"], "producer": w["xian_entity"],
            "product_name": "电力电缆", "model": "YJV-0.6/1kV 3×95",
            "category": w["categories"]["cable"], "batch": "B2026-11",
            "quantity": Decimal("30"), "unit": "m", "place": "西安市雁塔区测试路1号成品库",
            "seal_number": "FY-0001", "sampled_at": at(2)}
    data.update(over)
    return data


def record(w, plan, officer, *, lab=None, reason="", **over):
    return services.sample_record(actor=officer, plan_id=plan.pk, data=sample_data(w, **over),
                                  lab_id=(lab or w["lab"]).pk, duplicate_reason=reason)


def deliver(sample, giver, receiver, *, day=2, seal_intact=True, seal=None):
    """giver hands the sample to receiver, who confirms receipt an hour later."""
    h = services.handover_give(actor=giver, sample_id=sample.pk, to_user_id=receiver.pk,
                               now=at(day, 11))
    return services.handover_receive(actor=receiver, handover_id=h.pk, seal_intact=seal_intact,
                                     seal_number_seen=seal or sample.seal_number,
                                     now=at(day, 12))


@pytest.fixture
def sample(sworld, plan, xian_officer):
    return record(sworld, plan, xian_officer)


@pytest.fixture
def received(sample, xian_officer, lab_user):
    deliver(sample, xian_officer, lab_user)
    sample.refresh_from_db()
    return sample


def issue(w, *, sample=None, number="BG2026-0001", conclusion="pass", issued_on=None,
          producer=None, batch=None, lab=None, drain=True) -> Report:
    """An issued supervisory report row and the events the reports app publishes with it
    ("report.issued", and "report.nonconforming" for a failure), drained at once."""
    producer = producer or (sample.producer if sample else w["xian_entity"])
    issued_on = issued_on or dt.date(2026, 11, 10)
    with transaction.atomic():
        report = Report.objects.create(
            number=number, lab=lab or (sample.lab if sample else w["lab"]), kind="supervisory",
            sample=sample, producer=producer, product_name="电力电缆",
            category=w["categories"]["cable"], batch=batch or (sample.batch if sample else "B1"),
            quantity_covered=Decimal("1000"), unit="m", standard=w["standard"],
            received_on=issued_on - dt.timedelta(days=5),
            tested_from=issued_on - dt.timedelta(days=4),
            tested_to=issued_on - dt.timedelta(days=1), issued_on=issued_on,
            conclusion=conclusion, authorised_by="李检测", status="issued",
            created_by=f.UserFactory(username="lab-signer", role=Role.LAB, lab=w["lab"]))
        payload = {"report": report.pk, "number": number, "lab": report.lab_id,
                   "kind": "supervisory", "sample": sample.pk if sample else None,
                   "producer": producer.pk, "category": report.category.code,
                   "batch": report.batch, "conclusion": conclusion}
        events.publish("report.issued", aggregate=report, payload=payload)
        if conclusion == "fail":
            events.publish("report.nonconforming", aggregate=report, payload=payload)
    if drain:
        events.drain()
    return report


def revoke(report: Report, reason="检测数据错误") -> None:
    with transaction.atomic():
        Report.objects.filter(pk=report.pk).update(status="revoked")
        events.publish("report.revoked", aggregate=report, payload={
            "report": report.pk, "number": report.number, "lab": report.lab_id,
            "producer": report.producer_id, "reason": reason})
    events.drain()


@pytest.fixture(autouse=True)
def _english():
    """Messages are asserted in the source language (the zh_Hans catalogue is the
    translators' work)."""
    from django.utils import translation

    with translation.override("en"):
        yield


@pytest.fixture(autouse=True)
def _media(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path / "media"


def fingerprint() -> dict:
    """Everything a refused write must leave as it was."""
    from zhijian.core.models import AuditEntry, OutboxEvent
    from zhijian.sampling.models import (
        Disposal,
        Handover,
        Sample,
        SamplePhoto,
        SamplingPlan,
    )

    def rows(model):
        return list(model.objects.order_by("pk").values())

    def links(name):
        through = getattr(SamplingPlan, name).through
        return sorted(through.objects.values_list(*[x.attname for x in through._meta.fields]))

    return {"plans": rows(SamplingPlan), "plan_categories": links("categories"),
            "plan_entities": links("entities"), "samples": rows(Sample),
            "handovers": rows(Handover), "photos": rows(SamplePhoto),
            "disposals": rows(Disposal), "reports": rows(Report),
            "audit_entries": AuditEntry.objects.count(),
            "outbox_events": OutboxEvent.objects.count()}


@pytest.fixture
def sgrid(sworld, xian_officer, baoji_officer, lab_user, courier):
    """P1: the Xi'an cable plan, active: S1 at the lab with a conforming report (published),
    S2 still with the sampler, S3 at the lab with a nonconforming report (published, with
    disposal D1 for the Xi'an bureau), S4 handed to the lab and not yet received.
    P2: a Xi'an steel plan, draft. P3: a Baoji steel plan, draft."""
    w = sworld
    p1 = services.sampling_plan_save(actor=xian_officer, data=plan_data(w),
                                     categories=[w["categories"]["cable"]])
    p1 = services.sampling_plan_activate(actor=xian_officer, plan_id=p1.pk)
    p2 = services.sampling_plan_save(actor=xian_officer,
                                     data=plan_data(w, title="2026年西安市钢筋监督抽查"),
                                     categories=[w["categories"]["steel"]])
    p3 = services.sampling_plan_save(
        actor=baoji_officer, data=plan_data(w, title="2026年宝鸡市钢筋监督抽查",
                                            department=w["departments"]["baoji"],
                                            division_prefixes=["6103"]),
        categories=[w["categories"]["steel"]])
    s1 = record(w, p1, xian_officer, batch="B-1", seal_number="FY-1")
    s2 = record(w, p1, xian_officer, batch="B-2", seal_number="FY-2")
    s3 = record(w, p1, xian_officer, batch="B-3", seal_number="FY-3")
    s4 = record(w, p1, xian_officer, batch="B-4", seal_number="FY-4")
    deliver(s1, xian_officer, lab_user)
    deliver(s3, xian_officer, lab_user)
    services.handover_give(actor=xian_officer, sample_id=s4.pk, to_user_id=lab_user.pk,
                           now=at(2, 11))
    reports = {}
    for s, conclusion, number in [(s1, "pass", "BG-1"), (s3, "fail", "BG-3")]:
        s.refresh_from_db()
        reports[number] = issue_report(
            lab=s.lab, producer=s.producer, category=s.category, standard=w["standard"],
            batch=s.batch, sample=s, conclusion=conclusion, number=number,
            issued_on=dt.date(2026, 11, 10))
    events.drain()
    assert [p.code for p in (p1, p2, p3)] == [P1, P2, P3]
    assert [s.code for s in (s1, s2, s3, s4)] == [S1, S2, S3, S4]
    return w | {"p1": p1, "p2": p2, "p3": p3, "s1": s1, "s2": s2, "s3": s3, "s4": s4,
                "d1": Disposal.objects.get(), "reports": reports}
