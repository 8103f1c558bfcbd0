"""Issue 16's "done when" as one walk in Debian's headless Chromium (Selenium, the system driver; see test_browser.py).

pyannote's sample call goes through the real path: uploaded through the API of a live server whose in-process
worker transcribes it (tiny.en, diarisation on, as the embedded default). The reviewer plays the first segment
(the media element's `currentTime` advances), then goes down the transcript once: each segment gets the reference
lines (../shared/data/pyannote_sample.stm, read at run time) it overlaps most, and wherever its text differs from
theirs after normalisation the reviewer listens from the segment, opens its Edit and types the reference text,
saving through the browser form. After approval the researcher's TXT, DOCX and JSON read as the reference word for
word, except that each tag stands for one of its names or one other word (WER 0 against the reference
with tagged spans masked, by alignment), and no name of the reference is left in any of them; the library search
finds a phrase tiny.en misheard, and its turn on the reading page shows the names as tags.
"""

from __future__ import annotations

import io
import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from harness.textnorm import normalise
from tests.support.apps import LiveServer, make_settings, serve
from tests.support.dates import interview_date
from tests.support.paths import shared
from tests.web.test_browser import Walk, browser  # noqa: F401  (the fixture)

pytestmark = pytest.mark.slow

# The places the reference names; its people are the STM's speaker column.
PLACES = ("New Jersey", "Texas", "Chicago")
TAG = "qqtagqq"  # a redaction tag, as one token that survives normalise()
Line = tuple[str, float, float, str]
Segment = tuple[int, float, float]
TAG_RE = re.compile(r"\[[A-Z][A-Za-z]*(?: [A-Za-z0-9]+)*\]")


def reference() -> list[Line]:
    """(speaker, start, end, text) per STM line."""
    lines = []
    for row in shared("pyannote_sample.stm").read_text().splitlines():
        if row.strip():
            _, _, speaker, start, end, text = row.split(maxsplit=5)
            lines.append((speaker, float(start), float(end), text.strip()))
    return lines


def assign(lines: list[Line], segments: list[Segment]) -> dict[int, list[int]]:
    """Each reference line to the segment it overlaps most (the nearest one if it overlaps none)."""
    out: dict[int, list[int]] = {seg: [] for seg, _, _ in segments}
    for i, (_, start, end, _) in enumerate(lines):
        def score(s: Segment, start: float = start, end: float = end) -> tuple[float, float]:
            overlap = min(end, s[2]) - max(start, s[1])
            return (max(overlap, 0.0), -max(s[1] - end, start - s[2], 0.0))
        out[max(segments, key=score)[0]].append(i)
    return out


def masked_alignment(ref: list[str], hyp: list[str], names: list[list[str]]) -> tuple[int, list[str]]:
    """Edits between the reference words and the output's, where a tag in the output may stand at no cost for one
    reference word or one of the names (so a tag cannot hide a word dropped beside a name); and the reference words
    the tags stood for."""
    n, m = len(ref), len(hyp)
    inf = 10**9
    cost = [[inf] * (m + 1) for _ in range(n + 1)]
    back: list[list[tuple[int, int, str] | None]] = [[None] * (m + 1) for _ in range(n + 1)]
    cost[0][0] = 0
    for i in range(n + 1):
        for j in range(m + 1):
            c = cost[i][j]
            if c == inf:
                continue
            steps = []
            if i < n and j < m:
                steps.append((i + 1, j + 1, c + (ref[i] != hyp[j]), "sub"))
            if i < n:
                steps.append((i + 1, j, c + 1, "del"))
            if j < m:
                steps.append((i, j + 1, c + 1, "ins"))
            if j < m and hyp[j] == TAG:
                spans = {1} | {len(name) for name in names if ref[i:i + len(name)] == name}
                steps += [(i + k, j + 1, c, "tag") for k in spans if i + k <= n]
            for ni, nj, nc, kind in steps:
                if nc < cost[ni][nj]:
                    cost[ni][nj], back[ni][nj] = nc, (i, j, kind)
    masked: list[str] = []
    i, j = n, m
    while (i, j) != (0, 0):
        pi, pj, kind = back[i][j]  # type: ignore[misc]
        if kind == "tag":
            masked[:0] = ref[pi:i]
        i, j = pi, pj
    return cost[n][m], masked


def words(text: str) -> list[str]:
    return normalise(TAG_RE.sub(f" {TAG} ", text)).split()


