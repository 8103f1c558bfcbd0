"""Build the ASR-style redaction sets:
tests/data/redaction_asr_{dev,frozen,frozen2,frozen3,frozen4,frozen5,frozen6,frozen7,frozen8,frozen9,dev3,dev4,dev5,dev6,
dev7,dev8,dev9,dev10,dev11,dev12,dev13,dev14,dev15,dev16,dev17,dev18,dev19,dev20,frozen10,dev21,
dev22,dev23,dev24,dev25,dev26,dev27,frozen11,dev28,dev29,dev30,frozen12,dev31,dev32,frozen13}.jsonl.

    python tests/data/build_redaction_asr.py          # rebuild both and print their make-up
    python tests/data/build_redaction_asr.py --check  # fail if a jsonl is stale or any offset is wrong

Text is written the way Whisper transcribes conversation: lower case, little punctuation, numbers said as words,
letters spelled out, misheard force and place names, names that are also ordinary words in both uses, and many lines
with nothing to redact. Each split has its OWN templates, name, place and force lists (redaction_asr_<split>.tpl.txt)
and its own hand-written lines (redaction_asr_<split>.src.txt, same markup as redaction_dev.src.txt), rendered with a
fixed seed. The frozen split is never looked at while tuning the detector. dev3 is hand-written only (no templates):
a second tuned split with the long tail templates don't reach (many communities' names, nicknames, misheard names,
ranks and forces said as letters, small places, disfluencies). dev4 is hand-written only too, and about two thirds of
its lines are cased and punctuated the way Whisper `base` writes conversation (digits, written identifiers, misheard
names capitalised as names, ordinary words capitalised at sentence starts); text is kept exactly as written.
frozen4 is hand-written only and held out: half Whisper-cased, half lower case with numbers said as words.
frozen5 likewise (written 2026-12-07, session 8, never tuned on), with its own people, places and employers.
frozen6 likewise (written in session 9, blind and never tuned on), with its own people, places and employers.
frozen7 likewise (written in session 9 after its tuning, blind and never tuned on), with its own people,
places, streets and employers.
frozen8 likewise (written in session 11, blind: no detector code, lists, tests or output read, the detector never run
on it; never tuned on), 40 transcripts from all four nations, half Whisper-cased and half lower case, with its own
people, places, streets, employers, handles and emails and a spread of every identifier kind.
frozen9 likewise (written in session 11, blind: no detector code, lists, tests or output read, the detector never run
on it; never tuned on), 40 interview transcripts (545 lines) from all four nations, half Whisper-cased and half lower
case, the interviewer's questions as their own lines and answers of very varied length (some long run-on turns of
40-60 words), with its own people, places, streets, employers, handles and emails and a spread of every identifier kind.
frozen10 likewise (written in session 12, blind: no detector code, lists, tests, other splits or output read, the
detector never run on it; never tuned on), 38 interview transcripts (510 lines) from all four nations, half
Whisper-cased and half lower case, questions as their own lines (so 44 % of lines have no span), officers of every role
and rank and victims, families, friends and support workers, with its own people, places, streets, employers, handles
and emails and a spread of every identifier kind.
frozen11 likewise (written in session 12 after its tuning began, blind: no detector code, lists, tests, other splits
or output read, the detector never run on it; never tuned on), 36 interview transcripts (498 lines) from all four
nations, half Whisper-cased and half lower case, with its own people, places, streets, employers, handles and emails
and a spread of every identifier kind (organisations and places named by ordinary words among them).
frozen12 likewise (written in session 13, blind: only the writing brief and dev27's first lines read, the detector never
run on it; never tuned on), 34 interview transcripts (504 lines, 42 % with no span) from all four nations, half
Whisper-cased and half lower case, officers of every role and rank, victims, families, friends and support workers,
with its own people, places, streets, employers, handles and emails checked by script against every other file.
frozen13 likewise (session 13, written blind like frozen12 while that session's tuning went on; never tuned on), 35
interview transcripts (508 lines, 42 % with no span), 60 % lower case and 40 % Whisper-cased, officers of every role,
victims, parents, partners, friends and support workers from all four nations.
dev5 is hand-written only and tuned on, half Whisper-cased and half lower case, aimed at what the detector loses on
held-out data: ages said without a cue word, lower-case names from many communities, surnames alone, nicknames,
forces in lower case or misheard, small employers and local places, and many lines with nothing to redact.
dev6 is hand-written only and tuned on like dev5 (45 transcripts, half Whisper-cased, half lower case, with its own
people, places and employers), weighted to ages in many phrasings, lower-case names, forces and small organisations.
dev7 is hand-written only and tuned on like dev6 (40 transcripts, about 40 % Whisper-cased and 60 % lower case, with
its own people), weighted to people's names in many syntactic positions and from many communities: objects of many
verbs, after prepositions, in lists and reported speech, vocatives, surnames alone, nicknames, misheard names, officers
after spelled ranks, surnames that are places or words, and word-names in both uses.
dev8 is hand-written only and tuned on like dev6 (44 transcripts, about 45 % Whisper-cased, the rest lower case, with
its own places, streets and employers), weighted to small organisations, places and forces across the four nations.
dev9 is hand-written only and tuned on like dev8 (40 transcripts, ALL lower case the way Whisper writes conversation
when it does not capitalise, with its own people, places, streets and employers), mixing every kind of identifier:
names from many communities in every position, ages said every way, small employers, places, forces, dates and times
in words, and crime numbers, phones, handles and number plates said aloud; about a third of lines have no span.
dev10 is hand-written only and tuned on like dev9 (34 transcripts, its own people, places, streets and employers), but
each line is one LONG speaker turn of 25-60 words, the way Whisper transcribes an hour-long research interview (run-on
sentences, self-corrections, names and places in passing mid-turn, the interviewer's questions as their own lines);
about three quarters of docs are all lower case and a quarter cased and punctuated the way Whisper `base` writes.
dev11 is hand-written only and tuned on like dev9 (30 transcripts, its own people, places, streets and employers, about
80 % all lower case and 20 % Whisper-cased), weighted to organisations (local employers said bare after "at"/"for",
care homes, schools, surgeries, clubs, churches, charities, pubs, salons, garages, farms), addresses said in words
and ages in every phrasing; about a third of lines have no span.
dev12 is hand-written only and tuned on like dev11 (32 transcripts, its own people, places, streets and employers, about
85 % all lower case and 15 % Whisper-cased), weighted to what is lost in lower-case speech: names from many communities
in every syntactic position (possessives, after prepositions, surnames alone, nicknames, word-names in both uses),
small organisations said bare, villages, estates, streets and flats, ages without a cue word, forces spelled, shortened
or misheard; about a third of lines have no span.
dev13 is hand-written only and tuned on like dev10 (32 transcripts of LONG speaker turns, its own people, places,
streets and employers, about 80 % all lower case and 20 % Whisper-cased), weighted to what lower-case speech loses:
names of many communities in every position, word-names in both uses, small organisations said bare, villages,
streets, flats and farms, ages without a cue and forces spelled or misheard; about a third of lines have no span.
dev14 is hand-written only and tuned on like dev12 (32 transcripts, 435 lines, its own people, places, streets and
employers, about 85 % all lower case and 15 % Whisper-cased, mostly short turns with some long ones of 40-60 words),
weighted to lower-case people's names of many communities in every position (subjects, objects, after prepositions,
possessives, lists, appositions, vocatives, introductions, corrections, surnames alone, nicknames) and word-names in
both uses; about a third of lines have no span.
dev15 is hand-written only and tuned on like dev12 (32 transcripts, 432 lines, its own people, places, streets and
employers, about 85 % all lower case and 15 % Whisper-cased, mostly short turns with about thirty long ones), weighted
to organisations, places and ages in lower-case speech: small organisations said bare or named with ordinary words,
villages, estates, streets, flats, farms and places made of ordinary words, ages without a cue word, and the same
words in their ordinary sense; about a third of lines have no span.
dev16 is hand-written only and tuned on (34 transcripts, 488 lines, its own people, places, streets and employers,
half Whisper-cased and half all lower case, short turns mixed with long ones of 40-60 words), written in session 11
the way an outside evaluator would, before reading the detector, so its first measurement is honest: a general spread
of every identifier kind (names of many communities in every position, officers, forces in many phrasings, ages with
and without a cue, small organisations, places, streets, dates, times, references, phones, handles, emails, plates);
about a third of lines have no span.
dev17 is hand-written only and tuned on like dev14 (34 transcripts, 479 lines, written in session 11 blind to the
detector, with its own people, officers, places and streets, about 85 % all lower case and 15 % Whisper-cased, mostly
short turns with 18 long ones), weighted to PEOPLE, OFFICERS and FORCES: names of many communities in every position
(after prepositions, possessives, lists, appositions, vocatives, introductions, corrections, reported speech, surnames
alone, ordinary-word nicknames, names misheard into near-words), word-names in both uses, officers after spelled or
said ranks and then by surname alone, and forces full, short, nicknamed or misheard beside the verb "met"; about a
third of lines have no span.
dev18 is hand-written only and tuned on like dev15 (34 transcripts, 475 lines, its own people, places, streets and
employers, about 70 % all lower case and 30 % Whisper-cased, mostly short turns with about thirty long ones of 40-60
words), written in session 11 without reading the detector, weighted to organisations, places, addresses and ages in
lower-case speech: small employers said bare after "at"/"for", organisations and places named with ordinary words and
the same words in their ordinary sense, villages, estates, streets, closes and flats, ages without a cue word beside
counts, durations and money that are not ages, and dates, times, phones, crime references, plates, postcodes and
emails said aloud; about a third of lines have no span.
dev19 is hand-written only and tuned on (34 transcripts, 439 lines, its own people, places, streets and employers
checked by script, about 60 % all lower case and 40 % Whisper-cased), written in session 11 like dev16 before reading
the detector, so its first measurement is honest, and written as a real research interview reads: the interviewer's
questions as their own short lines, the participant's answers as turns of very varied length, many of them long
run-on turns of 40-70 words with asides and self-corrections, every identifier kind said in passing mid-turn (names
of many communities in every position, everyday-word nicknames, officers, forces, ages with and without a cue beside
counts that are not ages, small organisations, places, streets, dates, times, references, phones, handles, emails,
plates); about a third of lines have no span.
dev20 is hand-written only and tuned on (34 transcripts, 462 lines, its own people, places, streets, employers and
handles, ALL lower case with no digits, short turns mixed with long ones of 40-60 words), written in session 11 before
reading the detector, so its first measurement is honest: weighted to the hardest things in lower-case speech, people's
names no list would know (rare names of many communities, invented-sounding nicknames, names misheard into near-words,
names that are everyday words in both uses), small organisations and places named bare or with ordinary words beside
the same words in their ordinary sense, ages with no cue word and forces in lower case or misheard, with a sprinkling of
dates, times, phones, references, plates and handles said aloud; about a third of lines have no span.
dev21 is hand-written only and tuned on (34 transcripts, 458 lines, its own people, places and employers, about 78 %
all lower case and 22 % Whisper-cased), written in session 12 before reading the detector, so its first measurement is
honest: weighted to organisations and places named by ordinary words with no cue word, beside the same words in their
ordinary sense, everyday-word nicknames, vocative word-names and appositions ("tar shan my brother"), names Whisper
mishears into near-words or split words, forces lower case, shortened or misheard beside the verb "met", and ages
without a cue word beside counts and durations; 166 lines have no span.
dev22 is hand-written only and tuned on (34 transcripts, 460 lines, half Whisper-cased and half all lower case),
written in session 12 before reading the detector, as one-hour research interviews read: short interviewer questions
and answers from five words to run-on turns of 40-60 words, police of many roles and victims, families, friends and
support workers from many communities, with a general spread of every identifier said in passing mid-turn; 168 lines
have no span.
dev23 is hand-written only and tuned on (34 transcripts, 460 lines, ALL lower case with no digits), written in session
12 before reading the detector, weighted to people, officers and forces: names of many communities in every syntactic
position, word-names in both uses, nicknames, initials said as letters, officers after spelled or said ranks and then
by surname alone, forces full, short, nicknamed, spelled or misheard beside "met", "the old bill" and "the feds"; 140
lines have no span.
dev24 is hand-written only and tuned on (34 transcripts, 435 lines, about 68 % all lower case and 32 % Whisper-cased),
written in session 12 before reading the detector, weighted to organisations, places and addresses named by ordinary
words with no cue (whisk, rudder, the burrow, ripple, steep, sway, crackpot, quaking houses), nearly always beside the
same word in its ordinary sense, places after "at/in/from" followed by another place, everyday-word nicknames used bare,
vocatives, forces beside the verb "met" and ages without a cue word; 156 lines have no span.
dev25 is hand-written only and tuned on (34 transcripts, 454 lines, about 58 % all lower case and 42 % Whisper-cased
with misheard names), written in session 12 before reading the detector, as hour-long research interviews (short
questions, answers up to run-on turns of 40-70 words with fillers and self-corrections), victims of many kinds, their
families and friends, support workers and police, every identifier kind said in passing (appositions, vocatives,
word-names, officers then surnames alone, forces every way, ages with and without a cue); 177 lines have no span.
dev26 is hand-written only and tuned on (34 transcripts, 457 lines, about 66 % all lower case and 34 % Whisper-cased),
written in session 12 before reading the detector, weighted to organisations and places in speech: small employers
named by ordinary words (chervil, truss, urn, wringer, signal box), said bare after at/in/from, in appositions and
beside another place, nearly all with the same word in its ordinary sense in another line, surname pubs, places of
worship, care homes, schools, flats and real villages with odd names, beside generic places that are not spans; 158
lines have no span.
dev27 is hand-written only and tuned on (34 transcripts, 457 lines, about 81 % all lower case), written in session 12
before reading the detector, weighted to people's names a careless reader would take for ordinary words: everyday-word
nicknames and word-names (smudge, cinders, privilege, nomatter, godspower) in every position, vocatives, appositions,
lists and reported speech, names Whisper splits into near-words, officers by word-like surnames after a rank and then
alone, beside the same words in their ordinary sense; 154 lines have no span.
dev28, dev29 and dev30 are hand-written only and tuned on (34 transcripts and 480-490 lines each), written in session
13 before reading the detector, so their first measurements are honest: dev28 half Whisper-cased, a general spread the
way an outside evaluator writes (misheard forces and places, forces as letters, word-names in both uses, numbers and
references said aloud, "met" as a verb beside the force); dev29 86 % lower case, weighted to identifiers made of
everyday words with no cue (people, places, small organisations said bare) beside the same words in their ordinary
sense; dev30 60 % lower case, weighted to names as Whisper mishears them (split into near-words, surnames as phrases,
places and forces mangled: "paw rig oh riley", "differed powis", "haven somerset"), each mishearing one span.
dev31 and dev32 likewise (session 13, tuned on, written before reading the detector; 494 and 458 lines): dev31 about
80 % lower case, weighted to people's names of many communities in every syntactic position (possessives without the
apostrophe, lists, appositions, vocatives, corrections, introductions), officers after spelled ranks then by surname,
staff by first name, forces said many ways; dev32 about 75 % lower case, weighted to places, addresses, small
organisations and ages, beside generic places ("the big tesco", "the station") and counts that are not spans.
"""

