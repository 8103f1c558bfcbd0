"""The redaction detector (pipeline/redact/__init__.py): every layer, propagation, pseudonyms, the CLI body, and a
recall regression guard on the hand-written dev set. The spaCy model is loaded once for the module."""

from __future__ import annotations

import json

import pytest

from pipeline.redact import (
    LABELS,
    Detector,
    Pseudonymiser,
    Span,
    load_detector,
    redact_lines,
    redact_text,
)
from tests.support.paths import TEST_DATA

DEV_SET = TEST_DATA / "redaction_dev.jsonl"
# Dev-split recall reached when this guard was written, minus a small margin (see bench/redaction_eval.py).
DEV_RECALL_FLOOR = 0.985


@pytest.fixture(scope="module")
def det() -> Detector:
    return load_detector()


def found(det: Detector, text: str, needle: str, label: str | None = None) -> bool:
    """`needle` (case-sensitive substring of text) is covered by a detected span, with `label` if given."""
    start = text.index(needle)
    end = start + len(needle)
    return any(s.start < end and start < s.end and (label is None or s.label == label) for s in det.detect(text))


def labels(det: Detector, text: str) -> dict[str, str]:
    return {s.text: s.label for s in det.detect(text)}


# --- patterns ------------------------------------------------------------------------------------------------------
@pytest.mark.parametrize(("text", "needle", "label"), [
    ("I rang her on 07700 900461 and it went to voicemail.", "07700 900461", "PHONE"),
    ("Call me on +44 7911 123456 if anything comes up.", "+44 7911 123456", "PHONE"),
    ("His mum's landline is (0113) 496 0732.", "496 0732", "PHONE"),
    ("i rang her on oh seven seven double four nine one two three eight six", "double four", "PHONE"),
    ("ring me on oh one one three four nine six oh seven three two any time", "oh one one three", "PHONE"),
    ("She gave me jess.harper92@gmail.com to send it to.", "jess.harper92@gmail.com", "EMAIL"),
    ("her email was jessica dot harper at hotmail dot co dot uk", "jessica dot harper", "EMAIL"),
    ("He'd put them on www.exposed-uk.com, I think.", "www.exposed-uk.com", "URL"),
    ("the link was bit.ly/3xR9kQ and it went to a folder", "bit.ly/3xR9kQ", "URL"),
    ("He added me as @ellie.rose.x on there.", "@ellie.rose.x", "HANDLE"),
    ("His Snapchat was jaybird_99 and he added her friends.", "jaybird_99", "HANDLE"),
    ("her snap is jay underscore b ninety nine", "jay underscore b ninety nine", "HANDLE"),
    ("The postcode was LS8 3QT, near my nan's.", "LS8 3QT", "POSTCODE"),
    ("her postcode was ls6 2qt", "ls6 2qt", "POSTCODE"),
    ("His NI number was QQ 12 34 56 C on the check.", "QQ 12 34 56 C", "ID"),
    ("The NHS number, 485 777 3456, was on the referral.", "485 777 3456", "ID"),
    ("His car reg was YD19 KXP, a black Golf.", "YD19 KXP", "VEHICLE"),
    ("he had a corsa reg number ab12 cde", "ab12 cde", "VEHICLE"),
    ("My collar number back then was 4471.", "4471", "ID"),
    ("PC 2231 took the initial report.", "2231", "ID"),
    ("my collar number is four four seven one if you need it", "four four seven one", "ID"),
    ("The crime reference was NT/22/45127.", "NT/22/45127", "ID"),
    ("The incident log was CAD 3391 on the system.", "3391", "ID"),
    ("the crime number was one two three four five six seven eight", "one two three four", "ID"),
    ("We spoke on 12/04/2022 about it.", "12/04/2022", "DATE"),
    ("It happened on the third of March, a Saturday.", "third of March", "DATE"),
    ("We got the call on Boxing Day 2021.", "Boxing Day 2021", "DATE"),
    ("In March 2019 we launched a new process.", "March 2019", "DATE"),
    ("it was the third of march twenty twenty one", "twenty twenty one", "DATE"),
    ("I joined in 2009, straight after uni.", "2009", "DATE"),
    ("it happened in may 2019 at a festival", "may 2019", "DATE"),
    ("It was about half past eleven at night.", "half past eleven", "TIME"),
    ("By 2am he'd sent them to everyone.", "2am", "TIME"),
    ("he messaged me at about half eleven", "half eleven", "TIME"),
    ("The message came at 10:47 that night.", "10:47", "TIME"),
    ("She was sixteen when he first asked.", "sixteen", "AGE"),
    ("He was twenty-four and I was seventeen.", "twenty-four", "AGE"),
    ("a 15-year-old girl came in with her mum", "15", "AGE"),
    ("He lived at 14 Elm Grove, just off the main road.", "14 Elm Grove", "ADDRESS"),
    ("i live at 22 raglan road in headingley", "22 raglan road", "ADDRESS"),
    ("It was a house party on Beverley Road.", "Beverley Road", "ADDRESS"),
])
def test_pattern_positives(det: Detector, text: str, needle: str, label: str) -> None:
    assert found(det, text, needle, label), det.detect(text)


