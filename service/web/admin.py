"""Admin pages: users and roles (a new token or set-up link is shown once; reset a password or second factor,
unlock), the audit log, retention status, participant withdrawal
with its receipt, the studies' interviewer voice profiles (listed, deleted)."""

from __future__ import annotations

from datetime import timedelta
from typing import Annotated, Literal

from fastapi import APIRouter, Depends, Path, Query, Request, Response
from fastapi.responses import RedirectResponse

from service.audit import service as audit
from service.auth import accounts, factors, tokens
from service.auth import service as auth
from service.auth.credentials import UserMissing, user_or_missing
from service.auth.models import Role
from service.core.ints import PageNo, RowId
from service.deps import RuntimeDep, SealedDep, SessionDep
from service.retention import receipt as printable
from service.retention import service as retention
from service.retention import withdrawal
from service.speakers import voices
from service.web import token_forms
from service.web.session import Admin, Posted, WebSession, posted, require
from service.web.templating import WebRoute, page

router = APIRouter(route_class=WebRoute, include_in_schema=False)

AdminPage = Annotated[WebSession, Depends(require(*Admin))]
AdminForm = Annotated[Posted, Depends(posted(*Admin))]
AUDIT_PER_PAGE = 50
POLICY_LABELS = {
    "audio_retention_after_approval_s": "Audio kept after approval",
    "audio_max_age_s": "Audio kept at most (from upload)",
    "audio_deletion_warning_s": "Warning before audio deletion",
    "raw_transcript_retention_after_approval_s": "Unredacted transcript kept after approval",
    "raw_transcript_max_age_s": "Unredacted transcript kept at most",
    "pseudonym_map_retention_s": "Pseudonym map kept after the last approval",
    "sweep_interval_s": "Sweep runs every",
}


def _users_page(request: Request, db_session: SessionDep, web: WebSession, *, status_code: int = 200,
                created: tuple[str, str] | None = None, error: str | None = None,
                notice: str | None = None, link: tuple[str, str] | None = None) -> Response:
    return page(request, "admin_users.html", web=web, users=auth.list_users(db_session=db_session),
                roles=[r.value for r in Role], created=created, error=error, notice=notice, status_code=status_code,
                can_update=True, accounts=accounts.statuses(db_session=db_session), link=link)


def _link_for(request: Request, runtime: RuntimeDep, db_session: SessionDep, *, user_id: int, actor_id: int,
              purpose: str) -> str:
    token = accounts.make_link(db_session=db_session, user_id=user_id, actor_id=actor_id, purpose=purpose,
                               ttl=timedelta(seconds=runtime.settings.account_link_ttl_s))
    return f"{str(request.base_url).rstrip('/')}/account/setup/{token}"


@router.get("/admin/users")
def users(request: Request, db_session: SessionDep, web: AdminPage, saved: bool = False) -> Response:
    return _users_page(request, db_session, web, notice="Saved." if saved else None)


@router.post("/admin/users")
def create_user(request: Request, runtime: RuntimeDep, db_session: SessionDep, form: AdminForm) -> Response:
    """The new token or set-up link is in this response only (no redirect, no-store): it is never shown again.
    `access`: "link" (a person: a one-time link to choose a password) or "token" (a script; the default)."""
    name = form.form.get("name")
    role = form.form.get("role")
    access = form.form.get("access") or "token"
    name = name.strip() if isinstance(name, str) else ""
    if role not in {r.value for r in Role} or access not in ("link", "token"):
        return _users_page(request, db_session, form.web, status_code=422,
                           error="Choose a role and a way to sign in from the lists.")
    try:
        user, token = auth.create_user(db_session=db_session, name=name, role=Role(str(role)),
                                       actor_id=form.web.user.id, api_token=access == "token")
    except auth.InvalidUserName as exc:
        return _users_page(request, db_session, form.web, status_code=422, error=str(exc))
    except auth.UserExists:
        return _users_page(request, db_session, form.web, status_code=409, error="A user with that name exists.")
    if token is None:
        url = _link_for(request, runtime, db_session, user_id=user.id, actor_id=form.web.user.id, purpose="invite")
        return _users_page(request, db_session, form.web, link=(user.name, url))
    return _users_page(request, db_session, form.web, created=(user.name, token))


@router.post("/admin/users/{user_id}/link")
def password_link(request: Request, user_id: RowId, runtime: RuntimeDep, db_session: SessionDep,
                  form: AdminForm) -> Response:
    """A new one-time link to set a password. If the user has one, it stops working now (a reset)."""
    status = accounts.status(db_session=db_session, user_id=user_id)
    try:
        url = _link_for(request, runtime, db_session, user_id=user_id, actor_id=form.web.user.id,
                        purpose="reset" if status.has_password else "invite")
    except UserMissing:
        return _users_page(request, db_session, form.web, status_code=404, error="There is no such user.")
    name = next(u.name for u in auth.list_users(db_session=db_session) if u.id == user_id)
    return _users_page(request, db_session, form.web, link=(name, url))


