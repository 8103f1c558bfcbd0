"""People: names after ranks, titles, roles and cues ("DS Kaur", "my ex Liam", "called Chantelle"), known given
names, and rare surnames on their own."""

from __future__ import annotations

import re

from pipeline.redact import gazetteers
from pipeline.redact.base import (
    NUMBER_WORDS,
    POLICE_TERMS,
    RANK_WORDS,
    is_common,
    is_oov,
    sentence_initial,
    stop_words,
)
from pipeline.redact.gazetteers import forces
from pipeline.redact.lexicon.places import PLACE_CUES
from pipeline.redact.lexicon.text import NOT_NAME, Hit, Text, match_at, match_before, tuples
from pipeline.redact.patterns.written import COUNT_NOUNS
from pipeline.redact.wordnames import WORD_NAMES

_RANKS = tuples(forces.RANKS)
_AMBIGUOUS_RANKS = frozenset(forces.AMBIGUOUS_RANKS)
_TITLES = tuples(tuple(t for t in forces.TITLES if not t.endswith(".")))
_ROLES = tuples(forces.OFFICER_ROLES)

_RELATIONS = tuples((
    "ex", "ex boyfriend", "ex girlfriend", "ex partner", "ex husband", "ex wife", "boyfriend", "girlfriend",
    "partner", "husband", "wife", "fiance", "fiancee", "friend", "best friend", "mate", "best mate", "pal", "brother",
    "sister", "cousin", "son", "daughter", "mum", "mam", "mom", "dad", "mother", "father", "stepdad", "stepmum",
    "step dad", "step mum", "auntie", "aunt", "aunty", "uncle", "nan", "nana", "gran", "grandad", "grandma",
    "nephew", "niece", "boss", "manager", "colleague", "neighbour", "flatmate", "housemate", "solicitor", "lawyer",
    "barrister", "social worker", "counsellor", "therapist", "teacher", "isva", "idva", "gp", "support worker",
    "caseworker", "case worker", "lad", "bloke", "guy", "girl", "woman", "man", "kid", "victim", "suspect",
    "offender", "perpetrator", "perp", "accused", "defendant", "complainant", "baby", "kids", "boy",
    "key worker", "keyworker", "youth worker", "link worker", "advocate", "mentor", "carer", "foster carer", "coach",
))
_PERSON_CUES = tuples(("called", "named", "name is", "name was", "name's", "names", "known as", "goes by",
                       "go by", "calls himself", "calls herself", "calling himself", "calling herself",
                       "name of", "surname is", "surname was", "first name", "first name is", "first name was"))
_WEAK_PERSON_CUES = tuples(("spoke to", "speak to", "talked to", "talking to", "told", "asked", "rang", "phoned",
                            "texted", "messaged", "met", "with", "and", "me and", "to", "for", "from", "about",
                            "like", "saw", "see", "seeing", "dating", "married", "by", "thanks to", "it was"))

_POLICE_PEOPLE = frozenset({"copper", "coppers", "cop", "cops", "policeman", "policewoman", "detective", "officers"})


def namey(t: Text, i: int, *, strong_cue: bool) -> bool:
    """Could token i be (part of) a person's name here?"""
    if i >= t.n:
        return False
    w = t.w[i]
    if not w[:1].isalpha() or w in NOT_NAME or w in forces.NOT_IDENTIFYING:
        return False
    names = gazetteers.given_names()
    surnames = gazetteers.surnames()
    if t.mode == "mixed":
        if t.toks[i].text[:1].isupper():
            return w not in stop_words() or (names.word(w) and w not in ("i", "will", "may")) or t.cap(i)
        return names.sure_word(w) or surnames.sure_word(w) or is_oov(w) or (
            strong_cue and (names.word(w) or surnames.word(w)) and w not in stop_words())
    if w in stop_words():
        return False
    if names.word(w) or surnames.word(w) or is_oov(w):
        return strong_cue or names.sure_word(w) or surnames.sure_word(w) or is_oov(w)
    return False


def name_run(t: Text, i: int, *, strong_cue: bool, limit: int = 3) -> int:
    """End (exclusive) of the name starting at i, or i when there is none."""
    j = i
    while j < t.n and j - i < limit and (j == i or t.linked(j)) and namey(t, j, strong_cue=strong_cue or j > i):
        if j > i and t.mode != "mixed" and not _continues_name(t, j):
            break
        if j > i and t.mode == "mixed" and not t.toks[j].text[:1].isupper() and not (
            gazetteers.surnames().sure_word(t.w[j]) and _continues_name(t, j)
        ):
            break  # "Did Mark Bellamy ring you": in cased text a lower-case word must be a sure surname
        if t.toks[j].possessive:
            j += 1
            break
        j += 1
    return j


