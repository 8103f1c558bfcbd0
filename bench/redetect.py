"""What one correction costs in redaction: detecting an edited segment again, in a long interview.

An edit re-runs detection over the corrected transcript so that a name typed into one segment propagates to the
others (service/redaction/corrections.py). Running every layer and the spaCy model over every segment again costs
seconds per edit in an hour's interview; with `Detector.detect_document(known=...)` the layers run on the changed
segment only and the others take part in propagation with the spans they have. This prints both, for transcripts of
100 and 600 segments (600 is about an hour of two-person interview), the minimum of `--repeats` runs.

Run from the repository root: ``python -m bench.redetect`` (about a minute on 2 cores).
"""

from __future__ import annotations

import argparse
import os
import time

os.environ.setdefault("HF_HUB_OFFLINE", "1")

# Interview-like utterances with the identifiers the layers look for (invented names).
LINES = [
    "Thank you for agreeing to talk to me. How long have you worked in this area?",
    "I'm Mark Bellamy, I've been with Greater Manchester Police for nine years.",
    "And I joined the public protection unit in 2019, working with Mark Bellamy.",
    "How do victims usually first contact you?",
    "Mostly by phone. One victim, Sarah Mitchell, rang us on 07700 900123 after the images appeared.",
    "We met Sarah Mitchell at Longsight station on the third of March.",
    "What happened after that?",
    "She said her ex-partner had posted them, and we took her statement the same week.",
]
EDITED = "I told Dawn Okafor about it, and Mark said so too."


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--repeats", type=int, default=3)
    args = parser.parse_args()
    from pipeline.redact import load_detector

    detector = load_detector(known_names=["Mark Bellamy"])
    detector.detect_document(LINES)  # the model loads once, untimed
    for n in (100, 600):
        texts = [LINES[i % len(LINES)] for i in range(n)]
        stored = detector.detect_document(texts)
        edited = list(texts)
        edited[n // 2] = EDITED
        known = [list(spans) for spans in stored]
        known[n // 2] = None
        full, one = [], []
        for _ in range(args.repeats):
            t = time.perf_counter()
            detector.detect_document(edited)
            full.append(time.perf_counter() - t)
            t = time.perf_counter()
            found = detector.detect_document(edited, known=known)
            one.append(time.perf_counter() - t)
        assert any("Okafor" in s.text for s in found[n // 2])
        print(f"{n:4d} segments: every segment through the layers {min(full):6.2f} s; "
              f"the edited one only (the rest propagation) {min(one):5.2f} s")


if __name__ == "__main__":
    main()
