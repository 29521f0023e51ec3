"""Well-formedness of GS1 identifiers in EPCIS events: EPC URNs (GS1 Tag Data Standard
2.x pure-identity, pattern and class URNs) and GS1 Digital Link URIs, with the check digit
of GTIN, SSCC and GLN. Pattern level only: no company-prefix lookup, no resolver.

Pure Python, standard library only; used by validation.py (docs/epcis-validation.md §4.4).
"""

from __future__ import annotations

import re
from urllib.parse import unquote, urlsplit

__all__ = ["digital_link_problem", "epc_urn_problem", "gs1_check_digit", "identifier_problem"]

_GS3A3 = r"(?:[A-Za-z0-9!'()*+,\-.:;=_]|%(?:22|25|26|2[Ff]|3[CcEeFf]))"
_CPI = r"(?:[0-9A-Z\-]|%2[3Ff])"
# component kinds: P company prefix, D reference digits, Sn GS3A3 string of at most n
# characters (S* : at most 30 minus the prefix digits), Nn digits (at most n), 2 two digits
_EPC: dict[str, tuple[str, int | None, str]] = {
    "sgtin": ("P D S20", 13, "CompanyPrefix.ItemRefAndIndicator.SerialNumber"),
    "sscc": ("P D", 17, "CompanyPrefix.SerialReference"),
    "sgln": ("P D S20", 12, "CompanyPrefix.LocationReference.Extension"),
    "grai": ("P D S16", 12, "CompanyPrefix.AssetType.SerialNumber"),
    "giai": ("P S*", None, "CompanyPrefix.IndividualAssetReference"),
    "gsrn": ("P D", 17, "CompanyPrefix.ServiceReference"),
    "gsrnp": ("P D", 17, "CompanyPrefix.ServiceReference"),
    "gdti": ("P D S17", 12, "CompanyPrefix.DocumentType.SerialNumber"),
    "cpi": ("P C N12", None, "CompanyPrefix.ComponentPartReference.Serial"),
    "sgcn": ("P D N12", 12, "CompanyPrefix.CouponReference.SerialComponent"),
    "ginc": ("P S*", None, "CompanyPrefix.ConsignmentReference"),
    "gsin": ("P D", 16, "CompanyPrefix.ShipperReference"),
    "itip": ("P D 2 2 S20", 13,
             "CompanyPrefix.ItemRefAndIndicator.PieceNumber.TotalCount.SerialNumber"),
    "upui": ("P D S28", 13, "CompanyPrefix.ItemRefAndIndicator.TPX"),
    "pgln": ("P D", 12, "CompanyPrefix.PartyReference"),
    "gid": ("N9 N8 N11", None, "ManagerNumber.ObjectClass.SerialNumber"),
}
_EPC_OTHER = {  # whole-body patterns for the non-GS1 schemes
    "usdod": (r"[A-Z0-9]{5,6}\.\d+", "CAGEOrDODAAC.SerialNumber"),
    "adi": (r"[A-Z0-9]{5,6}\.(?:[A-Z0-9\-]|%2F)*\.(?:%23)?(?:[A-Z0-9\-]|%2F)+",
            "CAGEOrDODAAC.OriginalPartNumber.Serial"),
    "bic": (r"[A-Z]{3}[UJZ]\d{7}", "BICcontainerCode"),
    "imovn": (r"\d{7}", "IMOvesselNumber"),
}


def _component(kind: str, text: str, prefix_len: int) -> bool:
    if kind == "P":
        return re.fullmatch(r"\d{6,12}", text) is not None
    if kind == "D":
        return re.fullmatch(r"\d*", text) is not None
    if kind == "2":
        return re.fullmatch(r"\d\d", text) is not None
    if kind[0] == "N":
        return re.fullmatch(rf"\d{{1,{int(kind[1:])}}}", text) is not None
    limit = 30 - prefix_len if kind in ("S*", "C") else int(kind[1:])
    char = _CPI if kind == "C" else _GS3A3
    return re.fullmatch(f"{char}{{1,{max(limit, 1)}}}", text) is not None


