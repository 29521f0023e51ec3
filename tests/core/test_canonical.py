"""The fast canonical-JSON path must write exactly what RFC 8785 prescribes."""

import datetime as dt

import rfc8785
from hypothesis import given
from hypothesis import strategies as st

from zhijian.core.canonical import canonical_text, to_jsonable

scalars = (
    st.none()
    | st.booleans()
    | st.integers(min_value=-(2**53) + 1, max_value=2**53 - 1)
    | st.text()  # includes control characters, quotes, backslashes, CJK, astral planes
    | st.floats(allow_nan=False, allow_infinity=False)
)
values = st.recursive(
    scalars,
    lambda children: st.lists(children, max_size=4)
    | st.dictionaries(st.text(max_size=6), children, max_size=4),
    max_leaves=20,
)


@given(values)
def test_matches_rfc8785_reference(value):
    assert canonical_text(value) == rfc8785.dumps(to_jsonable(value)).decode("utf-8")


def test_known_forms():
    assert canonical_text({"b": 1, "a": "雁塔\n\"x\"\u0001"}) == '{"a":"雁塔\\n\\"x\\"\\u0001","b":1}'
    assert canonical_text({"t": dt.datetime(2026, 1, 2, 3, 4, 5, tzinfo=dt.UTC)}) == (
        '{"t":"2026-01-02T03:04:05Z"}'
    )
    assert canonical_text({"x": 1.5, "y": 2.0}) == '{"x":1.5,"y":2}'


def test_choices_members_are_plain_strings():
    from zhijian.registry.choices import EntityType

    assert canonical_text({"t": EntityType.ENTERPRISE}) == '{"t":"enterprise"}'
    assert type(to_jsonable(EntityType.ENTERPRISE)) is str
