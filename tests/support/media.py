"""Generated media: real speech re-encoded with ffmpeg into the containers uploads arrive in."""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

import pytest

from tests.support.paths import shared


def ffmpeg(*args: str) -> None:
    if shutil.which("ffmpeg") is None:
        pytest.skip("ffmpeg not installed")
    subprocess.run(["ffmpeg", "-hide_banner", "-loglevel", "error", "-y", *args], check=True)


def build_media(out: Path) -> dict[str, Path]:
    """Real speech (the Azure clip, first 8 s) in every container Teams and phones produce, written into `out`."""
    src = shared("azure_en_general_test.wav")
    speech = ["-ss", "0", "-t", "8", "-i", str(src)]
    files = {
        "wav_mono": ("-ac", "1", "-c:a", "pcm_s16le"),
        "wav_stereo": ("-ac", "2", "-c:a", "pcm_s16le"),
        "m4a": ("-c:a", "aac", "-b:a", "64k"),
        "mp3": ("-c:a", "libmp3lame", "-b:a", "64k"),
        "ogg_opus": ("-c:a", "libopus", "-b:a", "32k"),
        "webm": ("-c:a", "libopus", "-b:a", "32k"),
        "flac": (
            "-c:a",
            "flac",
        ),
    }
    ext = {
        "wav_mono": "wav",
        "wav_stereo": "wav",
        "m4a": "m4a",
        "mp3": "mp3",
        "ogg_opus": "ogg",
        "webm": "webm",
        "flac": "flac",
    }
    paths: dict[str, Path] = {}
    for name, codec in files.items():
        path = out / f"{name}.{ext[name]}"
        ffmpeg(*speech, *codec, str(path))
        paths[name] = path
    video = [
        "-f",
        "lavfi",
        "-i",
        "color=c=gray:s=320x240:r=15",
        "-shortest",
        "-c:v",
        "libx264",
        "-pix_fmt",
        "yuv420p",
        "-c:a",
        "aac",
        "-b:a",
        "64k",
    ]
    # ffmpeg's default puts `moov` at the end, as Teams exports often do.
    paths["mp4_moov_end"] = out / "teams.mp4"
    ffmpeg(*speech, *video, str(paths["mp4_moov_end"]))
    paths["mp4_faststart"] = out / "faststart.mp4"
    ffmpeg(*speech, *video, "-movflags", "+faststart", str(paths["mp4_faststart"]))
    paths["mp4_no_audio"] = out / "silent-video.mp4"
    ffmpeg(
        "-f",
        "lavfi",
        "-i",
        "color=c=gray:s=160x120:r=10",
        "-t",
        "3",
        "-c:v",
        "libx264",
        "-pix_fmt",
        "yuv420p",
        str(paths["mp4_no_audio"]),
    )
    paths["wav_short"] = out / "short.wav"
    ffmpeg("-ss", "0", "-t", "0.5", "-i", str(src), "-c:a", "pcm_s16le", str(paths["wav_short"]))
    return paths