def _fast_pattern(scheme: str) -> re.Pattern | None:
    """One expression for the pure-identity (or LGTIN class) URN of a scheme whose
    components have fixed limits, with the company prefix and the reference as groups: the
    same components as _component checks, joined by the dots that split them."""
    kinds, digits, _syntax = _EPC["sgtin" if scheme == "lgtin" else scheme]
    parts = []
    for kind in kinds.split():
        if kind in ("S*", "C"):  # the limit depends on the company prefix
            return None
        parts.append({"P": r"(\d{6,12})", "D": r"(\d*)", "2": r"\d\d"}.get(kind) or (
            rf"\d{{1,{int(kind[1:])}}}" if kind[0] == "N" else f"{_GS3A3}{{1,{int(kind[1:])}}}"))
    head = "urn:epc:class:lgtin:" if scheme == "lgtin" else f"urn:epc:id:{scheme}:"
    return re.compile(re.escape(head) + r"\.".join(parts))


#: scheme -> (expression, digits of company prefix + reference) for the fast path
_FAST = {scheme: (pattern, _EPC["sgtin" if scheme == "lgtin" else scheme][1])
         for scheme in (*_EPC, "lgtin") if (pattern := _fast_pattern(scheme)) is not None}


def epc_urn_problem(value: str):
    # The common case first: a well-formed pure-identity URN or LGTIN class, recognised by
    # one expression; anything else takes the checks below, which name the problem.
    fast = _FAST.get(value[8:].partition(":")[2].partition(":")[0])
    if fast is not None:
        m = fast[0].fullmatch(value)
        if m is not None and (fast[1] is None or len(m[1]) + len(m[2]) == fast[1]):
            return None
    m = re.fullmatch(r"urn:epc:(id|idpat|class):([a-z0-9]+):(.*)", value)
    known = m is not None and (m[1] == "class") == (m[2] == "lgtin") and (
        m[2] in _EPC or m[2] in _EPC_OTHER or m[2] == "lgtin")
    if not known:
        scheme = ":".join(value.split(":")[2:4])
        return "identifier.epc_scheme", {"value": value, "scheme": scheme}
    form, scheme, body = m[1], m[2], m[3]
    if scheme in _EPC_OTHER:
        pattern, syntax = _EPC_OTHER[scheme]
        if form == "id" and re.fullmatch(pattern, body):
            return None
        if form == "idpat" and body.endswith("*"):
            return None
        return "identifier.epc_syntax", {"value": value, "syntax": f"urn:epc:{form}:{scheme}:{syntax}"}
    kinds, digits, syntax = _EPC["sgtin" if scheme == "lgtin" else scheme]
    if scheme == "lgtin":
        syntax = "CompanyPrefix.ItemRefAndIndicator.Lot"
    syntax = f"urn:epc:{form}:{scheme}:{syntax}"
    kinds = kinds.split()
    parts = body.split(".", len(kinds) - 1)
    bad = {"value": value, "syntax": syntax}
    if len(parts) != len(kinds):
        return "identifier.epc_syntax", bad
    wild = form == "idpat" and "*" in parts
    if wild and any(x != "*" for x in parts[parts.index("*"):]):
        return "identifier.epc_syntax", bad  # only trailing components may be *
    concrete = parts[:parts.index("*")] if wild else parts
    prefix_len = len(concrete[0]) if concrete else 0
    if not all(_component(k, t, prefix_len) for k, t in zip(kinds, concrete, strict=False)):
        return "identifier.epc_syntax", bad
    if digits and len(concrete) >= 2 and len(concrete[0]) + len(concrete[1]) != digits:
        return "identifier.epc_digits", {**bad, "digits": digits}
    return None


