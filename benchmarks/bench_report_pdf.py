"""Benchmark: rendering the PDF of a signed test report (检验检测报告) in Chinese.

    python benchmarks/bench_report_pdf.py            # 20 reports
    python benchmarks/bench_report_pdf.py -n 50 --profile

Builds N typical reports, seeded and deterministic: a supervisory sample of cable, 12
test items, two instruments with calibrations, producer, client, place and remarks in
Chinese, each report with its own number, producer, batch and measured values. Then, in
the same process and alternating report by report:

- report: zhijian.reports.pdf.render — the Django template, the QR code (segno, SVG) and
  WeasyPrint's layout, font subsetting (HarfBuzz) and PDF writing, A4, Noto CJK fonts;
- baseline: the same report's HTML with every Chinese character replaced by two Latin
  letters (about the same width, so the same layout and page count), through the same
  WeasyPrint call: what the page would cost without Chinese text.

One report of each kind is rendered first and not counted (fonts load then). Prints the
seconds per report (mean, median, min, max; wall clock and CPU), the ratio to the
baseline, pages and bytes, and the machine. Target: ≤ 0.5 s per report. No database.
"""

from __future__ import annotations

import argparse
import cProfile
import io
import json
import os
import platform
import pstats
import random
import re
import statistics
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

TARGET_SECONDS = 0.5
SITE = "https://zhijian.shaanxi.example.cn"
KEY_ID = "3f2a9c0e4b1d7a65"

PRODUCERS = ["西安秦川电缆有限公司", "陕西华光线缆股份有限公司", "宝鸡渭滨电线厂",
             "咸阳长城电工器材有限公司", "汉中天汉电缆有限责任公司", "渭南华山电线电缆有限公司"]
PLACES = ["西安地铁十号线物资仓库", "宝鸡市渭滨区建材市场 A 区 12 号", "咸阳市秦都区电工器材城",
          "网络购买（某电商平台旗舰店）"]
ITEMS = [
    ("导体直流电阻（20 ℃）", "≤ 1.83", (1.70, 1.86, 2), "Ω/km"),
    ("绝缘厚度平均值", "≥ 0.70", (0.68, 0.80, 2), "mm"),
    ("绝缘最薄处厚度", "≥ 0.53", (0.50, 0.66, 2), "mm"),
    ("护套厚度平均值", "≥ 1.20", (1.15, 1.35, 2), "mm"),
    ("绝缘老化前抗张强度", "≥ 12.5", (11.0, 18.0, 1), "MPa"),
    ("绝缘老化前断裂伸长率", "≥ 150", (140, 300, 0), "%"),
    ("护套老化前抗张强度", "≥ 10.0", (9.0, 15.0, 1), "MPa"),
    ("成束阻燃性能（C 类）", "炭化高度 ≤ 2.5 m", (1.0, 2.7, 1), "m"),
    ("电压试验（3.5 kV，5 min）", "不击穿", None, ""),
    ("绝缘电阻（70 ℃）", "≥ 0.0037", (0.0030, 0.0150, 4), "MΩ·km"),
    ("标志耐擦性", "清晰可辨", None, ""),
    ("成品电缆外径", "≤ 14.5", (13.0, 14.8, 1), "mm"),
]
CJK = re.compile(r"[\u2e80-\u9fff\uf900-\ufaff\ufe30-\ufe4f\uff00-\uffef]")


def setup_django(workdir: Path) -> None:
    os.environ["DJANGO_SETTINGS_MODULE"] = "zhijian.config.settings"
    os.environ["DATABASE_URL"] = f"sqlite:///{workdir / 'unused.sqlite3'}"
    os.environ["ZHIJIAN_DATA_DIR"] = str(workdir / "var")
    os.environ["ZHIJIAN_DEBUG"] = "false"
    os.environ.pop("CELERY_BROKER_URL", None)
    import django

    django.setup()


