"""Every library format parsed back with the library its users' tools rely on (python-docx, webvtt-py, srt, json,
csv, zipfile, lxml + the REFI-QDA XSD): content, speaker labels and timings are right, and no identifier from the
raw transcripts (names, the participant codes, exact interview dates) is anywhere in the bytes, the file names or
the document properties."""

from __future__ import annotations

import csv
import io
import json
import re
import zipfile
from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
import srt
import webvtt
from docx import Document
from docx.oxml.ns import qn
from fastapi.testclient import TestClient
from lxml import etree

from tests.support import corpus
from tests.support.apps import create_users, make_settings
from tests.support.paths import ROOT
from tests.support.study import Study, assert_no_identifiers

XSD = ROOT.parent / "shared" / "spec" / "refi-qda" / "Project-mrt2019.xsd"
QDA = "{urn:QDA-XML:project:1.0}"
LABELS = {"police": {"S1": "Interviewer", "S2": "Officer 1", "S3": "Officer 2"},
          "victim": {"S1": "Interviewer", "S2": "Victim"}, "victim_follow_up": {"S1": "Interviewer", "S2": "Victim"}}
DOC_NAME = re.compile(r"^(POL|VIC)-\d{2}_[0-9a-f]{8}$")
TAG = re.compile(r"\[(Person|Force|Location|Date|Phone|Email|Postcode) ?[0-9A-Z]*\]")


@pytest.fixture(scope="module")
def study(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Study]:
    from service.app import create_app

    tmp = tmp_path_factory.mktemp("exports")
    # Rendering doesn't depend on the database; test_library covers both back-ends.
    app = create_app(make_settings(tmp, f"sqlite:///{tmp / 'data' / 'anonscribe.db'}"), start_workers=False)
    with TestClient(app) as client:
        runtime = app.state.runtime
        tokens = create_users(runtime)
        yield Study(client=client, runtime=runtime, tokens=tokens, ids=corpus.build_study(runtime))


def filename(resp: Any) -> str:
    m = re.fullmatch(r'attachment; filename="([^"]+)"', resp.headers["content-disposition"])
    assert m, resp.headers["content-disposition"]
    return m.group(1)


def seconds(stamp: str) -> float:
    h, m, s = stamp.replace(",", ".").split(":")
    return int(h) * 3600 + int(m) * 60 + float(s)


# ---- one transcript, each format ------------------------------------------------------------------------------


@pytest.mark.parametrize("which", ["police", "victim"])
def test_txt_turns_labels_and_timestamps(study: Study, which: str) -> None:
    resp = study.get(f"/{study.ids[which]}", format="txt")
    assert resp.headers["content-type"] == "text/plain; charset=utf-8"
    assert DOC_NAME.match(filename(resp).removesuffix(".txt")) and filename(resp).endswith(".txt")
    turns = resp.text.strip("\n").split("\n\n")
    expected = corpus.expected_turns(corpus.STUDY[which])
    assert len(turns) == len(expected)
    for line, (slot, start) in zip(turns, expected, strict=True):
        m = re.fullmatch(r"\[(\d\d:\d\d:\d\d)\] ([A-Za-z0-9 ]+): (.+)", line, re.S)
        assert m, line
        assert m.group(2) == LABELS[which][slot]
        assert seconds(m.group(1)) == int(start)
    assert TAG.search(resp.text)
    plain = study.get(f"/{study.ids[which]}", format="txt", timestamps="false").text
    assert not re.search(r"\[\d\d:\d\d:\d\d\]", plain)
    assert plain.split("\n\n")[0].startswith("Interviewer: ")
    assert_no_identifiers(resp)


