"""One base for every refusal a domain answers with: a status and a fixed, content-free message for the client.

Services raise subclasses of `DomainError`; views and pages do not catch them. The application's one handler turns
them into the API's `{"detail": message}` with the status, or the web UI's error page (see service/app.py).
"""

from __future__ import annotations


class DomainError(Exception):
    """A refused request. `message` is what the API answers (never transcript text, names or codes); a page shows
    it as a sentence, or `page_message` where the page words it for people instead."""

    status: int = 400
    message: str = "the request was refused"
    page_message: str | None = None

    def __init__(self, status: int | None = None, message: str | None = None) -> None:
        if status is not None:
            self.status = status
        if message is not None:
            self.message = message
        super().__init__(self.message)

    @property
    def detail(self) -> object:
        """The API's `detail`: the message (a subclass may answer FastAPI's list of problems instead)."""
        return self.message

    @property
    def sentence(self) -> str:
        """What a page shows: the message with a capital and a full stop, unless the page words it differently."""
        if self.page_message is not None:
            return self.page_message
        text = self.message
        return text[:1].upper() + text[1:] + ("" if text.endswith(".") else ".")
