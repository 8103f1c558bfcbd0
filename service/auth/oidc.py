"""The OpenID Connect relying party: discovery, the authorisation request, the code exchange and the ID token's checks.

Protocol only; who the signed-in person is for anonscribe is service/auth/sso.py. Every refusal is an `OidcFailed`
with a fixed reason code: that code is what the audit log records, never a token, a code or a claim's value.
"""

from __future__ import annotations

import base64
import hashlib
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlencode

import httpx
from joserfc import jwt
from joserfc.errors import (
    BadSignatureError,
    ClaimError,
    ExpiredTokenError,
    InvalidKeyIdError,
    JoseError,
    MissingClaimError,
)
from joserfc.jwk import KeySet

from service.core.clock import utcnow
from service.core.settings import Settings

# Asymmetric only: an HS256 token would be checked with the client secret, which the provider is not alone to know
# (and "none" is no signature at all).
ALLOWED_ALGS = ("RS256", "RS384", "RS512", "PS256", "PS384", "PS512", "ES256", "ES384", "ES512", "EdDSA")
DISCOVERY_TTL_S = 3600
# A token whose key id is unknown makes us fetch the JWKS again (the provider rotated keys), at most this often.
JWKS_REFRESH_MIN_S = 60
MAX_RESPONSE_BYTES = 1024 * 1024