from __future__ import annotations

import json
import random
import re
import sys
from pathlib import Path

HERE = Path(__file__).parent
sys.path.insert(0, str(HERE))

import asr_spoken as sp  # noqa: E402
from build_redaction_dev import describe, parse_line, transcripts  # noqa: E402

# seed, generated utterances, id prefix. frozen2 (written 2026-12-06, its own held-out lists) came after the detector
# had been tuned on dev: the honest held-out figure. frozen3 (written 2026-12-07, again its own lists and hand-written
# transcripts) was measured before any tuning in the session that added it, so it stays a clean held-out split.
# dev3 and dev4 (tuned on) are hand-written only: no templates, so no seed is used. dev4 is mostly Whisper-cased.
# frozen4 (written 2026-12-07 after that day's tuning, never tuned on) is hand-written only, half Whisper-cased and
# half lower case, with its own people, places and employers: a held-out split like frozen2/frozen3.
# frozen5 (written 2026-12-07 (session 8), held out, never tuned on) is hand-written only like frozen4: 46
# interview transcripts from England, Wales, Scotland and Northern Ireland, written without reading the detector.
# frozen6 (written in session 9, held out, never tuned on) is hand-written only like frozen5: 46 interview
# transcripts (560 lines) from all four nations, written blind (no detector code, lists or output read).
# frozen7 (written in session 9 after its tuning, held out, never tuned on) is hand-written only like frozen6:
# 40 interview transcripts from all four nations, written blind (no detector code, lists or output read).
# frozen8 (written in session 11, held out, never tuned on) is hand-written only like frozen7: 40 interview
# transcripts (561 lines) from all four nations, written blind (no detector code, lists, tests or output read, the
# detector never run on it), its own people, places, streets, employers, handles and emails checked by script.
# frozen9 (written in session 11, held out, never tuned on) is hand-written only like frozen8: 40 interview
# transcripts (545 lines) from all four nations written blind, questions as their own lines and answers of varied
# length, its own people, places, streets, employers, handles and emails checked by script.
# frozen10 (written in session 12, held out, never tuned on) is hand-written only like frozen9: 38 interview
# transcripts (510 lines) from all four nations written blind (no other split read either), its own people, places,
# streets, employers, handles and emails checked by script.
# dev5 (tuned on) is hand-written only, half Whisper-cased and half lower case, with its own people and places.
# dev6 (tuned on) likewise, with its own people, places and employers, weighted to ages, lower-case names, forces and
# small organisations.
# dev7 (tuned on) likewise, with its own people, weighted to people's names in many positions and communities.
# dev8 (tuned on) likewise, with its own places, streets and employers, weighted to small organisations, places
# (villages, estates, streets, misheard Welsh and Gaelic names) and forces in lower case or misheard.
# dev9 (tuned on) likewise, with its own people, places, streets and employers, but ALL lower case (no capitals at all)
# and mixing every kind of identifier said aloud.
# dev10 (tuned on) likewise, with its own people, places, streets and employers, but written as LONG speaker turns
# (25-60 words each, as Whisper transcribes an hour-long interview), mostly lower case, about a quarter Whisper-cased.
# dev11 (tuned on) likewise, with its own people, places, streets and employers, about 80 % lower case, weighted to
# organisations, addresses and ages.
# dev12 (tuned on) likewise, with its own people, places, streets and employers, about 85 % lower case, weighted to
# lower-case names in every position, bare small organisations, small places and ages without a cue word.
# dev13 (tuned on) likewise, LONG turns like dev10, about 80 % lower case, with its own people, places, streets and
# employers, weighted to names in every position, word-names in both uses, bare small organisations and small places.
# dev14 (tuned on) likewise, like dev12 (mostly short turns, some long), about 85 % lower case, with its own people,
# places, streets and employers, weighted to lower-case names of many communities in every position and word-names.
# dev15 (tuned on) likewise, about 85 % lower case like dev12, with its own people, places, streets and employers,
# weighted to organisations, places and ages (bare or ordinary-word names, small places, ages without a cue word).
# dev16 (tuned on) likewise, half Whisper-cased and half lower case, with its own people, places, streets and employers,
# written in session 11 before reading the detector (a general spread of every identifier kind): its first measurement
# is honest, later ones are not.
# dev17 (tuned on) likewise, about 85 % lower case, written in session 11 blind to the detector, weighted to people,
# officers and forces; dev18 (tuned on) likewise, about 70 % lower case, weighted to organisations, places and ages.
# dev19 (tuned on) likewise, about 60 % lower case and 40 % Whisper-cased, with its own people, places, streets and
# employers, written in session 11 before reading the detector, as interviews with long run-on answer turns and short
# interviewer questions: its first measurement is honest, later ones are not.
# dev20 (tuned on) likewise, ALL lower case, with its own people, places, streets, employers and handles, written in
# session 11 before reading the detector (names no list would know, word-named organisations and places in both uses,
# ages without a cue, misheard forces): its first measurement is honest, later ones are not.
# dev21, dev22 and dev23 (tuned on) likewise, written in session 12 before reading the detector: dev21 about 78 %
# lower case, weighted to ordinary-word organisations, places, nicknames and vocatives; dev22 half Whisper-cased, a
# general spread in interview form; dev23 ALL lower case, weighted to people, officers and forces. Their first
# measurements are honest, later ones are not. dev24 and dev25 (tuned on) likewise: dev24 weighted to
# organisations, places and addresses named by ordinary words, dev25 a general spread in long interview turns,
# dev26 organisations and places, dev27 people's names that are everyday words. frozen11 (held out, never tuned on)
# is hand-written only like frozen10: 36 transcripts (498 lines) written blind, its own names checked by script.
# dev28, dev29, dev30 (tuned on) and frozen12 (held out) likewise, session 13; the tuned ones' names that clashed with
# frozen12 (written at the same time) were renamed in the tuned ones.
SPLITS = {"dev": (20261206, 460, "d"), "frozen": (77120611, 330, "f"), "frozen2": (31415926, 330, "f2"),
          "frozen3": (27182818, 330, "f3"), "frozen4": (0, 0, "f4"), "frozen5": (0, 0, "f5"),
          "frozen6": (0, 0, "f6"), "frozen7": (0, 0, "f7"), "frozen8": (0, 0, "f8"), "frozen9": (0, 0, "f9"),
          "dev3": (0, 0, "d3"), "dev4": (0, 0, "d4"), "dev5": (0, 0, "d5"), "dev6": (0, 0, "d6"),
          "dev7": (0, 0, "d7"), "dev8": (0, 0, "d8"), "dev9": (0, 0, "d9"), "dev10": (0, 0, "d10"),
          "dev11": (0, 0, "d11"), "dev12": (0, 0, "d12"),
          "dev13": (0, 0, "d13"), "dev14": (0, 0, "d14"),
          "dev15": (0, 0, "d15"), "dev16": (0, 0, "d16"), "dev17": (0, 0, "d17"),
          "dev18": (0, 0, "d18"), "dev19": (0, 0, "d19"),
          "dev20": (0, 0, "d20"), "frozen10": (0, 0, "f10"), "dev21": (0, 0, "d21"),
          "dev22": (0, 0, "d22"), "dev23": (0, 0, "d23"), "dev24": (0, 0, "d24"),
          "dev25": (0, 0, "d25"), "dev26": (0, 0, "d26"), "dev27": (0, 0, "d27"),
          "frozen11": (0, 0, "f11"), "dev28": (0, 0, "d28"), "dev29": (0, 0, "d29"), "dev30": (0, 0, "d30"),
          "frozen12": (0, 0, "f12"), "dev31": (0, 0, "d31"), "dev32": (0, 0, "d32"),
          "frozen13": (0, 0, "f13")}
