"""Build tests/data/redaction_whisper.jsonl: what Whisper `base` really writes for scripted interview lines.

    python tests/data/build_redaction_whisper.py             # speak, transcribe, align, write the jsonl
    python tests/data/build_redaction_whisper.py --check     # offsets and hand fixes only (no audio, no model)
    python tests/data/build_redaction_whisper.py --split dev # the same for redaction_whisper_dev.* (tuned on)

The held-out "whisper" split (the default) is never tuned on; the "dev" split (redaction_whisper_dev.*) was written
later with other people, places and forces, for tuning.

Each line of redaction_whisper.src.txt (markup [[surface|LABEL]], "## doc", "## voice NAME SPEED") is spoken by
espeak-ng with its doc's voice and speed, resampled to 16 kHz by sox, and transcribed by pipeline.asr with the
packaged `base` model, one line per clip. The script's gold spans are carried over to Whisper's words by aligning the
two token sequences (difflib): a span covers whatever Whisper wrote in its place, so a mangled name ("Okafor" ->
"Okefa") is still the span to redact. Where Whisper dropped an identifier altogether there is nothing to redact and
no gold span. redaction_whisper.fix.txt holds the hand corrections made after checking every aligned line:
"<id> <TAB> <marked text>" replaces that record's text and spans (the text must stay what Whisper wrote).
The audio is made in a temporary directory and never kept.
"""

from __future__ import annotations

import difflib
import json
import os
import re
import subprocess
import sys
import tempfile
import wave
from pathlib import Path

HERE = Path(__file__).parent
ROOT = HERE.parent.parent
sys.path.insert(0, str(HERE))

from build_redaction_dev import parse_line  # noqa: E402

# split name -> file stem and the "split" field its records carry
SPLITS = {"whisper": ("redaction_whisper", "whisper"), "dev": ("redaction_whisper_dev", "whisper-dev")}
_STEM, SPLIT = SPLITS["dev" if "dev" in sys.argv[sys.argv.index("--split") + 1:][:1] else "whisper"] \
    if "--split" in sys.argv else SPLITS["whisper"]
SOURCE = HERE / f"{_STEM}.src.txt"
FIXES = HERE / f"{_STEM}.fix.txt"
TARGET = HERE / f"{_STEM}.jsonl"
_TOKEN = re.compile(r"[^\W_]+(?:['\u2019][^\W_]+)*")


def script() -> list[tuple[str, str, int, list[str]]]:
    """(doc, voice, speed, marked lines) in file order."""
    docs: list[tuple[str, str, int, list[str]]] = []
    for raw in SOURCE.read_text(encoding="utf-8").splitlines():
        line = raw.strip()
        if line.startswith("## doc "):
            docs.append((line[7:].strip(), "en-gb", 160, []))
        elif line.startswith("## voice ") and docs:
            voice, speed = line[9:].split()
            docs[-1] = (docs[-1][0], voice, int(speed), docs[-1][3])
        elif line and not line.startswith("#") and docs:
            docs[-1][3].append(line)
    return docs


def speak(text: str, voice: str, speed: int, workdir: Path):  # type: ignore[no-untyped-def]
    import numpy as np

    raw, wav16 = workdir / "raw.wav", workdir / "16k.wav"
    subprocess.run(["espeak-ng", "-v", voice, "-s", str(speed), "-w", str(raw), text], check=True)
    # A second of silence either side: Whisper's VAD clips speech that starts at the very first sample.
    subprocess.run(["sox", str(raw), "-r", "16000", "-c", "1", "-b", "16", str(wav16), "pad", "0.5", "0.5"],
                   check=True)
    with wave.open(str(wav16)) as w:
        pcm = np.frombuffer(w.readframes(w.getnframes()), dtype=np.int16)
    return pcm.astype(np.float32) / 32768.0


def _tokens(text: str) -> list[tuple[str, int, int]]:
    return [(m.group().lower().replace("\u2019", "'"), m.start(), m.end()) for m in _TOKEN.finditer(text)]


