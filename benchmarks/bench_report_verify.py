"""Benchmark: full verification of 100,000 test reports through the service, against bare
Ed25519 verification of the same bytes.

    python benchmarks/bench_report_verify.py                       # SQLite file in a temp dir
    python benchmarks/bench_report_verify.py --database-url postgres://postgres@127.0.0.1:5432/zhijian_bench
    DATABASE_URL=postgres://postgres@127.0.0.1:5432/zhijian_bench python benchmarks/bench_report_verify.py

It builds N issued reports into a fresh database, with bulk_create: 10 laboratories, each
with its own Ed25519 signing key, about 80 accreditation scope lines (whole standards and
single parameters, some expired) and 20 instruments with two calibrations each; 300
producers; per report 8 to 12 test items (rows and in the payload) and one instrument.
The signed payload is built exactly as the report services build it (RFC 8785 canonical
JSON of {"report": data, "pdf_sha256", "kid", "alg", "custody"}, the data in the shape of
services.report_data) but NO PDF IS RENDERED: pdf_sha256 is the SHA-256 of a stand-in
(verification never reads the PDF, only the digest the payload names). 1 % of the reports
are revoked, with a signed revocation statement. Then, in the same run, best of --repeat
runs of each, taking turns:

- service: zhijian.reports.services.reports_verify over every number, in chunks of 1,000
  (the access path of a user unit's acceptance check): the records in a few queries per
  chunk, then every check per report (found, signature with the stored fields compared to
  the signed ones, accreditation on the issue day for the standard and every parameter,
  lab status, calibration for the whole test, revocation, supersession);
- baseline: Ed25519 verification alone (the `cryptography` library) of the same payload
  bytes with the same keys, the keys loaded and the bytes in memory.

It prints reports/s of each and the ratio of the times. Target: >= 5,000 reports/s on
PostgreSQL. For PostgreSQL the URL names a prefix: <name>_verify is dropped, created, and
dropped again at the end (keep it with --keep).
"""

from __future__ import annotations

import argparse
import cProfile
import datetime as dt
import gc
import hashlib
import json
import os
import platform
import pstats
import random
import sqlite3
import sys
import tempfile
import time
from decimal import Decimal
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

TARGET_RATE = 5_000
CHUNK = 1_000
LABS = 10
STANDARDS = 24
PRODUCERS = 300
INSTRUMENTS_PER_LAB = 20
REVOKED_SHARE = 0.01
PARAMETERS = ["导体直流电阻（20 ℃）", "绝缘厚度平均值", "绝缘最薄处厚度", "护套厚度平均值",
              "绝缘老化前抗张强度", "绝缘老化前断裂伸长率", "护套老化前抗张强度", "成束阻燃性能",
              "电压试验（3.5 kV，5 min）", "绝缘电阻（70 ℃）", "标志耐擦性", "成品电缆外径"]
DIVISIONS = ["610113", "610102", "610302", "610402", "610502", "610602", "610702", "610802",
             "610902", "611002"]


def is_postgres(url: str | None) -> bool:
    return bool(url) and url.split(":", 1)[0] in {"postgres", "postgresql", "pgsql"}


def pg_recreate(url: str, drop_only: bool = False) -> str:
    import psycopg
    from psycopg import sql
    from psycopg.conninfo import conninfo_to_dict, make_conninfo

    params = conninfo_to_dict(url.replace("postgres://", "postgresql://", 1))
    base = params.get("dbname") or "zhijian_bench"
    params["dbname"] = "postgres"
    name = f"{base}_verify"
    with psycopg.connect(make_conninfo(**params), autocommit=True) as conn, \
            conn.cursor() as cur:
        cur.execute(sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(
            sql.Identifier(name)))
        if not drop_only:
            cur.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(name)))
    return f"{url.rpartition('/')[0]}/{name}"


def setup_django(database_url: str, workdir: Path) -> None:
    os.environ["DJANGO_SETTINGS_MODULE"] = "zhijian.config.settings"
    os.environ["DATABASE_URL"] = database_url
    os.environ["ZHIJIAN_DATA_DIR"] = str(workdir / "var")
    os.environ["ZHIJIAN_AUDIT_KEY_FILE"] = str(workdir / "var" / "audit-key.pem")
    os.environ["ZHIJIAN_DEBUG"] = "false"
    os.environ.pop("CELERY_BROKER_URL", None)
    import django

    django.setup()
    from django.core.management import call_command

    call_command("migrate", verbosity=0)