@pytest.mark.parametrize("text", [
    "May I ask how long you've been in the job?",
    "He may have had other victims, we just never found out.",
    "They march you through the custody suite like you're the criminal.",
    "There were sixteen people on the group chat.",
    "there were sixteen images in total",
    "We get about 200 of these a year now.",
    "She rang 101 and waited forty minutes to get through.",
    "I've been a detective for about twelve years now.",
    "Twenty minutes later he messaged again.",
    "It happened a couple of years ago, in the summer.",
    "I'd had a bath and I just sat there crying.",
    "I was reading the statement back and it didn't make sense.",
    "Will you be anonymising all of this?",
    "I'll mark that as an exhibit and bag it.",
    "We had a grace period where nobody chased it.",
    "the pc said there was nothing they could do",
    "Her operation got cancelled so she was at home all week.",
    "He said he'd send them to everyone on Snapchat and Instagram.",
    "Clare's Law came up, but there was nothing on him.",
    "Honestly, the CPS wouldn't even look at it.",
    "MAY I ASK HOW OLD YOU WERE",
])
def test_tricky_negatives(det: Detector, text: str) -> None:
    assert det.detect(text) == []


# --- gazetteers ----------------------------------------------------------------------------------------------------
@pytest.mark.parametrize(("text", "needle"), [
    ("I joined West Yorkshire Police in 2009.", "West Yorkshire Police"),
    ("I did six years in the Met before I moved.", "Met"),
    ("i was in the met for six years", "met"),
    ("Scotland Yard were supposed to be dealing with it.", "Scotland Yard"),
    ("There was mutual aid with GMP for the football.", "GMP"),
    ("It was a DC from West Mids who charged him.", "West Mids"),
    ("we work closely with notts and lincs on this", "notts"),
    ("we work closely with notts and lincs on this", "lincs"),
    ("She'd gone to Northants Police first.", "Northants Police"),
    ("I transferred from Thames Valley to Hampshire.", "Thames Valley"),
    ("TVP had a different system.", "TVP"),
    ("Avon and Somerset had already flagged him.", "Avon and Somerset"),
    ("The British Transport Police picked it up.", "British Transport Police"),
    ("She reported it to the PSNI first.", "PSNI"),
    ("It's different in Police Scotland.", "Police Scotland"),
    ("I was seconded to the MoD Police for a bit.", "MoD Police"),
    ("The Civil Nuclear Constabulary guard the site.", "Civil Nuclear Constabulary"),
    ("i got put through to dyfed powys", "dyfed powys"),
    ("I'm with Derbyshire Constabulary.", "Derbyshire Constabulary"),
])
def test_forces_and_nicknames(det: Detector, text: str, needle: str) -> None:
    assert found(det, text, needle, "FORCE"), det.detect(text)


def test_we_met_in_leeds_is_a_place_not_the_met(det: Detector) -> None:
    for text in ("We met in Leeds for the first time.", "we met in leeds for the first time",
                 "WE MET IN LEEDS FOR THE FIRST TIME"):
        spans = det.detect(text)
        assert [(s.text.lower(), s.label) for s in spans] == [("leeds", "LOCATION")], spans


