"""Offline verifier of a signed test report (检验检测报告), standard library only.

Anyone holding the verification bundle of a report (the platform serves it at
/verify/<number>/bundle.json) and, if they like, the PDF, can check with this one file —
no Zhijian code, no `cryptography`, no network:

    python -m zhijian.verify report bundle.json [report.pdf]
    python offline.py bundle.json [report.pdf]            (this file alone)

Exit status: 0 every check holds, 1 a check fails, 2 the input cannot be read.

The bundle is one JSON object:

    payload     the signed text: RFC 8785 canonical JSON of {"report": data,
                "pdf_sha256": hex, "kid": key id, "alg": "ed25519", "custody": "lab" |
                "platform"}; the signature is over its UTF-8 bytes
    signature   the Ed25519 signature, 64 bytes in hex
    public_key  the lab's Ed25519 public key, 32 bytes in hex
    key_id      the first 16 hex digits of SHA-256(raw public key)
    revocation  (optional) a revocation statement: {"statement": canonical JSON
                {"format": "zhijian-revocation/1", "number", "reason", "ground" (since
                the ground was recorded: "error" or "false", found false or forged by a
                regulator), "revoked_at", "payload_sha256"}, "signature": hex,
                "public_key": hex, "key_id": str},
                signed with the platform's audit key (published at /api/v1/public/keys/)

The checks, in order (docs/report-signing.md §6): the key id is that of the public key;
the payload is a JSON object naming that key id and the algorithm ed25519; the signature
is valid; the PDF, if given, has the SHA-256 the payload names; and, if the bundle carries
a revocation statement, that statement is genuine — in which case the report is revoked and
the result is "not valid". Compare the key id with the one the lab registered (the lab's
page on the portal) before you trust the result: the bundle can only prove that whoever
holds the key signed these data.

Ed25519 verification is written out from RFC 8032 §5.1 (see `ed25519_verify`). It is
slow next to a C library (a few milliseconds per signature) but depends on nothing.
"""

from __future__ import annotations

import hashlib
import json
import sys

REVOCATION_FORMAT = "zhijian-revocation/1"

# --- Ed25519 (RFC 8032 §5.1) ------------------------------------------------------------

