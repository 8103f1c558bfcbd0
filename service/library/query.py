"""The library's search syntax, parsed here and written out for each back-end, so a user's query never reaches
SQLite FTS5 or PostgreSQL as syntax of its own.

    word            turns containing the word (case and accents ignored)
    "a phrase"      the words in this order, next to each other
    word*           words starting with "word" (at least 2 letters before the star)
    -word  -"a phrase"  NOT word   turns without it
    a OR b          either (OR in capitals joins the terms either side); AND is the default and may be written
Everything else (brackets, colons, carets, other punctuation) separates words, as it does in the indexed text.

Words are what `tokens` finds: letters and digits, case-folded, accents removed. The index stores the same tokens,
so both back-ends match the same turns: FTS5 gets each term as a quoted phrase (tokens are letters and digits only,
so no quote can occur inside), PostgreSQL gets a `tsquery` literal of quoted lexemes against a `tsvector` built from
the same tokens (its own parser, which splits "well-known" three ways, is never asked).
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass

from service.core.errors import DomainError

MAX_TERMS = 16
MAX_PHRASE_WORDS = 32
MIN_PREFIX = 2
MAX_WORD = 100  # longer "words" (a run of letters from a glitch) are not indexed: PostgreSQL refuses lexemes > 2 KB
_WORD = re.compile(r"[^\W_]+")


class QueryError(DomainError):
    status = 422


def fold(text: str) -> str:
    """Case-folded, accents removed: "Café" and "cafe" are the same word."""
    decomposed = unicodedata.normalize("NFKD", text.casefold())
    return "".join(c for c in decomposed if not unicodedata.combining(c))


def tokens(text: str) -> list[str]:
    return [t for t in _WORD.findall(fold(text)) if len(t) <= MAX_WORD]


def token_spans(text: str) -> list[tuple[str, int, int]]:
    """Each token with the [start, end) of the word it came from in `text` (for snippets and highlights)."""
    out = []
    for m in _WORD.finditer(text):
        out += [(t, m.start(), m.end()) for t in tokens(m.group())]
    return out


@dataclass(frozen=True)
class Term:
    words: tuple[str, ...]
    prefix: bool = False  # the last word is a prefix


@dataclass(frozen=True)
class Query:
    groups: tuple[tuple[Term, ...], ...]  # every group must match; a group matches if any of its terms does
    excluded: tuple[Term, ...]

    @property
    def terms(self) -> int:
        return sum(len(g) for g in self.groups) + len(self.excluded)

    def positive(self) -> list[Term]:
        return [t for g in self.groups for t in g]


def _chunks(text: str) -> list[tuple[str, bool]]:
    """(chunk, quoted) in order; an unclosed quote runs to the end."""
    out: list[tuple[str, bool]] = []
    i = 0
    while i < len(text):
        c = text[i]
        if c.isspace():
            i += 1
        elif c == '"':
            end = text.find('"', i + 1)
            end = len(text) if end < 0 else end
            out.append((text[i + 1 : end], True))
            i = end + 1
        else:
            j = i
            while j < len(text) and not text[j].isspace() and text[j] != '"':
                j += 1
            out.append((text[i:j], False))
            i = j
    return out


def parse(text: str) -> Query:
    groups: list[list[Term]] = []
    excluded: list[Term] = []
    negate = join = False
    for chunk, quoted in _chunks(text):
        if not quoted:
            if chunk == "OR":
                join = bool(groups) and not negate
                continue
            if chunk == "AND":
                continue
            if chunk in ("NOT", "-"):
                negate = True
                continue
            if chunk.startswith("-"):
                negate, chunk = True, chunk.lstrip("-")
        words = tuple(tokens(chunk))
        if not words:
            continue  # punctuation only
        prefix = not quoted and chunk.endswith("*")
        if prefix and len(words[-1]) < MIN_PREFIX:
            raise QueryError(422, f"a word* search needs at least {MIN_PREFIX} letters before the star")
        if len(words) > MAX_PHRASE_WORDS:
            raise QueryError(422, f"a phrase may have at most {MAX_PHRASE_WORDS} words")
        term = Term(words, prefix)
        if negate:
            if join:
                raise QueryError(422, "OR joins words or phrases, not exclusions")
            excluded.append(term)
        elif join:
            groups[-1].append(term)
        else:
            groups.append([term])
        negate = join = False
    query = Query(tuple(tuple(g) for g in groups), tuple(excluded))
    if not groups:
        raise QueryError(422, "type a word or a \"phrase\" to look for (exclusions alone match everything)")
    if query.terms > MAX_TERMS:
        raise QueryError(422, f"a search may have at most {MAX_TERMS} words or phrases")
    return query


def _fts5_term(term: Term) -> str:
    return f'"{" ".join(term.words)}"' + ("*" if term.prefix else "")


def to_fts5(query: Query) -> str:
    """An FTS5 MATCH expression: quoted phrases, OR within a group, AND between groups, NOT for exclusions."""
    groups = ["(" + " OR ".join(_fts5_term(t) for t in g) + ")" for g in query.groups]
    return "(" + " AND ".join(groups) + ")" + "".join(f" NOT {_fts5_term(t)}" for t in query.excluded)


def _ts_term(term: Term) -> str:
    lexemes = [f"'{w}'" for w in term.words]  # letters and digits only: nothing to escape
    if term.prefix:
        lexemes[-1] += ":*"
    return "(" + " <-> ".join(lexemes) + ")"


def to_tsquery(query: Query) -> str:
    """A PostgreSQL tsquery literal (cast, not parsed by to_tsquery: the lexemes are already the index's tokens)."""
    groups = ["(" + " | ".join(_ts_term(t) for t in g) + ")" for g in query.groups]
    return " & ".join(groups + [f"!{_ts_term(t)}" for t in query.excluded])


def to_tsvector(words: list[str]) -> str:
    """A tsvector literal of the index's own tokens at their positions (PostgreSQL caps positions at 16383)."""
    return " ".join(f"'{w}':{min(i, 16383)}" for i, w in enumerate(words, 1))


def matches(words: list[str], term: Term) -> list[int]:
    """Where the term starts in a token list (for highlighting; the back-end already chose the turn)."""
    n = len(term.words)
    out = []
    for i in range(len(words) - n + 1):
        head_ok = all(words[i + k] == term.words[k] for k in range(n - 1))
        last = words[i + n - 1]
        if head_ok and (last.startswith(term.words[-1]) if term.prefix else last == term.words[-1]):
            out.append(i)
    return out


def snippet(text: str, query: Query, *, before: int = 12, after: int = 24) -> tuple[str, list[tuple[int, int]]]:
    """The hit in context: a window of words around the first match, with "…" where the turn was cut, and the
    [start, end) of each matched term inside the snippet (pages mark them; scripts get them as offsets)."""
    spans = token_spans(text)
    words = [t for t, _, _ in spans]
    hits: list[tuple[int, int]] = []  # token index ranges, inclusive
    for term in query.positive():
        hits += [(i, i + len(term.words) - 1) for i in matches(words, term)]
    hits.sort()
    if not spans:
        return text, []
    first = hits[0][0] if hits else 0
    # A cut that would leave out only a few words isn't worth its "…".
    lo = 0 if first - before <= 3 else first - before
    hi = len(spans) - 1 if first + after >= len(spans) - 4 else first + after
    start = 0 if lo == 0 else spans[lo][1]
    end = len(text) if hi == len(spans) - 1 else spans[hi][2]
    lead = "" if start == 0 else "… "  # a cut starts at a word, so the window has no leading space
    shift = len(lead) - start
    out = lead + text[start:end] + (" …" if end < len(text.rstrip()) else "")
    marks = []
    for a, b in hits:
        if a >= lo and b <= hi:
            s, e = spans[a][1] + shift, spans[b][2] + shift
            if not marks or s >= marks[-1][1]:
                marks.append((s, e))
    return out, marks