@router.post("/admin/users/{user_id}/reset-factor")
def reset_factor(request: Request, user_id: RowId, db_session: SessionDep, sealed: SealedDep,
                 form: AdminForm) -> Response:
    """Forget the user's authenticator and recovery codes (a lost phone): they enrol again at the next sign-in."""
    try:
        factors.reset_factor(db_session=db_session, sealed=sealed, user_id=user_id, actor_id=form.web.user.id)
    except UserMissing:
        return _users_page(request, db_session, form.web, status_code=404, error="There is no such user.")
    return RedirectResponse("/admin/users?saved=true", status_code=303)


@router.post("/admin/users/{user_id}/unlock")
def unlock(request: Request, user_id: RowId, db_session: SessionDep, form: AdminForm) -> Response:
    try:
        accounts.unlock(db_session=db_session, user_id=user_id, actor_id=form.web.user.id)
    except UserMissing:
        return _users_page(request, db_session, form.web, status_code=404, error="There is no such user.")
    return RedirectResponse("/admin/users?saved=true", status_code=303)


def _tokens_page(request: Request, runtime: RuntimeDep, db_session: SessionDep, web: WebSession, user_id: int, *,
                 status_code: int = 200, error: str | None = None, notice: str | None = None,
                 made: token_forms.Made | None = None) -> Response:
    owner = user_or_missing(db_session, user_id)
    listed = [(t, tokens.state(t)) for t in tokens.list_tokens(db_session=db_session, user_id=user_id)]
    return page(request, "admin_tokens.html", web=web, owner=owner, tokens=listed, made=made, error=error,
                notice=notice, status_code=status_code, forms_at=f"/admin/users/{user_id}/tokens",
                expiry_choices=tokens.expiry_choices(runtime.settings.api_token_max_days))


@router.get("/admin/users/{user_id}/tokens")
def user_tokens(request: Request, user_id: RowId, runtime: RuntimeDep, db_session: SessionDep, web: AdminPage,
                revoked: bool = False) -> Response:
    return _tokens_page(request, runtime, db_session, web, user_id,
                        notice="The token is revoked." if revoked else None)


@router.post("/admin/users/{user_id}/tokens")
def create_user_token(request: Request, user_id: RowId, runtime: RuntimeDep, db_session: SessionDep,
                      form: AdminForm) -> Response:
    """A token for the user's scripts, shown in this response only."""
    user_or_missing(db_session, user_id)
    try:
        made = token_forms.make(db_session=db_session, settings=runtime.settings, form=form.form, user_id=user_id,
                                actor_id=form.web.user.id)
    except token_forms.REFUSED as exc:
        return _tokens_page(request, runtime, db_session, form.web, user_id, status_code=exc.status,
                            error=exc.sentence)
    return _tokens_page(request, runtime, db_session, form.web, user_id, made=made)


@router.post("/admin/users/{user_id}/tokens/{token_id}/revoke")
def revoke_user_token(user_id: RowId, token_id: RowId, db_session: SessionDep, form: AdminForm) -> Response:
    tokens.revoke(db_session=db_session, user_id=user_id, token_id=token_id, actor_id=form.web.user.id)
    return RedirectResponse(f"/admin/users/{user_id}/tokens?revoked=true", status_code=303)


@router.post("/admin/users/{user_id}")
def update_user(request: Request, user_id: RowId, db_session: SessionDep, form: AdminForm) -> Response:
    """Role and active flag; a disabled user's sessions stop working at once (every request re-reads the user)."""
    role, active = form.form.get("role"), form.form.get("active")
    if role not in {r.value for r in Role} or active not in ("yes", "no"):
        return _users_page(request, db_session, form.web, status_code=422,
                           error="Choose a role and whether the user is active.")
    try:
        auth.update_user(db_session=db_session, user_id=user_id, actor_id=form.web.user.id, role=Role(str(role)),
                         active=active == "yes")
    except auth.UserNotFound:
        return _users_page(request, db_session, form.web, status_code=404, error="There is no such user.")
    except auth.LastAdmin:
        return _users_page(request, db_session, form.web, status_code=409,
                           error="That would leave no active admin: nobody could manage users or withdrawals.")
    return RedirectResponse("/admin/users?saved=true", status_code=303)


