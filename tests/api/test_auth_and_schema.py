"""Authentication (token, session), the OpenAPI schema and the vendored Swagger UI."""

import re

import pytest
from django.contrib.staticfiles import finders
from django.core.management import call_command
from rest_framework.authtoken.models import Token

from tests.api.conftest import rows_of


@pytest.fixture(autouse=True)
def _fast_personas(settings):
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]


def test_token_authenticates_api_calls(client, world, xian_officer):
    token = Token.objects.create(user=xian_officer)
    resp = client.get("/api/v1/entities/", HTTP_AUTHORIZATION=f"Token {token.key}")
    assert resp.status_code == 200
    assert [r["name"] for r in rows_of(resp.json())] == ["西安测试电缆有限公司"]


def test_token_writes_are_audited_as_the_token_user(client, world, xian_officer):
    from zhijian.core.models import AuditEntry

    token = Token.objects.create(user=xian_officer)
    resp = client.patch(f"/api/v1/entities/{world['xian_entity'].pk}/",
                        {"address": "西安市雁塔区1号"}, content_type="application/json",
                        HTTP_AUTHORIZATION=f"Token {token.key}")
    assert resp.status_code == 200
    entry = AuditEntry.objects.get()
    assert (entry.actor, entry.actor_id, entry.action) == ("xian", xian_officer.pk,
                                                           "entity.updated")


def test_bad_or_missing_token_is_401_in_the_error_format(client, world):
    resp = client.get("/api/v1/entities/", HTTP_AUTHORIZATION="Token not-a-real-token",
                      HTTP_ACCEPT_LANGUAGE="en")
    assert resp.status_code == 401
    assert resp.json() == {"type": "client_error", "errors": [
        {"code": "authentication_failed", "detail": "Invalid token.", "attr": None}]}
    resp = client.get("/api/v1/entities/", HTTP_ACCEPT_LANGUAGE="en")
    assert resp.status_code == 401
    assert resp["WWW-Authenticate"] == "Token"
    assert resp.json()["errors"][0]["code"] == "not_authenticated"


def test_inactive_users_token_is_refused(client, world, xian_officer):
    token = Token.objects.create(user=xian_officer)
    xian_officer.is_active = False
    xian_officer.save()
    resp = client.get("/api/v1/entities/", HTTP_AUTHORIZATION=f"Token {token.key}")
    assert resp.status_code == 401


def test_session_authenticates_api_calls(client, world, baoji_officer):
    assert client.login(username="baoji", password="correct-horse-battery")
    resp = client.get("/api/v1/entities/")
    assert resp.status_code == 200
    assert [r["name"] for r in rows_of(resp.json())] == ["宝鸡测试钢铁有限公司"]


def test_session_writes_need_the_csrf_token(world, baoji_officer):
    from django.test import Client

    client = Client(enforce_csrf_checks=True)
    assert client.login(username="baoji", password="correct-horse-battery")
    resp = client.patch(f"/api/v1/entities/{world['baoji_entity'].pk}/",
                        {"address": "宝鸡"}, content_type="application/json",
                        HTTP_ACCEPT_LANGUAGE="en")
    assert resp.status_code == 403
    assert resp.json()["errors"][0]["detail"].startswith("CSRF Failed")


def test_schema_generates_without_warnings_or_errors(tmp_path):
    out = tmp_path / "schema.yaml"
    # --fail-on-warn turns any warning (e.g. an enum name collision) into an error;
    # --validate checks the result against the OpenAPI 3 JSON schema.
    call_command("spectacular", "--validate", "--fail-on-warn", "--file", str(out))
    text = out.read_text()
    for path in ["/api/v1/entities/", "/api/v1/entities/import/",
                 "/api/v1/entities/{id}/history/", "/api/v1/labs/{id}/scopes/",
                 "/api/v1/responsibilities/report/", "/api/v1/public/entities/",
                 "/api/v1/public/audit/checkpoints/{seq}/"]:
        assert f"  {path}:" in text
    assert "EntityStatusEnum:" in text and "LabStatusEnum:" in text


def test_schema_endpoint_serves_openapi_3(client, db):
    resp = client.get("/api/v1/schema/", {"format": "json"})
    assert resp.status_code == 200
    schema = resp.json()
    assert schema["openapi"].startswith("3.")
    assert schema["info"]["title"] == "Zhijian API"
    assert "/api/v1/entities/" in schema["paths"]


def test_swagger_ui_is_vendored(client, db):
    resp = client.get("/api/v1/docs/")
    assert resp.status_code == 200
    html = resp.content.decode()
    # No CDN host anywhere (the page's random CSRF token may contain the letters "cdn").
    assert not re.search(r"cdn[.\-/]|[.\-/]cdn", html.lower())
    assert "//" not in "".join(re.findall(r'(?:src|href)="([^"]*)"', html))
    assets = re.findall(r'(?:src|href)="/static/([^"]+)"', html)
    assert any(a.endswith("swagger-ui-bundle.js") for a in assets)
    assert any(a.endswith("swagger-ui.css") for a in assets)
    for asset in assets:
        assert finders.find(asset), asset