def test_docx_headings_bold_speakers_timestamps_and_neutral_properties(study: Study) -> None:
    resp = study.get(f"/{study.ids['police']}", format="docx", line_numbers="true")
    assert resp.headers["content-type"].startswith("application/vnd.openxmlformats-officedocument")
    name = filename(resp).removesuffix(".docx")
    doc = Document(io.BytesIO(resp.content))
    props = doc.core_properties
    assert props.title == f"Transcript {name}"
    for field in ("author", "last_modified_by", "comments", "subject", "keywords", "category", "identifier",
                  "content_status", "version"):
        assert getattr(props, field) == "", field
    paragraphs = doc.paragraphs
    assert paragraphs[0].style.name == "Title" and paragraphs[0].text == f"Transcript {name}"
    assert any(p.style.name == "Heading 1" for p in paragraphs)
    meta = paragraphs[1].text
    assert "Cohort: police" in meta and "Interview month: 2025-03" in meta and "Participant: POL-" in meta
    turns = [p for p in paragraphs if p.runs and re.match(r"\[\d\d:\d\d:\d\d\] ", p.runs[0].text)]
    expected = corpus.expected_turns(corpus.POLICE)
    assert len(turns) == len(expected)
    for p, (slot, start) in zip(turns, expected, strict=True):
        stamp, label, body = p.runs[0], p.runs[1], p.runs[2]
        assert seconds(stamp.text.strip()[1:-1]) == int(start) and not stamp.bold
        assert label.bold and label.text == f"{LABELS['police'][slot]}: "
        assert not body.bold and body.text
    assert any(TAG.search(p.text) for p in turns)
    core = zipfile.ZipFile(io.BytesIO(resp.content)).read("docProps/core.xml").decode()
    assert "python-docx" not in core and "<dc:creator></dc:creator>" in core.replace("<dc:creator/>",
                                                                                   "<dc:creator></dc:creator>")
    # Word's own line numbering, only when asked for.
    assert doc.sections[0]._sectPr.find(qn("w:lnNumType")) is not None
    plain = Document(io.BytesIO(study.get(f"/{study.ids['police']}", format="docx", timestamps="false").content))
    assert plain.sections[0]._sectPr.find(qn("w:lnNumType")) is None
    assert not any(re.match(r"\[\d\d:", p.text) for p in plain.paragraphs)
    assert any(p.runs and p.runs[0].bold and p.runs[0].text == "Officer 1: " for p in plain.paragraphs)
    assert_no_identifiers(resp)


def _segments(which: str) -> list[dict[str, Any]]:
    interview = corpus.STUDY[which]
    return corpus.raw_transcript(interview.lines, interview.roles or {})["segments"]


def test_vtt_voices_and_cue_times(study: Study) -> None:
    resp = study.get(f"/{study.ids['police']}", format="vtt")
    assert resp.headers["content-type"] == "text/vtt; charset=utf-8"
    captions = webvtt.from_string(resp.text).captions
    raw = _segments("police")
    assert len(captions) == len(raw)
    for cue, seg in zip(captions, raw, strict=True):
        assert cue.voice == LABELS["police"][seg["speaker"]]
        assert seconds(cue.start) == pytest.approx(seg["start"], abs=1e-3)
        assert seconds(cue.end) == pytest.approx(seg["end"], abs=1e-3)
    assert any(TAG.search(c.text) for c in captions)
    assert_no_identifiers(resp)


def test_srt_speakers_and_times(study: Study) -> None:
    resp = study.get(f"/{study.ids['victim']}", format="srt")
    subs = list(srt.parse(resp.text))
    raw = _segments("victim")
    assert [s.index for s in subs] == list(range(1, len(raw) + 1))
    for sub, seg in zip(subs, raw, strict=True):
        assert sub.start == timedelta(seconds=seg["start"]) and sub.end == timedelta(seconds=seg["end"])
        assert sub.content.startswith(f"{LABELS['victim'][seg['speaker']]}: ")
    assert any("[Email]" in s.content for s in subs) and any("[Postcode]" in s.content for s in subs)
    assert_no_identifiers(resp)


MARKUP_LINES = [
    ("<i>I said</i> it to <v Bob>[Person A]</v> at <font color=\"red\">[Location 1]</font>.", "Interviewer"),
    ("{\\an8}Top of the screen {\\c&H0000FF&}in blue{\\r}, then {y:i}MicroDVD\\Nline two.", "Victim"),
    ("A blank\n\nline --> and a < b > c {braces}.", "Victim"),
    ("<b></b>", "Victim"),  # nothing but markup: no cue at all
]


