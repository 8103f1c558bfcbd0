"""Single sign-on pages: the button on the sign-in page, the round trip to the provider, and the admin's bindings and
approvals. The protocol is service/auth/oidc.py, who-is-who service/auth/sso.py; sessions are the web UI's own."""

from __future__ import annotations

import math
import threading
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Query, Request, Response
from fastapi.responses import RedirectResponse

from service.auth import service as auth
from service.auth import sessions
from service.auth import sso as domain
from service.auth.models import Role
from service.auth.oidc import OidcClient
from service.auth.throttle import LoginThrottle, Throttled, client_address
from service.core.ints import RowId
from service.core.settings import Settings
from service.deps import RuntimeDep, SessionDep, get_login_throttle
from service.web.session import (
    COOKIE,
    SIGNIN_COOKIE,
    Admin,
    Posted,
    WebSession,
    max_age,
    posted,
    require,
    secure_cookie,
)
from service.web.signin import _signin_page, home_for, safe_next
from service.web.templating import WebRoute, page, templates

router = APIRouter(route_class=WebRoute, include_in_schema=False)
AdminPage = Annotated[WebSession, Depends(require(*Admin))]
AdminForm = Annotated[Posted, Depends(posted(*Admin))]

# The browser half of one attempt (see SsoLoginState): Lax, because the provider sends the browser back with a
# top-level GET from its own site, which a Strict cookie would not accompany.
LOGIN_COOKIE = "anonscribe_sso"
LOGIN_PATH = "/signin/sso"
CALLBACK = "/signin/sso/callback"
_client_lock = threading.Lock()
START_LIMIT, START_WINDOW_S = 60, 600

# What the sign-in page says for each refusal: short, fixed, and no hint of which check an attacker tripped.
SENTENCES = {
    "unknown_user": "Your organisation's account is not registered here. Ask an administrator to add you.",
    "pending_approval": "Your account is waiting for an administrator's approval. Try again once you have been "
                        "told it is approved.",
    "user_disabled": "This account is disabled. Ask an administrator.",
    "no_role_group": "Your organisation's account is in none of the groups that have a role here. "
                     "Ask an administrator.",
    "provider_access_denied": "The sign-in was cancelled at your organisation's sign-in page.",
}
UNAVAILABLE = {"discovery_failed", "discovery_issuer_mismatch", "discovery_incomplete", "discovery_no_usable_alg",
               "jwks_failed", "jwks_invalid", "token_request_failed", "too_many_attempts"}
MISCONFIGURED = {"client_secret_unreadable"}  # this site's fault, not the provider's: the message says so


def oidc_client(request: Request, settings: Settings) -> OidcClient:
    """One client per app (discovery and keys cached), made on first use."""
    with _client_lock:
        client = getattr(request.app.state, "oidc_client", None)
        if client is None or client.settings is not settings:
            if client is not None:
                client.close()
            client = OidcClient(settings)
            request.app.state.oidc_client = client
        return client  # type: ignore[no-any-return]


def redirect_uri(request: Request, settings: Settings) -> str:
    return settings.oidc_redirect_uri or str(request.url_for("sso_callback"))


def _signin_url(request: Request, settings: Settings) -> str:
    """Where the provider sends the browser after its sign-out: the public sign-in page (from the configured
    redirect URI when there is one, as behind a proxy the request's own URL may be an internal one)."""
    if settings.oidc_redirect_uri and settings.oidc_redirect_uri.endswith(CALLBACK):
        return settings.oidc_redirect_uri.removesuffix(CALLBACK) + "/signin"
    return str(request.url_for("signin_form"))


def offer(request: Request) -> dict[str, Any] | None:
    """For the sign-in page (a template global): the SSO button, and after signing out the provider's end-session
    link if discovery named one. Never makes a request to the provider: a page must not wait on it."""
    runtime = getattr(request.app.state, "runtime", None)
    if runtime is None or not runtime.settings.sso_enabled:
        return None
    settings = runtime.settings
    end_session = None
    if request.query_params.get("signed_out"):
        client = getattr(request.app.state, "oidc_client", None)
        if client is not None:
            end_session = client.end_session_url(post_logout_redirect_uri=_signin_url(request, settings))
    return {"label": settings.oidc_button_label, "end_session_url": end_session}


templates.env.globals["sso_offer"] = offer


def _refused(request: Request, runtime: RuntimeDep, reason: str, *, next_path: str = "/") -> Response:
    if reason in UNAVAILABLE:
        status, sentence = 502, "Your organisation's sign-in service could not be reached or answered wrongly. " \
                                "Try again later, or tell an administrator."
    elif reason in MISCONFIGURED:
        status, sentence = 503, "Single sign-on is not set up correctly here. Please tell an administrator."
    elif reason in SENTENCES:
        status, sentence = 403, SENTENCES[reason]
    else:
        status, sentence = 401, "The sign-in could not be completed. Please start again."
    return _signin_page(request, runtime, next_path=next_path, status_code=status, error=sentence)


