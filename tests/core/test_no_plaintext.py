"""No plaintext audio or transcript text ever touches disk."""

from __future__ import annotations

import io
import os
import tempfile
import time
import uuid
import wave
from pathlib import Path

import httpx
import numpy as np
import pytest
import sqlalchemy as sa

from pipeline.decode import decode_audio
from tests.support.dates import interview_date
from tests.support.paths import shared

PROBE = 64
STEP = 4096


def unique_wav() -> bytes:
    """Real speech plus a little random noise: these exact bytes exist only in this process's memory."""
    speech = decode_audio(str(shared("azure_en_general_test.wav")))[: 16_000 * 12]
    noise = np.random.default_rng().normal(0, 0.002, speech.size)
    pcm = (np.clip(speech + noise, -1, 1) * 32767).astype("<i2").tobytes()
    buf = io.BytesIO()
    with wave.open(buf, "wb") as w:
        w.setnchannels(1)
        w.setsampwidth(2)
        w.setframerate(16_000)
        w.writeframes(pcm)
    return buf.getvalue()


def files_under(root: Path, since: float | None = None) -> list[Path]:
    out = []
    for dirpath, _dirs, names in os.walk(root, onerror=lambda e: None):
        for name in names:
            p = Path(dirpath) / name
            try:
                st = p.lstat()
            except OSError:
                continue
            if not p.is_file() or p.is_symlink() or st.st_size > 512 * 1024 * 1024:
                continue
            if since is not None and max(st.st_mtime, st.st_ctime) < since:
                continue
            out.append(p)
    return out


def leaks(paths: list[Path], needles: list[bytes]) -> list[tuple[str, int]]:
    found = []
    for p in paths:
        try:
            content = p.read_bytes()
        except OSError:
            continue
        for i, needle in enumerate(needles):
            if needle in content:
                found.append((str(p), i))
                break
    return found


@pytest.mark.slow
@pytest.mark.full_pipeline
def test_no_plaintext_on_disk(live_server) -> None:  # type: ignore[no-untyped-def]
    started = time.time() - 1
    data = unique_wav()
    # Every 4 KiB run of the upload contains one of these aligned 64-byte probes.
    probes = [data[i : i + PROBE] for i in range(STEP, len(data) - PROBE, STEP // 2)]
    headers = {"Authorization": f"Bearer {live_server.tokens['uploader']}"}
    with httpx.Client(base_url=live_server.url, timeout=60) as client:
        resp = client.post(
            "/api/v1/recordings",
            headers=headers,
            data={"participant_code": "P11", "cohort": "victim", "interview_date": interview_date()},
            files={"file": ("interview.wav", data, "audio/wav")},
        )
        assert resp.status_code == 202, resp.text
        rid = resp.json()["id"]
        deadline = time.time() + 120
        while time.time() < deadline:
            body = client.get(f"/api/v1/recordings/{rid}", headers=headers).json()
            if body["status"] in ("needs_review", "completed", "failed"):
                break
            time.sleep(0.3)
        assert body["status"] == "needs_review", body
        reviewer = {"Authorization": f"Bearer {live_server.tokens['reviewer']}"}
        transcript = client.get(f"/api/v1/recordings/{rid}/transcript", headers=reviewer).json()
        # The review page's player: the whole recording decoded, then a seek, both only ever in memory.
        served = client.get(f"/api/v1/recordings/{rid}/audio", headers=reviewer)
        seek = client.get(f"/api/v1/recordings/{rid}/audio", headers={**reviewer, "Range": "bytes=100001-"})
        assert served.status_code == 200 and seek.status_code == 206
        assert seek.content == served.content[100_001:]
        # A reviewer's corrections: an edited segment (with a name typed in) and a split, sealed as versions.
        marker = f"Quillfeather Okonkwo {uuid.uuid4().hex[:10]} corrected"
        edited = f"{transcript['segments'][0]['text'].strip()} {marker}"
        resp = client.patch(f"/api/v1/recordings/{rid}/segments/0", headers=reviewer, json={"text": edited})
        assert resp.status_code == 200, resp.text
        assert client.post(f"/api/v1/recordings/{rid}/segments/0/split", headers=reviewer,
                           json={"word": 1}).status_code == 200
        review = client.get(f"/api/v1/recordings/{rid}/review", headers=reviewer).json()
        assert marker.split()[-2] in " ".join(s["text"] for s in review["segments"])  # the edit is really there
    # A 16-bit 16 kHz upload is served back sample for sample: the upload's probes are the served audio's too.
    assert served.content[44:] == data[44:]
    words = [w["text"].strip() for s in transcript["segments"] for w in s["words"]]
    assert len(words) > 20
    # Distinctive phrases (4 consecutive words) and every longer word on its own.
    phrases = [" ".join(words[i : i + 4]).encode() for i in range(0, len(words) - 4, 2)]
    long_words = sorted({w.strip(".,?!").encode() for w in words if len(w.strip(".,?!")) >= 9})
    assert long_words, "the clip should contain some long words"

    data_dir = Path(live_server.settings.data_dir)
    data_files = files_under(data_dir)
    assert any(p.suffix == ".blob" for p in data_files)
    assert any(p.name.startswith("anonscribe.db") for p in data_files) or "postgresql" in str(
        live_server.settings.database_url
    )
    tmp_files = files_under(Path(tempfile.gettempdir()), since=started)
    assert not leaks(data_files + tmp_files, probes), "plaintext audio found on disk"
    assert not leaks(data_files + tmp_files, phrases), "transcript text found on disk"
    assert not leaks(data_files, long_words), "a transcript word found in the data dir"
    edit_needles = [marker.encode(), marker.split()[-2].encode()]
    assert not leaks(data_files + tmp_files, edit_needles), "edited transcript text found on disk"
    # ... nor in any column of any table (PostgreSQL keeps its files elsewhere: read them through SQL).
    with live_server.runtime.engine.connect() as conn:
        for table in sa.inspect(conn).get_table_names():
            for row in conn.execute(sa.text(f"SELECT * FROM {table}")):
                cells = b"|".join(bytes(v) if isinstance(v, bytes | memoryview) else str(v).encode() for v in row)
                assert not any(n in cells for n in edit_needles), f"edited text in {table}"
    # The needles are real: the same search finds them in a plaintext copy.
    canary = data_dir / "canary.bin"
    canary.write_bytes(data[5000:20000] + b" ".join(phrases[:1]) + marker.encode())
    assert leaks([canary], probes) and leaks([canary], phrases) and leaks([canary], edit_needles)
    canary.unlink()