# §5.1: the field GF(p), the curve constant d, the group order L and the base point B.
P = 2**255 - 19
D = -121665 * pow(121666, P - 2, P) % P
L = 2**252 + 27742317777372353535851937790883648493
SQRT_M1 = pow(2, (P - 1) // 4, P)  # a square root of -1 mod p, used in §5.1.3 step 3
_BY = 4 * pow(5, P - 2, P) % P  # B's y coordinate is 4/5
_BX = 15112221349535400772501151409588531511454012693041857206046113283949847762202
B = (_BX, _BY, 1, _BX * _BY % P)  # extended coordinates (X, Y, Z, T), x = X/Z, y = Y/Z
IDENTITY = (0, 1, 1, 0)


def _add(p1: tuple, p2: tuple) -> tuple:
    """Point addition in extended homogeneous coordinates (RFC 8032 §5.1.4); complete,
    so it also doubles."""
    x1, y1, z1, t1 = p1
    x2, y2, z2, t2 = p2
    a = (y1 - x1) * (y2 - x2) % P
    b = (y1 + x1) * (y2 + x2) % P
    c = 2 * t1 * t2 * D % P
    dd = 2 * z1 * z2 % P
    e, f, g, h = b - a, dd - c, dd + c, b + a
    return (e * f % P, g * h % P, f * g % P, e * h % P)


def _double(p1: tuple) -> tuple:
    """Point doubling (RFC 8032 §5.1.4, the dedicated formula)."""
    x1, y1, z1, _ = p1
    a = x1 * x1 % P
    b = y1 * y1 % P
    c = 2 * z1 * z1 % P
    h = a + b
    e = h - (x1 + y1) ** 2
    g = a - b
    f = c + g
    return (e * f % P, g * h % P, f * g % P, e * h % P)


def _multiply(k: int, point: tuple) -> tuple:
    """[k]point by double-and-add. Only public values are multiplied here (verification),
    so the running time may depend on k."""
    result = IDENTITY
    addend = point
    while k > 0:
        if k & 1:
            result = _add(result, addend)
        addend = _double(addend)
        k >>= 1
    return result


def _equal(p1: tuple, p2: tuple) -> bool:
    """Projective equality: x1/z1 = x2/z2 and y1/z1 = y2/z2."""
    x1, y1, z1, _ = p1
    x2, y2, z2, _ = p2
    return (x1 * z2 - x2 * z1) % P == 0 and (y1 * z2 - y2 * z1) % P == 0


def _decode_point(s: bytes) -> tuple | None:
    """Decode a 32-byte point encoding (RFC 8032 §5.1.3); None if it is not a point."""
    if len(s) != 32:
        return None
    n = int.from_bytes(s, "little")
    x_0 = n >> 255
    y = n & ((1 << 255) - 1)
    if y >= P:  # step 1: a non-canonical y is an error
        return None
    # Step 2: x^2 = (y^2 - 1) / (d y^2 + 1); candidate root x = u v^3 (u v^7)^((p-5)/8).
    u = (y * y - 1) % P
    v = (D * y * y + 1) % P
    x = u * pow(v, 3, P) * pow(u * pow(v, 7, P), (P - 5) // 8, P) % P
    # Step 3: the candidate, or it times sqrt(-1), or there is no square root.
    vxx = v * x * x % P
    if vxx == u:
        pass
    elif vxx == (-u) % P:
        x = x * SQRT_M1 % P
    else:
        return None
    # Step 4: the sign bit picks the root; x = 0 with the sign bit set is an error.
    if x == 0 and x_0 == 1:
        return None
    if x & 1 != x_0:
        x = P - x
    return (x, y, 1, x * y % P)


def ed25519_verify(public_key: bytes, message: bytes, signature: bytes) -> bool:
    """Verify an Ed25519 signature as RFC 8032 §5.1.7 says:

    1. Split the signature into R (first 32 bytes) and S (last 32 bytes); decode R and the
       public key A as points (§5.1.3) and S as a little-endian integer s; if a decoding
       fails or s ≥ L, the signature is invalid.
    2. k = SHA-512(dom2(F, C) || R || A || PH(M)) as a little-endian integer; for
       Ed25519 (pure, no context) dom2 is empty and PH is the identity, so this is
       SHA-512(R || A || M).
    3. Check the group equation [8][s]B = [8]R + [8][k]A.

    The cofactored equation of step 3 is the one the RFC states; for honestly generated
    keys and signatures it agrees with the cofactorless [s]B = R + [k]A that some
    libraries check (they can differ only on deliberately crafted small-order parts).
    """
    if len(public_key) != 32 or len(signature) != 64:
        return False
    a = _decode_point(public_key)
    r = _decode_point(signature[:32])
    if a is None or r is None:
        return False
    s = int.from_bytes(signature[32:], "little")
    if s >= L:
        return False
    k = int.from_bytes(hashlib.sha512(signature[:32] + public_key + message).digest(),
                       "little")
    # [8][k]A = [k mod L]([8]A): [8]A lies in the subgroup of order L, so k may be reduced.
    left = _multiply(8, _multiply(s, B))
    right = _add(_multiply(8, r), _multiply(k % L, _multiply(8, a)))
    return _equal(left, right)


# --- The bundle ---------------------------------------------------------------------------

def key_id_for(public_raw: bytes) -> str:
    """The key id: the first 16 hex digits of SHA-256 of the raw 32-byte public key."""
    return hashlib.sha256(public_raw).hexdigest()[:16]


def _hex(value, size: int, name: str) -> bytes:
    """The bytes of a hex string of exactly `size` bytes, or ValueError naming the field."""
    if not isinstance(value, str):
        raise ValueError(f"{name} is missing or not a string")
    try:
        raw = bytes.fromhex(value)
    except ValueError:
        raise ValueError(f"{name} is not hexadecimal") from None
    if len(raw) != size:
        raise ValueError(f"{name} has {len(raw)} bytes, expected {size}")
    return raw


def verify_bundle(bundle: dict, pdf: bytes | None = None) -> list[tuple[str, bool, str]]:
    """Every check of a report's verification bundle, in order: (name, ok, detail).

    Checks: key_id, payload, signature, then pdf_sha256 if a PDF is given, then revocation
    if the bundle carries a revocation statement. A failed check does not stop the later
    ones, so that everything wrong is reported at once.
    """
    checks: list[tuple[str, bool, str]] = []

    # 1. The key id is SHA-256(public key)[:16].
    public = None
    key_id = bundle.get("key_id")
    try:
        public = _hex(bundle.get("public_key"), 32, "public_key")
    except ValueError as exc:
        checks.append(("key_id", False, str(exc)))
    else:
        computed = key_id_for(public)
        if computed == key_id:
            checks.append(("key_id", True, f"{key_id} = SHA-256(public key)[:16]"))
        else:
            checks.append(("key_id", False, f"the bundle says {key_id!r}, the public key "
                                            f"gives {computed}"))

    # 2. The payload is a JSON object that names this key and Ed25519.
    text = bundle.get("payload")
    payload = None
    if not isinstance(text, str):
        checks.append(("payload", False, "payload is missing or not a string"))
    else:
        try:
            payload = json.loads(text)
        except ValueError as exc:
            checks.append(("payload", False, f"payload is not JSON: {exc}"))
        else:
            if not isinstance(payload, dict):
                checks.append(("payload", False, "payload is not a JSON object"))
                payload = None
            elif payload.get("kid") != key_id:
                checks.append(("payload", False, f"payload names key {payload.get('kid')!r}, "
                                                 f"the bundle {key_id!r}"))
            elif payload.get("alg") != "ed25519":
                checks.append(("payload", False, f"payload names algorithm "
                                                 f"{payload.get('alg')!r}, expected ed25519"))
            else:
                report = payload.get("report")
                number = report.get("number") if isinstance(report, dict) else None
                checks.append(("payload", True, f"report {number}, key {key_id}, "
                                                f"{_custody(payload.get('custody'))}"))

    # 3. The signature over the payload's UTF-8 bytes.
    try:
        signature = _hex(bundle.get("signature"), 64, "signature")
    except ValueError as exc:
        checks.append(("signature", False, str(exc)))
    else:
        if public is None or not isinstance(text, str):
            checks.append(("signature", False, "cannot be checked without a public key and "
                                               "a payload"))
        elif ed25519_verify(public, text.encode("utf-8"), signature):
            checks.append(("signature", True, "Ed25519 signature over the payload is valid"))
        else:
            checks.append(("signature", False, "Ed25519 signature does not match the payload "
                                               "and public key"))

    # 4. The PDF is the one that was signed.
    if pdf is not None:
        digest = hashlib.sha256(pdf).hexdigest()
        expected = payload.get("pdf_sha256") if payload else None
        if digest == expected:
            checks.append(("pdf_sha256", True, f"SHA-256 of the PDF is {digest}"))
        else:
            checks.append(("pdf_sha256", False, f"SHA-256 of the PDF is {digest}, the payload "
                                                f"names {expected}"))

    # 5. A revocation statement, if the bundle has one.
    if "revocation" in bundle:
        checks.append(_revocation(bundle["revocation"], text, payload))
    return checks


def _custody(custody) -> str:
    if custody == "platform":
        return "signing key held by the platform on the lab's behalf"
    if custody == "lab":
        return "signing key held by the lab"
    return f"custody {custody!r} unknown"


def _revocation(revocation, text, payload) -> tuple[str, bool, str]:
    """A genuine revocation statement of this very payload makes the report not valid."""
    if not isinstance(revocation, dict):
        return ("revocation", False, "revocation is not a JSON object")
    try:
        public = _hex(revocation.get("public_key"), 32, "revocation.public_key")
        signature = _hex(revocation.get("signature"), 64, "revocation.signature")
    except ValueError as exc:
        return ("revocation", False, str(exc))
    statement = revocation.get("statement")
    if not isinstance(statement, str):
        return ("revocation", False, "revocation.statement is missing or not a string")
    if key_id_for(public) != revocation.get("key_id"):
        return ("revocation", False, "revocation.key_id is not that of revocation.public_key")
    if not ed25519_verify(public, statement.encode("utf-8"), signature):
        return ("revocation", False, "the revocation statement's signature is not valid")
    try:
        body = json.loads(statement)
    except ValueError:
        return ("revocation", False, "the revocation statement is not JSON")
    if not isinstance(body, dict) or body.get("format") != REVOCATION_FORMAT:
        return ("revocation", False, f"the revocation statement is not {REVOCATION_FORMAT}")
    signed = hashlib.sha256(text.encode("utf-8")).hexdigest() if isinstance(text, str) else None
    report = payload.get("report") if payload else None
    number = report.get("number") if isinstance(report, dict) else None
    if body.get("payload_sha256") != signed or body.get("number") != number:
        return ("revocation", False, "the revocation statement is about another report")
    ground = {"false": " as found false or forged by a regulator",
              "error": " for an error"}.get(body.get("ground"), "")
    return ("revocation", False, f"report {number} was revoked{ground} at "
                                 f"{body.get('revoked_at')} by the platform (key "
                                 f"{revocation.get('key_id')}): {body.get('reason')}")


def main(argv: list[str] | None = None, out=None) -> int:
    """`python offline.py bundle.json [report.pdf]` (bundle `-` = standard input)."""
    out = out or sys.stdout
    args = sys.argv[1:] if argv is None else argv
    if len(args) not in (1, 2):
        print("usage: offline.py BUNDLE.json [REPORT.pdf]   (- for standard input)", file=out)
        return 2
    try:
        if args[0] == "-":
            bundle = json.loads(sys.stdin.read())
        else:
            with open(args[0], encoding="utf-8") as f:
                bundle = json.load(f)
    except (OSError, ValueError) as exc:
        print(f"cannot read {args[0]}: {exc}", file=out)
        return 2
    if not isinstance(bundle, dict):
        print("the bundle is not a JSON object", file=out)
        return 2
    pdf = None
    if len(args) == 2:
        try:
            with open(args[1], "rb") as f:
                pdf = f.read()
        except OSError as exc:
            print(f"cannot read {args[1]}: {exc}", file=out)
            return 2
    checks = verify_bundle(bundle, pdf)
    for name, ok, detail in checks:
        print(f"{'OK  ' if ok else 'FAIL'} {name}: {detail}", file=out)
    ok = all(passed for _, passed, _ in checks)
    print("report verified" + ("" if pdf is not None else " (PDF not checked)") if ok
          else "report NOT verified", file=out)
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
