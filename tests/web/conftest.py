"""Web tests: the zh_Hans catalogue compiled once per session, and clients per persona
and language."""

import fcntl
import gettext as gettext_module
import tempfile
from pathlib import Path

import pytest
from asgiref.local import Local
from django.conf import settings
from django.core.management import call_command
from django.test import Client
from django.utils.translation import trans_real


@pytest.fixture(scope="session", autouse=True)
def compiled_messages():
    lock_path = Path(tempfile.gettempdir()) / "zhijian-compilemessages.lock"
    with open(lock_path, "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)  # pytest-xdist workers compile one at a time
        call_command("compilemessages", locale=["zh_Hans"], ignore_patterns=[".venv", "node_modules"],
                     verbosity=0)
        fcntl.flock(lock, fcntl.LOCK_UN)
    # Drop catalogues loaded (by Django and by Python's gettext cache) before the .mo file
    # was (re)compiled.
    gettext_module._translations.clear()
    trans_real._translations = {}
    trans_real._default = None
    trans_real._active = Local()


@pytest.fixture(autouse=True)
def _audit_key(settings, tmp_path):
    settings.ZHIJIAN_AUDIT_KEY_FILE = tmp_path / "audit-key.pem"


def make_client(user=None, lang="zh-hans") -> Client:
    client = Client()
    client.cookies[settings.LANGUAGE_COOKIE_NAME] = lang
    if user is not None:
        client.force_login(user)
    return client


@pytest.fixture
def as_user():
    """as_user(persona, lang) -> a logged-in client with the language cookie set."""
    return make_client