def test_srt_cues_carry_no_markup() -> None:
    """SRT has no escaping: whatever players would interpret (tags, ASS override blocks, MicroDVD codes, ASS
    escapes) is stripped from the cue text, and redaction placeholders stay readable."""
    from service.library.exports import render

    document = {"segments": [{"start": 1.0 + 3 * i, "end": 3.5 + 3 * i, "text": text, "speaker_label": who}
                             for i, (text, who) in enumerate(MARKUP_LINES)]}
    subs = list(srt.parse(render(document, "srt").decode()))
    assert [s.content for s in subs] == [
        "Interviewer: I said it to [Person A] at [Location 1].",
        "Victim: Top of the screen in blue, then MicroDVD line two.",
        "Victim: A blank line -> and a < b > c (braces).",
    ]
    assert [s.start for s in subs] == [timedelta(seconds=1), timedelta(seconds=4), timedelta(seconds=7)]
    for sub in subs:
        assert not re.search(r"<[A-Za-z/]|{\\|\\[Nnh]|{[A-Za-z]:", sub.content)


def test_json_segments_words_speakers_and_redaction_tags(study: Study) -> None:
    resp = study.get(f"/{study.ids['police']}", format="json")
    doc = resp.json()
    assert DOC_NAME.match(doc["document"]) and doc["cohort"] == "police" and doc["interview_month"] == "2025-03"
    assert doc["speaker_labels"] == ["Interviewer", "Officer 1", "Officer 2"]
    raw = _segments("police")
    assert len(doc["segments"]) == len(raw)
    tags = 0
    for seg, src in zip(doc["segments"], raw, strict=True):
        assert (seg["start"], seg["end"]) == (src["start"], src["end"])
        assert seg["speaker_label"] == LABELS["police"][src["speaker"]]
        for r in seg["redactions"]:
            assert seg["text"][r["start"]:r["end"]] == r["tag"] and TAG.fullmatch(r["tag"])
            tags += 1
        # Word level is redacted with the text: redacted words carry the tag and the span's timing.
        assert "".join(w["text"] for w in seg["words"]).strip() == seg["text"].strip()
        redacted = [w for w in seg["words"] if w.get("redacted")]
        assert [TAG.search(w["text"]).group(0) for w in redacted] == [r["tag"] for r in seg["redactions"]]
        kept = {(w["start"], w["text"].strip()) for w in seg["words"] if not w.get("redacted")}
        assert kept <= {(w["start"], w["text"].strip()) for w in src["words"]}
        assert all("probability" not in w for w in seg["words"])
    assert tags >= 6
    assert_no_identifiers(resp)


def test_csv_one_row_per_turn(study: Study) -> None:
    resp = study.get(f"/{study.ids['victim']}", format="csv")
    assert resp.content.startswith(b"\xef\xbb\xbf")
    rows = list(csv.DictReader(io.StringIO(resp.content.decode("utf-8-sig"))))
    expected = corpus.expected_turns(corpus.VICTIM)
    assert len(rows) == len(expected)
    for i, (row, (slot, start)) in enumerate(zip(rows, expected, strict=True), 1):
        assert row["turn"] == str(i) and row["speaker"] == LABELS["victim"][slot]
        assert float(row["start"]) == pytest.approx(start) and float(row["end"]) > float(row["start"])
        assert row["cohort"] == "victim" and row["participant"].startswith("VIC-") and row["text"]
    # The victim's two last segments are one turn.
    assert "[Email]" in rows[-1]["text"] and "[Postcode]" in rows[-1]["text"]
    assert_no_identifiers(resp)


# ---- corpus exports ------------------------------------------------------------------------------------------