def _continues_name(t: Text, j: int) -> bool:
    """A second or third word joins a name if it is a surname or given name or unknown, not an ordinary word."""
    w = t.w[j]
    if w in stop_words() or w in NOT_NAME:
        return False
    return gazetteers.surnames().word(w) or gazetteers.given_names().word(w) or is_oov(w)


def ranked_names(t: Text, out: list[Hit]) -> None:
    """"DS Kaur", "sergeant mike dawson", "Mr Hussain", "my sergeant, Bev", "my tutor mark"."""
    for i in range(t.n):
        rank = match_at(t.w, i, _RANKS)
        title = None if rank else match_at(t.w, i, _TITLES)
        cue = rank or title
        if cue is None:
            continue
        role = None
        j = i + len(cue)
        if j >= t.n:
            continue
        if rank and j < t.n and match_at(t.w, j, _RANKS):
            continue  # "detective sergeant": the longer rank is matched at its own start
        if i and t.w[i - 1] in ("my", "our", "the", "his", "her", "their", "your") and rank:
            role = rank
        if rank:  # "pc forty four seventy one jones", "PC 4471 Jones": the collar number comes between
            k = j
            while k < t.n and k - j < 6 and (t.w[k].isdigit() or t.w[k] in NUMBER_WORDS):
                k += 1
            if j < k < t.n and t.linked(k):
                j = k
        comma = t.text[t.toks[j - 1].end : t.toks[j].start].strip() == ","
        if not t.linked(j) and not (role and comma):
            continue
        ambiguous = (rank and " ".join(rank) in _AMBIGUOUS_RANKS) or (title and title[0] in ("miss", "doctor"))
        if ambiguous or title:
            sure = t.upper_first(j) if t.mode == "mixed" else (
                gazetteers.given_names().word(t.w[j]) or gazetteers.surnames().word(t.w[j]) or is_oov(t.w[j])
            ) and t.w[j] not in stop_words() and not gazetteers.places().sure_word(t.w[j])
            if not sure:
                continue
        end = name_run(t, j, strong_cue=True)
        if end == j:
            continue
        label = "OFFICER" if rank else "PERSON"
        out.append(t.hit(j, end, label, "gazetteer", 0.9 if not role else 0.85))


def _rare_name_word(w: str) -> bool:
    """A word no everyday English uses, that could be what someone is called ("sioned", "kel")."""
    return w.isalpha() and len(w) >= 3 and not is_common(w) and w not in stop_words() and w not in NOT_NAME and \
        w not in POLICE_TERMS and w not in RANK_WORDS


def nicknames(t: Text, out: list[Hit]) -> None:
    """"our kel", "big k", "lil t": a family's or a street's name for someone, and the word before "her name was"
    in unpunctuated speech. Uncertain."""
    for i in range(t.n - 1):
        w, nxt = t.w[i], t.w[i + 1]
        if not t.linked(i + 1):
            continue
        if w in ("big", "lil", "little", "young") and len(nxt) == 1 and nxt.isalpha() and nxt not in ("a", "i") and (
                i + 2 >= t.n or t.w[i + 2] not in ("and", "or") or len(t.w[i + 2]) > 1):
            out.append(t.hit(i, i + 2, "PERSON", "cue", 0.45, uncertain=True))  # "everyone calls him big k"
        elif nxt in ("her", "his") and (t.w[i + 2: i + 4] in (["name", "was"], ["name", "is"]) or
                                         t.w[i + 2: i + 3] == ["name's"]) and \
                w.isalpha() and w not in stop_words() and w not in NOT_NAME and w not in _SOMEONE and \
                w not in _NOT_PERSON_OBJECT and w not in ("one", "lady", "gentleman", "fella", "child", "daughter"):
            out.append(t.hit(i, i + 1, "PERSON", "cue", 0.45, uncertain=True))  # "from whitleigh star her name was"
        elif t.toks[i].possessive and (t.w[i + 1: i + 3] in (["real", "name"], ["full", "name"], ["proper", "name"])
                                       or t.w[i + 1: i + 2] == ["surname"]) and w.isalpha() and \
                w not in stop_words() and w not in _SOMEONE and w not in _RELATION_WORDS:
            out.append(t.hit(i, i + 1, "PERSON", "cue", 0.45, uncertain=True))  # "stretch's real name"
        elif w in ("call", "calls", "called") and nxt in ("her", "him", "me", "them") and _called(t, i + 2, w, nxt):
            out.append(t.hit(i + 2, i + 3, "PERSON", "cue", 0.45, uncertain=True))  # "we call her pep"
        elif w in _NAMERS and nxt in _CALL and i > 0 and (t.w[i - 1] in _SOMEONE or t.w[i - 1] in _RELATION_WORDS) \
                and i + 2 < t.n and t.linked(i + 2) and _nickname_word(t.w[i + 2]):
            out.append(t.hit(i + 2, i + 3, "PERSON", "cue", 0.45, uncertain=True))  # "a boy they call biscuit"
        elif w == "our" and _rare_name_word(nxt) and (
                len(nxt) <= 4 or is_oov(nxt) or gazetteers.given_names().word(nxt)):
            out.append(t.hit(i + 1, i + 2, "PERSON", "cue", 0.45, uncertain=True))  # "her, our kel, we call her"


