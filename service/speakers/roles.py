"""The roles a speaker can be shown as: one vocabulary per cohort, used by the API, the web form and the exports.

Slots store a cohort-neutral role (Interviewer, Participant, Other: what the pipeline can guess without knowing the
study); the participant is shown, offered and accepted under the cohort's word. "Participant" is also accepted
everywhere as the generic word for the cohort's participant, so scripts need not know the cohort.
"""

from __future__ import annotations

from service.core.errors import DomainError
from service.speakers.models import SpeakerRole

PARTICIPANT_WORD = {"police": "Officer", "victim": "Victim", "other": "Participant"}


class UnknownRole(DomainError):
    status = 422

    def __init__(self, word: str, *, cohort: str) -> None:
        self.allowed = vocabulary(cohort)
        # The page offers the list again rather than echo the typed word.
        self.page_message = f"Choose a role from the list: {', '.join(self.allowed)}."
        super().__init__(message=f"{word!r} is not a speaker role for a {cohort} recording; "
                                 f"choose one of: {', '.join(self.allowed)}")


def vocabulary(cohort: str) -> tuple[str, ...]:
    """The roles offered for a recording of this cohort, in the order a form lists them."""
    return (SpeakerRole.interviewer.value, PARTICIPANT_WORD.get(cohort, SpeakerRole.participant.value),
            SpeakerRole.other.value)


def all_words() -> tuple[str, ...]:
    """Every role word of every cohort (for filters across cohorts)."""
    return (SpeakerRole.interviewer.value, *PARTICIPANT_WORD.values(), SpeakerRole.other.value)


def word(role: str, *, cohort: str) -> str:
    """A stored role as this cohort says it."""
    if role == SpeakerRole.participant:
        return PARTICIPANT_WORD.get(cohort, SpeakerRole.participant.value)
    return role


def stored(word_: str, *, cohort: str) -> SpeakerRole:
    """The stored role for a word of this cohort's vocabulary (any case), or "Participant"; UnknownRole otherwise."""
    wanted = word_.strip().casefold()
    if wanted == SpeakerRole.participant.value.casefold():
        return SpeakerRole.participant
    for role in SpeakerRole:
        if word(role.value, cohort=cohort).casefold() == wanted:
            return role
    raise UnknownRole(word_, cohort=cohort)