_C82 = r"""[!"%&'()*+,\-./0-9:;<=>?A-Z_a-z]"""
# AI: (name, value pattern, GS1 format, has a check digit we verify)
_DL_PRIMARY = {
    "01": ("GTIN", r"\d{14}|\d{13}|\d{12}|\d{8}", "N14", True),
    "00": ("SSCC", r"\d{18}", "N18", True),
    "414": ("GLN", r"\d{13}", "N13", True),
    "417": ("GLN", r"\d{13}", "N13", True),
    "253": ("GDTI", r"\d{13}" + _C82 + "{0,17}", "N13+X..17", False),
    "255": ("GCN", r"\d{13,25}", "N13+N..12", False),
    "401": ("GINC", _C82 + "{1,30}", "X..30", False),
    "402": ("GSIN", r"\d{17}", "N17", False),
    "8003": ("GRAI", r"\d{14}" + _C82 + "{0,16}", "N14+X..16", False),
    "8004": ("GIAI", _C82 + "{1,30}", "X..30", False),
    "8006": ("ITIP", r"\d{18}", "N18", False),
    "8010": ("CPID", r"[#\-/0-9A-Z]{1,30}", "X..30", False),
    "8013": ("GMN", _C82 + "{1,25}", "X..25", False),
    "8017": ("GSRN", r"\d{18}", "N18", False),
    "8018": ("GSRN", r"\d{18}", "N18", False),
}
_DL_QUALIFIERS = {  # allowed qualifier AIs after a primary key, in their required order
    "01": ("22", "10", "21", "235"), "8006": ("22", "10", "21"), "414": ("254", "7040"),
    "8010": ("8011",), "8017": ("8019",), "8018": ("8019",),
}
_DL_QUALIFIER_FORMAT = {
    "22": ("CPV", _C82 + "{1,20}", "X..20"), "10": ("batch/lot", _C82 + "{1,20}", "X..20"),
    "21": ("serial", _C82 + "{1,20}", "X..20"), "235": ("TPX", _C82 + "{1,28}", "X..28"),
    "254": ("GLN extension", _C82 + "{1,20}", "X..20"),
    "7040": ("UIC extension", _C82 + "{4}", "X4"),
    "8011": ("CPID serial", r"\d{1,12}", "N..12"), "8019": ("SRIN", r"\d{1,10}", "N..10"),
}


def gs1_check_digit(body: str) -> str:
    """GS1 mod-10 check digit for the digits before it (weights 3,1,3,… from the right)."""
    total = sum(int(d) * (3 if i % 2 == 0 else 1) for i, d in enumerate(reversed(body)))
    return str(-total % 10)


def digital_link_problem(value: str):
    try:
        segments = urlsplit(value).path.split("/")[1:]
    except ValueError:
        return None
    if segments and segments[-1] == "":
        segments.pop()
    start = next((i for i, s in enumerate(segments) if s in _DL_PRIMARY and all(
        re.fullmatch(r"\d{2,4}", segments[j]) for j in range(i + 2, len(segments), 2))), None)
    if start is None:
        return None  # not a Digital Link: an ordinary URI
    segments = segments[start:]
    if len(segments) % 2:
        return "identifier.dl_missing_value", {"value": value, "ai": segments[-1]}
    pairs = [(segments[k], unquote(segments[k + 1])) for k in range(0, len(segments), 2)]
    primary, number = pairs[0]
    name, pattern, fmt, checked = _DL_PRIMARY[primary]
    if not re.fullmatch(pattern, number):
        return "identifier.dl_value", {"value": value, "ai": primary, "key": name, "format": fmt}
    if checked and number[-1] != gs1_check_digit(number[:-1]):
        return "identifier.check_digit", {"value": value, "key": name, "number": number,
                                          "found": number[-1],
                                          "expected": gs1_check_digit(number[:-1])}
    allowed, last = _DL_QUALIFIERS.get(primary, ()), -1
    for ai, text in pairs[1:]:
        if ai not in allowed or allowed.index(ai) <= last:
            return "identifier.dl_qualifier", {"value": value, "ai": ai, "primary": primary,
                                               "allowed": ", ".join(allowed) or "-"}
        last = allowed.index(ai)
        qname, qpattern, qfmt = _DL_QUALIFIER_FORMAT[ai]
        if not re.fullmatch(qpattern, text):
            return "identifier.dl_value", {"value": value, "ai": ai, "key": qname, "format": qfmt}
    return None


def identifier_problem(value: str):
    """(code, params) when an EPC URN or a GS1 Digital Link URI is malformed; other URIs
    (urn:uuid:, private https URIs, …) are only checked by the schema."""
    if value[:8].lower() == "urn:epc:":
        return epc_urn_problem(value)
    if value[:7].lower() == "http://" or value[:8].lower() == "https://":
        return digital_link_problem(value)
    return None
