"""Build tests/data/redaction_dev.jsonl from its hand-written markup source, checking every gold offset.

    python tests/data/build_redaction_dev.py          # rebuild and print the set's make-up
    python tests/data/build_redaction_dev.py --check  # fail if the jsonl is stale or any offset is wrong

The split is fixed by transcript order (every 7th transcript's 3rd and 6th go to "frozen"), so adding lines at the
end never moves an existing utterance between splits. Frozen utterances are never looked at while tuning.
"""

from __future__ import annotations

import json
import re
import sys
from pathlib import Path

HERE = Path(__file__).parent
SOURCE = HERE / "redaction_dev.src.txt"
TARGET = HERE / "redaction_dev.jsonl"
LABELS = {"PERSON", "OFFICER", "FORCE", "LOCATION", "ORGANISATION", "DATE", "TIME", "PHONE", "EMAIL", "URL",
          "HANDLE", "POSTCODE", "ID", "VEHICLE", "AGE", "OPERATION", "ADDRESS", "GROUP"}
_MARK = re.compile(r"\[\[([^\[\]|]+)\|([A-Z]+)\]\]")


def parse_line(marked: str) -> tuple[str, list[dict]]:
    text, spans, pos = [], [], 0
    out_len = 0
    for m in _MARK.finditer(marked):
        plain = marked[pos : m.start()]
        text.append(plain)
        out_len += len(plain)
        surface, label = m.group(1), m.group(2)
        if label not in LABELS:
            raise ValueError(f"unknown label {label!r} in {marked!r}")
        spans.append({"start": out_len, "end": out_len + len(surface), "label": label, "_surface": surface})
        text.append(surface)
        out_len += len(surface)
        pos = m.end()
    text.append(marked[pos:])
    joined = "".join(text)
    if "[[" in joined or "]]" in joined:
        raise ValueError(f"unbalanced markup in {marked!r}")
    return joined, spans


def transcripts(source: str) -> list[tuple[str, list[str], list[str]]]:
    """(doc name, known names, marked lines) in file order."""
    docs: list[tuple[str, list[str], list[str]]] = []
    current: tuple[str, list[str], list[str]] | None = None
    for raw in source.splitlines():
        line = raw.rstrip()
        if line.startswith("## doc "):
            current = (line[7:].strip(), [], [])
            docs.append(current)
        elif line.startswith("## known ") and current is not None:
            current[1].extend(n.strip() for n in line[9:].split(";") if n.strip())
        elif not line:
            current = None
        elif line.startswith("#"):
            continue
        elif current is not None:
            current[2].append(line)
        else:
            docs.append((f"u{len(docs):03d}", [], [line]))
    return docs


def build() -> list[dict]:
    records = []
    for i, (doc, known, lines) in enumerate(transcripts(SOURCE.read_text(encoding="utf-8"))):
        split = "frozen" if i % 7 in (2, 5) else "dev"
        for j, marked in enumerate(lines):
            text, spans = parse_line(marked)
            for sp in spans:  # the check the brief asks for: offsets reproduce the marked surface exactly
                assert text[sp["start"] : sp["end"]] == sp.pop("_surface"), (marked, sp)
            rec = {"id": f"{doc}-{j}", "doc": doc, "text": text, "spans": spans, "split": split}
            if known:
                rec["known_names"] = known
            records.append(rec)
    return records


def describe(records: list[dict]) -> str:
    n = len(records)
    lower = sum(1 for r in records if r["text"] == r["text"].lower() and not re.search(r"[.,?!]", r["text"]))
    caps = sum(1 for r in records if r["text"] == r["text"].upper() and re.search(r"[A-Z]", r["text"]))
    neg = sum(1 for r in records if not r["spans"])
    frozen = sum(1 for r in records if r["split"] == "frozen")
    labels: dict[str, int] = {}
    for r in records:
        for s in r["spans"]:
            labels[s["label"]] = labels.get(s["label"], 0) + 1
    return (f"{n} utterances, {sum(labels.values())} gold spans; lower-case unpunctuated {lower} ({lower / n:.0%}), "
            f"ALL CAPS {caps}, negatives {neg}, frozen {frozen} ({frozen / n:.0%})\n"
            + ", ".join(f"{k} {v}" for k, v in sorted(labels.items())))


def main() -> int:
    records = build()
    body = "".join(json.dumps(r, ensure_ascii=False) + "\n" for r in records)
    if "--check" in sys.argv:
        if TARGET.read_text(encoding="utf-8") != body:
            print("redaction_dev.jsonl is stale: rebuild it", file=sys.stderr)
            return 1
    else:
        TARGET.write_text(body, encoding="utf-8")
    # Independent re-check of what was written: every offset reproduces a marked surface, in order.
    for r in (json.loads(x) for x in TARGET.read_text(encoding="utf-8").splitlines()):
        last = 0
        for s in r["spans"]:
            assert last <= s["start"] < s["end"] <= len(r["text"]), r
            assert r["text"][s["start"] : s["end"]].strip() == r["text"][s["start"] : s["end"]], r
            last = s["end"]
    print(describe(records))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
