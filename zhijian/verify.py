"""Stand-alone verifiers for what Zhijian publishes. Standard library only: they run from
a checkout or an unpacked source archive without installing anything.

    python -m zhijian.verify draw bundle.json     a random-inspection draw (docs/draw-algorithm.md)
    python -m zhijian.verify report bundle.json [report.pdf]
                                                  a signed test report (docs/report-signing.md)

Exit status: 0 every claim holds, 1 a claim does not, 2 the input cannot be read."""

from __future__ import annotations

import sys

USAGE = ("usage: python -m zhijian.verify draw BUNDLE.json   (or - for standard input)\n"
         "       python -m zhijian.verify report BUNDLE.json [REPORT.pdf]")


def main(argv: list[str] | None = None) -> int:
    args = sys.argv[1:] if argv is None else argv
    if len(args) in (2, 3) and args[0] == "report":
        from zhijian.reports import offline

        return offline.main(args[1:])
    if len(args) != 2 or args[0] != "draw":
        print(USAGE)
        return 2
    from zhijian.inspections import draw

    return draw.main(args[1:])


if __name__ == "__main__":
    sys.exit(main())