def test_corpus_zip_per_cohort_and_whole_study(study: Study) -> None:
    whole = study.get("/export", format="zip")
    assert filename(whole) == "anonscribe-all.zip" and whole.headers["content-type"] == "application/zip"
    z = zipfile.ZipFile(io.BytesIO(whole.content))
    names = z.namelist()
    assert {"manifest.csv", "manifest.json"} <= set(names)
    docs = [n for n in names if not n.startswith("manifest")]
    assert len(docs) == 3 * 2  # three approved transcripts, txt + docx; the unapproved one is not there
    for n in docs:
        folder, base = n.split("/")
        assert folder in ("police", "victim") and DOC_NAME.match(base.rsplit(".", 1)[0])
    manifest = json.loads(z.read("manifest.json"))
    assert manifest["count"] == 3 and manifest["cohorts"] == "all"
    rows = list(csv.DictReader(io.StringIO(z.read("manifest.csv").decode("utf-8-sig"))))
    assert sorted(r["cohort"] for r in rows) == ["police", "victim", "victim"]
    assert "participant_code" not in rows[0]
    # Both victim interviews are one participant under one pseudonym.
    assert len({r["participant"] for r in rows if r["cohort"] == "victim"}) == 1
    for r in rows:
        for f in r["files"].split("; "):
            assert f in names
        assert r["interview_month"] in ("2025-03", "2025-04", "2025-06")
    police = next(r for r in rows if r["cohort"] == "police")
    docx_name = next(f for f in police["files"].split("; ") if f.endswith(".docx"))
    assert Document(io.BytesIO(z.read(docx_name))).core_properties.author == ""
    assert_no_identifiers(whole)

    victims = zipfile.ZipFile(io.BytesIO(study.get("/export", format="zip", cohort="victim",
                                                   include=["json", "vtt", "srt", "csv"]).content))
    files = [n for n in victims.namelist() if not n.startswith("manifest")]
    assert len(files) == 2 * 4 and all(n.startswith("victim/") for n in files)
    for n in files:
        if n.endswith(".json"):
            assert json.loads(victims.read(n))["cohort"] == "victim"


def _validate(qde: bytes) -> etree._Element:
    schema = etree.XMLSchema(etree.parse(str(XSD)))
    root = etree.fromstring(qde)
    assert schema.validate(root), schema.error_log
    return root


def test_qdpx_validates_and_matches_the_corpus(study: Study) -> None:
    resp = study.get("/export", format="qdpx")
    assert filename(resp) == "anonscribe-all.qdpx"
    z = zipfile.ZipFile(io.BytesIO(resp.content))
    root = _validate(z.read("project.qde"))
    assert root.tag == f"{QDA}Project" and root.find(f"{QDA}Users") is None
    sources = root.findall(f"{QDA}Sources/{QDA}TextSource")
    assert len(sources) == 3
    variables = {v.get("guid"): v.get("name") for v in root.iter(f"{QDA}Variable")}
    assert set(variables.values()) == {"Cohort", "Interview month", "Speaker roles", "Participant role"}
    codes = {c.get("guid"): c.get("name") for c in root.iter(f"{QDA}Code") if c.get("isCodable") == "true"}
    assert set(codes.values()) == {"Interviewer", "Officer", "Victim"}

    def values(el: etree._Element) -> dict[str, str]:
        return {variables[v.find(f"{QDA}VariableRef").get("targetGUID")]: v.find(f"{QDA}TextValue").text
                for v in el.findall(f"{QDA}VariableValue")}

    by_guid = {}
    for source in sources:
        path = source.get("plainTextPath")
        assert path.startswith("internal://") and f"sources/{path.removeprefix('internal://')}" in z.namelist()
        text = z.read(f"sources/{path.removeprefix('internal://')}").decode("utf-8")
        # The source text is the TXT download of that transcript.
        rid = next(r for r in study.ids.values() if source.get("name").endswith(r[:8]))
        assert text == study.get(f"/{rid}", format="txt").text
        v = values(source)
        assert v["Cohort"] in ("police", "victim") and re.fullmatch(r"2025-0[346]", v["Interview month"])
        selections = source.findall(f"{QDA}PlainTextSelection")
        assert len(selections) == text.count("\n\n") + 1
        for sel in selections:
            chunk = text[int(sel.get("startPosition")):int(sel.get("endPosition"))]
            role = codes[sel.find(f"{QDA}Coding/{QDA}CodeRef").get("targetGUID")]
            assert re.match(rf"\[\d\d:\d\d:\d\d\] {role}( \d)?: \S", chunk), (chunk, role)
            assert "\n\n" not in chunk
        by_guid[source.get("guid")] = source
        if v["Cohort"] == "police":
            assert v["Speaker roles"] == "Interviewer; Officer"
    cases = root.findall(f"{QDA}Cases/{QDA}Case")
    assert sorted(c.get("name")[:4] for c in cases) == ["POL-", "VIC-"]
    for case in cases:
        refs = [r.get("targetGUID") for r in case.findall(f"{QDA}SourceRef")]
        assert all(r in by_guid for r in refs)
        v = values(case)
        if v["Cohort"] == "victim":
            assert len(refs) == 2 and v["Participant role"] == "Victim"  # two interviews, one participant
        else:
            assert len(refs) == 1 and v["Participant role"] == "Officer"
    assert_no_identifiers(resp)

    # Exported again: the same GUIDs, so a QDA tool recognises the sources it already has.
    again = zipfile.ZipFile(io.BytesIO(study.get("/export", format="qdpx").content))
    assert sorted(again.namelist()) == sorted(z.namelist())
    police_only = zipfile.ZipFile(io.BytesIO(study.get("/export", format="qdpx", cohort="police").content))
    root = _validate(police_only.read("project.qde"))
    assert len(root.findall(f"{QDA}Sources/{QDA}TextSource")) == 1


