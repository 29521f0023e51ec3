"""The vocabulary of the API authorization matrices (tests/api/test_authorization_matrix.py
and the per-app matrices such as tests/inspections/test_api.py): expected statuses or
visible rows per persona, in PERSONAS order, and one Case per endpoint and method."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field

from tests.api.conftest import PERSONAS


def S(*codes: int) -> dict[str, int]:
    """Statuses in PERSONAS order: anonymous, admin, province, Xi'an, Baoji, Xi'an housing,
    enterprise, lab, user unit."""
    assert len(codes) == len(PERSONAS)
    return dict(zip(PERSONAS, codes, strict=True))


def ALL(code: int) -> dict[str, int]:
    return S(*[code] * len(PERSONAS))


def L(*sets) -> dict[str, object]:
    """Visible rows of a list in PERSONAS order; None means 401 for that persona."""
    assert len(sets) == len(PERSONAS)
    return dict(zip(PERSONAS, sets, strict=True))


def EVERYONE(rows) -> dict[str, object]:
    return L(*[rows] * len(PERSONAS))


@dataclass
class Case:
    action: str  # "<router basename>:<viewset action>"
    method: str
    url: Callable[[dict], str]
    expect: dict  # persona -> status, or (lists) persona -> visible rows / None for 401
    body: Callable[[dict], object] | None = None
    key: Callable[[dict], object] | None = None  # identifies a row of a list
    fmt: str = "json"
    writes: int = 0  # audit entries a successful write appends
    attrs: dict[str, str | None] = field(default_factory=dict)  # persona -> error attr
    label: str = ""
    # A field not everyone may see: (field, persona -> names of the rows that show it).
    private: tuple[str, dict[str, set]] | None = None

    @property
    def id(self) -> str:
        return f"{self.action}{'-' + self.label if self.label else ''}"

    def status_for(self, who: str) -> int:
        value = self.expect[who]
        if isinstance(value, int):
            return value
        return 401 if value is None else 200

    def rows_for(self, who: str, grid: dict):
        value = self.expect[who]
        if isinstance(value, int) or value is None:
            return None
        return set(value(grid)) if callable(value) else set(value)


def check_case(case: Case, who: str, grid: dict, user, api, fingerprint: Callable[[], dict]
               ) -> None:
    """Run one Case as one persona and check everything the matrix promises: the status;
    that a refusal or a read changed nothing and a write appended exactly `case.writes`
    audit entries; the error format (and the field named, where the case says which); and,
    for lists, exactly the visible rows."""
    from tests.api.conftest import rows_of

    if user is not None:
        api.force_authenticate(user)
    target = case.url(grid)
    body = case.body(grid) if case.body else None
    before = fingerprint()
    if case.method == "get":
        resp = api.get(target)
    else:
        resp = getattr(api, case.method)(target, body, format=case.fmt)

    expected = case.status_for(who)
    assert resp.status_code == expected, resp.content.decode()[:500]
    after = fingerprint()
    if expected >= 400 or case.method == "get":
        assert after == before
    else:
        assert after["audit_entries"] == before["audit_entries"] + case.writes
        assert after != before
    if expected >= 400:
        data = resp.json()
        assert data["type"] == ("validation_error" if expected == 400 else "client_error")
        assert data["errors"], data
        if who in case.attrs:
            assert data["errors"][0]["attr"] == case.attrs[who], data
    value = case.expect[who]
    if not isinstance(value, int) and value is not None:
        assert {case.key(r) for r in rows_of(resp.json())} == value