DOC_SIZE = 8


def _lists(path: Path) -> tuple[dict[str, list[str]], list[str]]:
    """"@name: a; b; c" lines are lists; every other non-comment line is a template."""
    lists: dict[str, list[str]] = {}
    templates = []
    for raw in path.read_text(encoding="utf-8").splitlines():
        line = raw.strip()
        if not line or line.startswith("#"):
            continue
        if line.startswith("@"):
            key, _, vals = line[1:].partition(":")
            lists.setdefault(key.strip(), []).extend(v.strip() for v in vals.split(";") if v.strip())
        else:
            templates.append(line)
    return lists, templates


def _m(surface: str, label: str) -> str:
    return f"[[{surface}|{label}]]"


def _slot(kind: str, rng: random.Random, L: dict[str, list[str]]) -> str:
    pick = rng.choice
    if kind == "name":
        return _m(pick(L["given"]), "PERSON")
    if kind == "fullname":
        return _m(f"{pick(L['given'])} {pick(L['surname'])}", "PERSON")
    if kind == "cwname":
        return _m(pick(L["cwname"]), "PERSON")
    if kind == "surname":
        return _m(pick(L["surname"]), "PERSON")
    if kind == "officer":
        rank = pick(L["rank"])
        who = pick(L["surname"]) if rng.random() < 0.7 else f"{pick(L['given'])} {pick(L['surname'])}"
        return f"{rank} {_m(who, 'OFFICER')}"
    if kind == "force":
        return _m(pick(L["force"]), "FORCE")
    if kind == "phone":
        return _m(sp.phone(rng), "PHONE")
    if kind == "ref":
        prefix = sp.letters(pick(L["refprefix"]))
        body = f"{prefix} slash {sp.pairs(str(rng.randint(18, 25)), rng)} slash " \
               f"{sp.digits(str(rng.randint(10000, 99999)), rng)}"
        return _m(body, "ID")
    if kind == "log":
        return _m(sp.digits(str(rng.randint(100, 9999)), rng), "ID")
    if kind == "collar":
        return _m(rng.choice((sp.digits, sp.pairs))(str(rng.randint(1000, 9999)), rng), "ID")
    if kind == "reg":
        plate = (pick("ABCDEFGHKLMNPRSTVWXY") + pick("ABCDEFGHKLMNPRSTVWXY") + sp.pairs(str(rng.randint(10, 24)), rng)
                 + " " + "".join(rng.choice("ABCDEFGHJKLMNPRSTUVWXYZ") for _ in range(3)))
        first, rest = plate[:2], plate[2:]
        return _m(f"{sp.letters(first)} {rest.rsplit(' ', 1)[0]} {sp.letters(rest.rsplit(' ', 1)[1])}", "VEHICLE")
    if kind == "email":
        user = pick(L["given"]) + rng.choice((" dot ", " underscore ", "")) + pick(L["surname"])
        if rng.random() < 0.4:
            user += " " + sp.number(rng.randint(1, 99))
        return _m(f"{user} at {pick(L['mailhost'])}", "EMAIL")
    if kind == "handle":
        tail = pick(L["handleword"]) if rng.random() < 0.6 else sp.number(rng.randint(1, 99))
        return _m(pick(L["given"]) + rng.choice((" underscore ", " dot ", " underscore x x underscore ")) + tail,
                  "HANDLE")
    if kind == "postcode":
        out = pick(L["outward"])
        inward = str(rng.randint(1, 9)) + "".join(rng.choice("ABDEFGHJLNPQRSTUWXYZ") for _ in range(2))
        return _m(f"{sp.letters(out[:-1])} {sp.number(int(out[-1]))} {sp.number(int(inward[0]))} "
                  f"{sp.letters(inward[1:])}", "POSTCODE")
    if kind == "date":
        day, month = rng.randint(1, 28), rng.randint(1, 12)
        forms = (f"the {sp.ordinal(day)}", f"the {sp.ordinal(day)} of the {sp.ordinal(month)}",
                 f"the {sp.ordinal(day)} of {sp.MONTHS[month - 1]}", f"{sp.MONTHS[month - 1]} {sp.year(rng)}",
                 f"{sp.MONTHS[month - 1]} the {sp.ordinal(day)}", sp.year(rng))
        return _m(pick(forms), "DATE")
    if kind == "time":
        h = rng.randint(1, 12)
        forms = (f"{sp.number(h)} a m", f"{sp.number(h)} p m", f"oh {sp.number(rng.randint(1, 9))} hundred",
                 f"{sp.number(rng.choice((5, 10, 20)))} to midnight", f"half past {sp.number(h)}",
                 f"quarter to {sp.number(h)}", f"{sp.number(h)} o'clock",
                 f"{sp.number(h)} {sp.number(rng.randint(10, 59))} p m",
                 "midnight" if rng.random() < 0.2 else f"twenty {sp.number(rng.randint(1, 3))} hundred")
        return _m(pick(forms), "TIME")
    if kind == "age":
        return _m(sp.number(rng.randint(11, 19) if rng.random() < 0.7 else rng.randint(20, 58)), "AGE")
    if kind in ("place", "street", "org", "op", "estate"):
        label = {"place": "LOCATION", "street": "ADDRESS", "org": "ORGANISATION", "op": "OPERATION",
                 "estate": "LOCATION"}[kind]
        return _m(pick(L[kind]), label)
    if kind in L:  # a plain word list (no label): "{cwword}", "{app}"
        return pick(L[kind])
    raise KeyError(kind)