def test_qdpx_schema_check_can_fail(study: Study) -> None:
    """The XSD really constrains us: a malformed GUID or a missing plainTextPath target is caught."""
    z = zipfile.ZipFile(io.BytesIO(study.get("/export", format="qdpx").content))
    qde = z.read("project.qde")
    guid = re.search(rb'guid="([0-9a-f-]{36})"', qde).group(1)
    schema = etree.XMLSchema(etree.parse(str(XSD)))
    assert not schema.validate(etree.fromstring(qde.replace(guid, b"not-a-guid")))
    assert not schema.validate(etree.fromstring(qde.replace(b'typeOfVariable="Text"', b'typeOfVariable="Str"')))


def test_identifier_check_catches_a_leak(study: Study) -> None:
    """The leak check above is not vacuous: on the raw transcript (reviewers only) it fires."""
    raw = study.client.get(f"/api/v1/recordings/{study.ids['police']}/transcript", params={"format": "txt"},
                           headers=study.h("reviewer"))
    assert raw.status_code == 200
    raw.headers["content-disposition"] = 'attachment; filename="raw.txt"'
    with pytest.raises(AssertionError, match=r"bellamy|mitchell|manchester"):
        assert_no_identifiers(raw)


# ---- audit ---------------------------------------------------------------------------------------------------


def test_every_download_is_audited_with_format_and_no_text(study: Study) -> None:
    rid = study.ids["victim_follow_up"]
    before = len(study.events("library.download"))
    for fmt in ("txt", "docx", "vtt", "srt", "json", "csv"):
        study.get(f"/{rid}", format=fmt, role="admin")
    events = study.events("library.download")[before:]
    assert events == [(rid, {"format": f}) for f in ("txt", "docx", "vtt", "srt", "json", "csv")]
    before = len(study.events("library.export"))
    study.get("/export", format="qdpx", cohort="victim")
    events = study.events("library.export")[before:]
    assert sorted(oid for oid, _ in events) == sorted([study.ids["victim"], rid])
    assert {d["format"] for _, d in events} == {"qdpx"} and len({d["export"] for _, d in events}) == 1
    dump = json.dumps(study.events("library.download") + study.events("library.export")).lower()
    assert "[person" not in dump and "interviewer" not in dump
    from service.audit import service as audit
    from service.core.db import session_scope

    with session_scope(study.runtime.sessions) as s:
        assert audit.verify(db_session=s).ok


def test_shared_spec_is_present() -> None:
    assert Path(XSD).exists(), "the REFI-QDA schema must be beside the checkout (../shared/spec/refi-qda)"