def test_ranks_titles_operations_departments(det: Detector) -> None:
    assert labels(det, "DS Kaur was the officer in the case.") == {"Kaur": "OFFICER"}
    assert labels(det, "sergeant mike dawson said we had to close it") == {"mike dawson": "OFFICER"}
    assert labels(det, "My sergeant, Bev, said to look at it.") == {"Bev": "OFFICER"}
    assert labels(det, "my tutor mark always said write it down") == {"mark": "OFFICER"}
    assert labels(det, "Mr Hussain, her solicitor, was really good.") == {"Hussain": "PERSON"}
    assert labels(det, "It was under Operation Bluestone at the time.") == {"Operation Bluestone": "OPERATION"}
    assert labels(det, "the op was called operation elbow") == {"operation elbow": "OPERATION"}
    assert labels(det, "it went to professional standards in the end") == {"professional standards": "ORGANISATION"}
    assert found(det, "I went into Bolton CID after that.", "Bolton CID", "ORGANISATION")
    assert found(det, "PC ELLIE MARSH TOOK MY STATEMENT AT WAKEFIELD POLICE STATION", "WAKEFIELD", "LOCATION")


def test_places_and_names_lower_case_and_all_caps(det: Detector) -> None:
    for text in ("she lives in kettering now", "SHE LIVES IN KETTERING NOW", "She lives in Kettering now."):
        assert found(det, text, text.split()[3], "LOCATION"), text
    for text in ("i spoke to sarah jenkins about it", "I SPOKE TO SARAH JENKINS ABOUT IT"):
        spans = det.detect(text)
        assert [s.text.lower() for s in spans] == ["sarah jenkins"], spans
    assert found(det, "my ex liam posted them on a telegram group", "liam", "PERSON")
    assert found(det, "I spoke to Will from digital forensics.", "Will", "PERSON")


# --- known names and propagation -----------------------------------------------------------------------------------
def test_known_names_every_variant() -> None:
    det = load_detector(known_names=("Sophie Clarke", "DS Priya Nair"))
    lines = ["sophie you need to stop being so dramatic", "the officer kept calling me miss clarke",
             "SOPHIE CLARKE'S NAME WAS ON THE FORUM", "Nair rang me back the next day",
             "Priya's lovely to be fair"]
    for text, spans in zip(lines, det.detect_document(lines), strict=True):
        assert spans and all("known" in s.layers for s in spans), (text, spans)
    assert det.detect("priya")[0].label == "PERSON"


def test_propagation_parts_possessive_and_case(det: Detector) -> None:
    doc = ["DS Mark Bellamy was my first DS on the team.", "bellamy was brilliant with victims",
           "I think Bellamy's retired now.", "MARK ALWAYS RANG THEM BACK", "The suspect was Jamie Lee Whitfield.",
           "whitfield denied everything in interview", "Jamie's phone had over three hundred images on it."]
    spans = det.detect_document(doc)
    want = {1: "bellamy", 2: "Bellamy", 3: "MARK", 5: "whitfield", 6: "Jamie"}
    for i, word in want.items():
        assert any(s.text == word for s in spans[i]), (doc[i], spans[i])
    assert [s.label for s in spans[1]] == ["OFFICER"]  # an officer anywhere is an officer everywhere
    assert spans[2][0].end - spans[2][0].start == len("Bellamy")  # the possessive stays outside the span


def test_propagated_place_and_handle(det: Detector) -> None:
    doc = ["His Snapchat was jaybird_99.", "jaybird_99 kept adding her friends", "He lived out in Ossett.",
           "OSSETT IS A SMALL PLACE"]
    spans = det.detect_document(doc)
    assert all(spans[i] for i in range(4)), spans


# --- pseudonyms ----------------------------------------------------------------------------------------------------
def _span(label: str, text: str) -> Span:
    return Span(0, len(text), label, text, ("gazetteer",), 0.9, False)


