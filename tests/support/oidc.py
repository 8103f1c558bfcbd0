"""A real OpenID provider on a port for the single sign-on tests: oidc-provider-mock (Authlib under Flask) served by
werkzeug in a thread, with two additions of the test's own, both at the HTTP level:

- PKCE enforced: the mock accepts `code_challenge` but does not check it, so the token endpoint here refuses a
  `code_verifier` whose S256 is not the challenge its code was issued for (as Keycloak and Entra ID do);
- `tamper`: claims to change in the next ID tokens the token endpoint hands out, re-signed with the provider's own
  key (or `foreign_key`, to forge a signature): how a wrong audience, an expired token or a bad nonce is made.
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


@dataclass
class Provider:
    url: str
    tamper: dict[str, Any] = field(default_factory=dict)
    foreign_key: Any = None  # a joserfc key: sign tokens with it instead of the provider's
    challenges: dict[str, str] = field(default_factory=dict)  # code -> S256 challenge it was issued for
    verifiers_seen: list[str] = field(default_factory=list)
    client_auth: list[tuple[str, str]] = field(default_factory=list)  # (client id, secret) the token endpoint saw

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
    from werkzeug.serving import make_server

    logging.getLogger("werkzeug").setLevel(logging.WARNING)
    app = oidc_provider_mock.app(require_nonce=True)
    state = Provider(url="")

    @app.before_request
    def check_pkce() -> Any:
        request = flask.request
        if request.path == "/oauth2/token" and request.form.get("grant_type") == "authorization_code":
            verifier = request.form.get("code_verifier", "")
            state.verifiers_seen.append(verifier)
            if request.authorization is not None:
                state.client_auth.append((request.authorization.username or "", request.authorization.password or ""))
            challenge = state.challenges.pop(request.form.get("code", ""), None)
            if challenge is not None and _s256(verifier) != challenge:
                return flask.jsonify(error="invalid_grant", error_description="PKCE verification failed"), 400
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
