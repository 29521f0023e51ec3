"""Keys of third-party credit services: created by an administrator and shown once, stored
as a SHA-256 only, revoked or expired keys refused with a clear message, accepted on the
credit public-data endpoints and nowhere else, rate-limited per key."""

import datetime as dt
import hashlib

import pytest
from django.core.cache import cache
from django.core.exceptions import ValidationError
from django.utils import timezone

from zhijian.core.access import Denied
from zhijian.core.models import AuditEntry
from zhijian.credit import tokens
from zhijian.credit.models import ServiceToken

TODAY = timezone.localdate()
FEED = "/api/v1/credit/export/records/"


@pytest.fixture(autouse=True)
def _no_settle(settings):
    settings.ZHIJIAN_CREDIT_FEED_SETTLE_SECONDS = 0
    cache.clear()


@pytest.fixture
def key(admin_user):
    token, raw = tokens.token_create(actor=admin_user, name="信用服务机构甲",
                                     organisation_uscc="", contact="李测试 029-00000000",
                                     expires_on=TODAY + dt.timedelta(days=365))
    return token, raw


def _bearer(raw):
    return {"HTTP_AUTHORIZATION": f"Bearer {raw}", "HTTP_ACCEPT_LANGUAGE": "en"}


def test_create_returns_the_key_once_and_stores_its_hash_only(key):
    token, raw = key
    assert raw.startswith("zjc_") and len(raw) == 4 + 43
    token.refresh_from_db()
    assert token.key_sha256 == hashlib.sha256(raw.encode()).hexdigest()
    assert token.key_prefix == raw[:8] and token.scopes == ["credit.public"]
    stored = [str(v) for v in ServiceToken.objects.values_list(
        "name", "organisation_uscc", "contact", "key_prefix", "key_sha256", "scopes").get()]
    assert not any(raw in v or raw[8:] in v for v in stored)
    entry = AuditEntry.objects.get(action="credit_token.created")
    assert entry.object_id == str(token.pk)
    assert raw[8:] not in entry.body and token.key_sha256 in entry.body


def test_only_an_administrator_creates_or_revokes(world, xian_officer, key):
    token, _raw = key
    with pytest.raises(Denied):
        tokens.token_create(actor=xian_officer, name="x")
    with pytest.raises(Denied):
        tokens.token_revoke(actor=xian_officer, token_id=token.pk)
    assert ServiceToken.objects.count() == 1
    token.refresh_from_db()
    assert token.revoked_at is None


@pytest.mark.parametrize("kwargs,field", [
    ({"name": "  "}, "name"),
    ({"name": "甲", "expires_on": TODAY}, "expires_on"),
    ({"name": "甲", "organisation_uscc": "123"}, "organisation_uscc"),
    ({"name": "甲", "scopes": ["credit.all"]}, "scopes"),
])
def test_bad_input_is_refused(admin_user, kwargs, field):
    with pytest.raises(ValidationError) as err:
        tokens.token_create(actor=admin_user, **kwargs)
    assert list(err.value.message_dict) == [field]
    assert ServiceToken.objects.count() == 0


def test_key_reads_the_public_credit_endpoints(client, world, key):
    _token, raw = key
    e = world["xian_entity"]
    assert client.get(FEED, **_bearer(raw)).status_code == 200
    assert client.get(f"/api/v1/public/credit/reports/{e.uscc}/",
                      **_bearer(raw)).status_code == 200


@pytest.mark.parametrize("path", [
    "/api/v1/entities/", "/api/v1/recalls/", "/api/v1/inspection-plans/",
    "/api/v1/supplier-lists/", "/api/v1/credit/blacklist-cases/"])
def test_key_is_not_accepted_elsewhere(client, world, key, path):
    _token, raw = key
    resp = client.get(path, **_bearer(raw))
    assert resp.status_code == 401
    assert resp.json()["errors"][0]["code"] == "not_authenticated"


def test_key_does_not_open_the_working_pages(client, world, key):
    _token, raw = key
    for path in ("/work/credit/tokens/", "/work/"):
        resp = client.get(path, **_bearer(raw))
        assert resp.status_code == 302 and "/accounts/login/" in resp["Location"]


def test_revoked_key_gets_401_with_a_clear_message(client, world, admin_user, key):
    token, raw = key
    tokens.token_revoke(actor=admin_user, token_id=token.pk, reason="合同终止")
    resp = client.get(FEED, **_bearer(raw))
    assert resp.status_code == 401
    assert resp["WWW-Authenticate"] == 'Bearer realm="credit"'
    assert resp.json()["errors"][0]["detail"] == (
        "This credit service key was revoked; ask the platform administrator for a new one.")
    entry = AuditEntry.objects.get(action="credit_token.revoked")
    assert entry.object_id == str(token.pk) and "合同终止" in entry.body
    # Revoking twice changes nothing.
    tokens.token_revoke(actor=admin_user, token_id=token.pk)
    assert AuditEntry.objects.filter(action="credit_token.revoked").count() == 1


