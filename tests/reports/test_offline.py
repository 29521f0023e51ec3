"""The offline report verifier (zhijian/reports/offline.py): Ed25519 from RFC 8032 in pure
Python, checked against the RFC's test vectors and against `cryptography`; the bundle
checks; and the command line run with the standard library alone."""

from __future__ import annotations

import hashlib
import io
import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import (
    Ed25519PrivateKey,
    Ed25519PublicKey,
)
from hypothesis import given, settings
from hypothesis import strategies as st

from zhijian import verify
from zhijian.core.canonical import canonical_text
from zhijian.core.signing import key_id_for
from zhijian.reports import offline

ROOT = Path(__file__).resolve().parents[2]

# RFC 8032 §7.1, TEST 1 to TEST 3: (secret key, public key, message, signature), hex.
RFC8032_VECTORS = [
    ("9d61b19deffd5a60ba844af492ec2cc44449c5697b326919703bac031cae7f60",
     "d75a980182b10ab7d54bfed3c964073a0ee172f3daa62325af021a68f707511a",
     "",
     "e5564300c360ac729086e2cc806e828a84877f1eb8e5d974d873e065224901555fb8821590a33bacc61e"
     "39701cf9b46bd25bf5f0595bbe24655141438e7a100b"),
    ("4ccd089b28ff96da9db6c346ec114e0f5b8a319f35aba624da8cf6ed4fb8a6fb",
     "3d4017c3e843895a92b70aa74d1b7ebc9c982ccf2ec4968cc0cd55f12af4660c",
     "72",
     "92a009a9f0d4cab8720e820b5f642540a2b27b5416503f8fb3762223ebdb69da085ac1e43e15996e458f"
     "3613d0f11d8c387b2eaeb4302aeeb00d291612bb0c00"),
    ("c5aa8df43f9f837bedb7442f31dcb7b166d38535076f094b85ce3a2e0b4458f7",
     "fc51cd8e6218a1a38da47ed00230f0580816ed13ba3303ac5deb911548908025",
     "af82",
     "6291d657deec24024827e69c3abe01a30ce548a284743a445e3680d7db5ac3ac18ff9b538d16f290ae67"
     "f760984dc6594a7c15e9716ed28dc027beceea1ec40a"),
]
VECTOR_IDS = ["TEST 1", "TEST 2", "TEST 3"]


