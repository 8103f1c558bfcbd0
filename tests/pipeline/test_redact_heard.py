"""What Whisper writes for identifiers it half heard (pipeline/redact/heard.py), as the detector sees it: letter-digit
codes, mail-like dotted runs, capitalised unknown words mid-sentence, unknown words after name cues and misheard
ranks, and the ordinary cased speech around them that must stay."""

from __future__ import annotations

import pytest

from pipeline.redact import Detector, heard, load_detector


@pytest.fixture(scope="module")
def rules() -> Detector:
    return load_detector(model=None)  # list, pattern and heard layers alone: the model can't paper over them


def _covered(spans, text: str, needle: str) -> bool:  # type: ignore[no-untyped-def]
    s = text.index(needle)
    return any(sp.start <= s and s + len(needle) <= sp.end for sp in spans)


@pytest.mark.parametrize(("text", "needle", "label"), [
    ("He drove a silver Corsa Registration BN19X-TK and we had it on a camera.", "BN19X-TK", "VEHICLE"),
    ("It was a white van, 1SV18KBX, parked outside.", "1SV18KBX", "ID"),
    ("The log number 1 LC-4772-24, and it went to our team.", "LC-4772-24", "ID"),
    ("She gave me a reference number DMP140222.", "DMP140222", "ID"),
    ("My address N142 brings away.", "N142", "ID"),
    ("Her postcode is WV14DS so we put a marker on it.", "WV14DS", "POSTCODE"),
    ("It came from 47/21188/23 on the system.", "47/21188/23", "ID"),
    ("She told me the crime number 147-2118-23.", "147-2118-23", "ID"),
    ("The van was a white transit, C-I-T-L-MV.", "C-I-T-L-MV", "ID"),
    ("The helpline number was 3, 4, 5, 6, double or 6, 7, 8, 9.", "3, 4, 5, 6, double or 6, 7, 8, 9", "ID"),
    ("Ring her on 0, 7, 7, 0, 0, 9, 0, 0, 1, 2, 3 tonight.", "0, 7, 7, 0, 0, 9, 0, 0, 1, 2, 3", "PHONE"),
    ("I spoke to DCO的人 who was in charge of the case.", "DCO的人", "OFFICER"),
    ("I send PC a name and PC more than to see her.", "a name", "OFFICER"),
    ("I send PC a name and PC more than to see her.", "more", "OFFICER"),
    ("She came at what a past two on the 28.", "a past two", "TIME"),
    ("She came at what a past two on the 28.", "the 28", "DATE"),
    ("I'm envious to get up with my suicide police and the cyber team.", "suicide police", "FORCE"),
    ("He joined Kent police in 2010.", "Kent police", "FORCE"),
    ("The postcode, it won't be r2a too wide.", "r2a", "ID"),
    ("We did it in a minute half free after school.", "half free", "TIME"),
    ("We met at 6 and went in.", "6", "TIME"),
    ("She was out till 11.30 at night.", "11.30", "TIME"),
])
def test_letter_digit_codes(rules: Detector, text: str, needle: str, label: str) -> None:
    found = [h for h in heard.find(text) if text[h.start:h.end] == needle]
    assert found and found[0].label == label
    assert _covered(rules.detect(text), text, needle)


@pytest.mark.parametrize(("text", "needle"), [
    ("She had an email from him sent from dom.walshata.gmail.com", "dom.walshata.gmail.com"),
    ("My email is k jones nurse at outlook dot com.", "nurse at outlook dot com"),
    ("It came from imran.k76 at hotmail.co.uk to a friend.", "imran.k76 at hotmail.co.uk"),
    ("He used declan dot m at yahoo.com for all of it.", "m at yahoo.com"),
    ("It was jessharper at g mail dot com I think.", "jessharper at g mail dot com"),
    ("Send it to mike99 at gmail, he said.", "mike99 at gmail"),
])
def test_mail_like_runs(rules: Detector, text: str, needle: str) -> None:
    assert any(h.label == "EMAIL" for h in heard.find(text))
    assert _covered(rules.detect(text), text, needle)


@pytest.mark.parametrize(("text", "needle"), [
    ("I met Ryward at work, and we were together a year.", "Ryward"),
    ("It turned out that Tablam account was run from abroad.", "Tablam"),
    ("My sergeant BS hollyworth reviewed it.", "hollyworth"),
    ("a young woman called zeynabou was nineteen", "zeynabou"),
    ("her ex okwuosa shared the pictures", "okwuosa"),
])
def test_unknown_names_by_case_and_cue(rules: Detector, text: str, needle: str) -> None:
    spans = rules.detect(text)
    assert _covered(spans, text, needle)
    assert any(s.label in ("PERSON", "OFFICER") for s in spans if text.index(needle) >= s.start)


@pytest.mark.parametrize("text", [
    "I bought a 4G phone and an MP3 player.",
    "We met at 10pm on the 19th.",
    "She was in her 20s and he was 40.",
    "The A6 was closed near the M62.",
    "The Revenge Porn Helpline helped me get them down.",
    "It is a 24/7 service and COVID-19 made it worse.",
    "He sent it on Snapchat and WhatsApp and then YouTube.",
    "He had a PlayStation and an iPhone 12 and an Xbox.",
    "The CPS said no, and the MASH team checked ANPR.",
    "He was 5ft 10 and drove a 4x4 at 70mph.",
    "Sorry, I mean, Mum was there, and Dad.",
    "It was 2019-2020, then it happened 2, 3, 4 times.",
    "In 2019, 2020, 2021, 2022 and 2023 it got worse.",
    "We spoke to DCs and PCs and PCSOs and DCIs.",
    "He had the A-Z in the car.",
    "She reported it to the PSNI first, then to the DCI.",
    "It was all on my PC and the PC crashed.",
    "PC 4471 came, then the other PCs.",
    "I think the DC was there, and the DS.",
    "For the past two years it has been hard.",
    "In the past 2 weeks he got the 5 bus.",
    "He then sent it to everyone on ZapChat.",
    "I was in touch with the local police, and I work for the police.",
    "I spoke with traffic police and then with police officers.",
    "He took the A1M and then the M6.",
    "I had gmail and hotmail accounts, and he was at the mail room.",
    "It was half-free at the shop, and half of them were free.",
    "He left at 2 and a half, and at 16 people were there.",
    "It cost £11.30 at the shop, from 3 shops.",
    "We got in touch with the site, and they took the pictures down in about two days.",
])
def test_ordinary_cased_speech_stays(text: str) -> None:
    assert heard.find(text) == []


def test_a_kind_of_court_stays_but_a_named_court_goes(rules: Detector) -> None:
    assert rules.detect("The old thing took him out a year to get to Crown Court.") == []
    text = "The case went to Liverpool Crown Court and he got two years."
    assert _covered(rules.detect(text), text, "Liverpool")