_NAMERS = frozenset({"they", "we", "everyone", "everybody", "people", "folk", "lads", "girls", "kids"})
_CALL = frozenset({"call", "calls", "cry", "cries"})  # "a boy they cry neep": Scots "cry" is "call"
# What follows "call him" when it is a phone call or a judgement, not a name: "call her back", "call him tomorrow".
_NOT_NICKNAME = frozenset({
    "back", "later", "tomorrow", "tonight", "today", "now", "again", "up", "out", "over", "round", "around", "in",
    "straight", "first", "right", "direct", "instead", "yourself", "myself", "himself", "herself", "names",
    "everything", "anything", "something", "nothing", "whatever", "mum", "mam", "dad", "lazy", "fat", "thick",
    "stupid", "ugly", "weird", "soft", "posh", "mad", "crazy", "gay", "every", "all", "sometimes", "once", "twice",
    "daily", "home",
})


def _nickname_word(w: str) -> bool:
    """After "everyone calls him", "a lad they call": a word that can be what someone is called ("tank", "biscuit"),
    not a word that says when or how the call is made."""
    return w.isalpha() and len(w) >= 2 and w not in stop_words() and w not in _NOT_NICKNAME and \
        w not in _RELATION_WORDS and w not in NOT_NAME and w not in POLICE_TERMS and not w.endswith("ly")


def _called(t: Text, k: int, verb: str, obj: str) -> bool:
    """After "call her": a word no everyday English uses ("pep", not "back" or "a liar"), a given name, or after the
    present tense any word that can be a nickname ("we call her grace", "everyone calls him tank")."""
    if k >= t.n or not t.linked(k) or not t.w[k].isalpha():
        return False
    w = t.w[k]
    if w not in stop_words() and not is_common(w):
        return True
    if verb == "called" or obj not in ("her", "him"):
        return False
    return bool(gazetteers.given_names().word(w)) or w in WORD_NAMES or (
        _nickname_word(w) and t.w[k - 3: k - 2] != ["to"] and t.w[k - 3: k - 2] != ["and"])


_AGE_HEDGES = frozenset({"only", "just", "about", "like", "maybe", "probably", "around", "nearly", "barely", "already",
                         "still", "literally"})
_NOT_NAME_BEFORE_AGE = frozenset({"said", "says", "thought", "reckoned", "reckons", "told", "online", "apparently",
                                  "honestly", "um", "uh", "er", "erm", "yeah", "no", "out", "then", "order", "now",
                                  "think", "know", "knew", "because", "cos", "obviously", "basically", "actually"})
_RELATION_WORDS = frozenset(w for r in _RELATIONS for w in r)


def _age_follows(t: Text, k: int) -> bool:
    while k < t.n and t.w[k] in _AGE_HEDGES:
        k += 1
    if k >= t.n:
        return False
    w = t.w[k]
    if not (re.fullmatch(r"[1-9]\d?", w) or (w in NUMBER_WORDS and 1 <= NUMBER_WORDS[w] <= 90)):
        return False
    nxt = t.w[k + 1] if k + 1 < t.n else ""
    return nxt not in COUNT_NOUNS and nxt not in ("of", "hundred", "thousand", "times", "o'clock", "pm", "am", "or")


_NOUN_BEFORE = frozenset({"a", "an", "the", "young", "old", "this", "that", "my", "his", "her", "their", "our", "your",
                          "little", "big", "local", "new"})
