"""Ways a speaker says that a word is someone's name, whatever the word is.

A nickname is often an everyday word ("muppet", "lofty", "sweep") that no list knows and that reads as the thing
itself. What marks it is how the interview talks about it: "muppet is actually called ashraf", "sweep is what they
called him", "lime is a nickname", "he went by scrappy", "gunner's my boss", "his friend muppet ran the group". Each
such word is a name there, unsure (a reviewer sees it), and, being found, travels to its other uses in the interview
like any found nickname.
"""

from __future__ import annotations

from collections.abc import Sequence

from pipeline.redact.base import RANK_WORDS, TITLE_WORDS, Token, stop_words

# Words for a person the speaker knows, after which (with "my", "his", ...) a name may stand: "my gaffer pebble".
RELATIONS = frozenset({"mate", "mates", "friend", "pal", "gaffer", "boss", "manager", "cousin", "brother", "sister",
                       "bro", "sis", "neighbour", "flatmate", "housemate", "colleague", "boyfriend", "girlfriend",
                       "ex", "partner", "husband", "wife", "fella", "bestie", "bestfriend", "buddy", "uncle",
                       "auntie", "aunty", "nephew", "niece", "son", "daughter", "lad", "supervisor", "landlord",
                       "landlady", "stepdad", "stepmum", "stepbrother", "stepsister", "nan", "gran", "grandad"})
_OWNERS = frozenset({"my", "his", "her", "our", "their", "your", "me"})
# What a person does next: "his friend muppet ran the group", "my pal aspen seen it first".
_ACTS = frozenset({"said", "says", "told", "tells", "rang", "rings", "texted", "messaged", "phoned", "ran", "runs",
                   "was", "is", "had", "has", "sent", "sends", "seen", "saw", "sees", "came", "comes", "went", "goes",
                   "did", "does", "knew", "knows", "got", "gets", "found", "kept", "showed", "shared", "put",
                   "posted", "took", "gave", "made", "started", "tried", "reckons", "thought", "who", "works",
                   "worked", "lives", "lived", "drove", "picked", "brought", "screenshotted", "forwarded",
                   "wanted", "used", "helped", "reported", "called", "dropped", "walked", "turned", "stood", "sat"})
# Words after "my mate" that are not a name: insults, particles, times, ways of addressing someone.
_NOT_A_NAME = frozenset({"back", "up", "out", "over", "in", "on", "off", "round", "around", "again", "later",
                         "yesterday", "today", "tonight", "twice", "once", "straight", "loads", "first", "home",
                         "instead", "names", "direct", "fat", "ugly", "stupid", "thick", "gay", "frigid", "crazy",
                         "mad", "paranoid", "dramatic", "weird", "disgusting", "horrible", "pathetic", "sad",
                         "dirty", "easy", "cheap", "fake", "vain", "sensitive", "mental", "psycho", "desperate",
                         "jealous", "obsessed", "boring", "posh", "rude", "selfish", "useless", "worthless",
                         "nothing", "everything", "anything", "something", "every", "all", "liar", "slag", "slut",
                         "whore", "bitch", "tart", "grass", "snake", "snitch", "weirdo", "pervert", "paedo", "nonce",
                         "mum", "dad", "sir", "mate", "love", "babe", "darling", "sweetheart", "pet", "hun", "sis",
                         "bro", "now", "then", "and", "cos", "because", "about", "when", "after", "while", "till",
                         "until", "daily", "lots", "constantly", "nonstop", "late", "early", "tomorrow", "asking",
                         "saying", "begging"}) | {"sorry", "fine", "okay", "ok", "right", "well", "look", "listen",
                                                  "please", "honestly", "yes", "yeah", "no", "oh", "hello", "hi",
                                                  "thanks", "bye", "goodbye", "alright", "sure", "police", "work",
                                                  "school", "home", "stuff", "things", "nowt", "owt", "summat"}
# "my friend group was", "his mates chat": what a word for people makes a compound with.
_GROUPINGS = frozenset({"group", "groups", "chat", "chats", "circle", "list", "request", "requests", "zone", "gang",
                        "crew", "side", "family", "house", "place", "car", "phone", "account", "wedding", "party"})
_CALLERS = frozenset({"they", "we", "everyone", "everybody", "people", "he", "she", "i", "you", "lads", "girls",
                      "kids", "mates", "all"})
_CALL = frozenset({"call", "calls", "called", "calling"})
# "at work everyone says nee ash": what they say, at the end of a thought
_AFTER_SAYS = frozenset({"", "but", "cos", "because", "and", "now", "so", "though", "yeah", "anyway"})



def _namelike(w: str) -> bool:
    return w.isalpha() and len(w) >= 2 and w not in stop_words() and w not in RELATIONS and w not in RANK_WORDS and \
        w not in TITLE_WORDS and not w.endswith("ly") and not (len(w) > 5 and w.endswith(("ing", "ed")))


def named_words(toks: Sequence[Token]) -> list[int]:
    """Indices of the tokens this utterance says are someone's name."""
    words = [t.lower for t in toks]
    n = len(words)

    def at(k: int) -> str:
        return words[k] if 0 <= k < n else ""

    out = []
    for k, w in enumerate(words):
        if not _namelike(w):
            continue
        prev, prev2, nxt, nxt2 = at(k - 1), at(k - 2), at(k + 1), at(k + 2)
        first = k == 0 or prev in ("yeah", "so", "and", "but", "well", "oh", "no", "aye", "right", "okay", "um")
        nick = ((nxt in ("is", "was", "were") or toks[k].possessive) and "nickname" in (nxt, nxt2, at(k + 3)) and
                prev not in _CALLERS) or \
            (prev in ("is", "was") and prev2 in ("nickname", "name") and at(k - 3) in _OWNERS)
        clitic = k + 1 < n and toks[k + 1].possessive  # the tokens keep "that's" as "that" with an 's
        what_called = (nxt in ("is", "was") or (nxt == "that" and clitic)) and nxt2 == "what"
        call_at = next((j for j in (k + 4, k + 5) if at(j) in _CALL), 0)
        what_called = what_called and at(k + 3) in _CALLERS and bool(call_at) and \
            at(call_at + 1) in ("", "him", "her", "them", "me")  # "what we call it": a thing
        called_that = nxt in ("he", "she") and clitic and nxt2 == "called" and at(k + 3) == "that"
        says = prev in ("say", "says") and prev2 in _CALLERS and nxt in _AFTER_SAYS and w not in _NOT_A_NAME
        actually_called = nxt in ("is", "was") and nxt2 in ("actually", "really") and at(k + 3) in ("called", "named")
        went_by = (prev == "by" and prev2 in ("went", "goes", "go", "going")) or \
            (prev == "name" and prev2 == "the" and at(k - 3) == "by") or (prev == "as" and prev2 == "known")
        mine = first and toks[k].possessive and nxt == "my" and nxt2 in RELATIONS
        relation = prev in RELATIONS and not toks[k - 1].possessive and prev2 in _OWNERS and nxt in _ACTS and \
            w not in _NOT_A_NAME and w not in _GROUPINGS
        if nick or what_called or called_that or says or actually_called or went_by or mine or relation:
            out.append(k)
    return out
