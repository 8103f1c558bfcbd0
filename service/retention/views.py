from __future__ import annotations

from typing import Annotated, Literal

from fastapi import APIRouter, Path, Response

from service.deps import AdminUser, RuntimeDep, SealedDep, SessionDep
from service.openapi import content
from service.retention import receipt as printable
from service.retention import service, withdrawal
from service.retention.schemas import ReceiptRead, RetentionStatus, WithdrawalRequest

router = APIRouter(prefix="/api/v1", tags=["data lifecycle"])

ReceiptFormat = Literal["json", "txt", "pdf"]
# JSON (the default), or printable.
_RECEIPT = {200: {"model": ReceiptRead, "content": content("text/plain; charset=utf-8", "application/pdf")}}


def _respond(receipt: withdrawal.Receipt, fmt: ReceiptFormat) -> Response:
    headers = {"Cache-Control": "no-store"}
    if fmt == "txt":
        return Response(printable.to_text(receipt), media_type="text/plain; charset=utf-8", headers=headers)
    if fmt == "pdf":
        headers["Content-Disposition"] = f'attachment; filename="{receipt.receipt_id}.pdf"'
        return Response(printable.to_pdf(receipt), media_type="application/pdf", headers=headers)
    body = ReceiptRead(**{**receipt.__dict__, "nothing_left": receipt.nothing_left})
    return Response(body.model_dump_json(), media_type="application/json", headers=headers)


@router.post("/participants/{participant_code}/withdrawal", responses=_RECEIPT)
def withdraw(
    participant_code: Annotated[str, Path(max_length=32)],
    runtime: RuntimeDep,
    admin: AdminUser,
    body: WithdrawalRequest | None = None,
    format: ReceiptFormat = "json",
) -> Response:
    """Delete everything of this participant code and return a receipt (JSON, or printable `txt`/`pdf`).

    Past the participant's withdrawal deadline this answers 409 unless `override_reason` is given.
    """
    receipt = withdrawal.withdraw(
        runtime=runtime,
        participant_code=participant_code,
        actor_id=admin.id,
        override_reason=body.override_reason if body else None,
    )
    return _respond(receipt, format)


@router.get("/withdrawals/{receipt_id}", responses=_RECEIPT)
def get_receipt(
    receipt_id: Annotated[str, Path(max_length=32)],
    db_session: SessionDep,
    sealed: SealedDep,
    admin: AdminUser,
    format: ReceiptFormat = "json",
) -> Response:
    """A withdrawal receipt again, to reprint. The JSON form shows an override reason to the admin (audited)."""
    receipt = withdrawal.get_receipt(
        db_session=db_session, sealed=sealed, receipt_id=receipt_id,
        reveal_reason=format == "json", actor_id=admin.id,
    )
    return _respond(receipt, format)


@router.get("/retention", response_model=RetentionStatus)
def retention_status(runtime: RuntimeDep, admin: AdminUser) -> RetentionStatus:
    """The retention policy in force and the audio deletions coming up."""
    return RetentionStatus.model_validate(service.status(runtime=runtime))