@router.get("/admin/audit")
def audit_log(
    request: Request, db_session: SessionDep, web: AdminPage,
    page_no: Annotated[PageNo, Query(alias="page")] = 1,
    action: Annotated[str | None, Query(max_length=48)] = None, verify: bool = False,
) -> Response:
    """Newest first, paged. Entries are content-free by construction; verifying walks the whole chain."""
    events, total = audit.list_events(db_session=db_session, page=page_no, per_page=AUDIT_PER_PAGE,
                                      action=action or None)
    names = {u.id: u.name for u in auth.list_users(db_session=db_session)}
    verdict = audit.verify(db_session=db_session) if verify else None
    return page(request, "admin_audit.html", web=web, events=events, total=total, page_no=page_no,
                per_page=AUDIT_PER_PAGE, action=action or "", names=names, verdict=verdict)


@router.get("/admin/retention")
def retention_status(request: Request, runtime: RuntimeDep, web: AdminPage) -> Response:
    status = retention.status(runtime=runtime)
    return page(request, "admin_retention.html", web=web, status=status, policy_labels=POLICY_LABELS)


@router.get("/admin/voices")
def voice_profiles(request: Request, db_session: SessionDep, web: AdminPage, deleted: bool = False) -> Response:
    """Every study's enrolled research-staff voices: where each came from and who enrolled it (never a name of the
    person whose voice it is: the profile holds none)."""
    profiles = voices.list_profiles(db_session=db_session)
    names = {u.id: u.name for u in auth.list_users(db_session=db_session)}
    return page(request, "admin_voices.html", web=web, profiles=profiles, names=names,
                notice="Voice profile deleted: its key is destroyed." if deleted else None)


@router.post("/admin/voices/{profile_id}/delete")
def delete_voice_profile(profile_id: Annotated[str, Path(pattern=r"^[0-9a-f]{32}$")], db_session: SessionDep,
                         sealed: SealedDep, form: AdminForm) -> Response:
    """Crypto-shred the voiceprint and drop the profile (the API's DELETE, same audit event)."""
    voices.delete_profile(db_session=db_session, sealed=sealed, profile_id=profile_id, actor_id=form.web.user.id)
    return RedirectResponse("/admin/voices?deleted=true", status_code=303)


@router.get("/admin/withdrawal")
def withdrawal_form(request: Request, web: AdminPage) -> Response:
    return page(request, "admin_withdrawal.html", web=web, error=None, receipt=None, ask_reason=False)


@router.post("/admin/withdrawal")
def withdraw(request: Request, runtime: RuntimeDep, form: AdminForm) -> Response:
    """Deletes everything of a participant code and shows the receipt. The code is typed, never put in a URL."""
    code = form.form.get("participant_code")
    code = code.strip() if isinstance(code, str) else ""
    reason = form.form.get("override_reason")
    reason = reason.strip() if isinstance(reason, str) and reason.strip() else None

    def again(status_code: int, error: str, *, ask_reason: bool = False) -> Response:
        return page(request, "admin_withdrawal.html", web=form.web, error=error, receipt=None, ask_reason=ask_reason,
                    status_code=status_code)

    if form.form.get("confirm") != "yes":
        return again(422, "Tick the box to confirm: a withdrawal cannot be undone.")
    if reason is not None and not 3 <= len(reason) <= 2000:
        return again(422, "The reason must be 3 to 2000 characters.", ask_reason=True)
    try:
        receipt = withdrawal.withdraw(runtime=runtime, participant_code=code, actor_id=form.web.user.id,
                                      override_reason=reason, via="web")
    except withdrawal.InvalidParticipantCode:
        return again(422, "That is not a participant code (letters, digits, - and _ only).")
    except withdrawal.ParticipantNotFound:
        return again(404, "There is no data for this participant code.")
    except withdrawal.PastDeadline as exc:
        return again(409, f"The withdrawal deadline ({exc.deadline.isoformat()}) has passed: the data may already be "
                          "in analysis. To withdraw anyway, give the reason (it is sealed, not logged).",
                     ask_reason=True)
    return page(request, "admin_withdrawal.html", web=form.web, error=None, receipt=receipt,
                receipt_lines=printable.lines(receipt), ask_reason=False)


@router.get("/admin/withdrawals/{receipt_id}")
def receipt_file(
    receipt_id: Annotated[str, Path(max_length=32)], db_session: SessionDep, sealed: SealedDep, web: AdminPage,
    format: Literal["txt", "pdf"] = "pdf",
) -> Response:
    receipt = withdrawal.get_receipt(db_session=db_session, sealed=sealed, receipt_id=receipt_id)
    body = printable.to_pdf(receipt) if format == "pdf" else printable.to_text(receipt).encode()
    return Response(body, media_type="application/pdf" if format == "pdf" else "text/plain; charset=utf-8",
                    headers={"Content-Disposition": f'attachment; filename="{receipt.receipt_id}.{format}"'})