_DECADE_WORDS = frozenset({"teens", "twenties", "thirties", "forties", "fifties", "sixties", "seventies", "eighties"})
_POSSESSIVES = frozenset({"her", "his", "my", "their", "our"})


def _name_slot(t: Text, i: int, *, word_names: bool) -> bool:
    """Could token i be a name a sentence frame points at ("X he was 28", "X his son")? Not a function word (a
    word-name such as "may" only if `word_names`), a person noun, a relation, a rank or a police term; capitalised in
    cased text; not after a determiner or adjective ("a young farmer he was twenty")."""
    w = t.w[i]
    if not w.isalpha() or len(w) < 2 or (w in stop_words() and not (word_names and w in WORD_NAMES)):
        return False
    if w in NOT_NAME or w in _SOMEONE or w in _NOT_PERSON_OBJECT or w in _RELATION_WORDS or w in RANK_WORDS or \
            w in POLICE_TERMS or w in _NOT_NAME_BEFORE_AGE or w in ORDINARY_UNKNOWN:
        return False
    if t.mode == "mixed" and not t.toks[i].text[:1].isupper():
        return False
    return not (i > 0 and t.w[i - 1] in _NOUN_BEFORE)


def named_by_relation(t: Text, out: list[Hit]) -> None:
    """"i rang cosmo her brother", "the landlord hywel his son", "so bash is my cousin": a word set beside a
    relation is who that relation is. Uncertain."""
    for i in range(t.n - 2):
        if not _name_slot(t, i, word_names=False):
            continue
        w = t.w[i]
        if is_common(w) and not gazetteers.given_names().word(w) and w not in WORD_NAMES:
            continue  # "the school her mum went to"
        k = i + 1
        if t.w[k] in ("is", "was", "'s") and t.linked(k):
            k += 1
        if t.w[k] in _POSSESSIVES and t.linked(k) and k + 1 < t.n and t.linked(k + 1) and \
                (t.w[k + 1] in _RELATION_WORDS or t.w[k + 1: k + 3] == ["best", "friend"]) and \
                t.w[k + 1] not in ("kids", "kid", "baby", "man", "woman", "boy", "girl", "guy", "bloke"):
            out.append(t.hit(i, i + 1, "PERSON", "cue", 0.45, uncertain=True))


def named_with_age(t: Text, out: list[Hit]) -> None:
    """"my boyfriend then minh he was twenty eight", "a young woman may she was twenty one": the word before "he
    was <age>" is who is meant. Uncertain."""
    for i in range(t.n - 2):
        if not _name_slot(t, i, word_names=True) or t.w[i].endswith("ed"):
            continue
        p, be = t.w[i + 1], t.w[i + 2]
        if p in ("who's", "who") and t.toks[i + 1].text.lower().endswith(("'s", "\u2019s")) and t.linked(i + 1):
            k = i + 2  # "three kids jaheim who's fifteen amani who's twelve"
        elif p == "who" and be in ("is", "was") and t.linked(i + 1):
            k = i + 3
        elif p in ("he's", "she's", "he", "she") and t.toks[i + 1].text.lower().endswith(("'s", "\u2019s")) and \
                t.linked(i + 1):
            k = i + 2
        elif p in ("he", "she") and be in ("was", "is", "were") and t.linked(i + 1):
            k = i + 3
        else:
            continue
        if _age_follows(t, k) or (t.w[k: k + 2] in (["in", "her"], ["in", "his"]) and k + 2 < t.n and (
                t.w[k + 2] in _DECADE_WORDS or (t.w[k + 3: k + 4] and t.w[k + 3] in _DECADE_WORDS))):
            out.append(t.hit(i, i + 1, "PERSON", "cue", 0.45, uncertain=True))


