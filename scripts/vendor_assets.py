"""Copy front-end assets from node_modules into zhijian/static/vendor and write a SHA-256
manifest. Run after `npm ci` when a version in package.json changes; commit the result.
Runtime and CI need no npm: tests/test_vendor.py re-hashes the committed files."""

import hashlib
import shutil
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
NODE = ROOT / "node_modules"
VENDOR = ROOT / "zhijian" / "static" / "vendor"

FILES = {
    "bootstrap": [
        "dist/css/bootstrap.min.css", "dist/css/bootstrap.min.css.map",
        "dist/js/bootstrap.bundle.min.js", "dist/js/bootstrap.bundle.min.js.map", "LICENSE",
    ],
    "bootstrap-icons": [
        "font/bootstrap-icons.min.css", "font/fonts/bootstrap-icons.woff",
        "font/fonts/bootstrap-icons.woff2", "LICENSE",
    ],
}


def manifest_lines() -> list[str]:
    lines = []
    for path in sorted(VENDOR.rglob("*")):
        if path.is_file() and path.name != "MANIFEST.sha256":
            digest = hashlib.sha256(path.read_bytes()).hexdigest()
            lines.append(f"{digest}  {path.relative_to(VENDOR).as_posix()}")
    return lines


def main() -> int:
    if not NODE.exists():
        print("run `npm ci` first", file=sys.stderr)
        return 1
    for package, files in FILES.items():
        for rel in files:
            src = NODE / package / rel
            dest = VENDOR / package / rel.removeprefix("dist/")
            dest.parent.mkdir(parents=True, exist_ok=True)
            shutil.copyfile(src, dest)
    (VENDOR / "MANIFEST.sha256").write_text("\n".join(manifest_lines()) + "\n")
    print(f"vendored {sum(map(len, FILES.values()))} files into {VENDOR}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