def test_pseudonyms_consistent_and_variants_share_a_tag() -> None:
    p = Pseudonymiser()
    a = p.tag(_span("PERSON", "Mark"))
    assert p.tag(_span("PERSON", "Mark Bellamy")) == a
    assert p.tag(_span("PERSON", "Bellamy")) == a
    assert p.tag(_span("PERSON", "MARK BELLAMY's")) == a
    assert p.tag(_span("PERSON", "Mark Smith")) != a  # another Mark
    assert p.tag(_span("FORCE", "the Met")) == p.tag(_span("FORCE", "Metropolitan Police")) == "[Force A]"
    assert p.tag(_span("FORCE", "Scotland Yard")) == "[Force A]"
    assert p.tag(_span("FORCE", "West Mids")) == p.tag(_span("FORCE", "West Midlands Police")) == "[Force B]"
    assert p.tag(_span("LOCATION", "Leeds")) == p.tag(_span("LOCATION", "LEEDS")) == "[Location 1]"
    assert p.tag(_span("OPERATION", "Operation Elbow")) == p.tag(_span("OPERATION", "operation elbow"))
    assert p.tag(_span("DATE", "3rd of March")) == "[Date]"
    assert p.tag(_span("OFFICER", "DS Kaur")) == "[Officer 1]"
    assert p.tag(_span("OFFICER", "Kaur")) == "[Officer 1]"


def test_pseudonyms_reuse_the_study_mapping_across_recordings() -> None:
    first = Pseudonymiser()
    tags = [first.tag(_span("PERSON", "Sophie Clarke")), first.tag(_span("LOCATION", "Kettering")),
            first.tag(_span("FORCE", "Northants"))]
    second = Pseudonymiser(existing=first.mapping())
    assert second.tag(_span("PERSON", "clarke")) == tags[0]
    assert second.tag(_span("LOCATION", "kettering")) == tags[1]
    assert second.tag(_span("FORCE", "Northamptonshire Police")) == tags[2]
    assert second.tag(_span("PERSON", "Ryan")) == "[Person 2]"  # numbering carries on after the stored tags
    assert second.tag(_span("FORCE", "GMP")) == "[Force B]"


# --- redaction output ----------------------------------------------------------------------------------------------
def test_redact_text_leaves_no_gold_identifier(det: Detector) -> None:
    records = [json.loads(x) for x in DEV_SET.read_text(encoding="utf-8").splitlines()]
    records = [r for r in records if r["split"] == "dev"]
    docs: dict[str, list[dict]] = {}
    for r in records:
        docs.setdefault(r["doc"], []).append(r)
    leaks = []
    pseudo = Pseudonymiser()
    for recs in docs.values():
        d = load_detector(known_names=tuple(recs[0].get("known_names", ())))
        for r, spans in zip(recs, d.detect_document([r["text"] for r in recs]), strict=True):
            out, done = redact_text(r["text"], spans, pseudo)
            assert all(tag.startswith("[") and tag.endswith("]") for _, tag in done)
            for g in r["spans"]:
                surface = r["text"][g["start"] : g["end"]]
                if surface in out:
                    leaks.append((r["id"], surface))
    assert leaks == [], leaks  # "the Red Lion" was the last known miss: pubs are found by name and shape now


def test_redact_text_replaces_right_to_left_with_tags(det: Detector) -> None:
    text = "DS Kaur rang Sophie Clarke on 07700 900461 about the Met."
    out, done = redact_text(text, det.detect(text), Pseudonymiser())
    assert out == "DS [Officer 1] rang [Person 1] on [Phone] about the [Force A]."
    assert [s.label for s, _ in done] == ["OFFICER", "PERSON", "PHONE", "FORCE"]


def test_a_whole_interview_reads_cleanly_after_redaction(det: Detector) -> None:
    lines = ["My name is Sarah Mitchell. I reported it to Greater Manchester Police on the third of March 2021.",
             "An officer called Mark Bellamy. He gave me his number, 07700 900123, and said Mark would ring back.",
             "Did Mark Bellamy ring you back?",
             "No. Bellamy never called, so I rang Greater Manchester Police again in April.",
             "did mark bellamy ring you back"]
    pseudo = Pseudonymiser()
    out = [redact_text(t, s, pseudo)[0] for t, s in zip(lines, det.detect_document(lines), strict=True)]
    assert out == [
        "My name is [Person 1]. I reported it to [Force A] on the [Date].",
        "An officer called [Officer 1]. He gave me his number, [Phone], and said [Officer 1] would ring back.",
        "Did [Officer 1] ring you back?",
        "No. [Officer 1] never called, so I rang [Force A] again in [Date].",
        "did [Officer 1] ring you back",
    ]