def test_expired_key_gets_401(client, world, key):
    token, raw = key
    ServiceToken.objects.filter(pk=token.pk).update(expires_on=TODAY)
    resp = client.get(f"/api/v1/public/credit/reports/{world['xian_entity'].uscc}/",
                      **_bearer(raw))
    assert resp.status_code == 401
    assert resp.json()["errors"][0]["detail"] == (
        "This credit service key expired; ask the platform administrator for a new one.")


def test_unknown_key_gets_401(client, world):
    resp = client.get(FEED, **_bearer("zjc_" + "A" * 43))
    assert resp.status_code == 401
    assert resp.json()["errors"][0]["detail"] == "Invalid credit service key."


def test_key_without_the_scope_gets_403(client, world, key):
    token, raw = key
    ServiceToken.objects.filter(pk=token.pk).update(scopes=[])
    assert client.get(FEED, **_bearer(raw)).status_code == 403


def test_last_used_is_written_at_most_once_a_minute(client, world, key,
                                                    django_assert_num_queries):
    token, raw = key
    assert token.last_used_at is None
    client.get(FEED, **_bearer(raw))
    token.refresh_from_db()
    first = token.last_used_at
    assert first is not None
    client.get(FEED, **_bearer(raw))
    token.refresh_from_db()
    assert token.last_used_at == first
    ServiceToken.objects.filter(pk=token.pk).update(
        last_used_at=first - dt.timedelta(seconds=61))
    client.get(FEED, **_bearer(raw))
    token.refresh_from_db()
    assert token.last_used_at > first


def test_keys_are_rate_limited_per_key(client, world, admin_user, key, monkeypatch):
    monkeypatch.setattr(tokens.ServiceTokenThrottle, "THROTTLE_RATES", {"credit-token": "2/min"})
    _token, raw = key
    _other, raw2 = tokens.token_create(actor=admin_user, name="信用服务机构乙")
    assert [client.get(FEED, **_bearer(raw)).status_code for _ in range(3)] == [200, 200, 429]
    assert client.get(FEED, **_bearer(raw2)).status_code == 200


# --- the pages --------------------------------------------------------------------------------

def test_token_pages_are_for_administrators(client, world, xian_officer, admin_user):
    assert client.get("/work/credit/tokens/").status_code == 302
    client.force_login(xian_officer)
    assert client.get("/work/credit/tokens/").status_code == 403
    resp = client.post("/work/credit/tokens/new/", {"name": "甲"})
    assert resp.status_code == 403 and ServiceToken.objects.count() == 0


def test_create_page_shows_the_key_once(client, world, admin_user):
    client.force_login(admin_user)
    assert client.get("/work/credit/tokens/new/").status_code == 200
    resp = client.post("/work/credit/tokens/new/", {
        "name": "招标平台", "contact": "张测试", "expires_on": ""})
    assert resp.status_code == 200
    assert "no-store" in resp["Cache-Control"]
    token = ServiceToken.objects.get()
    html = resp.content.decode()
    start = html.index('id="raw-key" value="') + len('id="raw-key" value="')
    raw = html[start:html.index('"', start)]
    assert tokens.key_digest(raw) == token.key_sha256
    listing = client.get("/work/credit/tokens/").content.decode()
    assert raw not in listing and f"{token.key_prefix}…" in listing
    assert f'id="token-{token.pk}" data-state="active"' in listing


def test_create_page_reports_bad_input(client, world, admin_user):
    client.force_login(admin_user)
    resp = client.post("/work/credit/tokens/new/", {
        "name": "甲", "expires_on": (TODAY - dt.timedelta(days=1)).isoformat()})
    assert resp.status_code == 200 and 'id="id_expires_on_error"' in resp.content.decode()
    assert ServiceToken.objects.count() == 0


def test_revoke_page(client, world, admin_user, key):
    token, raw = key
    client.force_login(admin_user)
    resp = client.post(f"/work/credit/tokens/{token.pk}/revoke/", {"reason": "泄露"})
    assert resp.status_code == 302
    token.refresh_from_db()
    assert token.revoked_at is not None
    listing = client.get("/work/credit/tokens/").content.decode()
    assert f'id="token-{token.pk}" data-state="revoked"' in listing
    client.logout()
    assert client.get(FEED, **_bearer(raw)).status_code == 401


def test_token_list_query_count(client, world, admin_user, django_assert_max_num_queries):
    for n in range(12):
        tokens.token_create(actor=admin_user, name=f"服务{n}")
    client.force_login(admin_user)
    with django_assert_max_num_queries(8):
        resp = client.get("/work/credit/tokens/")
    assert resp.content.decode().count('data-state="active"') == 12


def test_key_is_accepted_by_the_public_measures_answer(client, world, admin_user, key):
    token, raw = key
    url = f"/api/v1/public/credit/measures/?uscc={world['xian_entity'].uscc}"
    assert client.get(url, **_bearer(raw)).status_code == 200
    token.refresh_from_db()
    assert token.last_used_at is not None
    tokens.token_revoke(actor=admin_user, token_id=token.pk)
    assert client.get(url, **_bearer(raw)).status_code == 401