def report(rng: random.Random, k: int) -> dict:
    """A typical supervisory-sampling report of cable, in Chinese."""
    items, failed = [], 0
    for position, (parameter, requirement, spread, unit) in enumerate(ITEMS, start=1):
        if spread is None:
            measured, verdict = requirement, "pass"
        else:
            low, high, places = spread
            value = rng.uniform(low, high)
            measured = f"{value:.{places}f}"
            bound = float(re.findall(r"[\d.]+", requirement)[-1])
            verdict = "pass" if (value <= bound if "≤" in requirement else value >= bound) \
                else "fail"
        failed += verdict == "fail"
        items.append({"position": position, "parameter": parameter, "requirement": requirement,
                      "measured": measured, "unit": unit, "verdict": verdict})
    day = 1 + k % 20
    return {
        "format": "zhijian-report/1", "number": f"SXZJ-2026-WT-{k:06d}", "kind": "supervisory",
        "lab": {"name": "陕西省产品质量监督检验研究院", "uscc": "12610000435200123X",
                "cma_number": "231612340567", "cnas_number": "L1234",
                "address": "陕西省西安市雁塔区科技路 1 号"},
        "producer": {"uscc": f"91610113MA6T{k:05d}K", "name": rng.choice(PRODUCERS),
                     "address": "陕西省西安市雁塔区电子城街道 88 号"},
        "client": {"uscc": "11610000MB1234567P", "name": "陕西省市场监督管理局"},
        "sample": {"code": f"CY-2026-{k:04d}", "seal_number": f"FY-2026-{k:04d}-01",
                   "sampled_at": f"2026-03-{day:02d}T02:15:00Z", "place": rng.choice(PLACES),
                   "channel": rng.choice(["on_site", "online"])},
        "product": {"name": "聚氯乙烯绝缘电缆", "model": "ZC-YJV 0.6/1kV 3×95+1×50",
                    "category": "electrical.cable", "category_name": "电线电缆"},
        "batch": f"QC202602{day:02d}-{rng.randint(1, 30):02d}",
        "quantity_covered": f"{rng.choice([500, 1000, 2000, 5000])}.000", "unit": "m",
        "standard": {"code": "GB/T 12706.1-2020",
                     "title": "额定电压 1 kV 到 35 kV 挤包绝缘电力电缆及附件 第 1 部分"},
        "received_on": f"2026-03-{day + 1:02d}", "tested_from": f"2026-03-{day + 2:02d}",
        "tested_to": f"2026-03-{day + 6:02d}", "issued_on": f"2026-03-{day + 8:02d}",
        "items": items,
        "instruments": [
            {"name": "直流电阻测试仪", "model": "QJ57", "serial_number": "DZ-0907",
             "calibration": {"certificate_number": "JL2025-11873",
                             "calibrated_by": "陕西省计量科学研究院",
                             "calibrated_on": "2025-06-01", "valid_until": "2026-05-31"}},
            {"name": "电子万能试验机", "model": "WDW-10", "serial_number": "WN-2211",
             "calibration": {"certificate_number": "JL2025-12040",
                             "calibrated_by": "陕西省计量科学研究院",
                             "calibrated_on": "2025-07-15", "valid_until": "2026-07-14"}},
        ],
        "conclusion": "fail" if failed else "pass",
        "remarks": "样品由抽样人员现场封样，送达时封样完好。",
        "authorised_by": "张建国", "supersedes": None,
    }


