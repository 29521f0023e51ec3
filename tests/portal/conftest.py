"""Portal tests share the web tests' set-up (the compiled zh_Hans catalogue, per-persona
clients) and the random-inspection world of tests/inspections."""

from tests.inspections.conftest import draft_plan, inspection_world  # noqa: F401
from tests.web.conftest import _audit_key, as_user, compiled_messages  # noqa: F401
