"""API tokens of third-party credit services (第三方信用服务机构, M3.4; docs/credit-public.md).

An administrator gives an outside credit service (a tendering platform, a credit
reporting agency) read access to the public credit data: token_create returns the raw
key once ("zjc_" + 43 URL-safe characters); only its SHA-256 is stored, so a lost key
cannot be shown again, only revoked and replaced.

The key is accepted ONLY by the credit public-data endpoints: those put
ServiceTokenAuthentication in their authentication_classes and HasCreditScope (or
RegulatorOrCreditToken) in their permission_classes. It is not in the API's default
authentication classes, so everywhere else "Authorization: Bearer zjc_..." counts as no
credentials at all (401 where signing in is needed; a public endpoint answers as to an
anonymous caller). An authenticated token request is anonymous as a user (request.user
is AnonymousUser: it sees what the public sees) and carries the token in request.auth.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import secrets

from django.contrib.auth.models import AnonymousUser
from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from drf_spectacular.extensions import OpenApiAuthenticationExtension
from rest_framework import authentication, exceptions, permissions, throttling

from zhijian.core import audit, events
from zhijian.core.access import Denied, scope_of

from .models import ServiceToken

PREFIX = "zjc_"
#: The one scope there is: read the public credit data (reports, export feed, measures).
SCOPE_PUBLIC = "credit.public"
SCOPES = (SCOPE_PUBLIC,)
#: last_used_at is written at most this often per token (one UPDATE, not one per request).
LAST_USED_EVERY = dt.timedelta(minutes=1)

TOKEN_FIELDS = ("name", "organisation_uscc", "contact", "key_prefix", "scopes",
                "expires_on", "revoked_at")


def key_digest(raw: str) -> str:
    return hashlib.sha256(raw.encode("utf-8")).hexdigest()


def _require_admin(actor) -> None:
    if not scope_of(actor).is_admin:
        raise Denied(_("Only an administrator may manage credit service keys."))


def token_create(*, actor, name: str, organisation_uscc: str = "", contact: str = "",
                 expires_on: dt.date | None = None, scopes=SCOPES,
                 today: dt.date | None = None) -> tuple[ServiceToken, str]:
    """Create a token for a third-party credit service; return it with its raw key, which
    is shown to the administrator once and never stored."""
    _require_admin(actor)
    name = (name or "").strip()
    if not name:
        raise ValidationError({"name": _("Name the service the key is for.")})
    organisation_uscc = (organisation_uscc or "").strip().upper()
    if organisation_uscc:
        from zhijian.core.validators import uscc_messages

        problems = uscc_messages(organisation_uscc)
        if problems:
            raise ValidationError({"organisation_uscc": problems})
    today = today or timezone.localdate()
    if expires_on is not None and expires_on <= today:
        raise ValidationError({"expires_on": _(
            "The expiry date must be after today; leave it empty for a key that does "
            "not expire.")})
    scopes = list(scopes)
    if not scopes or any(s not in SCOPES for s in scopes):
        raise ValidationError({"scopes": _("The only scope is %(scope)s.") % {
            "scope": SCOPE_PUBLIC}})
    raw = PREFIX + secrets.token_urlsafe(32)
    with transaction.atomic():
        token = ServiceToken.objects.create(
            name=name[:120], organisation_uscc=organisation_uscc,
            contact=(contact or "").strip()[:120], key_prefix=raw[:8],
            key_sha256=key_digest(raw), scopes=scopes, created_by=actor,
            expires_on=expires_on)
        audit.record(token, action="credit_token.created", actor=actor, before=None)
        events.publish("credit.token_created", aggregate=token,
                       payload={"token": token.pk, "name": token.name})
    return token, raw


def token_revoke(*, actor, token_id, reason: str = "",
                 now: dt.datetime | None = None) -> ServiceToken:
    """Revoke a token at once: its next request gets 401. Revoking twice changes nothing."""
    _require_admin(actor)
    with transaction.atomic():
        try:
            token = ServiceToken.objects.select_for_update().get(pk=token_id)
        except (ServiceToken.DoesNotExist, ValueError, TypeError) as err:
            raise ValidationError({"token": _("There is no such token.")}) from err
        if token.revoked_at is not None:
            return token
        before = audit.snapshot(token, TOKEN_FIELDS)
        token.revoked_at = now or timezone.now()
        token.save(update_fields=["revoked_at"])
        audit.record(token, action="credit_token.revoked", actor=actor, before=before,
                     reason=(reason or "").strip())
        events.publish("credit.token_revoked", aggregate=token, payload={"token": token.pk})
    return token


def token_state(token: ServiceToken, today: dt.date | None = None) -> str:
    """"active", "revoked" or "expired" (the key stops working on its expiry date)."""
    if token.revoked_at is not None:
        return "revoked"
    if token.expires_on is not None and token.expires_on <= (today or timezone.localdate()):
        return "expired"
    return "active"


# --- DRF: authentication, permission, throttle ---------------------------------------------

class ServiceTokenAuthentication(authentication.BaseAuthentication):
    """Authorization: Bearer zjc_... — on the credit public-data endpoints only.

    Any other Authorization header is left to the next authentication class (an
    officer's "Token ..." or session keeps working on the same endpoints)."""

    keyword = "Bearer"

    def authenticate(self, request):
        header = authentication.get_authorization_header(request).split()
        if not header or header[0].lower() != b"bearer":
            return None
        if len(header) != 2:
            raise exceptions.AuthenticationFailed(gettext_lazy(
                "Invalid Authorization header: give \"Bearer\" and the key, separated by "
                "one space."))
        try:
            raw = header[1].decode("ascii")
        except UnicodeError as err:
            raise exceptions.AuthenticationFailed(gettext_lazy(
                "Invalid credit service key.")) from err
        if not raw.startswith(PREFIX):
            raise exceptions.AuthenticationFailed(gettext_lazy(
                "Invalid credit service key."))
        token = ServiceToken.objects.filter(key_sha256=key_digest(raw)).first()
        if token is None:
            raise exceptions.AuthenticationFailed(gettext_lazy(
                "Invalid credit service key."))
        state = token_state(token)
        if state == "revoked":
            raise exceptions.AuthenticationFailed(gettext_lazy(
                "This credit service key was revoked; ask the platform administrator for "
                "a new one."))
        if state == "expired":
            raise exceptions.AuthenticationFailed(gettext_lazy(
                "This credit service key expired; ask the platform administrator for a "
                "new one."))
        now = timezone.now()
        if token.last_used_at is None or now - token.last_used_at >= LAST_USED_EVERY:
            ServiceToken.objects.filter(pk=token.pk).update(last_used_at=now)
            token.last_used_at = now
        return AnonymousUser(), token

    def authenticate_header(self, request):
        return 'Bearer realm="credit"'


def service_token(request) -> ServiceToken | None:
    auth = getattr(request, "auth", None)
    return auth if isinstance(auth, ServiceToken) else None


class HasCreditScope(permissions.BasePermission):
    """A service token with scope credit.public."""

    message = gettext_lazy("This key does not give access to the public credit data.")

    def has_permission(self, request, view):
        token = service_token(request)
        return token is not None and SCOPE_PUBLIC in (token.scopes or [])


class RegulatorOrCreditToken(permissions.BasePermission):
    """Administrators, regulators, and service tokens with scope credit.public."""

    message = gettext_lazy(
        "Only administrators, regulators and credit services with a key may read this.")

    def has_permission(self, request, view):
        if HasCreditScope().has_permission(request, view):
            return True
        scope = scope_of(request.user)
        return scope.is_admin or scope.is_regulator


class ServiceTokenThrottle(throttling.SimpleRateThrottle):
    """Requests per token (rate "credit-token", default 600/min); requests without a
    token are not counted here (the public endpoints have their own throttle)."""

    scope = "credit-token"

    def get_rate(self):
        return self.THROTTLE_RATES.get(self.scope, "600/min")

    def get_cache_key(self, request, view):
        token = service_token(request)
        if token is None:
            return None
        return self.cache_format % {"scope": self.scope, "ident": token.pk}


class ServiceTokenScheme(OpenApiAuthenticationExtension):
    target_class = ServiceTokenAuthentication
    name = "creditServiceToken"

    def get_security_definition(self, auto_schema):
        return {"type": "http", "scheme": "bearer", "bearerFormat": "zjc_...",
                "description": "Key of a third-party credit service (docs/credit-public.md)."}
