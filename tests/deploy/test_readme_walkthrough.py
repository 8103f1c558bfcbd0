"""The README's curl walk-through, run as written: its code blocks become one bash script against a real
`anonscribe serve` (embedded default, default `base` model) started the way scripts/bootstrap starts it.

The outputs the README shows are checked against what the clip really gives here: exactly where they are structure
(statuses, slots, the merge), closely where they are Whisper's words (which may differ slightly on other CPUs)."""

from __future__ import annotations

import os
import re
import signal
import subprocess
from pathlib import Path

import httpx
import jiwer
import pytest

from harness.procs import free_port, wait_until
from harness.textnorm import normalise
from tests.support.paths import MODEL_CACHE, ROOT, SHARED

pytestmark = pytest.mark.slow

README = ROOT / "README.md"


def walkthrough() -> str:
    """The section's bash blocks as one script."""
    text = README.read_text()
    section = text[text.index("## Walk-through with curl"):]
    section = section[: section.index("\n## ", 10)]
    blocks = re.findall(r"```bash\n(.*?)```", section, re.S)
    assert len(blocks) == 2, "the walk-through is two bash blocks"
    return "\n".join(blocks)


def shown(script: str, after: str) -> list[str]:
    """The comment lines the README shows right after the command containing `after`."""
    lines = script.splitlines()
    start = next(i for i, line in enumerate(lines) if after in line and not line.startswith("#"))
    while lines[start].rstrip().endswith("\\"):
        start += 1
    out = []
    for line in lines[start + 1:]:
        if not line.startswith("# "):
            break
        out.append(line[2:])
    return out


def _speaker(line: str) -> str:
    return line.split(": ", 1)[0][11:]


def _seconds(line: str) -> int:
    h, m, sec = (int(x) for x in line[1:9].split(":"))
    return 3600 * h + 60 * m + sec


@pytest.fixture
def server(tmp_path: Path):  # type: ignore[no-untyped-def]
    work = tmp_path / "checkout"
    data = work / "anonscribe-data"
    data.mkdir(parents=True)
    # ../shared/data beside the working directory, as beside a development checkout.
    (tmp_path / "shared").symlink_to(SHARED.parent, target_is_directory=True)
    env = {**os.environ, "ANONSCRIBE_DATA_DIR": str(data), "ANONSCRIBE_MODEL_CACHE_DIR": str(MODEL_CACHE),
           "HF_HUB_OFFLINE": "1", "PYANNOTE_METRICS_ENABLED": "0", "HOME": str(tmp_path)}
    cli = str(ROOT / ".venv" / "bin" / "anonscribe")
    made = subprocess.run([cli, "users", "create", "admin", "--role", "admin"], env=env, capture_output=True,
                          text=True, check=True)
    (data / "admin-token").write_text(made.stdout.split()[-1] + "\n")
    port = free_port()
    proc = subprocess.Popen([cli, "serve", "--host", "127.0.0.1", "--port", str(port)], env=env,
                            stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, start_new_session=True)
    try:
        def ready() -> bool:
            try:
                return httpx.get(f"http://127.0.0.1:{port}/readyz", timeout=1).status_code == 200
            except httpx.HTTPError:
                return False

        wait_until(ready, 120, "anonscribe serve")
        yield work, port
    finally:
        os.killpg(proc.pid, signal.SIGTERM)
        proc.wait(timeout=30)


def test_the_readme_walkthrough_runs_as_written(server) -> None:  # type: ignore[no-untyped-def]
    work, port = server
    script = walkthrough()
    run = subprocess.run(["bash", "-c", "set -euo pipefail\n" + script.replace("127.0.0.1:8000", f"127.0.0.1:{port}")],
                         cwd=work, capture_output=True, text=True, timeout=600)
    assert run.returncode == 0, run.stderr[-3000:]
    out = run.stdout.splitlines()

    # Structure, exactly.
    for command in ("jq -c '{status, duration_s}'", "jq -c '[.[] | {slot, role: .label}]'",
                    "jq -c '[.[] | {slot, role: .label, merged_into}]'", "jq -c '{id, status}'",
                    "jq -c \"{status, segments}\""):
        for line in shown(script, command):
            assert line in out, (command, line, run.stdout)
    added = [line for line in out if line.startswith('[{"id":') and '"label":"LOCATION"' in line]
    assert added and '"segment":16,"start":43,"end":52' in added[0]
    assert "down here" in out  # the offsets the README explains point at the words it names

    # Whisper's words, closely: the raw and the anonymised transcript as shown.
    transcript_shown = shown(script, "transcript?format=txt")
    anonymised_shown = shown(script, "anonymised?format=txt")
    body = [line for line in out if re.match(r"\[\d\d:\d\d:\d\d\] ", line)]
    raw, anonymised = body[: len(transcript_shown)], body[len(transcript_shown):]
    assert len(anonymised) == len(anonymised_shown), run.stdout
    assert jiwer.wer(normalise(" ".join(transcript_shown)), normalise(" ".join(raw))) <= 0.1
    assert jiwer.wer(normalise(" ".join(anonymised_shown)), normalise(" ".join(anonymised))) <= 0.1
    # The speaker labels as shown, and the times within a second (a segment that starts at 6.98 s on one CPU may
    # start at 7.01 s on another); then what the walk-through promises of the result.
    assert [_speaker(line) for line in raw] == [_speaker(line) for line in transcript_shown]
    assert all(abs(_seconds(a) - _seconds(b)) <= 1 for a, b in zip(raw, transcript_shown, strict=True))
    text = "\n".join(anonymised)
    for name in ("Diane", "Sheila", "Chicago", "New Jersey", "Texas", "Yankee", "down here"):
        assert name not in text, name
    diane = next(line for line in anonymised if "This is [Person" in line).split(": ")[0][11:]
    sheila = next(line for line in anonymised if "I'm [Person" in line).split(": ")[0][11:]
    assert {diane, sheila} == {"Victim", "Interviewer"}
    assert (work / "snippet.wav").read_bytes()[:4] == b"RIFF"