# --- building the reports ----------------------------------------------------------------------

def _key(rng: random.Random):
    from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

    return Ed25519PrivateKey.from_private_bytes(rng.randbytes(32))


def build(n: int, seed: int) -> list[tuple[str, str, str, str]]:
    """Write n issued reports; return (number, public key hex, signature hex, payload) for
    each, in creation order."""
    from django.db import connection, transaction
    from django.utils import timezone

    from zhijian.accounts.models import User
    from zhijian.core import canonical, signing
    from zhijian.core.identifiers import synthetic_uscc
    from zhijian.registry.models import (
        AccreditationScope,
        Lab,
        MarketEntity,
        ProductCategory,
        Standard,
    )
    from zhijian.reports.models import (
        Calibration,
        Instrument,
        LabKey,
        Report,
        ReportItem,
        Revocation,
    )

    rng = random.Random(seed)
    now = timezone.now()
    user = User.objects.create(username="bench", role="admin")
    category = ProductCategory.objects.create(code="electrical.cable", name="电线电缆",
                                              name_en="Wires and cables")
    standards = [Standard.objects.create(code=f"GB/T {12706 + i}.1-2020",
                                         title=f"额定电压1kV到35kV挤包绝缘电力电缆 第{i + 1}部分")
                 for i in range(STANDARDS)]
    producers = [MarketEntity(uscc=synthetic_uscc(rng, d), name=f"陕西测试{i}电缆有限公司",
                              division_id=d, legal_representative="王测试",
                              address=f"陕西省测试路{i}号")
                 for i, d in enumerate(rng.choice(DIVISIONS) for _ in range(PRODUCERS))]
    MarketEntity.objects.bulk_create(producers)
    producers = list(MarketEntity.objects.order_by("pk"))

    labs, keys, scoped, instruments = [], {}, {}, {}
    for i in range(LABS):
        lab = Lab.objects.create(name=f"陕西测试检测中心{i}", uscc=synthetic_uscc(rng, DIVISIONS[i]),
                                 division_id=DIVISIONS[i], cma_number=f"{231600000000 + i}",
                                 cnas_number=f"L{1000 + i}", address=f"陕西省检测路{i}号")
        private = _key(rng)
        raw = signing.public_raw(private)
        key = LabKey.objects.create(lab=lab, key_id=signing.key_id_for(raw), public_key=raw.hex(),
                                    custody="lab", registered_at=now, registered_by=user)
        keys[lab.pk] = (key, private)
        mine = rng.sample(standards, 8)
        scoped[lab.pk] = mine
        lines = []
        for std in mine:
            if rng.random() < 0.3:
                lines.append(AccreditationScope(lab=lab, standard=std, parameter="",
                                                valid_from=dt.date(2020, 1, 1)))
            else:
                lines += [AccreditationScope(lab=lab, standard=std, parameter=p,
                                             valid_from=dt.date(2020, 1, 1)) for p in PARAMETERS]
            # An expired line as well, as real scopes have.
            lines.append(AccreditationScope(lab=lab, standard=std, parameter="旧参数",
                                            valid_from=dt.date(2015, 1, 1),
                                            valid_to=dt.date(2019, 12, 31)))
        AccreditationScope.objects.bulk_create(lines)
        made = Instrument.objects.bulk_create(
            Instrument(lab=lab, name="直流电阻测试仪", model=f"ZX-{j}",
                       serial_number=f"SN-{i}-{j:03d}") for j in range(INSTRUMENTS_PER_LAB))
        cals = []
        for inst in made:
            cals.append(Calibration(instrument=inst, certificate_number=f"JZ{inst.pk}-2025",
                                    calibrated_by="陕西省计量科学研究院",
                                    calibrated_on=dt.date(2025, 1, 1),
                                    valid_until=dt.date(2025, 12, 31)))
            cals.append(Calibration(instrument=inst, certificate_number=f"JZ{inst.pk}-2026",
                                    calibrated_by="陕西省计量科学研究院",
                                    calibrated_on=dt.date(2026, 1, 1),
                                    valid_until=dt.date(2026, 12, 31)))
        Calibration.objects.bulk_create(cals)
        instruments[lab.pk] = [(inst, cals[2 * k + 1]) for k, inst in enumerate(made)]
        labs.append(lab)

    platform_key = _key(rng)
    platform_raw = signing.public_raw(platform_key)
    platform_kid = signing.key_id_for(platform_raw)
    out: list[tuple[str, str, str, str]] = []
    through = Report.instruments.through
    first_day = dt.date(2026, 1, 10)
    t0 = time.perf_counter()
    chunk = 5_000
    for base in range(0, n, chunk):
        reports, items, uses, revoked = [], [], [], []
        for i in range(base, min(base + chunk, n)):
            lab = labs[i % LABS]
            key, private = keys[lab.pk]
            std = rng.choice(scoped[lab.pk])
            producer = rng.choice(producers)
            issued = first_day + dt.timedelta(days=rng.randrange(310))
            inst, cal = rng.choice(instruments[lab.pk])
            params = rng.sample(PARAMETERS, rng.randint(8, 12))
            rows = [{"position": k + 1, "parameter": p, "requirement": "≥ 0.70",
                     "measured": f"{rng.uniform(0.7, 2):.2f}", "unit": "mm", "verdict": "pass"}
                    for k, p in enumerate(params)]
            number = f"SXJC-2026-{i + 1:07d}"
            batch = f"QC2026{rng.randrange(10**6):06d}"
            data = canonical.to_jsonable({
                "format": "zhijian-report/1", "number": number, "kind": "commissioned",
                "lab": {"name": lab.name, "uscc": lab.uscc, "cma_number": lab.cma_number,
                        "cnas_number": lab.cnas_number, "address": lab.address},
                "producer": {"uscc": producer.uscc, "name": producer.name,
                             "address": producer.address},
                "client": None, "sample": None,
                "product": {"name": "聚氯乙烯绝缘电缆", "model": "BV 2.5",
                            "category": category.code, "category_name": category.name},
                "batch": batch, "quantity_covered": "1000.000", "unit": "m",
                "standard": {"code": std.code, "title": std.title},
                "received_on": issued - dt.timedelta(days=7),
                "tested_from": issued - dt.timedelta(days=6),
                "tested_to": issued - dt.timedelta(days=1), "issued_on": issued,
                "items": rows,
                "instruments": [{"name": inst.name, "model": inst.model,
                                 "serial_number": inst.serial_number, "calibration": {
                                     "certificate_number": cal.certificate_number,
                                     "calibrated_by": cal.calibrated_by,
                                     "calibrated_on": cal.calibrated_on.isoformat(),
                                     "valid_until": cal.valid_until.isoformat()}}],
                "conclusion": "pass", "remarks": "", "authorised_by": "王工",
                "supersedes": None,
            })
            # No PDF is rendered: a stand-in digest (verification reads only the payload's).
            pdf_sha256 = hashlib.sha256(f"pdf:{number}".encode()).hexdigest()
            payload = canonical.canonical_text({"report": data, "pdf_sha256": pdf_sha256,
                                                "kid": key.key_id, "alg": "ed25519",
                                                "custody": "lab"})
            signature = private.sign(payload.encode("utf-8")).hex()
            is_revoked = rng.random() < REVOKED_SHARE
            reports.append(Report(
                number=number, lab=lab, kind="commissioned", producer=producer,
                product_name="聚氯乙烯绝缘电缆", model="BV 2.5", category=category, batch=batch,
                quantity_covered=Decimal("1000"), unit="m", standard=std,
                received_on=issued - dt.timedelta(days=7),
                tested_from=issued - dt.timedelta(days=6),
                tested_to=issued - dt.timedelta(days=1), issued_on=issued, conclusion="pass",
                authorised_by="王工", status="revoked" if is_revoked else "issued",
                payload=payload, pdf_sha256=pdf_sha256, key=key, signature=signature,
                signed_at=now, created_by=user))
            items.append(rows)
            uses.append(inst.pk)
            revoked.append(is_revoked)
            out.append((number, key.public_key, signature, payload))
        with transaction.atomic():
            Report.objects.bulk_create(reports, batch_size=1_000)
            if connection.vendor == "sqlite":  # bulk_create sets no pk on SQLite < 3.35
                ids = dict(Report.objects.filter(number__in=[r.number for r in reports])
                           .values_list("number", "pk"))
                for r in reports:
                    r.pk = ids[r.number]
            ReportItem.objects.bulk_create(
                (ReportItem(report_id=r.pk, **row) for r, rows in zip(reports, items, strict=True)
                 for row in rows), batch_size=5_000)
            through.objects.bulk_create(
                (through(report_id=r.pk, instrument_id=inst) for r, inst
                 in zip(reports, uses, strict=True)), batch_size=5_000)
            revocations = []
            for r, is_revoked in zip(reports, revoked, strict=True):
                if not is_revoked:
                    continue
                statement = canonical.canonical_text({
                    "format": "zhijian-revocation/1", "number": r.number,
                    "reason": "检测数据与原始记录不符", "revoked_at": now,
                    "payload_sha256": hashlib.sha256(r.payload.encode()).hexdigest()})
                revocations.append(Revocation(
                    report_id=r.pk, reason="检测数据与原始记录不符", revoked_at=now,
                    revoked_by=user, statement=statement, key_id=platform_kid,
                    signature=platform_key.sign(statement.encode()).hex()))
            Revocation.objects.bulk_create(revocations)
        done = min(base + chunk, n)
        print(f"\r  built {done:,} / {n:,} reports ({done / (time.perf_counter() - t0):,.0f}/s)",
              end="", flush=True)
    print()
    if connection.vendor == "postgresql":
        with connection.cursor() as cur:
            cur.execute("VACUUM ANALYZE")
    return out


