"""Password policy and argon2id hashing.

The policy follows NIST SP 800-63B rather than composition rules: at least 12 characters, no upper limit below
1024 (pass phrases welcome), and refused when it is a known-common password or a common word dressed up with digits,
symbols or letter swaps ("Password123!", "P@ssw0rd2024"), a run of one character or a keyboard/alphabet sequence,
or built from the user's name or the service's. The word list (`data/common-passwords.txt`) is small and bundled:
nothing leaves the machine to check a password.

Hashes are argon2id (argon2-cffi) with OWASP's parameters; a hash made with other parameters is re-made at the next
sign-in.
"""

from __future__ import annotations

import re
import unicodedata
from functools import cache
from pathlib import Path

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError, VerifyMismatchError

MIN_LENGTH = 12
# Long enough for any pass phrase; bounded so one request cannot make the server hash megabytes.
MAX_LENGTH = 1024
_WORDS = Path(__file__).resolve().parent / "data" / "common-passwords.txt"
_LEET = str.maketrans({"0": "o", "1": "i", "!": "i", "3": "e", "4": "a", "@": "a", "5": "s", "$": "s", "7": "t",
                       "+": "t", "8": "b", "9": "g", "|": "l"})
_SEQUENCES = ("abcdefghijklmnopqrstuvwxyz", "0123456789", "qwertyuiopasdfghjklzxcvbnm", "1qaz2wsx3edc4rfv5tgb",
              "qazwsxedcrfvtgbyhnujmikolp")

# OWASP's Password Storage Cheat Sheet setting for argon2id (19 MiB, 2 passes, 1 lane): ~0.1 s on one core here,
# where RFC 9106's 64 MiB x 3 x 4 lanes took ~0.8 s on the 2-core reference machine, per sign-in attempt.
# API tokens, session ids, set-up links, sign-in challenges: a token is never a web password.
_MACHINE_PREFIXES = ("ast_", "aws_", "asl_", "asc_")
_hasher = PasswordHasher(time_cost=2, memory_cost=19 * 1024, parallelism=1)


class WeakPassword(ValueError):
    """Why a password is refused, in words for the person choosing it (never containing the password)."""


@cache
def common_words() -> frozenset[str]:
    lines = _WORDS.read_text(encoding="utf-8").splitlines()
    return frozenset(w.strip().lower() for w in lines if w.strip() and not w.startswith("#"))


def _is_sequence(text: str) -> bool:
    """Only runs of a sequence (either direction, repeated), e.g. 'abcdefabcdef', '987654321098'."""
    if len(text) < 4:
        return False
    for seq in _SEQUENCES:
        for s in (seq, seq[::-1]):
            doubled = s + s
            if all(text[i:i + 4] in doubled for i in range(0, len(text) - 3)):
                return True
    return False


def check(password: str, *, user_name: str = "", extra_words: tuple[str, ...] = ("anonscribe",)) -> None:
    """Raise `WeakPassword` if the policy refuses `password`."""
    if len(password) < MIN_LENGTH:
        raise WeakPassword(f"Use at least {MIN_LENGTH} characters (a few unrelated words make a good one).")
    if len(password) > MAX_LENGTH:
        raise WeakPassword(f"Use at most {MAX_LENGTH} characters.")
    if password.startswith(_MACHINE_PREFIXES):
        raise WeakPassword("That looks like an API token or a link: tokens are for scripts. Choose a password of "
                           "your own.")
    folded = unicodedata.normalize("NFKC", password).casefold()
    compact = re.sub(r"\s+", "", folded)
    if len(set(compact)) < 5:
        raise WeakPassword("Use more than a few different characters.")
    if _is_sequence(compact):
        raise WeakPassword("A run of the alphabet, digits or keyboard keys is guessed first. Choose something else.")
    # The word inside: digits and symbols stripped from both ends, then letter swaps undone ("P@ssw0rd2024!").
    core = re.sub(r"^[^a-z]+|[^a-z]+$", "", compact)
    letters = re.sub(r"[^a-z]", "", core.translate(_LEET))
    words = common_words()
    if compact in words or letters in words or re.sub(r"[^a-z]", "", compact) in words:
        raise WeakPassword("That is a commonly used password, or one with digits or symbols added. "
                           "Choose something less predictable.")
    # A common word repeated or padded ("passwordpassword", "dragondragon1") is no better than the word.
    for size in range(3, len(letters) // 2 + 1):
        if len(letters) % size == 0 and letters[:size] * (len(letters) // size) == letters and letters[:size] in words:
            raise WeakPassword("That is a common word repeated. Choose something less predictable.")
    for word in (user_name, *extra_words):
        word = word.casefold().strip()
        if len(word) >= 3 and (word in compact or word in letters):
            raise WeakPassword("The password must not contain your user name or the service's name.")


def hash_password(password: str) -> str:
    return _hasher.hash(password)


def verify(stored: str | None, password: str) -> bool:
    """True if `password` matches `stored`. Without a stored hash a dummy one is checked, so an unknown user or an
    account without a password takes as long to refuse as a wrong password."""
    try:
        return _hasher.verify(stored or _dummy(), password) and stored is not None
    except (VerifyMismatchError, VerificationError, InvalidHashError):
        return False


def needs_rehash(stored: str) -> bool:
    return _hasher.check_needs_rehash(stored)


@cache
def _dummy() -> str:
    return _hasher.hash("not a password: equalises the time of a refusal")