def roles(t: Text, out: list[Hit]) -> None:
    """"my sergeant X", "my tutor X", "the officer in the case, X", "my ex Liam", "a lad called Tyler"."""
    for i in range(t.n):
        if t.w[i] not in ("my", "our", "the", "his", "her", "their", "your", "a", "this", "one"):
            continue
        j = i + 1
        if j < t.n and t.w[j] in ("old", "first", "new", "best", "then", "former", "current"):
            j += 1
        officer = match_at(t.w, j, _ROLES)
        relation = None if officer else match_at(t.w, j, _RELATIONS)
        cue = officer or relation
        if not cue or (t.w[i] in ("a", "this", "one") and not officer):
            continue
        k = j + len(cue)
        if k < t.n and t.w[k] in ("ex",):
            k += 1
        if k >= t.n:
            continue
        gap = t.text[t.toks[k - 1].end : t.toks[k].start].strip()
        if gap not in ("", ",", "-"):
            continue
        if " ".join(t.w[j:k + 1]) in forces.NOT_IDENTIFYING:
            continue  # "the Victim Support worker": a national body, not a victim called Support
        if is_common(t.w[k]) and t.w[k + 1: k + 2] and t.w[k + 1] in ("back", "too", "there", "here", "again"):
            continue  # "my tutor way back was": an idiom, not a tutor called Way
        end = name_run(t, k, strong_cue=True)
        if end == k:
            if relation and (_last_word_name(t, k) or _rare_name_word(t.w[k])):
                out.append(t.hit(k, k + 1, "PERSON", "cue", 0.4, uncertain=True))  # "off my ex kiki", "my mate sioned"
            continue
        w = t.w[k]
        if (t.mode != "mixed" or not t.toks[k].text[:1].isupper()) and _verb_after_role(t, k):
            continue
        known = gazetteers.given_names().word(w) or gazetteers.surnames().word(w)
        sure = t.upper_first(k) or (known and (w,) not in gazetteers.given_names().ambiguous)
        out.append(t.hit(k, end, "OFFICER" if officer else "PERSON", "cue" if not sure else "gazetteer",
                         0.8 if sure else 0.5, uncertain=not sure))


_IRREGULAR_VERBS = frozenset({"knew", "saw", "came", "went", "said", "told", "got", "took", "gave", "left", "lost",
                              "kept", "felt", "thought", "found", "ran", "sent", "made", "did", "had", "was", "were",
                              "is", "does", "says", "can", "will", "would", "could", "should", "might", "must",
                              "done", "gone", "seen", "known", "wrote", "spoke", "broke", "hit", "put", "let", "set",
                              "cut", "paid", "sold", "bought", "brought", "caught", "taught", "won", "began", "sat",
                              "stood", "met", "heard", "meant", "read", "slept", "swore", "drove", "rode", "knows",
                              "too", "again", "now", "then", "here", "there", "though", "anyway", "even", "still"})


def _last_word_name(t: Text, k: int) -> bool:
    """After "my ex", "my mate": a word that ends the utterance (or a clause) and is no verb ("walshy had got the
    pictures off my ex kiki") can only be what the person is called."""
    w = t.w[k]
    end_here = k + 1 >= t.n or t.w[k + 1] in ("and", "who", "but", "so", "because", "cos") or bool(
        re.match(r"\s*[.,;!?]", t.text[t.toks[k].end :]))
    return end_here and w.isalpha() and len(w) >= 2 and w not in stop_words() and w not in _IRREGULAR_VERBS and \
        w not in NOT_NAME and w not in POLICE_TERMS and not w.endswith(("ed", "ing", "ly", "s"))


_VERB_FOLLOWERS = frozenset({"for", "at", "in", "on", "with", "as", "out", "from", "off", "up", "the", "a", "an",
                             "it", "that", "his", "her", "their", "there", "here", "nights", "days"})


def _verb_after_role(t: Text, k: int) -> bool:
    """"her dad works for ...", "my mum does nights": in lower-case text a frequent word that is at most an unsure
    surname, followed by what follows a verb, is the verb and not the relative's name."""
    w = t.w[k]
    if gazetteers.given_names().word(w) or gazetteers.surnames().sure_word(w) or not is_common(w):
        return False
    return k + 1 < t.n and t.w[k + 1] in _VERB_FOLLOWERS


def cued_names(t: Text, out: list[Hit]) -> None:
    """"called Chantelle", "his name was tom", "a girl called ...": strong cues take any name-like word."""
    for i in range(t.n):
        cue = match_at(t.w, i, _PERSON_CUES)
        if not cue:
            continue
        k = i + len(cue)
        if cue in (("called",), ("named",), ("calls",)) and k + 1 < t.n and t.w[k] in ("him", "her", "them", "me"):
            k += 1  # "they called him big mo"
        while k < t.n and t.w[k] in ("was", "is", "like", "erm", "um", "uh", "something", "er"):
            k += 1
        if k >= t.n:
            continue
        if _misheard_after_called(t, i, k):
            out.append(t.hit(k, k + 2, "PERSON", "cue", 0.45, uncertain=True))
            continue
        end = name_run(t, k, strong_cue=True)
        w = t.w[k]
        if (end == k and w[:1].isalpha() and w not in stop_words() and w not in NOT_NAME and \
                w not in forces.NOT_IDENTIFYING and t.linked(k) and not t.toks[k].text.isupper()) or \
                (end == k and t.mode != "mixed" and w.isalpha() and w not in stop_words() and w not in NOT_NAME):
            end = k + 1  # "my son's called alfie": after "called" even a frequent word may be the name
        if end > k:
            sure = t.upper_first(k) or gazetteers.given_names().sure_word(w)
            officer = i > 0 and (t.w[i - 1] in RANK_WORDS or t.w[i - 1] in _POLICE_PEOPLE)  # "an officer called X"
            out.append(t.hit(k, end, "OFFICER" if officer else "PERSON", "cue" if not sure else "gazetteer",
                             0.75 if sure else 0.45, uncertain=not sure))


