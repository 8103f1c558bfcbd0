"""`anonscribe redact` on a TXT transcript keeps its "[HH:MM:SS] Speaker:" prefixes, and `anonscribe transcribe
--redact` prints the redacted transcript directly (detector layers as the service runs them, no study map)."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from pipeline.redact import redact_lines
from service.redaction.anonymise import redact_detected
from tests.support.paths import MODEL_CACHE, ROOT, shared

TXT = [
    "[00:01:06] Interviewer: And which force were you with?",
    "",
    "[00:01:09] Participant: West Mids, then GMP. My sergeant was Mark Bellamy.",
    "[01:02:03] Sarah Jenkins: this label is a name",
    "[00:02:10] nobody labelled this line, ring 07700 900461",
]


def test_time_stamps_and_speaker_labels_survive_redaction() -> None:
    out = list(redact_lines(TXT, fmt="text"))
    assert out[0] == TXT[0]
    assert out[1] == ""
    assert out[2].startswith("[00:01:09] Participant: ") and "Bellamy" not in out[2] and "GMP" not in out[2]
    assert out[3].startswith("[01:02:03] ") and "Sarah" not in out[3] and "Jenkins" not in out[3]
    assert out[4] == "[00:02:10] nobody labelled this line, ring [Phone]"
    assert not any("[[" in line for line in out)


def test_jsonl_offsets_point_into_the_input_line_past_the_prefix() -> None:
    rows = [json.loads(x) for x in redact_lines(TXT, fmt="jsonl")]
    line = TXT[2]
    found = [(line[s["start"] : s["end"]], s["label"]) for s in rows[2]["spans"]]
    assert ("GMP", "FORCE") in found and any(f[0] == "Mark Bellamy" for f in found)
    assert all(s["start"] >= len("[00:01:09] Participant: ") for s in rows[2]["spans"])
    name_spans = [(TXT[3][s["start"] : s["end"]]) for s in rows[3]["spans"]]
    assert any("Sarah" in n for n in name_spans)


def test_redact_command_on_a_txt_transcript(tmp_path: Path) -> None:
    path = tmp_path / "t.txt"
    path.write_text("\n".join(TXT) + "\n")
    proc = subprocess.run([sys.executable, "-m", "service.cli", "redact", str(path)], cwd=ROOT,
                          capture_output=True, text=True, timeout=300)
    assert proc.returncode == 0, proc.stderr[-2000:]
    lines = proc.stdout.splitlines()
    assert lines[0] == TXT[0] and lines[2].startswith("[00:01:09] Participant: [Force A], then [Force B].")
    assert "[[" not in proc.stdout and "07700" not in proc.stdout


def test_redact_detected_applies_every_span_to_text_and_words() -> None:
    transcript = {"language": "en", "duration": 4.0, "speakers": [{"slot": "S1", "role": "Participant"}],
                  "segments": [{"start": 0.0, "end": 2.0, "speaker": "S1", "speaker_label": "Participant",
                                "text": " Dave rang me.",
                                "words": [{"start": 0.0, "end": 0.5, "text": " Dave"},
                                          {"start": 0.5, "end": 1.0, "text": " rang"},
                                          {"start": 1.0, "end": 1.5, "text": " me."}]},
                               {"start": 2.0, "end": 4.0, "speaker": "S1", "speaker_label": "Participant",
                                "text": " Then Dave again.", "words": []}]}
    detected = [[{"start": 1, "end": 5, "label": "PERSON", "layers": ["gazetteer"], "confidence": 0.8,
                  "uncertain": False}],
                [{"start": 6, "end": 10, "label": "PERSON"}]]
    doc = redact_detected(transcript, detected)
    assert [s["text"] for s in doc["segments"]] == [" [Person 1] rang me.", " Then [Person 1] again."]
    assert "Dave" not in json.dumps(doc)


@pytest.mark.slow
def test_transcribe_redact_prints_the_redacted_transcript(tmp_path: Path) -> None:
    env = {"ANONSCRIBE_MODEL_CACHE_DIR": str(MODEL_CACHE), "ANONSCRIBE_DATA_DIR": str(tmp_path / "d"),
           "HF_HUB_OFFLINE": "1", "PATH": "/usr/bin:/bin", "PYTHONPATH": str(ROOT)}
    base = [sys.executable, "-m", "service.cli", "transcribe", str(shared("fw_jfk.flac")), "--model", "tiny.en",
            "--no-diarise"]
    plain = subprocess.run(base, capture_output=True, text=True, env=env, timeout=300, cwd=ROOT)
    assert plain.returncode == 0, plain.stderr[-2000:]
    assert "Americans" in plain.stdout
    proc = subprocess.run([*base, "--redact", "--known-name", "Americans"], capture_output=True, text=True,
                          env=env, timeout=300, cwd=ROOT)
    assert proc.returncode == 0, proc.stderr[-2000:]
    assert proc.stdout.startswith("[00:00:00] Participant: ")
    assert "Americans" not in proc.stdout and "[Person 1]" in proc.stdout
    assert "country" in proc.stdout  # the rest of the transcript is there, unredacted