def align(script_text: str, spans: list[dict], asr_text: str) -> list[dict]:
    """The script's spans moved onto the ASR text: each span covers the ASR tokens its own tokens aligned with (a
    replaced stretch maps whole onto what replaced it)."""
    a, b = _tokens(script_text), _tokens(asr_text)
    # script token index -> ASR token index range
    where: dict[int, tuple[int, int]] = {}
    matcher = difflib.SequenceMatcher(a=[t[0] for t in a], b=[t[0] for t in b], autojunk=False)
    for op, i1, i2, j1, j2 in matcher.get_opcodes():
        for i in range(i1, i2):
            if op == "equal":
                where[i] = (j1 + i - i1, j1 + i - i1 + 1)
            elif op == "replace":
                where[i] = (j1, j2)
    out = []
    for sp in spans:
        idx = [i for i, t in enumerate(a) if sp["start"] <= t[1] < sp["end"]]
        ranges = [where[i] for i in idx if i in where and where[i][1] > where[i][0]]
        if not ranges:
            continue  # Whisper left it out: nothing to redact
        lo, hi = min(r[0] for r in ranges), max(r[1] for r in ranges)
        out.append({"start": b[lo][1], "end": b[hi - 1][2], "label": sp["label"]})
    return out


def fixes() -> dict[str, str]:
    if not FIXES.exists():
        return {}
    out = {}
    for raw in FIXES.read_text(encoding="utf-8").splitlines():
        if raw.strip() and not raw.startswith("#"):
            rid, _, marked = raw.partition("\t")
            out[rid.strip()] = marked
    return out


def apply_fixes(records: list[dict]) -> list[dict]:
    fix = fixes()
    for r in records:
        if r["id"] in fix:
            text, spans = parse_line(fix[r["id"]])
            if text != r["text"]:
                raise ValueError(f"{r['id']}: the fix changes Whisper's text ({text!r} != {r['text']!r})")
            for s in spans:
                s.pop("_surface")
            r["spans"] = spans
            r["fixed"] = True
    return records


def transcribe_all() -> list[dict]:
    os.environ.setdefault("HF_HUB_OFFLINE", "1")
    sys.path.insert(0, str(ROOT))
    from pipeline import asr, weights

    cache = Path(os.environ.get("ANONSCRIBE_MODEL_CACHE", ROOT / ".cache" / "models"))
    options = asr.AsrOptions(model_path=weights.resolve_model("base", cache_dir=cache), model_name="base")
    records = []
    with tempfile.TemporaryDirectory() as tmp:
        for doc, voice, speed, lines in script():
            for j, marked in enumerate(lines):
                said, spans = parse_line(marked)
                segments, _ = asr.transcribe(speak(said, voice, speed, Path(tmp)), options=options)
                heard = " ".join(s.text.strip() for s in segments).strip()
                rec = {"id": f"{doc}-{j}", "doc": doc, "text": heard, "spans": align(said, spans, heard),
                       "split": SPLIT, "source": "whisper", "voice": f"{voice} {speed}", "script": said}
                records.append(rec)
                print(f"{rec['id']}: {heard}", file=sys.stderr)
    return records


def check(records: list[dict]) -> None:
    for r in records:
        for s in r["spans"]:
            assert 0 <= s["start"] < s["end"] <= len(r["text"]), r
            assert r["text"][s["start"]:s["end"]].strip() == r["text"][s["start"]:s["end"]], r


def main() -> int:
    if "--check" in sys.argv:
        records = [json.loads(x) for x in TARGET.read_text(encoding="utf-8").splitlines() if x.strip()]
        fixed = apply_fixes([{**r, "spans": list(r["spans"])} for r in records])
        check(fixed)
        if fixed != records:
            print(f"{TARGET.name} does not carry its hand fixes: rebuild it", file=sys.stderr)
            return 1
        return 0
    if "--refix" in sys.argv:  # re-apply redaction_whisper.fix.txt to the committed transcripts (no audio)
        records = [json.loads(x) for x in TARGET.read_text(encoding="utf-8").splitlines() if x.strip()]
    else:
        records = transcribe_all()
    records = apply_fixes(records)
    check(records)
    TARGET.write_text("".join(json.dumps(r, ensure_ascii=False) + "\n" for r in records), encoding="utf-8")
    print(f"{len(records)} utterances, {sum(len(r['spans']) for r in records)} spans, "
          f"{sum(1 for r in records if r.get('fixed'))} fixed by hand")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