_INDEFINITE = frozenset({"a", "an", "this", "some", "one"})
_SOMEONE = frozenset({"lad", "girl", "guy", "bloke", "man", "woman", "boy", "kid", "fella", "fellow", "friend",
                      "mate", "lass", "teenager", "student", "victim", "suspect", "officer", "person", "someone",
                      "somebody", "colleague", "sergeant", "detective", "constable"})
_NOT_AFTER_CALLED = frozenset({"police", "cops", "ambulance", "station", "number", "helpline", "office", "school",
                               "house", "landline", "shop", "bank", "hospital", "doctors", "council", "emergency"})


def _misheard_after_called(t: Text, i: int, k: int) -> bool:
    """"a lad called the clan" (Declan): after "a <someone> called", "the <word>" can only be a name Whisper heard as
    words, where "the lad called the police" is a phone call."""
    return t.w[i] == "called" and k == i + 1 and k + 1 < t.n and t.w[k] == "the" and i >= 2 and \
        t.w[i - 1] in _SOMEONE and t.w[i - 2] in _INDEFINITE and t.w[k + 1].isalpha() and \
        t.w[k + 1] not in stop_words() and t.w[k + 1] not in _NOT_AFTER_CALLED


def given_names(t: Text, out: list[Hit]) -> None:
    names = gazetteers.given_names()
    places = gazetteers.places()
    i = 0
    while i < t.n:
        w = t.w[i]
        if not names.word(w) or w in NOT_NAME or w in forces.NOT_IDENTIFYING or w in POLICE_TERMS:
            i += 1
            continue
        conf, uncertain = _given_name_confidence(t, i, ambiguous=(w,) in names.ambiguous or w in stop_words())
        placey = (places.sure_word(w) or _longer_place(t, i, places)) and (
            match_before(t.w, i, PLACE_CUES) is not None or (i + 1 < t.n and t.w[i + 1] in ("police", "constabulary")))
        if conf == 0.0 or placey:
            i += 1
            continue
        end = i + 1
        if not t.toks[i].possessive:
            end = max(name_run(t, i, strong_cue=True, limit=3), i + 1)
        out.append(t.hit(i, end, "PERSON", "gazetteer", conf, uncertain))
        i = end


def _longer_place(t: Text, i: int, places: gazetteers.WordList) -> bool:
    """A place of two words or more starts here: "ashton under lyne", "stanford le hope"."""
    return any(tuple(t.w[i : i + size]) in places for size in range(2, min(places.longest, t.n - i) + 1))


def _given_name_confidence(t: Text, i: int, *, ambiguous: bool) -> tuple[float, bool]:
    """How sure a known given name at token i is a name here (0.0: it isn't one), and whether the reviewer decides."""
    before_verb = i + 1 < t.n and t.w[i + 1] in _NAME_VERBS
    if t.mode != "mixed":
        if i > 0 and t.w[i - 1] in _ARTICLES and is_common(t.w[i]) and not before_verb:
            return 0.0, False  # "the jade necklace", "a carol service", "the norman conquest"
        if not ambiguous:
            return 0.75, False
        weak = match_before(t.w, i, _WEAK_PERSON_CUES) is not None
        if (weak and t.w[i] not in stop_words()) or (before_verb and (i == 0 or sentence_initial(t.text, t.toks, i))):
            return 0.4, True
        return 0.0, False
    if not t.upper_first(i):
        return (0.0 if ambiguous else 0.6), False  # ASR sometimes leaves a name lower-case in a cased sentence
    if not sentence_initial(t.text, t.toks, i):
        return (0.8 if not ambiguous else 0.6), False
    if not ambiguous:  # first word of a sentence: "Mark said" yes, "Will you" no
        return 0.75, False
    return (0.45, True) if before_verb else (0.0, False)


