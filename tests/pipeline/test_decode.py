"""Decoding from the encrypted blob gives exactly the samples decoding the plaintext gives."""

from __future__ import annotations

import io
from pathlib import Path

import numpy as np
import pytest

from pipeline.decode import DecodeError, decode_audio
from service.core.crypto import MasterKey
from service.core.sealed import SealedStore
from service.core.storage import LocalBlobStore

FORMATS = ["mp4_moov_end", "mp4_faststart", "m4a", "mp3", "ogg_opus", "webm", "flac", "wav_stereo", "wav_mono"]


class CountingReader(io.RawIOBase):
    """Wraps the decrypting reader to record the largest single read: decoding must stream."""

    def __init__(self, inner: io.RawIOBase) -> None:
        self.inner = inner
        self.max_read = 0

    def readable(self) -> bool:
        return True

    def seekable(self) -> bool:
        return True

    def seek(self, offset: int, whence: int = 0) -> int:
        return self.inner.seek(offset, whence)

    def tell(self) -> int:
        return self.inner.tell()

    def readinto(self, buffer) -> int:  # type: ignore[no-untyped-def]
        n = self.inner.readinto(buffer)
        self.max_read = max(self.max_read, n or 0)
        return n


def sealed_copy(tmp_path: Path, path: Path, *, segment: int = 64 * 1024):  # type: ignore[no-untyped-def]
    store = SealedStore(LocalBlobStore(tmp_path / "blobs"), MasterKey.generate(tmp_path / "mk.json"),
                        segment_size=segment)
    upload = store.begin(object_id="rec")
    data = path.read_bytes()
    for i in range(0, len(data), 10_000):
        upload.write(data[i : i + 10_000])
    upload.finish()
    return upload


@pytest.mark.parametrize("fmt", FORMATS)
def test_encrypted_decode_equals_plaintext_decode(tmp_path: Path, media: dict[str, Path], fmt: str) -> None:
    path = media[fmt]
    upload = sealed_copy(tmp_path, path)
    reader = CountingReader(upload.open_reader(object_id="rec"))
    from_blob = decode_audio(reader)
    from_plain = decode_audio(io.BytesIO(path.read_bytes()))
    assert from_blob.dtype == np.float32 and from_blob.ndim == 1
    # 8 s of speech at 16 kHz mono, give or take codec priming/padding.
    assert abs(len(from_blob) - 8 * 16_000) < 0.1 * 16_000
    np.testing.assert_array_equal(from_blob, from_plain)
    assert np.abs(from_blob).max() > 0.05  # real signal, not silence
    assert reader.max_read <= 64 * 1024  # never more than one segment at a time
    # Ciphertext on disk does not contain the plaintext.
    blob = next((tmp_path / "blobs").rglob("*.blob")).read_bytes()
    assert path.read_bytes()[1000:1064] not in blob


def test_moov_at_end_really_needs_seeking(media: dict[str, Path]) -> None:
    """Guards the premise of the segmented format: a forward-only stream can't open this MP4."""
    data = media["mp4_moov_end"].read_bytes()
    assert data.find(b"moov") > data.find(b"mdat")

    class ForwardOnly(io.RawIOBase):
        def __init__(self) -> None:
            self.buf = io.BytesIO(data)

        def readable(self) -> bool:
            return True

        def readinto(self, b) -> int:  # type: ignore[no-untyped-def]
            return self.buf.readinto(b)

    with pytest.raises(DecodeError):
        decode_audio(ForwardOnly())


def test_stereo_is_downmixed_not_one_channel(tmp_path: Path) -> None:
    """Left and right carry different tones: the mono mix must contain both."""
    import av

    sr = 16_000
    t = np.arange(sr * 2) / sr
    left, right = 0.5 * np.sin(2 * np.pi * 440 * t), 0.5 * np.sin(2 * np.pi * 1000 * t)
    path = tmp_path / "tones.wav"
    with av.open(str(path), "w") as out:
        stream = out.add_stream("pcm_s16le", rate=sr, layout="stereo")
        frame = av.AudioFrame.from_ndarray(
            (np.stack([left, right]) * 32767).astype(np.int16).T.reshape(1, -1), format="s16", layout="stereo"
        )
        frame.sample_rate = sr
        for packet in stream.encode(frame):
            out.mux(packet)
        for packet in stream.encode(None):
            out.mux(packet)
    mono = decode_audio(str(path))
    spectrum = np.abs(np.fft.rfft(mono[:sr]))
    freqs = np.fft.rfftfreq(sr, 1 / sr)
    assert spectrum[np.argmin(np.abs(freqs - 440))] > 100
    assert spectrum[np.argmin(np.abs(freqs - 1000))] > 100
