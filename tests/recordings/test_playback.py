"""GET /api/v1/recordings/{id}/audio: the whole recording as 16 kHz mono 16-bit WAV for the review page's player.

Byte ranges as RFC 9110 has them (first bytes, a middle range, a suffix, an open range, 416 past the end), a WAV
header that declares the full length, samples equal to what the pipeline decodes, one audit event per listening
session however many ranges the player asks for, and 410 once the audio is gone.
"""

from __future__ import annotations

import io
import uuid
import wave
from collections.abc import Iterator
from pathlib import Path

import numpy as np
import pytest

from pipeline.decode import decode_audio, to_pcm16
from tests.support.lifecycle import App, approve, audit_rows, frozen, quiet_app, save_as_worker, sweep
from tests.support.paths import shared

RECS = "/api/v1/recordings"


def speech_wav(seconds: float = 12.0) -> bytes:
    """Real speech with a little noise, 16 kHz mono 16-bit: what the service serves back sample for sample."""
    speech = decode_audio(str(shared("azure_en_general_test.wav")))[: int(16_000 * seconds)]
    noise = np.random.default_rng().normal(0, 0.002, speech.size)
    buf = io.BytesIO()
    with wave.open(buf, "wb") as w:
        w.setnchannels(1)
        w.setsampwidth(2)
        w.setframerate(16_000)
        w.writeframes(to_pcm16(np.clip(speech + noise, -1, 1)).tobytes())
    return buf.getvalue()


@pytest.fixture
def app(tmp_path: Path, db_url: str) -> Iterator[App]:
    with frozen() as clock, quiet_app(tmp_path, db_url) as app:
        app.clock = clock  # type: ignore[attr-defined]
        yield app


def get(app: App, rid: str, rng: str | None = None, role: str = "reviewer"):  # type: ignore[no-untyped-def]
    headers = app.h(role) | ({"Range": rng} if rng else {})
    return app.client.get(f"{RECS}/{rid}/audio", headers=headers)


def pcm(wav_bytes: bytes) -> np.ndarray:
    with wave.open(io.BytesIO(wav_bytes)) as w:
        assert (w.getnchannels(), w.getsampwidth(), w.getframerate()) == (1, 2, 16_000)
        return np.frombuffer(w.readframes(w.getnframes()), dtype="<i2")


def listens(app: App) -> list[dict]:
    return [r for r in audit_rows(app.runtime.engine) if r["action"] == "recording.listen"]


def test_the_whole_recording_is_a_wav_of_the_decoded_samples(app: App, media: dict[str, Path]) -> None:
    source = speech_wav()
    rid = app.upload(source)
    resp = get(app, rid)
    assert resp.status_code == 200, resp.text
    assert resp.headers["content-type"] == "audio/wav"
    assert resp.headers["accept-ranges"] == "bytes" and resp.headers["cache-control"] == "no-store"
    assert int(resp.headers["content-length"]) == len(resp.content)
    served = pcm(resp.content)
    # The header declares the full length, from the probed duration: what the media element shows and seeks in.
    assert served.size == 12 * 16_000
    # A 16-bit 16 kHz upload comes back exactly.
    assert np.array_equal(served, pcm(source))

    # A compressed upload: the samples the pipeline decodes (what the transcript's times count on), as 16-bit.
    rid = app.upload(media["m4a"].read_bytes())
    served = pcm(get(app, rid).content)
    decoded = to_pcm16(decode_audio(str(media["m4a"])))
    n = min(served.size, decoded.size)
    assert abs(served.size - decoded.size) <= 16_000 * 0.1  # the probe counts whole AAC frames
    assert np.array_equal(served[:n], decoded[:n])