# --- timing ------------------------------------------------------------------------------------

def service_pass(numbers: list[str]) -> tuple[int, int, int]:
    """(reports, genuine, valid) over every number, in chunks of CHUNK."""
    from zhijian.reports import services

    genuine = valid = seen = 0
    for i in range(0, len(numbers), CHUNK):
        for v in services.reports_verify(numbers[i:i + CHUNK]).values():
            seen += 1
            genuine += v.genuine
            valid += v.valid
    return seen, genuine, valid


def service_many_pass(numbers: list[str]) -> tuple[int, int, int]:
    """(reports, genuine, valid) through reports_verify_many: the same chunks, spread over
    one process per CPU on PostgreSQL."""
    from zhijian.reports import services

    genuine = valid = seen = 0
    for v in services.reports_verify_many(numbers, chunk=CHUNK):
        seen += 1
        genuine += v.genuine
        valid += v.valid
    return seen, genuine, valid


def baseline_pass(signed: list[tuple]) -> int:
    """Ed25519 verification alone, of the same bytes with the same keys."""
    ok = 0
    for key, signature, payload in signed:
        key.verify(signature, payload)  # raises InvalidSignature on a bad one
        ok += 1
    return ok


def best_of_interleaved(repeat: int, fns: list):
    runs = [[] for _ in fns]
    for _ in range(repeat):
        for fn, timings in zip(fns, runs, strict=True):
            t0 = time.perf_counter()
            value = fn()
            timings.append((time.perf_counter() - t0, value))
    return [min(timings, key=lambda t: t[0]) for timings in runs]