def flip(data: bytes, bit: int) -> bytes:
    out = bytearray(data)
    out[bit // 8] ^= 1 << (bit % 8)
    return bytes(out)


def raw_public(key: Ed25519PrivateKey) -> bytes:
    return key.public_key().public_bytes(serialization.Encoding.Raw,
                                         serialization.PublicFormat.Raw)


# --- Ed25519 ------------------------------------------------------------------------------

@pytest.mark.parametrize(("secret", "public", "message", "signature"), RFC8032_VECTORS,
                         ids=VECTOR_IDS)
def test_rfc8032_test_vectors_verify(secret, public, message, signature):
    assert offline.ed25519_verify(bytes.fromhex(public), bytes.fromhex(message),
                                  bytes.fromhex(signature)) is True
    # The vectors are what cryptography computes from the secret keys, so they were copied
    # right.
    key = Ed25519PrivateKey.from_private_bytes(bytes.fromhex(secret))
    assert raw_public(key).hex() == public
    assert key.sign(bytes.fromhex(message)).hex() == signature


@pytest.mark.parametrize(("secret", "public", "message", "signature"), RFC8032_VECTORS,
                         ids=VECTOR_IDS)
@pytest.mark.parametrize("bit", [0, 7, 255, 256, 300, 511])
def test_rfc8032_vectors_with_a_flipped_signature_bit_fail(secret, public, message,
                                                           signature, bit):
    assert offline.ed25519_verify(bytes.fromhex(public), bytes.fromhex(message),
                                  flip(bytes.fromhex(signature), bit)) is False


@pytest.mark.parametrize("index", range(3), ids=VECTOR_IDS)
def test_rfc8032_vectors_with_another_message_or_key_fail(index):
    _, public, message, signature = RFC8032_VECTORS[index]
    pk, msg, sig = bytes.fromhex(public), bytes.fromhex(message), bytes.fromhex(signature)
    other = bytes.fromhex(RFC8032_VECTORS[(index + 1) % 3][1])
    assert offline.ed25519_verify(pk, msg + b"\x00", sig) is False
    assert offline.ed25519_verify(flip(pk, 3), msg, sig) is False
    assert offline.ed25519_verify(other, msg, sig) is False


def test_a_non_canonical_s_is_refused():
    """S + L is the same scalar mod L, but §5.1.7 step 1 requires S < L (malleability)."""
    _, public, message, signature = RFC8032_VECTORS[0]
    sig = bytes.fromhex(signature)
    s = int.from_bytes(sig[32:], "little") + offline.L
    assert s < 2**256
    forged = sig[:32] + s.to_bytes(32, "little")
    assert offline.ed25519_verify(bytes.fromhex(public), b"", forged) is False
    with pytest.raises(InvalidSignature):
        Ed25519PrivateKey.from_private_bytes(bytes.fromhex(RFC8032_VECTORS[0][0])) \
            .public_key().verify(forged, b"")


def test_wrong_lengths_and_non_points_are_invalid():
    _, public, _, signature = RFC8032_VECTORS[0]
    pk, sig = bytes.fromhex(public), bytes.fromhex(signature)
    assert offline.ed25519_verify(pk[:31], b"", sig) is False
    assert offline.ed25519_verify(pk, b"", sig[:63]) is False
    # y = p is not canonical (§5.1.3 step 1); y = 2 has no x on the curve (step 3).
    assert offline._decode_point(offline.P.to_bytes(32, "little")) is None
    assert offline._decode_point((2).to_bytes(32, "little")) is None
    assert offline.ed25519_verify((2).to_bytes(32, "little"), b"", sig) is False
    # x = 0 with the sign bit set (step 4): y = 1 is the identity, whose x is 0.
    assert offline._decode_point((1 | 1 << 255).to_bytes(32, "little")) is None
    assert offline._decode_point((1).to_bytes(32, "little")) == (0, 1, 1, 0)


def test_the_base_point_has_order_l():
    assert offline._equal(offline._multiply(offline.L, offline.B), offline.IDENTITY)
    assert not offline._equal(offline._multiply(offline.L - 1, offline.B), offline.IDENTITY)


@settings(max_examples=200)
@given(seed=st.binary(min_size=32, max_size=32), message=st.binary(max_size=200),
       corruption=st.one_of(
           st.none(),
           st.tuples(st.just("signature"), st.integers(0, 511)),
           st.tuples(st.just("message"), st.integers(0, 7)),
           st.tuples(st.just("key"), st.integers(0, 255)),
           st.tuples(st.just("random"), st.binary(min_size=64, max_size=64))))
def test_agrees_with_cryptography(seed, message, corruption):
    key = Ed25519PrivateKey.from_private_bytes(seed)
    public, signature = raw_public(key), key.sign(message)
    if corruption is not None:
        what, change = corruption
        if what == "signature":
            signature = flip(signature, change)
        elif what == "message":
            message = flip(message, change) if message else b"\x00"
        elif what == "key":
            public = flip(public, change)
        else:
            signature = change
    try:
        Ed25519PublicKey.from_public_bytes(public).verify(signature, message)
        expected = True
    except (InvalidSignature, ValueError):
        expected = False
    assert offline.ed25519_verify(public, message, signature) is expected
    assert expected is (corruption is None or (corruption[0] == "random"
                                                and corruption[1] == key.sign(message)))


# --- the bundle ---------------------------------------------------------------------------

REPORT = {"format": "zhijian-report/1", "number": "SXZJ-2026-WT-000123",
          "producer": {"uscc": "91610113MA6TXXXX1K", "name": "西安秦川电缆有限公司"},
          "conclusion": "pass", "quantity_covered": "1000.000"}
PDF = b"%PDF-1.7\n% a stand-in for the report's PDF\n%%EOF\n"
LAB_KEY = Ed25519PrivateKey.from_private_bytes(bytes(range(32)))
PLATFORM_KEY = Ed25519PrivateKey.from_private_bytes(bytes(range(100, 132)))


def make_bundle(key=LAB_KEY, custody="lab", pdf=PDF, kid=None, report=REPORT) -> dict:
    public = raw_public(key)
    key_id = key_id_for(public)
    payload = canonical_text({"report": report, "pdf_sha256": hashlib.sha256(pdf).hexdigest(),
                              "kid": kid or key_id, "alg": "ed25519", "custody": custody})
    return {"payload": payload, "signature": key.sign(payload.encode()).hex(),
            "public_key": public.hex(), "key_id": key_id}


def revocation(bundle: dict, reason="计量器具校准已过期，结果不可靠", number=None,
               key=PLATFORM_KEY) -> dict:
    statement = canonical_text({
        "format": "zhijian-revocation/1", "number": number or REPORT["number"],
        "reason": reason, "revoked_at": "2026-04-02T01:30:00Z",
        "payload_sha256": hashlib.sha256(bundle["payload"].encode()).hexdigest()})
    public = raw_public(key)
    return {"statement": statement, "signature": PLATFORM_KEY.sign(statement.encode()).hex(),
            "public_key": public.hex(), "key_id": key_id_for(public)}


def test_key_id_is_the_platforms_definition():
    public = raw_public(LAB_KEY)
    assert offline.key_id_for(public) == key_id_for(public) == \
        hashlib.sha256(public).hexdigest()[:16]


def test_a_genuine_bundle_and_its_pdf_pass_every_check():
    bundle = make_bundle()
    kid = bundle["key_id"]
    assert offline.verify_bundle(bundle, PDF) == [
        ("key_id", True, f"{kid} = SHA-256(public key)[:16]"),
        ("payload", True, f"report SXZJ-2026-WT-000123, key {kid}, signing key held by the lab"),
        ("signature", True, "Ed25519 signature over the payload is valid"),
        ("pdf_sha256", True, f"SHA-256 of the PDF is {hashlib.sha256(PDF).hexdigest()}"),
    ]


def test_platform_custody_is_named_and_the_pdf_check_is_skipped_without_a_pdf():
    bundle = make_bundle(custody="platform")
    assert offline.verify_bundle(bundle) == [
        ("key_id", True, f"{bundle['key_id']} = SHA-256(public key)[:16]"),
        ("payload", True, f"report SXZJ-2026-WT-000123, key {bundle['key_id']}, signing key "
                          "held by the platform on the lab's behalf"),
        ("signature", True, "Ed25519 signature over the payload is valid"),
    ]


def failures(checks) -> dict:
    return {name: detail for name, ok, detail in checks if not ok}


def test_a_changed_payload_fails_the_signature_only():
    bundle = make_bundle()
    bundle["payload"] = bundle["payload"].replace('"conclusion":"pass"', '"conclusion":"fail"')
    assert '"conclusion":"fail"' in bundle["payload"]
    assert failures(offline.verify_bundle(bundle, PDF)) == {
        "signature": "Ed25519 signature does not match the payload and public key"}


def test_another_pdf_fails_the_pdf_check_only():
    other = PDF + b" "
    assert failures(offline.verify_bundle(make_bundle(), other)) == {
        "pdf_sha256": f"SHA-256 of the PDF is {hashlib.sha256(other).hexdigest()}, the payload "
                      f"names {hashlib.sha256(PDF).hexdigest()}"}


def test_a_key_id_that_is_not_the_public_keys_fails():
    bundle = make_bundle()
    bundle["key_id"] = "0000000000000000"
    computed = key_id_for(raw_public(LAB_KEY))
    assert failures(offline.verify_bundle(bundle)) == {
        "key_id": f"the bundle says '0000000000000000', the public key gives {computed}",
        "payload": f"payload names key '{computed}', the bundle '0000000000000000'"}


def test_a_payload_signed_for_another_key_id_fails():
    bundle = make_bundle(kid="1111111111111111")
    assert failures(offline.verify_bundle(bundle)) == {
        "payload": f"payload names key '1111111111111111', the bundle '{bundle['key_id']}'"}


def test_a_substituted_public_key_fails_key_id_and_signature():
    bundle = make_bundle()
    other = raw_public(PLATFORM_KEY)
    bundle["public_key"] = other.hex()
    assert failures(offline.verify_bundle(bundle)) == {
        "key_id": f"the bundle says '{bundle['key_id']}', the public key gives "
                  f"{key_id_for(other)}",
        "signature": "Ed25519 signature does not match the payload and public key"}


@pytest.mark.parametrize(("change", "expected"), [
    ({"public_key": "zz"}, {"key_id": "public_key is not hexadecimal",
                            "signature": "cannot be checked without a public key and a payload"}),
    ({"public_key": "00" * 31}, {"key_id": "public_key has 31 bytes, expected 32",
                                 "signature": "cannot be checked without a public key and a "
                                              "payload"}),
    ({"signature": None}, {"signature": "signature is missing or not a string"}),
    ({"signature": "ab" * 65}, {"signature": "signature has 65 bytes, expected 64"}),
    ({"payload": "{not json"}, {
        "payload": "payload is not JSON: Expecting property name enclosed in double quotes: "
                   "line 1 column 2 (char 1)",
        "signature": "Ed25519 signature does not match the payload and public key"}),
    ({"payload": "[]"}, {"payload": "payload is not a JSON object",
                         "signature": "Ed25519 signature does not match the payload and public "
                                      "key"}),
    ({"payload": 5}, {"payload": "payload is missing or not a string",
                      "signature": "cannot be checked without a public key and a payload"}),
])
def test_malformed_bundles_fail_with_the_field_named(change, expected):
    bundle = {**make_bundle(), **change}
    assert failures(offline.verify_bundle(bundle)) == expected


def test_a_payload_for_another_algorithm_fails():
    public = raw_public(LAB_KEY)
    payload = canonical_text({"report": REPORT, "pdf_sha256": "", "kid": key_id_for(public),
                              "alg": "rsa"})
    bundle = {"payload": payload, "signature": LAB_KEY.sign(payload.encode()).hex(),
              "public_key": public.hex(), "key_id": key_id_for(public)}
    assert failures(offline.verify_bundle(bundle)) == {
        "payload": "payload names algorithm 'rsa', expected ed25519"}


def test_a_genuine_revocation_statement_makes_the_report_not_valid():
    bundle = make_bundle()
    bundle["revocation"] = revocation(bundle)
    platform_kid = key_id_for(raw_public(PLATFORM_KEY))
    checks = offline.verify_bundle(bundle, PDF)
    assert [name for name, ok, _ in checks if ok] == ["key_id", "payload", "signature",
                                                      "pdf_sha256"]
    assert failures(checks) == {
        "revocation": f"report SXZJ-2026-WT-000123 was revoked at 2026-04-02T01:30:00Z by the "
                      f"platform (key {platform_kid}): 计量器具校准已过期，结果不可靠"}


@pytest.mark.parametrize(("tamper", "detail"), [
    (lambda r: r.update(statement=r["statement"].replace("过期", "有效")),
     "the revocation statement's signature is not valid"),
    (lambda r: r.update(key_id="2222222222222222"),
     "revocation.key_id is not that of revocation.public_key"),
    (lambda r: r.update(signature="00"), "revocation.signature has 1 bytes, expected 64"),
    (lambda r: r.pop("statement"), "revocation.statement is missing or not a string"),
])
def test_a_forged_revocation_statement_is_reported(tamper, detail):
    bundle = make_bundle()
    rev = revocation(bundle)
    tamper(rev)
    bundle["revocation"] = rev
    assert failures(offline.verify_bundle(bundle)) == {"revocation": detail}


def test_a_revocation_of_another_report_is_reported():
    bundle = make_bundle()
    bundle["revocation"] = revocation(make_bundle(report={**REPORT, "number": "X-1"}),
                                      number="X-1")
    assert failures(offline.verify_bundle(bundle)) == {
        "revocation": "the revocation statement is about another report"}


# --- the command line ---------------------------------------------------------------------

def write(tmp_path, bundle, pdf=PDF) -> tuple[Path, Path]:
    (tmp_path / "bundle.json").write_text(json.dumps(bundle, ensure_ascii=False),
                                          encoding="utf-8")
    (tmp_path / "report.pdf").write_bytes(pdf)
    return tmp_path / "bundle.json", tmp_path / "report.pdf"


def test_main_prints_each_check_and_exits_0_when_valid(tmp_path):
    bundle = make_bundle()
    path, pdf = write(tmp_path, bundle)
    out = io.StringIO()
    assert offline.main([str(path), str(pdf)], out=out) == 0
    kid = bundle["key_id"]
    assert out.getvalue().splitlines() == [
        f"OK   key_id: {kid} = SHA-256(public key)[:16]",
        f"OK   payload: report SXZJ-2026-WT-000123, key {kid}, signing key held by the lab",
        "OK   signature: Ed25519 signature over the payload is valid",
        f"OK   pdf_sha256: SHA-256 of the PDF is {hashlib.sha256(PDF).hexdigest()}",
        "report verified",
    ]
    out = io.StringIO()
    assert offline.main([str(path)], out=out) == 0
    assert out.getvalue().splitlines()[-1] == "report verified (PDF not checked)"


def test_main_exits_1_when_a_check_fails(tmp_path):
    path, pdf = write(tmp_path, make_bundle(), pdf=b"another file")
    out = io.StringIO()
    assert offline.main([str(path), str(pdf)], out=out) == 1
    lines = out.getvalue().splitlines()
    assert lines[3].startswith("FAIL pdf_sha256: SHA-256 of the PDF is ")
    assert lines[-1] == "report NOT verified"


def test_main_exits_2_on_unreadable_input(tmp_path):
    out = io.StringIO()
    assert offline.main([], out=out) == 2
    assert out.getvalue() == ("usage: offline.py BUNDLE.json [REPORT.pdf]   "
                              "(- for standard input)\n")
    out = io.StringIO()
    assert offline.main([str(tmp_path / "missing.json")], out=out) == 2
    assert out.getvalue().startswith(f"cannot read {tmp_path / 'missing.json'}: ")
    (tmp_path / "list.json").write_text("[]")
    out = io.StringIO()
    assert offline.main([str(tmp_path / "list.json")], out=out) == 2
    assert out.getvalue() == "the bundle is not a JSON object\n"
    path, _ = write(tmp_path, make_bundle())
    out = io.StringIO()
    assert offline.main([str(path), str(tmp_path / "missing.pdf")], out=out) == 2
    assert out.getvalue().startswith(f"cannot read {tmp_path / 'missing.pdf'}: ")


def test_zhijian_verify_has_a_report_subcommand(tmp_path, capsys):
    path, pdf = write(tmp_path, make_bundle())
    assert verify.main(["report", str(path), str(pdf)]) == 0
    assert capsys.readouterr().out.splitlines()[-1] == "report verified"
    assert verify.main(["report"]) == 2
    assert verify.main(["report", "a", "b", "c"]) == 2
    assert capsys.readouterr().out == (verify.USAGE + "\n") * 2


# --- the verifier without site-packages ---------------------------------------------------

VERIFIER_FILES = ("zhijian/__init__.py", "zhijian/verify.py", "zhijian/reports/__init__.py",
                  "zhijian/reports/offline.py")


def run_bare(args, cwd, stdin=None):
    # -S: no site module, so no site-packages (Django, cryptography); -E: no PYTHON*
    # variables.
    return subprocess.run([sys.executable, "-S", "-E", *args], cwd=cwd, input=stdin,
                          capture_output=True, text=True, encoding="utf-8", timeout=120,
                          env={"PATH": os.environ.get("PATH", "/usr/bin:/bin")})


def test_without_site_packages_cryptography_cannot_be_imported(tmp_path):
    proc = run_bare(["-c", "import cryptography"], cwd=tmp_path)
    assert proc.returncode == 1 and "No module named 'cryptography'" in proc.stderr


def test_the_single_file_offline_py_verifies_a_bundle_and_pdf(tmp_path):
    shutil.copy(ROOT / "zhijian/reports/offline.py", tmp_path / "offline.py")
    bundle = make_bundle(custody="platform")
    write(tmp_path, bundle)
    proc = run_bare(["offline.py", "bundle.json", "report.pdf"], cwd=tmp_path)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert proc.stdout.splitlines() == [
        f"OK   key_id: {bundle['key_id']} = SHA-256(public key)[:16]",
        f"OK   payload: report SXZJ-2026-WT-000123, key {bundle['key_id']}, signing key held "
        "by the platform on the lab's behalf",
        "OK   signature: Ed25519 signature over the payload is valid",
        f"OK   pdf_sha256: SHA-256 of the PDF is {hashlib.sha256(PDF).hexdigest()}",
        "report verified",
    ]
    proc = run_bare(["offline.py", "-"], cwd=tmp_path,
                    stdin=(tmp_path / "bundle.json").read_text(encoding="utf-8"))
    assert proc.returncode == 0, proc.stdout + proc.stderr

    (tmp_path / "report.pdf").write_bytes(PDF.replace(b"stand-in", b"forgery!"))
    proc = run_bare(["offline.py", "bundle.json", "report.pdf"], cwd=tmp_path)
    assert proc.returncode == 1
    assert proc.stdout.splitlines()[-1] == "report NOT verified"


def test_python_m_zhijian_verify_report_runs_from_four_files(tmp_path):
    for name in VERIFIER_FILES:
        (tmp_path / name).parent.mkdir(parents=True, exist_ok=True)
        shutil.copy(ROOT / name, tmp_path / name)
    bundle = make_bundle()
    write(tmp_path, bundle)
    assert sorted(str(p.relative_to(tmp_path)) for p in tmp_path.rglob("*.py")) == sorted(
        VERIFIER_FILES)

    proc = run_bare(["-m", "zhijian.verify", "report", "bundle.json", "report.pdf"],
                    cwd=tmp_path)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert proc.stdout.count("OK   ") == 4 and "FAIL" not in proc.stdout

    guard = ("import sys\n"
             "from zhijian.verify import main\n"
             "rc = main(['report', 'bundle.json', 'report.pdf'])\n"
             "assert not any(m.split('.')[0] in ('django', 'cryptography') for m in sys.modules)\n"
             "sys.exit(rc)\n")
    proc = run_bare(["-c", guard], cwd=tmp_path)
    assert proc.returncode == 0, proc.stdout + proc.stderr

    bundle["payload"] = bundle["payload"].replace("1000.000", "9000.000")
    write(tmp_path, bundle)
    proc = run_bare(["-m", "zhijian.verify", "report", "bundle.json"], cwd=tmp_path)
    assert proc.returncode == 1
    assert ("FAIL signature: Ed25519 signature does not match the payload and public key"
            in proc.stdout.splitlines())


# --- docs/report-signing.md -----------------------------------------------------------------

def doc_python_blocks() -> list[str]:
    text = (ROOT / "docs/report-signing.md").read_text(encoding="utf-8")
    blocks = text.split("```python\n")[1:]
    # The blocks sit in a numbered list, indented by three spaces.
    return ["\n".join(line[3:] if line.startswith("   ") else line
                      for line in b.split("```")[0].splitlines()) for b in blocks]


def test_the_documented_key_id_example_is_right():
    text = (ROOT / "docs/report-signing.md").read_text(encoding="utf-8")
    public = bytes.fromhex(RFC8032_VECTORS[0][1])
    assert f"`{RFC8032_VECTORS[0][1]}`, has key id\n  `{key_id_for(public)}`." in text
    assert key_id_for(public) == "21fe31dfa154a261"


def test_the_documented_signing_examples_make_a_signature_that_verifies(tmp_path):
    keygen, sign = doc_python_blocks()
    proc = subprocess.run([sys.executable, "-c", keygen], cwd=tmp_path, capture_output=True,
                          text=True, timeout=120)
    assert proc.returncode == 0, proc.stderr
    public = bytes.fromhex(proc.stdout.strip())
    assert (tmp_path / "lab-key.pem").read_bytes().startswith(
        b"-----BEGIN ENCRYPTED PRIVATE KEY-----")

    bundle = make_bundle()
    kid = key_id_for(public)
    payload = bundle["payload"].replace(bundle["key_id"], kid)
    (tmp_path / "prepare.json").write_text(json.dumps({"payload": payload}), encoding="utf-8")
    (tmp_path / "sign_report.py").write_text(sign, encoding="utf-8")
    proc = subprocess.run([sys.executable, "sign_report.py", "lab-key.pem", "prepare.json"],
                          cwd=tmp_path, capture_output=True, text=True, timeout=120)
    assert proc.returncode == 0, proc.stderr
    signed = {"payload": payload, "signature": proc.stdout.strip(), "public_key": public.hex(),
              "key_id": kid}
    assert failures(offline.verify_bundle(signed, PDF)) == {}