def latin(html: str) -> str:
    """Every CJK character -> two Latin letters (a CJK glyph is about two Latin ones wide)."""
    def sub(m: re.Match) -> str:
        cp = ord(m.group())
        return chr(97 + cp % 26) + chr(97 + cp // 26 % 26)

    return CJK.sub(sub, html)


def machine() -> dict:
    cpu = platform.processor() or platform.machine()
    for line in Path("/proc/cpuinfo").read_text().splitlines():
        if line.startswith("model name"):
            cpu = line.split(":", 1)[1].strip()
            break
    import weasyprint
    from weasyprint.text.ffi import harfbuzz_subset

    return {"nproc": len(os.sched_getaffinity(0)), "cpu": cpu,
            "python": platform.python_version(), "platform": platform.platform(),
            "weasyprint": weasyprint.__version__,
            "harfbuzz_subset": harfbuzz_subset is not None}


def loadavg() -> str:
    return " ".join(f"{x:.2f}" for x in os.getloadavg())


def timed(fn):
    c0, t0 = time.process_time(), time.perf_counter()
    value = fn()
    return time.perf_counter() - t0, time.process_time() - c0, value


def pages(document: bytes) -> int:
    import pypdf  # a development dependency, like the benchmark itself

    return len(pypdf.PdfReader(io.BytesIO(document)).pages)


def summary(values: list[float]) -> str:
    return (f"mean {statistics.fmean(values):.3f}  median {statistics.median(values):.3f}  "
            f"min {min(values):.3f}  max {max(values):.3f}")


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("-n", "--reports", type=int, default=20)
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("--profile", action="store_true", help="cProfile one report, top 25")
    ap.add_argument("--json", action="store_true", help="print the figures as JSON too")
    args = ap.parse_args(argv)

    info = {**machine(), "loadavg_at_start": loadavg()}
    with tempfile.TemporaryDirectory(prefix="bench-report-pdf-") as tmp:
        setup_django(Path(tmp))
        from zhijian.reports import pdf

        rng = random.Random(f"zhijian bench_report_pdf {args.seed}")
        reports = [report(rng, k) for k in range(1, args.reports + 2)]

        def chinese(data):
            return pdf.render(data, verify_url=pdf.verify_url(SITE, data), key_id=KEY_ID,
                              custody="lab")

        def baseline(data):
            html = pdf.render_html(data, verify_url=pdf.verify_url(SITE, data), key_id=KEY_ID,
                                   custody="lab")
            return pdf.html_to_pdf(latin(html))

        warm_zh, _, _ = timed(lambda: chinese(reports[0]))
        warm_en, _, _ = timed(lambda: baseline(reports[0]))
        zh_wall, zh_cpu, en_wall, en_cpu = [], [], [], []
        zh_pages, en_pages, zh_bytes, en_bytes = [], [], [], []
        for data in reports[1:]:
            wall, cpu, document = timed(lambda d=data: chinese(d))
            zh_wall.append(wall)
            zh_cpu.append(cpu)
            zh_pages.append(pages(document))
            zh_bytes.append(len(document))
            wall, cpu, document = timed(lambda d=data: baseline(d))
            en_wall.append(wall)
            en_cpu.append(cpu)
            en_pages.append(pages(document))
            en_bytes.append(len(document))
        assert not CJK.search(latin(pdf.render_html(
            reports[1], verify_url=SITE, key_id=KEY_ID, custody="lab")))

        if args.profile:
            prof = cProfile.Profile()
            prof.runcall(chinese, reports[1])
            pstats.Stats(prof).sort_stats("tottime").print_stats(25)

    mean_zh, mean_en = statistics.fmean(zh_wall), statistics.fmean(en_wall)
    figures = {
        "reports": args.reports, "items_per_report": len(ITEMS),
        "report_s_mean": round(mean_zh, 3), "report_s_median": round(statistics.median(zh_wall), 3),
        "report_s_min": round(min(zh_wall), 3), "report_s_max": round(max(zh_wall), 3),
        "report_cpu_s_mean": round(statistics.fmean(zh_cpu), 3),
        "baseline_s_mean": round(mean_en, 3),
        "baseline_s_median": round(statistics.median(en_wall), 3),
        "baseline_cpu_s_mean": round(statistics.fmean(en_cpu), 3),
        "ratio": round(mean_zh / mean_en, 2),
        "cpu_ratio": round(statistics.fmean(zh_cpu) / statistics.fmean(en_cpu), 2),
        "warm_up_s": {"report": round(warm_zh, 3), "baseline": round(warm_en, 3)},
        "pages": {"report": sorted(set(zh_pages)), "baseline": sorted(set(en_pages))},
        "kib_mean": {"report": round(statistics.fmean(zh_bytes) / 1024),
                     "baseline": round(statistics.fmean(en_bytes) / 1024)},
        "machine": {**info, "loadavg_at_end": loadavg()},
    }
    m = figures["machine"]
    print(f"machine: {m['nproc']} CPUs, {m['cpu']}, Python {m['python']}, WeasyPrint "
          f"{m['weasyprint']} (HarfBuzz subsetter: {m['harfbuzz_subset']}), load average "
          f"{m['loadavg_at_start']} at start, {m['loadavg_at_end']} at end")
    print(f"{args.reports} reports of {len(ITEMS)} items, alternating with the baseline; "
          f"warm-up (not counted) {warm_zh:.3f} s and {warm_en:.3f} s")
    print(f"report    s/report  {summary(zh_wall)}  [CPU mean {statistics.fmean(zh_cpu):.3f}]  "
          f"pages {figures['pages']['report']}  {figures['kib_mean']['report']} KiB  "
          f"target ≤ {TARGET_SECONDS} s: {'met' if mean_zh <= TARGET_SECONDS else 'NOT met'}")
    print(f"baseline  s/report  {summary(en_wall)}  [CPU mean {statistics.fmean(en_cpu):.3f}]  "
          f"pages {figures['pages']['baseline']}  {figures['kib_mean']['baseline']} KiB  "
          f"(same HTML, Chinese characters replaced by Latin letters)")
    print(f"ratio     {mean_zh / mean_en:.2f} ×  [{figures['cpu_ratio']:.2f} × CPU]")
    if args.json:
        print(json.dumps(figures, ensure_ascii=False))
    return 0 if mean_zh <= TARGET_SECONDS else 1


if __name__ == "__main__":
    sys.exit(main())