_ARTICLES = frozenset({"the", "a", "an", "this", "that", "these", "those", "some", "any", "no", "every", "each"})
# Verbs that follow a name at the start of a sentence: "mark said ...", "grace was the victim".
_NAME_VERBS = frozenset([
    "said", "says", "told", "rang", "called", "messaged", "texted", "sent", "posted", "was", "is", "had", "has",
    "did", "does", "kept", "went", "came", "got", "never", "always", "just", "would", "could", "should", "will",
    "wanted", "asked", "shared", "put", "took", "made", "thought", "knew"
])


_NAME_NOUNS = frozenset({"name", "surname", "names", "nickname"})


def lone_surnames(t: Text, out: list[Hit]) -> None:
    """A rare surname on its own ("Whitfield denied everything") is a near-miss for review; so, in lower-case text,
    is an unknown word that opens an utterance before a verb names take ("thistlethwaite was his last name",
    "adebayo said ...")."""
    surnames = gazetteers.surnames()
    for i in range(t.n):
        w = t.w[i]
        if t.mode != "mixed" and i == 0 and t.n > 2 and w.isalpha() and w not in stop_words() and \
                t.w[1] in ("was", "is", "'s") and t.w[2] in ("her", "his", "my", "their", "your") and \
                _NAME_NOUNS & set(t.w[3:5]):
            out.append(t.hit(i, i + 1, "PERSON", "cue", 0.45, uncertain=True))  # "sugar was her working name"
            continue
        if t.mode != "mixed" and i == 0 and is_oov(w) and not gazetteers.places().word(w) and t.n > 1 and (
                t.w[1] in _NAME_VERBS or (t.w[1] in ("was", "is", "'s") and _NAME_NOUNS & set(t.w[2:6]))):
            out.append(t.hit(i, i + 1, "PERSON", "cue", 0.45, uncertain=True))
            continue
        if not surnames.sure_word(w) or not is_oov(w) or gazetteers.places().word(w):
            continue
        if t.mode == "mixed" and not t.upper_first(i):
            continue
        out.append(t.hit(i, i + 1, "PERSON", "gazetteer", 0.5, uncertain=True))


# Dialect and chat forms Whisper writes that no word list has, and rare words of these interviews that name nobody.
ORDINARY_UNKNOWN = frozenset({"voyeurism", "extractor", "gps", "gcses", "roblox", "wechat", "swinger", "swingers",
                              "cruellest", "foremen", "foreman", "reoffend", "reoffending", "reoffended", "izzat",
                              "sva", "polit", "canny", "farrier", "farriers", "joiner", "joiners", "deckhand",
                              "camogie", "sangat", "bothy", "berlingo", "vri", "hurling", "shinty", "finsta",
                              "rinsta", "greetin", "tearooms", "tearoom", "nain", "taid", "gonnae", "lassie",
                              "farmhand", "molestation",
                              "hijab", "niqab", "burqa", "polis", "gurdwara", "packhouses", "packhouse", "bruv",
                          "didnae", "cannae", "dinnae", "wasnae", "isnae", "couldnae", "wouldnae", "willnae", "havnae",
                          "doesnae", "naw", "innit", "blud", "mandem", "peng", "wagwan", "ahh", "ooh", "umm",
                          "uhh", "erm", "errm", "hmm", "mmm", "mhm", "uhm", "aww", "yeah", "yep", "nope", "gotta",
                          "gonna", "wanna", "dunno", "lemme", "gimme", "kinda", "sorta", "outta", "y'know", "ain't",
                          "sexting", "sextortion", "nudes", "deepfake", "deepfakes", "screenshotted", "screenshotting",
                          "doxxed", "doxxing", "catfished", "catfishing", "revenge", "upskirting", "cyberflashing",
                          "oppo", "oppos", "bizzies", "rozzers", "feds", "plod", "scrote", "scrotes", "toerag", "nonce",
                          "nonces", "groomer", "groomers", "sexted", "dickpic", "dickpics", "selfies"})


