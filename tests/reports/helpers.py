"""Issue real, signed reports for tests of other modules (sampling, procurement, credit):
everything goes through the report services, with a key the platform holds for the lab."""

from __future__ import annotations

import datetime as dt
import itertools
from decimal import Decimal

from django.utils import timezone

from tests import factories as f
from zhijian.accounts.models import Role, User
from zhijian.registry.models import AccreditationScope
from zhijian.reports import services
from zhijian.reports.models import Calibration, Instrument, LabKey

_numbers = itertools.count(1)

DEFAULT_ITEMS = [
    {"parameter": "导体电阻", "requirement": "≤1.83 Ω/km", "measured": "1.79", "unit": "Ω/km",
     "verdict": "pass"},
    {"parameter": "绝缘厚度", "requirement": "≥0.7 mm", "measured": "0.74", "unit": "mm",
     "verdict": "pass"},
]
FAILING_ITEMS = [
    {"parameter": "导体电阻", "requirement": "≤1.83 Ω/km", "measured": "2.41", "unit": "Ω/km",
     "verdict": "fail"},
    {"parameter": "绝缘厚度", "requirement": "≥0.7 mm", "measured": "0.74", "unit": "mm",
     "verdict": "pass"},
]


def lab_signer(lab):
    """The lab's signing user (created once)."""
    user = User.objects.filter(role=Role.LAB, lab=lab).first()
    return user or f.UserFactory(username=f"lab-signer-{lab.pk}", role=Role.LAB, lab=lab)


def ready_lab(lab, standard, *, day: dt.date | None = None):
    """Accreditation for the standard, a calibrated instrument and a platform-held key."""
    day = day or timezone.localdate()
    signer = lab_signer(lab)
    if not AccreditationScope.objects.valid_on(day).filter(lab=lab, standard=standard).exists():
        AccreditationScope.objects.create(lab=lab, standard=standard, parameter="",
                                          valid_from=day - dt.timedelta(days=3 * 365))
    instrument = Instrument.objects.filter(lab=lab).first()
    if instrument is None:
        instrument = Instrument.objects.create(lab=lab, name="直流电阻测试仪", model="ZX-1",
                                               serial_number=f"SN-{lab.pk}-1")
        Calibration.objects.create(instrument=instrument, certificate_number=f"JZ-{lab.pk}-1",
                                   calibrated_by="陕西省计量科学研究院",
                                   calibrated_on=day - dt.timedelta(days=200),
                                   valid_until=day + dt.timedelta(days=165))
    if not LabKey.objects.filter(lab=lab, custody="platform", retired_at__isnull=True).exists():
        services.key_generate_custodial(actor=signer, lab_id=lab.pk)
    return signer, instrument


def issue_report(*, lab, producer, category, standard, batch="B1", quantity=Decimal("1000"),
                 unit="m", conclusion="pass", sample=None, kind=None, actor=None, items=None,
                 number=None, issued_on=None, supersedes=None):
    day = issued_on or timezone.localdate()
    signer, instrument = ready_lab(lab, standard, day=day)
    actor = actor or signer
    items = items or (FAILING_ITEMS if conclusion == "fail" else DEFAULT_ITEMS)
    report = services.report_draft(
        actor=actor,
        data={"number": number or f"T{day:%Y}-{next(_numbers):05d}",
              "kind": kind or ("supervisory" if sample is not None else "commissioned"),
              "sample": sample, "producer": producer, "category": category,
              "product_name": "聚氯乙烯绝缘电缆", "model": "BV 2.5", "batch": batch,
              "quantity_covered": Decimal(quantity), "unit": unit, "standard": standard,
              "received_on": day - dt.timedelta(days=5), "tested_from": day - dt.timedelta(days=4),
              "tested_to": day - dt.timedelta(days=1), "conclusion": conclusion,
              "authorised_by": "王工", "supersedes": supersedes},
        items=items, instrument_ids=[instrument.pk], today=day)
    return services.report_issue(actor=actor, report_id=report.pk, today=day)