def machine() -> dict:
    from django.db import connection

    cpu = platform.processor() or platform.machine()
    for line in Path("/proc/cpuinfo").read_text().splitlines():
        if line.startswith("model name"):
            cpu = line.split(":", 1)[1].strip()
            break
    with connection.cursor() as cur:
        if connection.vendor == "postgresql":
            cur.execute("SHOW server_version")
            db = f"PostgreSQL {cur.fetchone()[0]}"
        else:
            db = f"SQLite {sqlite3.sqlite_version} (file)"
    try:
        load = " ".join(Path("/proc/loadavg").read_text().split()[:3])
    except OSError:
        load = ""
    return {"nproc": os.cpu_count(), "cpu": cpu, "python": platform.python_version(),
            "database": db, "loadavg_at_end": load}


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("-n", "--reports", type=int, default=100_000)
    parser.add_argument("--database-url", default=os.environ.get("DATABASE_URL"),
                        help="PostgreSQL URL naming a scratch prefix (<name>_verify is dropped "
                             "and created); default: $DATABASE_URL if it is PostgreSQL, else "
                             "a SQLite file")
    parser.add_argument("--repeat", type=int, default=3,
                        help="runs of each timing, taking turns (the best is kept)")
    parser.add_argument("--seed", type=int, default=2017)
    parser.add_argument("--profile", action="store_true",
                        help="also profile one pass of the service and print the top entries")
    parser.add_argument("--json", type=Path, help="also write the results as JSON here")
    parser.add_argument("--keep", action="store_true", help="keep the PostgreSQL database")
    args = parser.parse_args(argv)

    with tempfile.TemporaryDirectory(prefix="zhijian-bench-verify-") as tmp:
        workdir = Path(tmp)
        pg = is_postgres(args.database_url)
        url = pg_recreate(args.database_url) if pg else f"sqlite:///{workdir / 'verify.sqlite3'}"
        try:
            setup_django(url, workdir)
            from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey
            from django.db import connection

            print(f"Building {args.reports:,} issued reports in {connection.vendor} "
                  f"(payloads signed as by the services; no PDF rendered) ...")
            t0 = time.perf_counter()
            built = build(args.reports, args.seed)
            build_s = time.perf_counter() - t0
            print(f"  {build_s:.1f} s; payloads average "
                  f"{sum(len(p.encode()) for *_, p in built) / len(built):,.0f} bytes")
            order = list(range(len(built)))
            random.Random(args.seed + 1).shuffle(order)  # acceptance checks come in any order
            numbers = [built[i][0] for i in order]
            keys = {}
            signed = []
            for i in order:
                _number, public, signature, payload = built[i]
                if public not in keys:
                    keys[public] = Ed25519PublicKey.from_public_bytes(bytes.fromhex(public))
                signed.append((keys[public], bytes.fromhex(signature), payload.encode("utf-8")))
            del built
            # The set-up's objects stay alive for the run; moved out of the collector's
            # reach, as a server's start-up objects would be, they are not traversed.
            gc.collect()
            gc.freeze()

            service_pass(numbers[:CHUNK])  # warm the caches and the connection
            (s_time, counts), (m_time, many), (b_time, bare) = best_of_interleaved(
                args.repeat, [lambda: service_pass(numbers),
                              lambda: service_many_pass(numbers),
                              lambda: baseline_pass(signed)])
            seen, genuine, valid = counts
            if seen != args.reports or genuine != args.reports or bare != args.reports \
                    or many != counts:
                raise SystemExit(f"verification disagrees: {counts}, {many}, baseline {bare}")
            revoked = seen - valid
            if args.profile:
                profiler = cProfile.Profile()
                profiler.runcall(service_pass, numbers)
                pstats.Stats(profiler).sort_stats("cumulative").print_stats(30)
            info = machine()
        finally:
            from django.db import connection

            connection.close()
            if pg and not args.keep:
                pg_recreate(args.database_url, drop_only=True)

    n = args.reports
    rate, bare_rate, many_rate = n / s_time, n / b_time, n / m_time
    report = {"reports": n, "chunk": CHUNK, "revoked": revoked, "service_s": round(s_time, 3),
              "service_reports_per_s": round(rate), "baseline_s": round(b_time, 3),
              "baseline_verifications_per_s": round(bare_rate),
              "ratio": round(s_time / b_time, 2), "build_s": round(build_s, 1),
              "many_s": round(m_time, 3), "many_reports_per_s": round(many_rate),
              "many_ratio": round(m_time / b_time, 2), "workers": os.cpu_count(),
              "target_reports_per_s": TARGET_RATE, "pdf_rendered": False, "machine": info}
    print()
    print(f"Full verification of {n:,} reports ({revoked:,} revoked, found not valid), "
          f"{info['database']}, chunks of {CHUNK:,}")
    print(f"  service reports_verify       : {s_time:7.2f} s  ({rate:>9,.0f} reports/s)")
    print(f"  service reports_verify_many  : {m_time:7.2f} s  ({many_rate:>9,.0f} reports/s, "
          f"{os.cpu_count()} processes on PostgreSQL)")
    print(f"  baseline Ed25519 verify only : {b_time:7.2f} s  ({bare_rate:>9,.0f} "
          f"verifications/s, one process)")
    print(f"  ratio service/baseline       : {s_time / b_time:.2f}x  "
          f"(target: >= {TARGET_RATE:,} reports/s on PostgreSQL)")
    print("  payloads built like the services', no PDF rendered (pdf_sha256 of a stand-in)")
    print(f"  machine: {info['nproc']} CPUs, {info['cpu']}, Python {info['python']}, "
          f"load average {info['loadavg_at_end']}")
    if args.json:
        args.json.write_text(json.dumps(report, indent=2, ensure_ascii=False))
    return 0 if max(rate, many_rate) >= TARGET_RATE else 1


if __name__ == "__main__":
    sys.exit(main())
