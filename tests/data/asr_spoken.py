"""How speech-to-text writes identifiers: digits as words, letters spelled out. Used by build_redaction_asr.py to
render the generated utterances of the ASR-style sets (never by the detector)."""

from __future__ import annotations

import random

DIGIT = {"0": "zero", "1": "one", "2": "two", "3": "three", "4": "four", "5": "five", "6": "six", "7": "seven",
         "8": "eight", "9": "nine"}
TEENS = {10: "ten", 11: "eleven", 12: "twelve", 13: "thirteen", 14: "fourteen", 15: "fifteen", 16: "sixteen",
         17: "seventeen", 18: "eighteen", 19: "nineteen"}
TENS = {2: "twenty", 3: "thirty", 4: "forty", 5: "fifty", 6: "sixty", 7: "seventy", 8: "eighty", 9: "ninety"}
ORDINAL = {1: "first", 2: "second", 3: "third", 4: "fourth", 5: "fifth", 6: "sixth", 7: "seventh", 8: "eighth",
           9: "ninth", 10: "tenth", 11: "eleventh", 12: "twelfth", 13: "thirteenth", 14: "fourteenth",
           15: "fifteenth", 16: "sixteenth", 17: "seventeenth", 18: "eighteenth", 19: "nineteenth", 20: "twentieth",
           30: "thirtieth"}
MONTHS = ("january", "february", "march", "april", "may", "june", "july", "august", "september", "october",
          "november", "december")


def number(n: int) -> str:
    """0-99 as words ("twenty two")."""
    if n < 10:
        return DIGIT[str(n)]
    if n < 20:
        return TEENS[n]
    tens, unit = divmod(n, 10)
    return TENS[tens] + (f" {DIGIT[str(unit)]}" if unit else "")


def ordinal(n: int) -> str:
    if n in ORDINAL:
        return ORDINAL[n]
    tens, unit = divmod(n, 10)
    return f"{TENS[tens]} {ORDINAL[unit]}"


def digits(s: str, rng: random.Random, *, zero: str | None = None) -> str:
    """A digit string read out one by one, with "double"/"triple" and "oh" as people say them."""
    words: list[str] = []
    i = 0
    z = zero or rng.choice(("oh", "oh", "zero"))
    while i < len(s):
        d = s[i]
        run = 1
        while i + run < len(s) and s[i + run] == d:
            run += 1
        word = z if d == "0" else DIGIT[d]
        if run >= 3 and rng.random() < 0.6:
            words.append(f"triple {word}")
            i += 3
        elif run >= 2 and rng.random() < 0.7:
            words.append(f"double {word}")
            i += 2
        else:
            words.append(word)
            i += 1
    return " ".join(words)


def pairs(s: str, rng: random.Random) -> str:
    """Digits in pairs where they can be ("forty five twelve seven")."""
    out, i = [], 0
    while i < len(s):
        if i + 1 < len(s) and s[i] != "0" and rng.random() < 0.6:
            out.append(number(int(s[i : i + 2])))
            i += 2
        else:
            out.append(DIGIT[s[i]] if s[i] != "0" else "oh")
            i += 1
    return " ".join(out)


def letters(s: str) -> str:
    """Letters spelled one by one, lower case, as Whisper writes them: "g m p"."""
    return " ".join(s.lower())


def phone(rng: random.Random) -> str:
    if rng.random() < 0.75:
        num = "07" + "".join(rng.choice("0123456789") for _ in range(9))
    else:
        num = "01" + rng.choice("1234569") + rng.choice("1234") + "".join(rng.choice("0123456789") for _ in range(7))
    if rng.random() < 0.25:  # "oh seven seven hundred nine hundred ..." style: hundreds read as words
        head = digits(num[:4], rng, zero="oh")
        return f"{head} {DIGIT[num[4]]} hundred {digits(num[7:], rng)}" if num[5:7] == "00" else \
            f"{head} {digits(num[4:], rng)}"
    return digits(num, rng)


def year(rng: random.Random) -> str:
    y = rng.choice(range(2008, 2026))
    if y < 2010:
        return rng.choice((f"two thousand and {DIGIT[str(y - 2000)]}", f"two thousand {DIGIT[str(y - 2000)]}"))
    return f"twenty {number(y - 2000)}"