def render(template: str, rng: random.Random, lists: dict[str, list[str]]) -> str:
    return re.sub(r"\{(\w+)\}", lambda m: _slot(m.group(1), rng, lists), template)


def build_split(split: str) -> list[dict]:
    seed, count, prefix = SPLITS[split]
    rng = random.Random(seed)
    marked: list[str] = []
    if count:  # a hand-written-only split has no .tpl.txt
        lists, templates = _lists(HERE / f"redaction_asr_{split}.tpl.txt")
        marked = [render(templates[i % len(templates)], rng, lists) for i in range(count)]
    rng.shuffle(marked)
    docs: list[tuple[str, list[str], list[str]]] = []
    for k in range(0, len(marked), DOC_SIZE):
        docs.append((f"{prefix}g{k // DOC_SIZE:03d}", [], marked[k : k + DOC_SIZE]))
    hand = transcripts((HERE / f"redaction_asr_{split}.src.txt").read_text(encoding="utf-8"))
    docs += [(f"{prefix}h-{name}", known, lines) for name, known, lines in hand]
    records = []
    for doc, known, lines in docs:
        for j, line in enumerate(lines):
            text, spans = parse_line(line)
            for s in spans:
                assert text[s["start"] : s["end"]] == s.pop("_surface"), (line, s)
            rec = {"id": f"{doc}-{j}", "doc": doc, "text": text, "spans": spans, "split": split,
                   "source": "hand" if "h-" in doc else "template"}
            if known:
                rec["known_names"] = known
            records.append(rec)
    return records


def main() -> int:
    status = 0
    for split in SPLITS:
        records = build_split(split)
        target = HERE / f"redaction_asr_{split}.jsonl"
        body = "".join(json.dumps(r, ensure_ascii=False) + "\n" for r in records)
        if "--check" in sys.argv:
            if target.read_text(encoding="utf-8") != body:
                print(f"{target.name} is stale: rebuild it", file=sys.stderr)
                status = 1
        else:
            target.write_text(body, encoding="utf-8")
        hand = sum(1 for r in records if r["source"] == "hand")
        print(f"{split}: {describe(records)}\n  hand-written {hand}")
    return status


if __name__ == "__main__":
    raise SystemExit(main())
