"""The production profile passes Django's deployment checklist with no warnings
(`zhijian check --deploy`), and refuses to start without its secrets."""

import os
import secrets
import subprocess
import sys

from zhijian.core.signing import keygen


def run_zhijian(args, tmp_path, **env):
    base = {k: v for k, v in os.environ.items()
            if k not in {"SECRET_KEY", "ALLOWED_HOSTS", "ZHIJIAN_DEBUG", "DATABASE_URL"}}
    base |= {"ZHIJIAN_PROFILE": "production",
             "DATABASE_URL": f"sqlite:///{tmp_path / 'deploy.sqlite3'}"} | env
    return subprocess.run(
        [sys.executable, "-m", "zhijian", *args], cwd=tmp_path, env=base,
        capture_output=True, text=True, timeout=300, check=False,
    )


def test_production_profile_passes_check_deploy(tmp_path):
    key = keygen(tmp_path / "audit-key.pem")
    result = run_zhijian(
        ["check", "--deploy", "--fail-level", "WARNING"], tmp_path,
        SECRET_KEY=secrets.token_urlsafe(64),
        ALLOWED_HOSTS="zhijian.example.org",
        CSRF_TRUSTED_ORIGINS="https://zhijian.example.org",
        ZHIJIAN_AUDIT_KEY_FILE=str(key),
    )
    assert result.stderr == ""
    assert result.stdout == "System check identified no issues (0 silenced).\n"
    assert result.returncode == 0


def test_production_profile_warns_without_audit_key(tmp_path):
    result = run_zhijian(
        ["check", "--deploy", "--fail-level", "WARNING"], tmp_path,
        SECRET_KEY=secrets.token_urlsafe(64),
        ALLOWED_HOSTS="zhijian.example.org",
        ZHIJIAN_AUDIT_KEY_FILE=str(tmp_path / "missing.pem"),
    )
    assert result.returncode == 1
    assert "(zhijian.W001) The audit checkpoint signing key file does not exist." in result.stderr


def test_production_profile_requires_secret_key(tmp_path):
    result = run_zhijian(["check"], tmp_path, ALLOWED_HOSTS="zhijian.example.org")
    assert result.returncode == 1
    assert "SECRET_KEY must be set in the production profile." in result.stderr


def test_production_profile_requires_allowed_hosts(tmp_path):
    result = run_zhijian(["check"], tmp_path, SECRET_KEY=secrets.token_urlsafe(64))
    assert result.returncode == 1
    assert "ALLOWED_HOSTS must be set in the production profile." in result.stderr
