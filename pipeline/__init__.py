"""The pipeline: decode, ASR, diarisation, alignment, redaction. No database, HTTP, queue or key in here."""

import os

# ONNX Runtime (loaded by faster-whisper's Silero VAD and by pyannote.audio's pipelines) otherwise starts its
# telemetry when imported: a queue in ~/.cache/Microsoft/DeveloperTools/.onnxruntime holding a device id, the OS,
# CPU and paths, meant for upload. Only this variable, read at import, stops it (`disable_telemetry_events()`
# after import does not); it is forced, not defaulted, since nothing here may phone home. Set before any
# submodule can import onnxruntime.
os.environ["ORT_DISABLE_TELEMETRY"] = "1"