def _audit_failure(request: Request, runtime: RuntimeDep, db_session: Any, reason: str) -> Response | None:
    """Audit and commit a refusal; a throttled client gets the 429 page instead (not audited again)."""
    client = client_address(request.client.host if request.client else None)
    try:
        domain.record_failure(db_session=db_session, reason=reason, client=client,
                              throttle=get_login_throttle(request))
    except Throttled as exc:
        db_session.commit()
        response = _signin_page(request, runtime, next_path="/", status_code=429,
                                error="Too many failed sign-ins from this address. "
                                      f"Try again in {math.ceil(exc.retry_after / 60)} minute(s).")
        response.headers["Retry-After"] = str(exc.retry_after)
        return response
    db_session.commit()
    return None


@router.get(LOGIN_PATH)
def sso_start(request: Request, runtime: RuntimeDep, next: str | None = None) -> Response:
    """The sign-in page's button: a new attempt, and off to the provider. A link rather than a form (the CSP's
    form-action 'self' would stop a form whose answer leaves this site); the state it starts is bound to this
    browser by the cookie set here, so a forged start signs nobody in."""
    next_path = safe_next(next)
    if not runtime.settings.sso_enabled:
        return _signin_page(request, runtime, next_path=next_path, status_code=404,
                            error="Single sign-on is not configured here.")
    client = client_address(request.client.host if request.client else None)
    wait = _start_throttle(request).retry_after(client)
    if wait is None and _start_throttle(request).failed(client):
        wait = _start_throttle(request).retry_after(client)
    if wait is not None:
        response = _signin_page(request, runtime, next_path=next_path, status_code=429,
                                error="Too many sign-ins started from this address. "
                                      f"Try again in {math.ceil(wait / 60)} minute(s).")
        response.headers["Retry-After"] = str(wait)
        return response
    return _start(request, runtime, next_path)


def _start_throttle(request: Request) -> LoginThrottle:
    """Each start stores a row until it returns or expires: one address may start this many per window."""
    with _client_lock:
        throttle = getattr(request.app.state, "sso_start_throttle", None)
        if throttle is None:
            throttle = LoginThrottle(limit=START_LIMIT, window_s=START_WINDOW_S)
            request.app.state.sso_start_throttle = throttle
        return throttle  # type: ignore[no-any-return]


def _start(request: Request, runtime: RuntimeDep, next_path: str) -> Response:
    settings = runtime.settings
    client = oidc_client(request, settings)
    with runtime.sessions() as db_session:
        try:
            started = domain.start(db_session=db_session, client=client, next_path=next_path,
                                   redirect_uri=redirect_uri(request, settings))
        except domain.SsoRefused as exc:
            db_session.rollback()
            return _audit_failure(request, runtime, db_session, exc.reason) or _refused(
                request, runtime, exc.reason, next_path=next_path)
        db_session.commit()
    response = RedirectResponse(started.url, status_code=303)
    response.set_cookie(LOGIN_COOKIE, started.browser_key, max_age=settings.oidc_login_timeout_s, path=LOGIN_PATH,
                        httponly=True, samesite="lax", secure=secure_cookie(request, settings))
    return response