def test_byte_ranges(app: App) -> None:
    rid = app.upload(speech_wav())
    whole = get(app, rid).content
    size = len(whole)
    cases = {
        "bytes=0-99": (0, 99),  # the header and the first samples
        "bytes=100001-200000": (100_001, 200_000),  # the middle, starting inside a sample
        "bytes=300000-": (300_000, size - 1),  # open: to the end (a seek)
        "bytes=-100": (size - 100, size - 1),  # suffix
        "bytes=40-47": (40, 47),  # across the end of the header
        f"bytes=0-{size + 1000}": (0, size - 1),  # past the end: cut at it
        "bytes=10-20, 5-12": (5, 20),  # several: coalesced into one
    }
    for header, (first, last) in cases.items():
        resp = get(app, rid, header)
        assert resp.status_code == 206, (header, resp.text)
        assert resp.headers["content-range"] == f"bytes {first}-{last}/{size}", header
        assert resp.headers["accept-ranges"] == "bytes"
        assert int(resp.headers["content-length"]) == last - first + 1
        assert resp.content == whole[first : last + 1], header
    for header in (f"bytes={size}-", f"bytes={size + 10}-{size + 20}", "bytes=-0"):
        resp = get(app, rid, header)
        assert resp.status_code == 416, header
        assert resp.headers["content-range"] == f"bytes */{size}"
        assert resp.json() == {"detail": "the requested range lies outside the audio"}
    # Not a range we understand: ignored, the whole body (RFC 9110 allows it).
    for header in ("bytes=abc", "bytes=5-1", "items=0-10", "bytes=" + ",".join(["0-1"] * 20)):
        resp = get(app, rid, header)
        assert resp.status_code == 200 and resp.content == whole, header


def test_middle_ranges_of_a_compressed_recording_match_the_whole(app: App, media: dict[str, Path]) -> None:
    """A range seeks in the container instead of decoding from the start; it lands on the same samples."""
    for name in ("m4a", "mp3", "ogg_opus"):
        rid = app.upload(media[name].read_bytes())
        whole = pcm(get(app, rid).content).astype(np.int32)
        for start_s in (1.7, 4.25):
            first = 44 + int(start_s * 16_000) * 2
            part = np.frombuffer(get(app, rid, f"bytes={first}-{first + 32_000 - 1}").content, dtype="<i2")
            ref = whole[int(start_s * 16_000) :][: part.size]
            # Same timeline (within 1.5 ms: Opus's pre-skip), and the signal matches away from the seek point.
            lags = [int(np.abs(ref[800:8000] - np.roll(part, k)[800:8000]).mean()) for k in range(-600, 601)]
            assert abs(int(np.argmin(lags)) - 600) <= 24, (name, start_s, int(np.argmin(lags)) - 600)
            level = int(np.abs(ref).mean())
            assert min(lags) < max(0.1 * level, 8), (name, start_s, min(lags), level)


def test_one_audit_event_per_listening_session(app: App) -> None:
    rid = app.upload(speech_wav(6))
    for i in range(12):
        assert get(app, rid, f"bytes={i * 10_000}-").status_code == 206
    events = listens(app)
    assert len(events) == 1
    [event] = events
    assert event["object_id"] == rid and event["details"] == {}
    # Another reviewer is another session; the same one, half an hour later, too.
    assert get(app, rid, role="admin").status_code == 200
    assert len(listens(app)) == 2
    app.clock.advance(minutes=31)  # type: ignore[attr-defined]
    get(app, rid, "bytes=0-1")
    assert len(listens(app)) == 3
    # A range past the end serves nothing: nothing to audit.
    app.clock.advance(minutes=31)  # type: ignore[attr-defined]
    assert get(app, rid, "bytes=99999999-").status_code == 416
    assert len(listens(app)) == 3


def test_roles_and_unknown_recordings(app: App) -> None:
    rid = app.upload(speech_wav(3))
    for role in ("uploader", "researcher"):  # the uploader's own recording included
        resp = get(app, rid, role=role)
        assert resp.status_code == 403 and resp.json()["detail"].startswith("your role may not")
    for role in ("reviewer", "admin"):
        assert get(app, uuid.uuid4().hex, role=role).status_code == 404
    assert not listens(app)


def test_gone_after_approval_and_the_retention_sweep(app: App) -> None:
    """AUDIO_RETENTION_AFTER_APPROVAL=0 (the default): the sweep after approval takes the audio; 410 from then on."""
    rid = app.upload(speech_wav(3))
    save_as_worker(app, rid, ["Hello there.", "Hi."])
    assert get(app, rid, "bytes=0-1023").status_code == 206
    approve(app, rid)
    report = sweep(app)
    assert [d["recording_id"] for d in report.audio_deleted] == [rid]
    for rng in (None, "bytes=0-1023", "bytes=-100"):
        resp = get(app, rid, rng)
        assert resp.status_code == 410, resp.text
        assert resp.json() == {"detail": "the audio of this recording has been deleted"}
