"""The chain of custody of a sample (样品交接链), checked over plain data.

A sample leaves the sampler sealed and reaches the assigned lab through hand-overs. At
each hand-over the giver signs what they hand over and the receiver signs what they
received and how they found the seal. A *signature* here is the SHA-256 (lowercase hex)
of the RFC 8785 canonical JSON of what the person attests; docs/sampling.md gives the
exact fields so that anyone can recompute them without this code.

``problems(chain)`` lists everything wrong with a chain; an empty list means the chain is
intact. The chain is a plain dict::

    {
      "sample": "CY2026-000001",        # sample number
      "seal_number": "FY-0001",         # the seal put on at sampling
      "sampler": "zhang",               # username of the sampler, the first holder
      "sampled_at": "2026-05-06T02:00:00Z",
      "lab_users": ["lab1", "lab2"],    # usernames of the users of the assigned lab
      "handovers": [                    # in position order
        {"position": 1, "giver": "zhang", "receiver": "lab1",
         "given_at": "2026-05-06T03:00:00Z", "note": "",
         "giver_digest": "<hex>",
         "received_at": "2026-05-06T05:00:00Z" or None,
         "seal_intact": true / false / None, "seal_number_seen": "FY-0001" or "",
         "receiver_digest": "<hex>" or ""},
      ],
    }

Times are UTC ISO 8601 strings with a "Z" (as canonical JSON writes them). No Django
import: the reports app, the verifier and the tests use it as it is.
"""

from __future__ import annotations

import datetime as dt
import hashlib
from typing import Any, NamedTuple

from zhijian.core.canonical import canonical_bytes

#: Problem codes, in the order they are reported for one hand-over.
CODES = (
    "position",            # positions are not 1, 2, 3, … in order
    "gap",                 # the giver is not the one who held the sample
    "time_backwards",      # a time earlier than the one before it
    "giver_signature",     # the giver's signature does not match what is recorded
    "unreceived",          # handed over but not (yet) received
    "receiver_signature",  # the receiver's signature does not match what is recorded
    "seal_broken",         # the receiver found the seal broken
    "seal_mismatch",       # the receiver read another seal number
    "not_at_lab",          # the last holder is not a user of the assigned lab
)


class Problem(NamedTuple):
    """One thing wrong with a chain: its code, the hand-over position it concerns (0 for
    the chain as a whole) and the values its message names."""

    code: str
    position: int
    message_params: dict[str, Any]


def digest(statement: dict) -> str:
    """SHA-256 hex of the canonical JSON of a statement."""
    return hashlib.sha256(canonical_bytes(statement)).hexdigest()


def giver_statement(chain: dict, h: dict) -> dict:
    """What the giver attests when handing over."""
    return {
        "attests": "handover.given",
        "sample": chain["sample"],
        "seal_number": chain["seal_number"],
        "position": h["position"],
        "giver": h["giver"],
        "receiver": h["receiver"],
        "given_at": h["given_at"],
        "note": h.get("note", ""),
    }


def receiver_statement(chain: dict, h: dict) -> dict:
    """What the receiver attests on taking the sample: the hand-over as given (with the
    giver's signature) and the seal as found."""
    return {
        "attests": "handover.received",
        "sample": chain["sample"],
        "seal_number": chain["seal_number"],
        "position": h["position"],
        "giver": h["giver"],
        "receiver": h["receiver"],
        "given_at": h["given_at"],
        "giver_digest": h["giver_digest"],
        "received_at": h["received_at"],
        "seal_intact": h["seal_intact"],
        "seal_number_seen": h["seal_number_seen"],
    }


def _time(value) -> dt.datetime | None:
    if not isinstance(value, str):
        return None
    try:
        parsed = dt.datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError:
        return None
    return parsed if parsed.tzinfo is not None else None


def holder(chain: dict) -> str | None:
    """Who holds the sample now: the sampler, or the receiver of the last hand-over once
    received; None while a hand-over waits to be received."""
    handovers = chain.get("handovers") or []
    if not handovers:
        return chain["sampler"]
    last = handovers[-1]
    return last["receiver"] if last.get("received_at") else None


def problems(chain: dict) -> list[Problem]:
    """Everything wrong with a chain of custody, in hand-over order; [] if intact."""
    found: list[Problem] = []
    previous_holder = chain["sampler"]
    previous_time = _time(chain.get("sampled_at"))
    previous_label = "sampled_at"
    handovers = chain.get("handovers") or []
    for expected, h in enumerate(handovers, start=1):
        pos = h.get("position")
        if pos != expected:
            found.append(Problem("position", expected, {"expected": expected, "found": pos}))
        if h.get("giver") != previous_holder:
            found.append(Problem("gap", expected, {"giver": h.get("giver"),
                                                  "holder": previous_holder}))
        given = _time(h.get("given_at"))
        if given is None or (previous_time is not None and given < previous_time):
            found.append(Problem("time_backwards", expected, {
                "time": h.get("given_at"), "what": "given_at", "after": previous_label}))
        if h.get("giver_digest") != digest(giver_statement(chain, h)):
            found.append(Problem("giver_signature", expected, {"who": h.get("giver")}))
        received_at = h.get("received_at")
        if not received_at:
            found.append(Problem("unreceived", expected, {"receiver": h.get("receiver")}))
            if (h.get("receiver_digest") or h.get("seal_intact") is not None
                    or h.get("seal_number_seen")):
                found.append(Problem("receiver_signature", expected,
                                     {"who": h.get("receiver")}))
            previous_holder = None
            previous_time, previous_label = given or previous_time, "given_at"
            continue
        received = _time(received_at)
        if received is None or (given is not None and received < given):
            found.append(Problem("time_backwards", expected, {
                "time": received_at, "what": "received_at", "after": "given_at"}))
        if h.get("receiver_digest") != digest(receiver_statement(chain, h)):
            found.append(Problem("receiver_signature", expected, {"who": h.get("receiver")}))
        if h.get("seal_intact") is not True:
            found.append(Problem("seal_broken", expected, {"receiver": h.get("receiver")}))
        if h.get("seal_number_seen") != chain["seal_number"]:
            found.append(Problem("seal_mismatch", expected, {
                "seen": h.get("seal_number_seen"), "expected": chain["seal_number"]}))
        previous_holder = h.get("receiver")
        previous_time, previous_label = received or given or previous_time, "received_at"
    last = holder(chain)
    if last is not None and last not in set(chain.get("lab_users") or ()):
        found.append(Problem("not_at_lab", 0, {"holder": last}))
    return found


def intact(chain: dict) -> bool:
    return not problems(chain)
