"""TOTP (RFC 6238, via pyotp) and recovery codes: the second factor of a password sign-in.

Codes are 6 digits per 30-second step, the authenticator apps' default. A code is accepted for the current step
or the one before (a code typed as the step turned over) and the one after (a phone clock a little ahead); the
accepted step is remembered and no code for it or an earlier step is taken again, so a code seen over a shoulder or
replayed from a log is worthless. Time comes from `service.core.clock`, so tests move it.

Recovery codes are 16 characters from the base32 alphabet (80 bits), shown once, stored as SHA-256 (random values
of that size need no slow hash), each good for one sign-in.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
from datetime import datetime

import pyotp

STEP_S = 30
DIGITS = 6
RECOVERY_CODES = 10
_ALPHABET = "ABCDEFGHJKLMNPQRSTUVWXYZ23456789"  # no 0/O, 1/I: codes are copied from paper


def new_secret() -> str:
    return pyotp.random_base32(32)  # 160 bits, RFC 4226's recommended length


def step_at(when: datetime) -> int:
    return int(when.timestamp()) // STEP_S


def code_at(secret: str, step: int) -> str:
    return pyotp.TOTP(secret, digits=DIGITS, interval=STEP_S).at(step * STEP_S)


def match(secret: str, code: str, *, now: datetime, last_step: int | None) -> int | None:
    """The step `code` is valid for (previous, current or next), or None. A step at or before `last_step` never
    matches: that code, or an older one, was already used."""
    code = "".join(code.split())
    if len(code) != DIGITS or not code.isdigit():
        return None
    current = step_at(now)
    for step in (current, current - 1, current + 1):
        if last_step is not None and step <= last_step:
            continue
        if hmac.compare_digest(code_at(secret, step), code):
            return step
    return None


def provisioning_uri(secret: str, *, account: str, issuer: str) -> str:
    return pyotp.TOTP(secret, digits=DIGITS, interval=STEP_S).provisioning_uri(name=account, issuer_name=issuer)


def qr_svg(uri: str) -> str:
    """The URI as an inline SVG QR code (no script, no style attribute: it passes the pages' strict CSP)."""
    import segno

    return segno.make(uri, error="m").svg_inline(scale=4, dark="#000", light="#fff", omitsize=False)


def new_recovery_codes() -> list[str]:
    codes = []
    for _ in range(RECOVERY_CODES):
        raw = "".join(secrets.choice(_ALPHABET) for _ in range(16))
        codes.append("-".join(raw[i:i + 4] for i in range(0, 16, 4)))
    return codes


def normalise_recovery_code(code: str) -> str:
    return "".join(ch for ch in code.upper() if ch.isalnum())


def hash_recovery_code(code: str) -> str:
    return hashlib.sha256(b"anonscribe/recovery/v1:" + normalise_recovery_code(code).encode()).hexdigest()


def looks_like_recovery_code(code: str) -> bool:
    return len(normalise_recovery_code(code)) == 16