class OidcFailed(Exception):
    """A sign-in the provider or its token did not support. `reason` is a fixed code for the audit log."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


@dataclass(frozen=True)
class Provider:
    issuer: str
    authorization_endpoint: str
    token_endpoint: str
    jwks_uri: str
    end_session_endpoint: str | None
    auth_methods: tuple[str, ...]
    algs: tuple[str, ...]


def pkce_challenge(verifier: str) -> str:
    """S256 (RFC 7636): what the authorisation request carries instead of the verifier."""
    return base64.urlsafe_b64encode(hashlib.sha256(verifier.encode()).digest()).rstrip(b"=").decode()


class OidcClient:
    """One per app: discovery and the provider's keys are cached here (keys are fetched again on an unknown `kid`)."""

    def __init__(self, settings: Settings, *, transport: httpx.BaseTransport | None = None,
                 monotonic: Callable[[], float] = time.monotonic) -> None:
        if not settings.sso_enabled:
            raise ValueError("single sign-on needs ANONSCRIBE_OIDC_ISSUER and ANONSCRIBE_OIDC_CLIENT_ID")
        self.settings = settings
        self.issuer = str(settings.oidc_issuer).rstrip("/")
        self.client_id = str(settings.oidc_client_id)
        self._http = httpx.Client(timeout=settings.oidc_http_timeout_s, transport=transport, follow_redirects=False)
        self._monotonic = monotonic
        self._lock = threading.Lock()
        self._provider: tuple[float, Provider] | None = None
        self._keys: tuple[float, KeySet] | None = None

    def close(self) -> None:
        self._http.close()

    # ---- discovery and keys ------------------------------------------------------------------------------------

    def _get_json(self, url: str, reason: str) -> dict[str, Any]:
        try:
            response = self._http.get(url, headers={"Accept": "application/json"})
        except httpx.HTTPError as exc:
            raise OidcFailed(reason) from exc
        if response.status_code != 200 or len(response.content) > MAX_RESPONSE_BYTES:
            raise OidcFailed(reason)
        try:
            body = response.json()
        except ValueError as exc:
            raise OidcFailed(reason) from exc
        if not isinstance(body, dict):
            raise OidcFailed(reason)
        return body

    def provider(self) -> Provider:
        with self._lock:
            if self._provider and self._monotonic() - self._provider[0] < DISCOVERY_TTL_S:
                return self._provider[1]
        doc = self._get_json(f"{self.issuer}/.well-known/openid-configuration", "discovery_failed")
        # The document must be the configured issuer's own (OpenID Connect Discovery 4.3), else anyone who can
        # answer at that URL could name another issuer whose tokens we would then accept.
        if not isinstance(doc.get("issuer"), str) or doc["issuer"].rstrip("/") != self.issuer:
            raise OidcFailed("discovery_issuer_mismatch")
        try:
            provider = Provider(
                issuer=doc["issuer"],
                authorization_endpoint=_url(doc["authorization_endpoint"]),
                token_endpoint=_url(doc["token_endpoint"]),
                jwks_uri=_url(doc["jwks_uri"]),
                end_session_endpoint=_url(doc["end_session_endpoint"]) if doc.get("end_session_endpoint") else None,
                auth_methods=tuple(doc.get("token_endpoint_auth_methods_supported") or ("client_secret_basic",)),
                algs=tuple(a for a in doc.get("id_token_signing_alg_values_supported") or ("RS256",)
                           if a in ALLOWED_ALGS),
            )
        except (KeyError, TypeError, ValueError) as exc:
            raise OidcFailed("discovery_incomplete") from exc
        if not provider.algs:
            raise OidcFailed("discovery_no_usable_alg")
        with self._lock:
            self._provider = (self._monotonic(), provider)
        return provider

    def cached_provider(self) -> Provider | None:
        """The provider as last discovered, without a request (for pages that must not wait on it)."""
        with self._lock:
            return self._provider[1] if self._provider else None

    def _key_set(self, provider: Provider, *, refresh: bool) -> KeySet:
        with self._lock:
            cached = self._keys
        if cached and (not refresh or self._monotonic() - cached[0] < JWKS_REFRESH_MIN_S):
            return cached[1]
        body = self._get_json(provider.jwks_uri, "jwks_failed")
        try:
            keys = KeySet.import_key_set(body)  # type: ignore[arg-type]
        except (JoseError, ValueError, TypeError, KeyError) as exc:
            raise OidcFailed("jwks_invalid") from exc
        with self._lock:
            self._keys = (self._monotonic(), keys)
        return keys

    # ---- the flow ------------------------------------------------------------------------------------------------

    def authorization_url(self, *, state: str, nonce: str, code_verifier: str, redirect_uri: str) -> str:
        provider = self.provider()
        query = {
            "response_type": "code",
            "client_id": self.client_id,
            "redirect_uri": redirect_uri,
            "scope": self.settings.oidc_scopes,
            "state": state,
            "nonce": nonce,
            "code_challenge": pkce_challenge(code_verifier),
            "code_challenge_method": "S256",
        }
        separator = "&" if "?" in provider.authorization_endpoint else "?"
        return provider.authorization_endpoint + separator + urlencode(query)

    def end_session_url(self, *, post_logout_redirect_uri: str) -> str | None:
        provider = self.cached_provider()
        if provider is None or provider.end_session_endpoint is None:
            return None
        query = urlencode({"client_id": self.client_id, "post_logout_redirect_uri": post_logout_redirect_uri})
        separator = "&" if "?" in provider.end_session_endpoint else "?"
        return provider.end_session_endpoint + separator + query

    def exchange(self, *, code: str, code_verifier: str, redirect_uri: str) -> str:
        """The authorisation code for an ID token (the access token is not used, and nothing of it is kept)."""
        try:
            secret = self.settings.oidc_client_secret()
        except ValueError as exc:
            # A secret file configured but empty or unreadable: refused here, never sent as a public client's request.
            raise OidcFailed("client_secret_unreadable") from exc
        provider = self.provider()
        form = {"grant_type": "authorization_code", "code": code, "redirect_uri": redirect_uri,
                "code_verifier": code_verifier, "client_id": self.client_id}
        auth: tuple[str, str] | None = None
        if secret is not None:
            if "client_secret_basic" in provider.auth_methods:
                auth = (self.client_id, secret)
            else:
                form["client_secret"] = secret
        try:
            response = self._http.post(provider.token_endpoint, data=form, auth=auth,
                                       headers={"Accept": "application/json"})
        except httpx.HTTPError as exc:
            raise OidcFailed("token_request_failed") from exc
        if response.status_code != 200:
            # invalid_grant: a used, expired or foreign code, or a PKCE verifier that does not match.
            raise OidcFailed("token_refused")
        try:
            body = response.json()
        except ValueError as exc:
            raise OidcFailed("token_response_invalid") from exc
        id_token = body.get("id_token") if isinstance(body, dict) else None
        if not isinstance(id_token, str) or not id_token:
            raise OidcFailed("no_id_token")
        return id_token

    def validate(self, id_token: str, *, nonce: str) -> dict[str, Any]:
        """Signature with the provider's published keys, then iss, aud (and azp), exp, iat and nonce."""
        provider = self.provider()
        try:
            try:
                token = jwt.decode(id_token, self._key_set(provider, refresh=False), algorithms=list(provider.algs))
            except InvalidKeyIdError:
                token = jwt.decode(id_token, self._key_set(provider, refresh=True), algorithms=list(provider.algs))
        except BadSignatureError as exc:
            raise OidcFailed("id_token_signature") from exc
        except InvalidKeyIdError as exc:
            raise OidcFailed("id_token_unknown_key") from exc
        except (JoseError, ValueError) as exc:
            raise OidcFailed("id_token_malformed") from exc
        claims = token.claims
        registry = jwt.JWTClaimsRegistry(
            now=lambda: int(utcnow().timestamp()),
            leeway=self.settings.oidc_clock_skew_s,
            iss={"essential": True, "value": provider.issuer},
            aud={"essential": True, "value": self.client_id},
            sub={"essential": True},
            exp={"essential": True},
            iat={"essential": True},
            nonce={"essential": True, "value": nonce},
        )
        try:
            registry.validate(claims)
        except ExpiredTokenError as exc:
            raise OidcFailed("id_token_expired") from exc
        except MissingClaimError as exc:
            raise OidcFailed("id_token_missing_claim") from exc
        except ClaimError as exc:
            raise OidcFailed(f"id_token_{_claim_reason(exc.claim)}") from exc
        audience = claims["aud"]
        # Several audiences: the token must have been issued to us (OpenID Connect Core 3.1.3.7, steps 4-5).
        if isinstance(audience, list) and len(audience) > 1 and claims.get("azp") != self.client_id:
            raise OidcFailed("id_token_aud")
        if not isinstance(claims["sub"], str) or not 0 < len(claims["sub"]) <= 255:
            raise OidcFailed("id_token_sub")
        return claims


def _claim_reason(claim: str) -> str:
    # A fixed vocabulary for the audit log, whatever the library's message says.
    return claim if claim in ("iss", "aud", "exp", "iat", "nbf", "nonce", "sub") else "claims"


def _url(value: object) -> str:
    if not isinstance(value, str) or not value.startswith(("https://", "http://")):
        raise ValueError("not a URL")
    return value