def unknown_words(t: Text, out: list[Hit]) -> None:
    """In lower-case speech a word that no English list knows is nearly always a name Whisper spelled as it heard it
    ("kwabena asamoah", "thurcroft", "walshy"): uncertain, so the reviewer decides, and never propagated. Rare but
    ordinary words ("helpline", "spyware") are in gazetteers.rare_words and stay."""
    rare = gazetteers.rare_words()
    taken = [(h.start, h.end) for h in out]  # another layer's span already says what the word is
    i = 0
    while i < t.n:
        if not _unknown(t.w[i], rare) or any(s < t.toks[i].end and t.toks[i].start < e for s, e in taken) or (
                t.mode == "mixed" and t.toks[i].text[:1].isupper()):  # cased text: capitals are heard.py's
            i += 1
            continue
        start, end = i, i + 1
        # a given name or another unknown word next to it is the same name: "blessing adeyinka", "xu jiayi"
        if start > 0 and t.linked(start) and (_unknown(t.w[start - 1], rare) or
                                             gazetteers.given_names().word(t.w[start - 1])) and \
                t.w[start - 1] not in stop_words():
            start -= 1
        while end < t.n and t.linked(end) and end - start < 3 and _unknown(t.w[end], rare):
            end += 1
        label = "LOCATION" if match_before(t.w, start, PLACE_CUES) else "PERSON"
        out.append(t.hit(start, end, label, "cue", 0.4, uncertain=True))
        i = end


def _unknown(w: str, rare: frozenset[str]) -> bool:
    return is_oov(w) and w not in rare and w not in ORDINARY_UNKNOWN and w not in stop_words() and \
        w not in RANK_WORDS and w not in POLICE_TERMS and w not in NOT_NAME


# Verbs whose object is a person: "i blocked corner" (Connor), "she texted dean", "i told summer".
_PERSON_VERBS = frozenset({"blocked", "unblocked", "told", "texted", "messaged", "rang", "phoned", "dumped",
                           "unfriended", "unfollowed", "facetimed", "snapchatted", "married", "dated", "kissed",
                           "trusted", "warned",
                           "confronted", "thanked", "tagged", "dm'd", "dmed", "ghosted", "befriended", "begged",
                           "reassured", "hugged", "forgave", "blamed", "accused", "arrested", "interviewed",
                           "nicked"})
_AFTER_OBJECT = frozenset({"", "and", "about", "that", "what", "straight", "i", "he", "she", "they", "we", "it", "but",
                           "so", "because", "then", "again", "everything", "on", "off", "in", "at", "after", "when",
                           "first", "as", "too", "yeah", "cos", "before", "the", "who", "not"})
_NOT_PERSON_OBJECT = frozenset({
    "police", "everyone", "everybody", "anyone", "anybody", "someone", "somebody", "nobody", "people", "mum", "mam",
    "dad", "nan", "work", "home", "school", "childline", "security", "support", "staff", "management", "reception",
    "family", "friends", "teachers", "parents", "college", "uni", "snapchat", "instagram", "facebook", "whatsapp",
    "tiktok", "number", "account", "profile", "everything", "nothing", "something", "anything", "loads", "lots",
    "control", "custody", "cid", "crimestoppers", "both", "all", "each", "either", "neither", "myself", "yourself",
    "himself", "herself", "themselves", "ourselves", "once", "twice", "later", "recently", "yesterday", "today",
    "tonight", "straight", "immediately", "afterwards", "again", "back", "round", "over", "up", "out",
    "down", "off", "online", "properly", "late", "early", "instead", "anyway", "too", "first", "last",
    "quickly", "eventually", "finally", "basically", "literally", "honestly", "really", "just", "only", "still",
    "right", "officers", "cops", "lads", "girls", "mates", "uncle", "aunt", "auntie", "sister", "brother", "boss",
    "teacher", "doctor", "gp", "nurse", "counsellor", "therapist", "solicitor", "lawyer", "reporter", "press",
})


def bare_objects(t: Text, out: list[Hit]) -> None:
    """In lower-case speech an ordinary singular noun with no article right after a verb that takes a person is a
    name heard as a word: "i blocked corner and he made a new account". Uncertain: the reviewer decides."""
    if t.mode == "mixed":
        return
    taken = [(h.start, h.end) for h in out]
    for k in range(1, t.n):
        w = t.w[k]
        if t.w[k - 1] not in _PERSON_VERBS or not w.isalpha() or w in stop_words() or w in _NOT_PERSON_OBJECT or \
                w in NOT_NAME or w in POLICE_TERMS or w in RANK_WORDS or (w.endswith("s") and len(w) > 3) or \
                w.endswith("ly") or any(s < t.toks[k].end and t.toks[k].start < e for s, e in taken):
            continue
        nxt = t.w[k + 1] if k + 1 < t.n else ""
        if nxt in _AFTER_OBJECT and not t.toks[k].possessive:
            out.append(t.hit(k, k + 1, "PERSON", "cue", 0.35, uncertain=True))