def test_redact_lines_keeps_speaker_labels_and_reports_input_offsets() -> None:
    lines = ["Interviewer: And which force were you with?\n", "OFFICER: West Mids, then GMP.\n",
             "no prefix here, mark bellamy rang\n", "Sarah Jenkins: this label is a name\n"]
    text_out = list(redact_lines(lines, fmt="text"))
    assert text_out[0] == "Interviewer: And which force were you with?"
    assert text_out[1] == "OFFICER: [Force A], then [Force B]."
    assert "bellamy" not in text_out[2]
    assert "Sarah" not in text_out[3] and "Jenkins" not in text_out[3]
    rows = [json.loads(x) for x in redact_lines(lines, fmt="jsonl")]
    assert rows[1]["text"] == text_out[1]
    raw = lines[1].rstrip("\n")
    assert [(raw[s["start"] : s["end"]], s["label"], s["replacement"]) for s in rows[1]["spans"]] == [
        ("West Mids", "FORCE", "[Force A]"), ("GMP", "FORCE", "[Force B]")]


def test_span_fields_and_uncertainty(det: Detector) -> None:
    spans = det.detect("My ex called Jaxxon Brierley sent them.")
    assert spans and all(s.label in LABELS and 0 < s.confidence <= 1 for s in spans)
    cue_only = det.detect("we had a case with someone in zarnbury")
    assert cue_only and all(s.uncertain for s in cue_only)


def test_misheard_identifiers_become_review_candidates(det: Detector) -> None:
    # What Whisper made of "Northants Police" and "Kettering" on synthesised interview speech (issue 4).
    spans = det.detect("I work for north and the police, based in catering.")
    assert [(s.text, s.label, s.uncertain) for s in spans] == [
        ("north and the police", "FORCE", True), ("catering", "LOCATION", True)]
    assert det.detect("my mum rang the police and they came round") == []
    assert found(det, "Her number was 07890, erm, 123, 456.", "123, 456", "PHONE")
    assert found(det, "Call me on 015496.0732 tomorrow.", "015496.0732", "PHONE")


def test_works_without_the_model() -> None:
    bare = Detector(model=None)
    assert {s.text: s.label for s in bare.detect("DS Kaur from the Met rang me on 07700 900461")} == {
        "Kaur": "OFFICER", "Met": "FORCE", "07700 900461": "PHONE"}


# --- regression guard ----------------------------------------------------------------------------------------------
def test_dev_split_recall_regression_guard() -> None:
    from bench.redaction_eval import load, predict, score

    records = [r for r in load(DEV_SET) if r["split"] == "dev"]
    predicted, _, _ = predict(records, "auto")
    result = score(records, predicted)
    assert result["recall"] >= DEV_RECALL_FLOOR, result["misses"]
    assert result["precision"] >= 0.85, result["false_positives"]
    for label in ("PERSON", "OFFICER", "FORCE"):
        assert result["per_label"][label]["recall"] == 1.0, result["misses"]


ASR_DEV_SET = TEST_DATA / "redaction_asr_dev.jsonl"


def test_asr_dev_split_regression_guard() -> None:
    """The ASR-style dev split (lower case, spoken numbers, spelled letters) at the level reached when this guard was
    written, minus a margin; the frozen splits are measured by bench.redaction_eval, never asserted on."""
    from bench.redaction_eval import load, predict, score

    records = [{**r, "set": "asr"} for r in load(ASR_DEV_SET)]
    predicted, _, _ = predict(records, "auto")
    result = score(records, predicted)
    assert result["recall"] >= 0.99, result["misses"]
    assert result["precision"] >= 0.93, result["false_positives"]
    assert result["persons_officers_forces_recall"] == 1.0, result["misses"]


@pytest.mark.parametrize("script", ["build_redaction_asr.py", "build_redaction_whisper.py",
                                    "build_redaction_whisper.py --split dev"])
def test_redaction_sets_match_their_sources(script: str) -> None:
    """Each jsonl is what its build script makes of its hand-written sources (Whisper's transcripts are kept as
    made; only the hand fixes are re-applied): a set edited by hand, or a source edited without a rebuild, fails."""
    import subprocess
    import sys

    name, *extra = script.split()
    done = subprocess.run([sys.executable, str(TEST_DATA / name), *extra, "--check"], capture_output=True, text=True,
                          timeout=120)
    assert done.returncode == 0, done.stderr
