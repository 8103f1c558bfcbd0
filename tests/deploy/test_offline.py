"""Nothing reaches a model hub or a telemetry endpoint at run time, even with the offline switches unset.

The CLI runs the whole pipeline (decode, Whisper, pyannote + CAM++ diarisation) in a child process whose
sockets may only reach loopback; every other connection or name lookup is logged and refused. Its HOME is a
temporary directory, which must end with no telemetry queue in it (ONNX Runtime's native code keeps one in
~/.cache/Microsoft and would upload it with its own sockets, out of the guard's sight).
"""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from tests.support.paths import MODEL_CACHE, ROOT, shared

GUARD = '''
import os
import socket

_LOG = os.environ["NETWORK_ATTEMPTS_LOG"]
_LOCAL = {"127.0.0.1", "::1", "localhost", None}


def _refuse(target):
    with open(_LOG, "a", encoding="utf-8") as fh:
        fh.write(f"{target}\\n")
    raise OSError(f"network blocked in this test: {target}")


_connect, _connect_ex, _getaddrinfo = socket.socket.connect, socket.socket.connect_ex, socket.getaddrinfo


def connect(self, address):
    if self.family != socket.AF_UNIX and address[0] not in _LOCAL:
        _refuse(address)
    return _connect(self, address)


def connect_ex(self, address):
    if self.family != socket.AF_UNIX and address[0] not in _LOCAL:
        _refuse(address)
    return _connect_ex(self, address)


def getaddrinfo(host, *args, **kwargs):
    if host not in _LOCAL:
        _refuse(host)
    return _getaddrinfo(host, *args, **kwargs)


socket.socket.connect, socket.socket.connect_ex, socket.getaddrinfo = connect, connect_ex, getaddrinfo
'''


@pytest.fixture
def guarded_env(tmp_path: Path) -> tuple[dict[str, str], Path]:
    site = tmp_path / "site"
    site.mkdir()
    (site / "sitecustomize.py").write_text(GUARD)
    log = tmp_path / "attempts.log"
    # No HF_HUB_OFFLINE, no PYANNOTE_METRICS_ENABLED: the code must set them itself.
    env = {"PATH": "/usr/bin:/bin", "PYTHONPATH": str(site), "NETWORK_ATTEMPTS_LOG": str(log),
           "ANONSCRIBE_MODEL_CACHE_DIR": str(MODEL_CACHE), "ANONSCRIBE_DATA_DIR": str(tmp_path / "data"),
           "ANONSCRIBE_CPU_THREADS": "2", "HOME": str(tmp_path)}
    return env, log


def telemetry_files(home: Path) -> list[str]:
    return sorted(str(p.relative_to(home)) for p in (home / ".cache" / "Microsoft").rglob("*"))


def test_the_telemetry_check_sees_onnxruntime_s_queue(guarded_env: tuple[dict[str, str], Path],
                                                       tmp_path: Path) -> None:
    """The check below can fail: onnxruntime imported without the pipeline's switch writes its queue."""
    env, _ = guarded_env
    subprocess.run([sys.executable, "-c", "import onnxruntime"], env=env, cwd=ROOT, check=True, timeout=120)
    assert ".cache/Microsoft/DeveloperTools/.onnxruntime/onnxruntime.db" in telemetry_files(tmp_path)


def test_loading_the_pipeline_writes_no_telemetry(guarded_env: tuple[dict[str, str], Path], tmp_path: Path) -> None:
    """Every way the pipeline loads onnxruntime (pyannote's pipelines, faster-whisper's Silero VAD session)."""
    env, log = guarded_env
    code = ("import pipeline.diarise, pipeline.asr\n"
            "import pyannote.audio.pipelines\n"
            "from faster_whisper.vad import get_vad_model\n"
            "get_vad_model()\n")
    proc = subprocess.run([sys.executable, "-c", code], env=env, cwd=ROOT, capture_output=True, text=True,
                          timeout=300)
    assert proc.returncode == 0, proc.stderr[-2000:]
    assert telemetry_files(tmp_path) == []
    assert not log.exists(), log.read_text()


def test_the_guard_catches_a_hub_request(guarded_env: tuple[dict[str, str], Path]) -> None:
    env, log = guarded_env
    code = "import huggingface_hub; huggingface_hub.model_info('pyannote/segmentation-3.0')"
    proc = subprocess.run([sys.executable, "-c", code], env=env, capture_output=True, text=True, timeout=120)
    assert proc.returncode != 0
    assert "huggingface.co" in log.read_text()


@pytest.mark.slow
def test_transcribing_with_diarisation_opens_no_outside_connection(guarded_env: tuple[dict[str, str], Path],
                                                                  tmp_path: Path) -> None:
    env, log = guarded_env
    out = tmp_path / "sample.rttm"
    proc = subprocess.run([sys.executable, "-m", "service.cli", "transcribe", str(shared("pyannote_sample.wav")),
                           "--model", "tiny.en", "--format", "rttm", "-o", str(out)],
                          env=env, cwd=ROOT, capture_output=True, text=True, timeout=600)
    assert proc.returncode == 0, proc.stderr[-2000:]
    assert not log.exists(), log.read_text()
    assert telemetry_files(tmp_path) == []
    speakers = {line.split()[7] for line in out.read_text().splitlines()}
    assert speakers == {"Interviewer", "Participant"}