@pytest.fixture
def server(tmp_path: Path) -> Iterator[LiveServer]:
    settings = make_settings(tmp_path, f"sqlite:///{tmp_path / 'data' / 'anonscribe.db'}", diarise=True)
    with serve(settings) as live:
        yield live


def test_correct_every_misheard_word_of_a_real_call_then_read_and_search_it(
    server: LiveServer, browser: Any  # noqa: F811
) -> None:
    import docx

    lines = reference()
    names = tuple(sorted({speaker for speaker, *_ in lines})) + PLACES
    uploader = {"Authorization": f"Bearer {server.tokens['uploader']}"}
    resp = httpx.post(f"{server.url}/api/v1/recordings", headers=uploader,
                      data={"participant_code": "P09", "cohort": "victim", "interview_date": interview_date(),
                            "num_speakers": "2"},
                      files={"file": ("call.wav", shared("pyannote_sample.wav").read_bytes(), "audio/wav")},
                      timeout=60)
    assert resp.status_code == 202, resp.text
    rid = resp.json()["id"]
    w = Walk(browser, server.url)

    def status() -> str:
        return str(httpx.get(f"{server.url}/api/v1/recordings/{rid}", headers=uploader, timeout=30).json()["status"])

    w.wait(lambda: status() in ("needs_review", "failed", "completed", "cancelled"), 900, "the worker")
    assert status() == "needs_review", status()

    w.sign_in(server.tokens["reviewer"])
    w.go(f"/review/{rid}")
    player = w.css("#player")

    def now() -> float:
        return float(w.d.execute_script("return arguments[0].currentTime;", player))

    first = w.css("#seg-0")
    start = float(first.get_attribute("data-start"))
    first.find_element(w.By.CSS_SELECTOR, "a.time").click()
    w.wait(lambda: now() > start + 0.3, 20, "playback of the first segment")

    def on_page() -> list[Segment]:
        return [(int(li.get_attribute("data-segment")), float(li.get_attribute("data-start")),
                 float(li.get_attribute("data-end"))) for li in w.all("ol.segments > li")]

    # A segment no reference line falls in (a hallucination, or a cut inside a word) joins its neighbour first,
    # so that every segment has text to be corrected to.
    for seg, seg_start, seg_end in on_page():
        print(f"heard {seg} {seg_start:.2f}-{seg_end:.2f}: {w.css(f'#text-{seg}').get_attribute('value')!r}")
    while True:
        segments = on_page()
        owners = assign(lines, segments)
        empty = [seg for seg, got in owners.items() if not got]
        if not empty:
            break
        seg = empty[0] if empty[0] < segments[-1][0] else empty[0] - 1
        print(f"merging segment {seg} with the next: no reference line is in {empty[0]}")
        w.css(f"#edit-{seg} > summary").click()
        w.d.execute_script("window.beforeSave = true;")
        w.css(f"form[action$='/segments/merge']:has(input[name='segment'][value='{seg}']) button").click()
        w.wait(lambda: w.d.execute_script("return window.beforeSave === undefined;"), 30, "the merge")
        assert "msg=merged" in w.path(), w.path()
        player = w.css("#player")

    heard: dict[int, str] = {}
    corrected: list[int] = []
    for seg, seg_start, _ in segments:
        box = w.css(f"#text-{seg}")
        before = box.get_attribute("value")
        right = " ".join(lines[i][3] for i in owners[seg])
        heard[seg] = before
        if normalise(before) == normalise(right):
            continue
        print(f"segment {seg}: {before!r} -> {right!r}")
        # Listening as they go: play from the segment, then correct it.
        player = w.css("#player")
        # Centred: the player stays at the top of the window and would take a click at the edge.
        w.d.execute_script("arguments[0].scrollIntoView({block: 'center'});", w.css(f"#seg-{seg}"))
        w.css(f"#seg-{seg} a.time").click()
        w.wait(lambda at=seg_start: now() > at + 0.05, 20, f"playback of segment {seg}")
        w.css(f"#edit-{seg} > summary").click()
        box = w.css(f"#text-{seg}")
        box.clear()
        box.send_keys(right)
        w.d.execute_script("window.beforeSave = true;")  # gone once the form's answer is the page
        w.css(f"#edit-{seg} form.edit-text button[type='submit']").click()
        w.wait(lambda: w.d.execute_script("return window.beforeSave === undefined;"), 30, f"the edit of segment {seg}")
        assert "msg=edited" in w.path(), w.path()
        assert normalise(w.css(f"#text-{seg}").get_attribute("value")) == normalise(right)
        corrected.append(seg)
    print(f"{len(corrected)} of {len(segments)} segments corrected")
    assert corrected, heard

    w.css("#approve-button").click()
    w.wait(lambda: "approved=true" in w.path(), 30, "approval")

    # The researcher's files: the reference, word for word, with the tags where names were.
    researcher = {"Authorization": f"Bearer {server.tokens['researcher']}"}

    def library(fmt: str) -> httpx.Response:
        got = httpx.get(f"{server.url}/api/v1/library/{rid}?format={fmt}", headers=researcher, timeout=30)
        assert got.status_code == 200, (fmt, got.text)
        return got

    stamp_and_speaker = re.compile(r"^\[\d[\d:.]*\] (?:[^:\n]+: )?")
    txt = library("txt").text
    body = {"txt": " ".join(stamp_and_speaker.sub("", line) for line in txt.splitlines() if line.strip())}
    document = docx.Document(io.BytesIO(library("docx").content))
    said = [p.runs[-1].text for p in document.paragraphs if p.runs and re.match(r"\[\d", p.runs[0].text)]
    assert said, [p.text for p in document.paragraphs]
    body["docx"] = " ".join(said)
    doc = library("json").json()
    body["json"] = " ".join(s["text"] for s in doc["segments"])
    ref_words = normalise(" ".join(text for *_, text in lines)).split()
    name_words = sorted({word for name in names for word in normalise(name).split()})
    for fmt, text in body.items():
        errors, masked = masked_alignment(ref_words, words(text), [normalise(name).split() for name in names])
        extra = sorted(set(masked) - set(name_words))
        print(f"{fmt}: {errors} errors against {len(ref_words)} reference words; tags stand for {masked}"
              f" ({extra or 'nothing'} besides the names)")
        assert errors == 0, (fmt, text)
        left = [name for name in names if re.search(rf"\b{name}\b", text, re.IGNORECASE)]
        assert not left, (fmt, left, text)
        assert set(name_words) <= set(masked), (fmt, masked)
    for name in names:
        for fmt, raw in (("txt", txt), ("json", repr(doc)), ("docx", "\n".join(p.text for p in document.paragraphs))):
            assert name.lower() not in raw.lower(), (fmt, name)

    # Search: words tiny.en got wrong (three or four, no name among them) from a corrected segment, by preference
    # from a line that also names someone or somewhere, so that its turn shows the tag.
    name_set = set(name_words)
    candidates = []
    for seg in corrected:
        was = f" {normalise(heard[seg])} "
        for i in owners[seg]:
            said_words = normalise(lines[i][3]).split()
            named = bool(name_set & set(said_words))
            for n in (4, 3):
                for k in range(len(said_words) - n + 1):
                    gram = said_words[k:k + n]
                    if not name_set & set(gram) and f" {' '.join(gram)} " not in was:
                        candidates.append((named, n, seg, " ".join(gram)))
    assert candidates, "no misheard words to search for"
    has_name, _, seg, phrase = max(candidates, key=lambda c: (c[0], c[1], -c[2]))
    print(f"searching for {phrase!r} (heard as {heard[seg]!r})")
    w.sign_out()
    w.sign_in(server.tokens["researcher"])
    w.go("/library")
    w.css("form.search-box input[name='q']").send_keys(f'"{phrase}"')
    w.css("form.search-box button[type='submit']").click()
    w.wait(lambda: w.path().startswith("/library/search?"), what="the search page")
    hits = [h for h in w.all("#hits > li") if phrase in normalise(h.text)]
    assert len(hits) == 1, [h.text for h in w.all("#hits > li")]
    link = hits[0].find_element(w.By.CSS_SELECTOR, ".hit-meta a")
    target = link.get_attribute("href").removeprefix(server.url)
    link.click()
    w.wait(lambda: w.path() == target and target.startswith(f"/library/{rid}#turn-"), what="the reading page")
    turn = w.css(target[target.index("#"):])
    assert phrase in normalise(turn.text)
    page = w.css("main").text.lower()
    assert not [name for name in names if name.lower() in page]
    if has_name:
        assert turn.find_elements(w.By.CSS_SELECTOR, ".redaction"), turn.text
    print(f"turn {target}: {turn.text!r}")
    w.shot("correction-reading")