@router.get(CALLBACK, name="sso_callback")
def sso_callback(
    request: Request, runtime: RuntimeDep,
    state: Annotated[str | None, Query(max_length=256)] = None,
    code: Annotated[str | None, Query(max_length=4096)] = None,
    error: Annotated[str | None, Query(max_length=256)] = None,
) -> Response:
    """The provider sends the browser back here, with a code or an error."""
    settings = runtime.settings
    if not settings.sso_enabled:
        return _signin_page(request, runtime, next_path="/", status_code=404,
                            error="Single sign-on is not configured here.")
    client = oidc_client(request, settings)
    with runtime.sessions() as db_session:
        try:
            done = domain.finish(db_session=db_session, client=client, state=state, code=code, error=error,
                                 browser_key=request.cookies.get(LOGIN_COOKIE),
                                 redirect_uri=redirect_uri(request, settings))
        except domain.SsoRefused as exc:
            # What the attempt changed stays (its state row is gone; a pending user was made): then the audit.
            response = _audit_failure(request, runtime, db_session, exc.reason) or _refused(request, runtime,
                                                                                             exc.reason)
            if exc.reason not in ("state_missing", "state_unknown"):
                # This browser's attempt is spent; a stray or forged callback leaves the real one alone.
                response.delete_cookie(LOGIN_COOKIE, path=LOGIN_PATH, httponly=True, samesite="lax")
            return response
        session_id = sessions.begin(db_session=db_session, user=done.user, max_age=max_age(settings), method="sso")
        old = request.cookies.get(COOKIE)
        if old:
            sessions.end(db_session=db_session, session_id=old)  # a fresh id at every sign-in: no fixation
        db_session.commit()
        web = WebSession(user=done.user, session_id=session_id)
        target = done.next_path if done.next_path != "/" else home_for(web)
    # A page, not a redirect: the browser arrived from the provider's site, and the Strict session cookie set here
    # is sent only on a navigation this site starts (the page's refresh, or its link).
    response = page(request, "sso_continue.html", web=None, target=safe_next(target))
    response.set_cookie(COOKIE, session_id, max_age=settings.web_session_max_age_s, path="/", httponly=True,
                        samesite="strict", secure=secure_cookie(request, settings))
    response.delete_cookie(LOGIN_COOKIE, path=LOGIN_PATH, httponly=True, samesite="lax")
    response.delete_cookie(SIGNIN_COOKIE, path="/signin", httponly=True, samesite="strict")
    return response


# ---- admin -----------------------------------------------------------------------------------------------------------


def _admin_page(request: Request, runtime: RuntimeDep, db_session: SessionDep, web: WebSession, *,
                status_code: int = 200, error: str | None = None, notice: str | None = None) -> Response:
    settings = runtime.settings
    return page(request, "admin_sso.html", web=web, rows=domain.list_identities(db_session=db_session),
                roles=[r.value for r in Role], enabled=settings.sso_enabled, issuer=domain.issuer_key(settings),
                match_claim=settings.oidc_user_claim, groups_claim=settings.oidc_groups_claim,
                group_roles=settings.oidc_group_roles, unknown_users=settings.oidc_unknown_users,
                redirect=redirect_uri(request, settings) if settings.sso_enabled else None,
                error=error, notice=notice, status_code=status_code)


@router.get("/admin/sso")
def admin_sso(request: Request, runtime: RuntimeDep, db_session: SessionDep, web: AdminPage,
              saved: bool = False) -> Response:
    return _admin_page(request, runtime, db_session, web, notice="Saved." if saved else None)


@router.post("/admin/sso/users")
def admin_bind(request: Request, runtime: RuntimeDep, db_session: SessionDep, form: AdminForm) -> Response:
    """A user who will sign in at the provider, bound now by subject or e-mail address (no API token is made)."""
    values = {k: form.form.get(k) for k in ("name", "role", "match")}
    name, role, match = (v.strip() if isinstance(v, str) else "" for v in values.values())
    if not runtime.settings.sso_enabled:
        return _admin_page(request, runtime, db_session, form.web, status_code=409,
                           error="Single sign-on is not configured (README, \"Single sign-on\").")
    if role not in {r.value for r in Role}:
        return _admin_page(request, runtime, db_session, form.web, status_code=422, error="Choose a role.")
    try:
        domain.bind_new_user(db_session=db_session, settings=runtime.settings, name=name, role=Role(role),
                             match=match, actor_id=form.web.user.id)
    except (auth.InvalidUserName, domain.InvalidIdentity) as exc:
        return _admin_page(request, runtime, db_session, form.web, status_code=422, error=str(exc))
    except auth.UserExists:
        return _admin_page(request, runtime, db_session, form.web, status_code=409,
                           error="A user with that name exists.")
    except domain.IdentityTaken:
        db_session.rollback()
        return _admin_page(request, runtime, db_session, form.web, status_code=409,
                           error="That identity is already bound to a user.")
    return RedirectResponse("/admin/sso?saved=true", status_code=303)


@router.post("/admin/sso/users/{user_id}/approve")
def admin_approve(request: Request, user_id: RowId, runtime: RuntimeDep, db_session: SessionDep,
                  form: AdminForm) -> Response:
    role = form.form.get("role")
    if role not in {r.value for r in Role}:
        return _admin_page(request, runtime, db_session, form.web, status_code=422, error="Choose a role.")
    try:
        domain.approve(db_session=db_session, user_id=user_id, role=Role(str(role)), actor_id=form.web.user.id)
    except auth.UserNotFound:
        return _admin_page(request, runtime, db_session, form.web, status_code=404,
                           error="There is no such sign-in identity.")
    except domain.NotPending:
        return _admin_page(request, runtime, db_session, form.web, status_code=409,
                           error="That user is not waiting for approval.")
    return RedirectResponse("/admin/sso?saved=true", status_code=303)
