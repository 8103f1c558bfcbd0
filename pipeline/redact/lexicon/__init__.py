"""Gazetteer and cue layers: forces, ranks and titles before names, places, given names, operations, teams, and
capitalised or out-of-vocabulary words next to identifier cues ("called ...", "lives in ...", "... Police").

Everything is matched on lower-cased tokens, so lower-case ASR text and ALL CAPS are handled like well-cased text;
capitals are used as extra evidence only where the text is mixed-case ("Will" mid-sentence is a name, "will" isn't).

One module per kind: `police` (forces, departments, operations), `names`, `places` (and groups, streets),
`organisations`, `cues` (near-misses for review); `text` holds what they share. The layers run in the order they
always have: the merge downstream sees their hits in this order.
"""

from __future__ import annotations

from pipeline.redact.base import names_a_law
from pipeline.redact.lexicon import cues, names, organisations, places, police
from pipeline.redact.lexicon.text import Hit, Text

__all__ = ["Hit", "find"]


def find(text: str) -> list[Hit]:
    t = Text(text)
    out: list[Hit] = []
    if not t.n:
        return out
    police.force_names(t, out)
    names.ranked_names(t, out)
    names.roles(t, out)
    names.cued_names(t, out)
    names.nicknames(t, out)
    names.named_with_age(t, out)
    names.named_by_relation(t, out)
    names.given_names(t, out)
    names.lone_surnames(t, out)
    places.place_names(t, out)
    police.operations(t, out)
    police.departments(t, out)
    organisations.organisation_names(t, out)
    organisations.named_institutions(t, out)
    organisations.named_pubs(t, out)
    organisations.venue_before_type(t, out)
    organisations.spelled_initials(t, out)
    cues.place_cues(t, out)
    places.groups_and_streets(t, out)
    places.sites(t, out)
    cues.misheard(t, out)
    names.unknown_words(t, out)
    names.bare_objects(t, out)
    return [h for h in out if not (h.label == "PERSON" and names_a_law(text, h.end))]
