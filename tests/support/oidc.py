"""A real OpenID provider on a port for the single sign-on tests: oidc-provider-mock (Authlib under Flask) served by
werkzeug in a thread, with three additions of the test's own:

- PKCE enforced: the mock accepts `code_challenge` but does not check it, so the token endpoint here refuses a
  `code_verifier` whose S256 is not the challenge its code was issued for (as Keycloak and Entra ID do);
- `tamper`: claims to change in the next ID tokens the token endpoint hands out, re-signed with the provider's own
  key (or `foreign_key`, to forge a signature): how a wrong audience, an expired token or a bad nonce is made;
- public clients served: the mock registers a client with token_endpoint_auth_method "none" (`register_public_client`)
  but its code grant keeps Authlib's default methods (client_secret_basic, client_secret_post), so such a client's
  token request is refused as invalid_client. "none" is added to that list, and Authlib then accepts it only for a
  client registered as public (or an unregistered id, which the mock already lets use any secret at all).

Every token request is recorded as the provider received it (`token_requests`): what a client sent, not what it meant
to send.
"""

from __future__ import annotations

import base64
import hashlib
import logging
import threading
import warnings
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import parse_qs, quote, urlparse

import httpx


@dataclass(frozen=True)
class TokenRequest:
    client_id: str | None  # the form's
    client_secret: str | None  # the form's (client_secret_post)
    authorization: str | None  # the header, whatever its scheme (client_secret_basic)
    code_verifier: str | None


@dataclass
class Provider:
    url: str
    tamper: dict[str, Any] = field(default_factory=dict)
    foreign_key: Any = None  # a joserfc key: sign tokens with it instead of the provider's
    challenges: dict[str, str] = field(default_factory=dict)  # code -> S256 challenge it was issued for
    verifiers_seen: list[str] = field(default_factory=list)
    client_auth: list[tuple[str, str]] = field(default_factory=list)  # (client id, secret) the token endpoint saw
    token_requests: list[TokenRequest] = field(default_factory=list)
    enforce_pkce: bool = True  # False: a provider that ignores PKCE, as the bare mock does

    def register_public_client(self, redirect_uri: str) -> str:
        """Dynamic registration (RFC 7591) of a client without a secret; its client id."""
        resp = httpx.post(f"{self.url}/oauth2/clients",
                          json={"redirect_uris": [redirect_uri], "token_endpoint_auth_method": "none"})
        assert resp.status_code == 201, resp.text
        assert resp.json()["token_endpoint_auth_method"] == "none"
        return str(resp.json()["client_id"])

    def user(self, sub: str, **claims: Any) -> None:
        resp = httpx.put(f"{self.url}/users/{quote(sub, safe='')}", json=claims)
        assert resp.status_code == 204, resp.text

    def authorize(self, authorization_url: str, sub: str) -> str:
        """The person signs in at the provider as `sub`: the callback URL the provider redirects the browser to."""
        assert authorization_url.startswith(self.url + "/oauth2/authorize?"), authorization_url
        resp = httpx.post(authorization_url, data={"sub": sub})
        assert resp.status_code == 302, resp.text
        return resp.headers["location"]

    def deny(self, authorization_url: str) -> str:
        resp = httpx.post(authorization_url, data={"action": "deny"})
        assert resp.status_code == 302, resp.text
        return resp.headers["location"]


def _s256(verifier: str) -> str:
    return base64.urlsafe_b64encode(hashlib.sha256(verifier.encode()).digest()).rstrip(b"=").decode()


@contextmanager
def provider(*, host: str = "localhost") -> Iterator[Provider]:
    warnings.filterwarnings("ignore", module="authlib")
    warnings.filterwarnings("ignore", module="oidc_provider_mock")
    import flask
    import oidc_provider_mock
    from joserfc import jwt
    from joserfc.jwk import RSAKey
    from oidc_provider_mock import _app as mock_app
    from werkzeug.serving import make_server

    logging.getLogger("werkzeug").setLevel(logging.WARNING)
    grant = mock_app.AuthorizationCodeGrant
    if "none" not in grant.TOKEN_ENDPOINT_AUTH_METHODS:
        # Last, so a client that sends a secret is still authenticated by it first.
        grant.TOKEN_ENDPOINT_AUTH_METHODS = [*grant.TOKEN_ENDPOINT_AUTH_METHODS, "none"]
    app = oidc_provider_mock.app(require_nonce=True)
    state = Provider(url="")

    @app.before_request
    def check_pkce() -> Any:
        request = flask.request
        if request.path == "/oauth2/token" and request.form.get("grant_type") == "authorization_code":
            verifier = request.form.get("code_verifier", "")
            state.verifiers_seen.append(verifier)
            state.token_requests.append(TokenRequest(
                client_id=request.form.get("client_id"), client_secret=request.form.get("client_secret"),
                authorization=request.headers.get("Authorization"), code_verifier=request.form.get("code_verifier")))
            if request.authorization is not None:
                state.client_auth.append((request.authorization.username or "", request.authorization.password or ""))
            code = request.form.get("code", "")
            challenge = state.challenges.get(code)
            if state.enforce_pkce and challenge is not None and _s256(verifier) != challenge:
                # The challenge stays: a second guess is checked like the first (the mock has not spent the code).
                return flask.jsonify(error="invalid_grant", error_description="PKCE verification failed"), 400
            state.challenges.pop(code, None)
        return None

    @app.after_request
    def record_and_tamper(response: flask.Response) -> flask.Response:
        request = flask.request
        if request.path == "/oauth2/authorize" and response.status_code == 302:
            query = parse_qs(urlparse(response.headers["location"]).query)
            if "code" in query and request.args.get("code_challenge_method") == "S256":
                state.challenges[query["code"][0]] = request.args["code_challenge"]
        if request.path == "/oauth2/token" and response.status_code == 200 and state.tamper:
            body = response.get_json()
            provider_key = RSAKey.import_key(flask.g.oidc_provider_mock_storage.jwk.as_dict(is_private=True))
            claims = jwt.decode(body["id_token"], provider_key).claims
            claims.update(state.tamper)
            key = state.foreign_key or provider_key
            body["id_token"] = jwt.encode({"alg": "RS256", "kid": key.kid}, claims, key)
            response.set_data(flask.json.dumps(body))
        return response

    server = make_server("127.0.0.1", 0, app, threaded=True)
    state.url = f"http://{host}:{server.server_port}"
    thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.1}, daemon=True)
    thread.start()
    try:
        yield state
    finally:
        server.shutdown()
        thread.join(5)
