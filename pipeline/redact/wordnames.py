"""Names that are also ordinary words ("dawn", "will", "mark", "grace", "may", "sue", "rob", "hope", "bill"):
in lower-case ASR text only the words around them tell whether they name someone.

`ordinary_use` says when the surrounding words make the word a verb, a modal, a noun or a time of day, so a span
found by a list, the model or the recording's known names is dropped there. It never overrides a strong cue
("called", "named", "my friend", a rank or title): the caller keeps those.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from pipeline.redact.base import Token

_DETERMINERS = frozenset({"the", "a", "an", "this", "that", "these", "those", "every", "some", "no", "any", "each",
                          "its", "what", "which", "whose", "another", "such", "our", "their", "your", "few", "several",
                          "many"})
_SUBJECTS = frozenset({"i", "you", "he", "she", "we", "they", "it", "who", "that", "which", "there", "this", "u",
                       "people", "someone", "somebody", "nobody", "everyone", "things", "what", "where", "when"})
_MODALS = frozenset({"will", "may", "might", "can", "shall", "must"})
_AUXILIARIES = frozenset({"to", "will", "would", "could", "can", "should", "might", "must", "gonna", "wanna", "i'll",
                          "we'll", "you'll", "they'll", "he'll", "she'll", "didn't", "don't", "can't", "won't",
                          "couldn't", "wouldn't", "not", "and", "or", "just", "also", "never", "always"})
_AFTER_MODAL = frozenset({"be", "have", "you", "i", "we", "he", "she", "they", "it", "not", "well", "just", "also",
                          "never", "need", "want", "get", "go", "see", "say", "ask", "take", "always", "probably",
                          "still", "do", "come", "find", "know", "look", "tell", "talk", "make", "help", "try", "ever",
                          "end", "happen", "depend", "only", "all", "let", "give", "keep", "put", "sound", "seem"})
# Verbs and words after which a modal can't come, so "may"/"will" there is someone: "i told may it was fine".
_TAKES_PERSON = frozenset({"told", "tell", "asked", "ask", "rang", "ring", "saw", "met", "with", "called", "named",
                           "texted", "messaged", "phoned", "to", "thank", "thanked", "interviewed", "arrested",
                           "blocked", "dumped", "seeing", "dating", "married", "kissed", "messaging", "texting",
                           "ringing", "visited", "contacted", "warned", "hugged", "befriended", "unfriended"})
_VERBS = frozenset({"mark", "sue", "rob", "pat", "bill", "chase", "rock", "hope", "will", "may", "grace", "faith",
                    "frank", "ray", "jack", "bob", "nick", "sky", "joy", "dawn", "summer", "rose", "holly", "april",
                    "june", "ruby", "daisy", "dolly", "robin", "amber", "crystal", "destiny", "harmony", "sunny"})
_VERB_SUBJECTS = frozenset({"they", "we", "who", "they'd", "he'd", "she'd", "i'd", "we'd", "you'd", "lads", "kids",
                            "they'll", "he'll", "she'll", "we'll", "gonna", "wanna", "would", "could", "should",
                            "might", "must", "didn't", "don't", "won't", "can't", "never"})
_OBJECTS = frozenset({"him", "her", "them", "us", "me", "the", "you", "it", "down", "someone", "somebody", "my", "his",
                      "their", "our", "your", "that", "this", "those", "these", "off", "out", "up", "as", "a",
                      "people", "everyone"})
_ABSTRACT = frozenset({"dawn", "summer", "faith", "hope", "grace", "joy", "sky", "spring", "winter", "autumn"})
_HAVE_WORDS = frozenset({"have", "having", "lost", "losing", "lose", "keep", "kept", "give", "gave",
                         "giving", "much", "little", "more", "less", "real", "some", "any", "no", "full", "without",
                         "restored", "renewed", "false", "blind", "new"})
_PREPOSITIONS = frozenset({"at", "by", "of", "in", "for", "from", "until", "till", "since", "before", "after", "into",
                           "with", "without", "through", "all"})
# "lived with grace", "stayed with summer": being with someone, not having a quality.
_WITH_SOMEONE = frozenset({"lived", "lives", "living", "live", "stayed", "staying", "stay", "stays", "went", "came",
                           "moved", "sleeping", "slept", "out", "friends", "together"})
_AFTER_SOMEONE = frozenset({"", "and", "at", "after", "when", "because", "then", "since", "until", "till", "now",
                            "for"})
# Verbs that take a person but, unlike "told", may also take a clause with a modal: "i'd known will since school"
# but "i knew will be a problem".
_KNOWS = frozenset({"known", "knew", "trusted", "visited"})
_HOPE_AFTER = frozenset({"it", "that", "so", "not", "they", "he", "she", "you", "we", "i", "to", "for", "the", "there",
                         "this", "nothing", "you're", "you've", "you'll", "everything", "your"})


def ordinary_use(words: list[str], i: int) -> bool:
    """Words is the utterance lower-cased and tokenised; is words[i] used as an ordinary word here?"""
    w = words[i]
    prev = words[i - 1] if i > 0 else ""
    prev2 = words[i - 2] if i > 1 else ""
    nxt = words[i + 1] if i + 1 < len(words) else ""
    if prev == "our" and w not in _MODALS and nxt in _OUR_NAME_AFTER:
        return False  # "our jade that's my little sister": a family's name for one of its own
    if w in _MODALS and nxt in ("he", "she", "they") and words[i + 2: i + 3] in (["was"], ["is"], ["were"]):
        return False  # "a young woman may she was twenty one": no modal takes a past verb
    if (prev == "to" and prev2 in _SPEECH_VERBS) or (prev == "from" and prev2 in _SENT_THINGS):
        return False  # "i said to summer you need to report it", "messages from summer": someone
    if prev in _DETERMINERS:
        return True  # "the jack of all trades", "a bill", "the grace period"
    if w in _MODALS and (prev in _SUBJECTS or nxt in _AFTER_MODAL) and prev not in _TAKES_PERSON:
        return True  # "i will say", "you may not", "will you be"
    if w in _VERBS and prev in _AUXILIARIES and nxt in _OBJECTS:
        return True  # "to sue him", "tried to rob the victim", "we'd pat them down", "i had to mark it"
    if w in _VERBS and w not in _MODALS and prev in _VERB_SUBJECTS and nxt and nxt not in _NAME_AFTER \
            and nxt not in ("and", "or", "is", "were"):
        return True  # "they'd rob anyone", "lads who rob cars", "then he'd rob the next one"
    if w in _VERBS and prev == "to" and nxt in ("anyone", "anybody", "houses", "cars", "shops", "people", "kids"):
        return True  # "went out to rob houses"
    if w == "mark" and nxt in ("my", "it", "them", "down", "that", "this", "your", "the"):
        return True  # "mark my words"
    if w in _ABSTRACT and prev in _PREPOSITIONS and not (prev == "with" and prev2 in _WITH_SOMEONE and
                                                         nxt in _AFTER_SOMEONE):
        return True  # "at dawn", "by the grace of god", "in hope"; not "she lived with dawn and the kids"
    if w in _ABSTRACT and prev in _HAVE_WORDS and nxt not in _NAME_AFTER:
        return True  # "you have to have faith that", "she lost hope", "no faith in the police"
    if w == "hope" and (prev in _SUBJECTS or nxt in _HOPE_AFTER) and prev not in _TAKES_PERSON | {"and"}:
        return True  # "i hope that", "let's hope the new guidance"
    return w == "will" and prev in ("good", "free", "ill", "own", "his", "her", "last")


# Given names that are also words; the name lists lack some of them ("rob", "may", "june").
WORD_NAMES = frozenset({"dawn", "will", "mark", "grace", "may", "faith", "hope", "bill", "sue", "rob", "june",
                        "april", "amber", "jack", "holly", "summer", "rose", "frank", "pat", "ray", "joy", "robin",
                        "ruby", "daisy", "dolly", "chase", "bob", "nick", "sky", "rock", "crystal", "destiny", "sunny",
                        "jay", "dean", "neil", "carol", "heather", "olive", "iris", "ivy", "pearl", "august",
                        "autumn", "lily", "poppy", "jasmine", "penny", "sandy", "rusty", "gene", "grant", "miles",
                        "hunter", "rich", "don", "drew", "gail", "wade", "lance", "mo", "rocky", "angel", "bunny",
                        "precious", "blessing", "patience", "hazel", "honey", "melody", "liberty", "harmony", "gale",
                        "misty", "clay", "art", "norm", "honor", "sterling", "storm", "river", "reed", "glen",
                        "cliff", "dale", "lane", "brook", "paddy", "jade", "stretch", "kit"})
# Words after which a name is meant: relations, roles, ranks, titles, naming verbs.
_BEFORE_NAME = frozenset({
    "called", "named", "calls", "mate", "friend", "pal", "sister", "brother", "mum", "mam", "mom", "dad", "colleague",
    "sergeant", "sarge", "skipper", "tutor", "boss", "manager", "ex", "boyfriend", "girlfriend", "husband", "wife",
    "partner", "cousin", "daughter", "son", "aunt", "auntie", "aunty", "uncle", "nan", "nana", "gran", "grandad",
    "teacher", "neighbour", "flatmate", "dc", "ds", "pc", "di", "dci", "pcso", "inspector", "constable", "officer",
    "detective", "mr", "mrs", "ms", "miss", "mister", "missus", "fiance", "fiancee", "stepdad", "stepmum", "niece",
    "nephew", "granddaughter", "grandson", "lad", "girl", "guy", "bloke", "woman", "victim", "suspect", "sgt",
    "worker", "keyworker", "advocate", "mentor", "carer", "coach", "counsellor", "therapist", "nurse", "isva",
    "idva", "caseworker", "buddy", "bestie", "classmate", "housemate", "landlord", "landlady"})
_NAME_AFTER = frozenset({"said", "says", "told", "rang", "texted", "messaged", "phoned", "reckons", "thought",
                         "came", "went", "found", "saw", "asked", "sent", "reported", "was", "had", "and", "who"})
# What follows a name that opens an utterance ("hope didn't want her dad to know"), and never the word: the
# negated and past forms a noun, modal or verb can't take there.
_OPENING_NAME_AFTER = _NAME_AFTER | frozenset({
    "didn't", "wasn't", "hasn't", "hadn't", "doesn't", "wanted", "kept", "gave", "felt", "looked", "got", "did",
    "never", "always", "still", "left", "stayed", "tried", "made", "took", "knew", "wrote", "showed", "started",
    "stopped", "agreed", "refused", "admitted", "denied", "became", "turned", "lives", "lived", "works", "worked",
    "from"})
_ROLE_AFTER = frozenset({"my", "our", "her", "his", "the"})
_NAMING = frozenset({"called", "calls", "call", "calling", "named", "names", "name"})
_KIN_AFTER = frozenset({"mum", "mam", "mom", "dad", "mother", "father", "sister", "brother", "nan", "gran",
                        "auntie", "uncle", "boyfriend", "girlfriend", "husband", "wife", "partner", "stepdad",
                        "stepmum"})
_SENT_THINGS = frozenset({"messages", "message", "texts", "text", "calls", "call", "pictures", "picture", "photos",
                          "photo", "snaps", "snap", "dms", "dm", "video", "videos", "threats", "email", "emails",
                          "letter", "letters", "voicemail", "voicemails", "visit", "present", "card", "gifts"})
_DISCOURSE = frozenset({"yeah", "so", "well", "but", "then", "basically", "anyway", "because", "cos", "and", "like",
                        "apparently", "obviously", "honestly", "now", "okay", "ok", "right"})
_SPEECH_VERBS = frozenset({"said", "say", "says", "saying", "talking", "talked", "talk", "spoke", "speak", "speaking",
                           "explained", "mentioned", "admitted", "confessed", "whispered", "shouted", "wrote",
                           "replied", "lied", "complained", "apologised", "apologized", "listen", "listened",
                           "chatting", "chatted", "moaned", "screamed", "yelled"})


def find(words: list[str]) -> list[tuple[int, bool]]:
    """(token index, sure) of word-names that name someone here: "my sister will came", "me and will",
    "there was rob my sergeant", "we had sue in the control room" (unsure)."""
    out = []
    for i, w in enumerate(words):
        if w not in WORD_NAMES:
            continue
        prev = words[i - 1] if i > 0 else ""
        prev2 = words[i - 2] if i > 1 else ""
        if ordinary_use(words, i):
            continue
        nxt = words[i + 1] if i + 1 < len(words) else ""
        nxt2 = words[i + 2] if i + 2 < len(words) else ""
        if prev in _BEFORE_NAME or (prev2, prev) in (("me", "and"), ("and", "me"), ("thanks", "to")) or (nxt, nxt2) in (
                ("and", "me"), ("and", "i")):
            out.append((i, True))
        elif (prev in ("himself", "herself", "themselves") and prev2 in _NAMING) or (
                nxt in ("her", "his", "their") and nxt2 == "name"):
            out.append((i, True))  # "he called himself rocky online", "a girl from whitleigh, star, her name was"
        elif nxt in _KIN_AFTER and w not in _MODALS and prev not in _DETERMINERS and prev not in _ROLE_AFTER:
            out.append((i, False))  # "river's mum rang us" (the possessive is gone from these words)
        elif prev in _SPEECH_VERBS | {"goes", "went"} and nxt in _VOCATIVE_AFTER and w not in _MODALS:
            out.append((i, False))  # "she said summer you go to the police", "he'd say grace you're so…"
        elif prev == "our" and nxt in _OUR_NAME_AFTER and w not in _MODALS:
            out.append((i, False))
        elif prev in ("is", "was", "'s") and prev2 in _BEFORE_NAME and (not nxt or nxt in _AFTER_SOMEONE):
            out.append((i, False))  # "my best mate is crystal"
        elif prev in ("i'm", "im") and w not in _MODALS and nxt in ("", "i'm", "im", "and", "from", "i", "my", "i've",
                                                                  "me", "yeah", "so"):
            out.append((i, False))  # "i'm sue i'm caitlin's mam": introducing herself
        elif prev == "from" and prev2 in _SENT_THINGS:
            out.append((i, False))  # "the messages from summer were worse", "a call from will"
        elif prev in ("know", "knew", "known") and nxt in ("from", "through", "since", "off", "at"):
            out.append((i, False))  # "i know summer from school"
        elif prev in _DISCOURSE and nxt in _OPENING_NAME_AFTER and nxt not in ("and", "who", "had", "was") and \
                not (w in _MODALS and nxt in _AFTER_MODAL):
            out.append((i, False))  # "so yeah bill was the one"
        elif prev == "to" and prev2 in _SPEECH_VERBS:
            out.append((i, False))  # "i said to summer you need to report this": nobody says things to a modal
        elif prev in ("at", "to", "round", "from") and nxt in ("house", "flat", "place", "mum's", "nan's", "dad's"):
            out.append((i, True))  # "we stayed at may house" (ASR drops the 's)
        elif nxt in _ROLE_AFTER and nxt2 in _BEFORE_NAME:
            out.append((i, True))  # "there was rob my sergeant"
        elif prev in _TAKES_PERSON - {"with", "to", "and"}:
            out.append((i, False))  # "i told may it wasn't her fault": no modal follows "told"
        elif prev in _KNOWS and not (w in _MODALS and nxt in _AFTER_MODAL) and nxt not in ("is", "was", "would"):
            out.append((i, False))  # "i'd known hope since primary school"
        elif (prev in ("with", "and", "to", "had", "was", "ask", "asked", "tell", "told", "rang", "saw", "by")
              and (not nxt or nxt in _NAME_AFTER or nxt in ("in", "on", "at", "from", "about", "because", "but",
                                                                "so", "when", "after", "before", "yesterday"))) or (
                i == 0 and nxt in _OPENING_NAME_AFTER):
            out.append((i, False))
    return out


_OUR_NAME_AFTER = frozenset({"", "that", "she", "he", "said", "told", "rang", "texted", "messaged", "phoned", "didn't",
                             "wasn't", "never", "always", "reckons", "goes"})
_VOCATIVE_AFTER = frozenset({"you", "you're", "you've", "your", "mate", "love", "babe", "hun", "please", "listen",
                             "come", "don't", "stop", "look"})


# A capitalised word-name in Whisper's cased text that is a month, not a name ("in May", "since June").
_MONTHS = frozenset({"may", "june", "april", "august"})
_SUBJECT_BEFORE = frozenset({"doing", "studying", "study", "studied", "teach", "teaches", "taught", "in", "for", "of",
                             "got", "watch", "watched", "watching", "on"})


def find_cased(text: str, toks: list[Token]) -> list[tuple[int, bool]]:
    """In Whisper's cased text a word-name it capitalised mid-sentence is someone ("got with Sky", "told Grace");
    at a sentence start only the words around can say so, as in lower-case text."""
    from pipeline.redact.base import sentence_initial

    words = [t.lower for t in toks]
    by_context = dict(find(words))
    out = []
    for k, tok in enumerate(toks):
        if tok.lower not in WORD_NAMES or not tok.text[:1].isupper() or tok.text.isupper():
            continue
        if k in by_context:
            out.append((k, by_context[k]))
        elif not sentence_initial(text, toks, k) and tok.lower not in _MONTHS and \
                not (tok.lower == "art" and k > 0 and words[k - 1] in _SUBJECT_BEFORE):
            out.append((k, False))
    return out


def ordinary_word(w: str) -> bool:
    """A word of ordinary English that a name span must not spread by ("met", "will", "mark"); frequent names
    that are no word ("jamie", "bellamy") are not ordinary."""
    from pipeline.redact import gazetteers
    from pipeline.redact.base import is_common, stop_words

    if w in stop_words() or w in WORD_NAMES:
        return True
    # a surname that is also a frequent word ("works", "house", "number") is ordinary unless the list is sure of it
    return is_common(w) and not gazetteers.given_names().word(w) and not gazetteers.surnames().sure_word(w)
