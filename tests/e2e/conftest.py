"""Fixtures of the browser tests (Debian's Chromium driven by Playwright)."""

from __future__ import annotations

import os
import shutil

import pytest

CHROMIUM = shutil.which("chromium")


@pytest.fixture(autouse=True, scope="module")
def allow_async_unsafe():
    # Playwright's sync API runs an event loop in the test thread, and Django refuses ORM
    # calls there unless told that this is deliberate. Only for the browser tests. Even so, the
    # tests do their database work before the browser starts and after it stops: while
    # the loop runs, Django hands out a different connection, which does not see the
    # test's data.
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv("DJANGO_ALLOW_ASYNC_UNSAFE", "true")
        yield


@pytest.fixture(scope="module")
def chromium_path():
    if CHROMIUM is None:
        reason = "Chromium is not installed (apt-get install chromium fonts-noto-cjk)"
        if os.environ.get("CI") == "true":
            pytest.fail(f"{reason}; it is required in CI.")
        pytest.skip(reason)
    return CHROMIUM
