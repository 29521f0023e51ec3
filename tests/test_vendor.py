"""Front-end assets are vendored (no CDN at run time): the committed files match the
SHA-256 manifest written by scripts/vendor_assets.py, each package carries its licence,
and no template or stylesheet loads an asset from another host."""

import hashlib
import re
from pathlib import Path

import zhijian

PACKAGE = Path(zhijian.__file__).resolve().parent
VENDOR = PACKAGE / "static" / "vendor"
MANIFEST = VENDOR / "MANIFEST.sha256"


def manifest() -> dict[str, str]:
    entries = {}
    for line in MANIFEST.read_text().splitlines():
        digest, rel = line.split("  ", 1)
        entries[rel] = digest
    return entries


def test_manifest_lists_every_vendored_file_with_its_hash():
    listed = manifest()
    on_disk = {
        p.relative_to(VENDOR).as_posix()
        for p in VENDOR.rglob("*") if p.is_file() and p != MANIFEST
    }
    assert sorted(on_disk) == sorted(listed)
    mismatched = [
        rel for rel, digest in listed.items()
        if hashlib.sha256((VENDOR / rel).read_bytes()).hexdigest() != digest
    ]
    assert mismatched == []


def test_every_vendored_package_has_a_licence():
    packages = sorted(p for p in VENDOR.iterdir() if p.is_dir())
    assert packages != []
    without = [p.name for p in packages if not list(p.glob("LICENSE*"))]
    assert without == []
    for p in packages:
        assert f"{p.name}/LICENSE" in manifest()


# An asset loaded from elsewhere: <script src=…>, <link href=…>, <img src=…>, <iframe
# src=…>, <source src=…>, CSS url(…) and @import, with http(s):// or protocol-relative //.
REMOTE_ASSET = re.compile(
    r"""<(?:script|img|iframe|source|video|audio|embed)\b[^>]*\bsrc\s*=\s*["']?(?:https?:)?//"""
    r"""|<link\b[^>]*\bhref\s*=\s*["']?(?:https?:)?//"""
    r"""|url\(\s*["']?(?:https?:)?//"""
    r"""|@import\s+["'](?:https?:)?//""",
    re.IGNORECASE,
)


def own_files(*suffixes):
    for path in PACKAGE.rglob("*"):
        if VENDOR in path.parents or not path.is_file():
            continue
        if path.suffix in suffixes and ("templates" in path.parts or "static" in path.parts):
            yield path


def test_templates_and_stylesheets_load_no_remote_assets():
    files = list(own_files(".html", ".css", ".js", ".txt"))
    assert any(p.name == "base.html" for p in files)
    offenders = [
        f"{p.relative_to(PACKAGE)}: {m.group(0)}"
        for p in files for m in REMOTE_ASSET.finditer(p.read_text(encoding="utf-8"))
    ]
    assert offenders == []


def test_the_pattern_catches_a_cdn_link():
    samples = [
        '<script src="https://cdn.jsdelivr.net/npm/bootstrap.js"></script>',
        "<link rel=stylesheet href='//unpkg.com/x.css'>",
        "body { background: url(http://example.org/a.png) }",
        '@import "https://fonts.googleapis.com/css";',
    ]
    assert [bool(REMOTE_ASSET.search(s)) for s in samples] == [True, True, True, True]
    assert REMOTE_ASSET.search('<a href="https://www.samr.gov.cn/">SAMR</a>') is None
    assert REMOTE_ASSET.search("<script src=\"/static/vendor/x.js\"></script>") is None
