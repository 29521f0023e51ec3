"""custody.py as a pure function over plain data: each problem it finds, exactly, and the
property that altering any single field of any hand-over of an intact chain is found."""

from __future__ import annotations

import copy
import datetime as dt

from hypothesis import given
from hypothesis import strategies as st

from zhijian.core.canonical import canonical_text
from zhijian.sampling import custody
from zhijian.sampling.custody import Problem

T0 = dt.datetime(2026, 11, 2, 1, 0, tzinfo=dt.UTC)


def iso(minutes: int) -> str:
    return (T0 + dt.timedelta(minutes=minutes)).isoformat().replace("+00:00", "Z")


def handover(chain, position, giver, receiver, given, received, *, seal_intact=True,
             seen=None, note=""):
    h = {"position": position, "giver": giver, "receiver": receiver, "given_at": iso(given),
         "note": note, "giver_digest": "", "received_at": None, "seal_intact": None,
         "seal_number_seen": "", "receiver_digest": ""}
    h["giver_digest"] = custody.digest(custody.giver_statement(chain, h))
    if received is not None:
        h.update(received_at=iso(received), seal_intact=seal_intact,
                 seal_number_seen=chain["seal_number"] if seen is None else seen)
        h["receiver_digest"] = custody.digest(custody.receiver_statement(chain, h))
    return h


def make_chain(holders=("zhang", "li", "lab1"), *, received_last=True) -> dict:
    chain = {"sample": "CY2026-000001", "seal_number": "FY-0001", "sampler": holders[0],
             "sampled_at": iso(0), "lab_users": ["lab1", "lab2"], "handovers": []}
    for i, (giver, receiver) in enumerate(zip(holders, holders[1:], strict=False), start=1):
        last = i == len(holders) - 1
        chain["handovers"].append(handover(
            chain, i, giver, receiver, 10 * i, 10 * i + 5 if received_last or not last else None))
    return chain


def codes(chain) -> list[tuple[str, int]]:
    return [(p.code, p.position) for p in custody.problems(chain)]


def test_an_intact_chain_has_no_problem():
    chain = make_chain()
    assert custody.problems(chain) == []
    assert custody.intact(chain)
    assert custody.holder(chain) == "lab1"


def test_a_sample_still_with_the_sampler_is_not_at_the_lab():
    chain = make_chain(("zhang",))
    assert custody.problems(chain) == [Problem("not_at_lab", 0, {"holder": "zhang"})]


def test_an_unreceived_hand_over():
    chain = make_chain(received_last=False)
    assert custody.holder(chain) is None
    assert custody.problems(chain) == [Problem("unreceived", 2, {"receiver": "lab1"})]


def test_a_gap_in_the_chain():
    chain = make_chain()
    h = chain["handovers"][1]
    h["giver"] = "wang"
    h["giver_digest"] = custody.digest(custody.giver_statement(chain, h))
    h["receiver_digest"] = custody.digest(custody.receiver_statement(chain, h))
    assert custody.problems(chain) == [Problem("gap", 2, {"giver": "wang", "holder": "li"})]


def test_a_hand_over_given_on_before_it_was_received_is_a_gap():
    chain = make_chain(received_last=False)
    chain["handovers"].append(handover(chain, 3, "lab1", "lab2", 40, 45))
    assert codes(chain) == [("unreceived", 2), ("gap", 3)]
    assert custody.problems(chain)[1].message_params == {"giver": "lab1", "holder": None}


def test_a_broken_seal_and_another_seal_number():
    chain = make_chain(("zhang", "lab1"))
    chain["handovers"] = [handover(chain, 1, "zhang", "lab1", 10, 20, seal_intact=False,
                                   seen="FY-0002")]
    assert custody.problems(chain) == [
        Problem("seal_broken", 1, {"receiver": "lab1"}),
        Problem("seal_mismatch", 1, {"seen": "FY-0002", "expected": "FY-0001"})]


def test_time_running_backwards():
    chain = make_chain(("zhang", "li", "lab1"))
    chain["handovers"][1] = handover(chain, 2, "li", "lab1", 12, 11)  # given before received
    assert custody.problems(chain) == [
        Problem("time_backwards", 2, {"time": iso(12), "what": "given_at",
                                      "after": "received_at"}),
        Problem("time_backwards", 2, {"time": iso(11), "what": "received_at",
                                      "after": "given_at"})]
    chain = make_chain(("zhang", "lab1"))
    chain["handovers"][0] = handover(chain, 1, "zhang", "lab1", -5, 3)  # before the sampling
    assert codes(chain) == [("time_backwards", 1)]


def test_a_final_holder_outside_the_lab():
    chain = make_chain(("zhang", "li"))
    assert custody.problems(chain) == [Problem("not_at_lab", 0, {"holder": "li"})]


def test_positions_out_of_order():
    chain = make_chain()
    h = chain["handovers"][1]
    h["position"] = 3
    h["giver_digest"] = custody.digest(custody.giver_statement(chain, h))
    h["receiver_digest"] = custody.digest(custody.receiver_statement(chain, h))
    assert custody.problems(chain) == [Problem("position", 2, {"expected": 2, "found": 3})]


def test_signatures_that_do_not_match():
    chain = make_chain()
    chain["handovers"][0]["note"] = "补记"
    assert custody.problems(chain) == [
        Problem("giver_signature", 1, {"who": "zhang"})]
    chain = make_chain()
    chain["handovers"][1]["receiver_digest"] = "0" * 64
    assert custody.problems(chain) == [Problem("receiver_signature", 2, {"who": "lab1"})]
    chain = make_chain(received_last=False)
    chain["handovers"][1]["receiver_digest"] = "0" * 64  # signed for a receipt not recorded
    assert codes(chain) == [("unreceived", 2), ("receiver_signature", 2)]


def test_the_seal_number_of_the_chain_is_signed():
    chain = make_chain()
    chain["seal_number"] = "FY-0009"
    assert codes(chain) == [
        ("giver_signature", 1), ("receiver_signature", 1), ("seal_mismatch", 1),
        ("giver_signature", 2), ("receiver_signature", 2), ("seal_mismatch", 2)]


FIELDS = ["position", "giver", "receiver", "given_at", "note", "giver_digest",
          "received_at", "seal_intact", "seal_number_seen", "receiver_digest"]
values = st.one_of(st.none(), st.booleans(), st.integers(-5, 10), st.text(max_size=30),
                   st.sampled_from(["zhang", "li", "lab1", "lab2", "FY-0001", iso(0), iso(7),
                                    iso(100), "2026-11-02T01:10:00+00:00"]))


@given(holders=st.lists(st.sampled_from(["zhang", "li", "wang", "zhao"]), min_size=1,
                        max_size=4, unique=True),
       last=st.sampled_from(["lab1", "lab2"]), which=st.integers(0, 10),
       field=st.sampled_from(FIELDS), value=values)
def test_any_single_altered_field_of_any_hand_over_is_found(holders, last, which, field, value):
    chain = make_chain((*holders, last))
    assert custody.problems(chain) == []
    altered = copy.deepcopy(chain)
    h = altered["handovers"][which % len(altered["handovers"])]
    if canonical_text(h[field]) == canonical_text(value):
        return  # not an alteration
    h[field] = value
    assert custody.problems(altered) != []
