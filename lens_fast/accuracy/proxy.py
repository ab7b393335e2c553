"""Training-free scores of an untrained network, and their map to an error estimate.

* ``naswot`` (Mellor et al., ICML 2021): the binary ReLU codes of a batch of `batch`
  training images give a kernel ``K = C C^T + (1 - C)(1 - C)^T`` (agreements between
  images' codes); the score is ``log |det K|``, reported per image (divided by `batch`).
  Networks whose ReLUs separate the images better score higher.
* ``synflow`` (Tanaka et al., NeurIPS 2020): with all weights made positive and an
  all-ones input in float64, ``log sum |theta * dR/dtheta|`` where R is the sum of the
  outputs (BatchNorm in eval mode). Data-free.

`estimate_error` maps a score to a test error estimate in (0, 0.9) with a logistic
curve fitted by least squares to the (score, trained error) pairs of
`bench/bench_training.py` (CIFAR-10, see `CALIBRATION`); it is strictly monotone, so
the proxy's ranking is kept exactly, and 0.9 is chance error for 10 classes.

Measured (bench/README.md; 32 architectures of the space under 1 GMAC, each trained
1 epoch on 2,000 CIFAR-10 images and tested on 2,000): Spearman rho with the trained
error is +0.49 for SynFlow (bootstrap 95% interval +0.15..+0.74) and +0.02 for NASWOT
(-0.35..+0.37). The sign is positive: in that brief-training regime, networks with
more (synaptic) flow train more slowly and end with a higher error, so a higher
SynFlow predicts a higher error and the fitted curve rises. NASWOT carries no
ranking signal there. Neither figure says how the proxies rank after the paper's
full 10-epoch training, which this machine could not afford to measure.
"""

from __future__ import annotations

import math
import time

import numpy as np

from lens_fast.accuracy.data import ImageData
from lens_fast.errors import LensError
from lens_fast.space.vgg import decode

SCORES: tuple[str, ...] = ("naswot", "synflow")
CHANCE_ERROR = 0.9

# error = 0.9 / (1 + exp(-(a + b * score))), fitted by bench/bench_training.py on CIFAR-10
# (protocol in bench/README.md, numbers in bench/results/training.json, "proxy");
# `spearman` is rho(score, trained error) there. Refit when the protocol changes.
CALIBRATION: dict[str, dict[str, float]] = {
    "naswot": {"a": 1.415628986288446, "b": 0.00693227818110364, "spearman": 0.0158},
    "synflow": {"a": 0.7423124621877611, "b": 0.02044400719231395, "spearman": 0.4889},
}
DEFAULT_SCORE = "synflow"  # the one of the two that ranks trained errors (see above)


def _check_kind(kind: str) -> None:
    if kind not in SCORES:
        raise LensError(f"proxy score must be one of {', '.join(SCORES)}, got {kind!r}")


def naswot_score(model, x) -> float:
    """NASWOT per image: ``log|det K| / n`` for the `n x 3 x 32 x 32` float batch `x`."""
    import torch
    from torch import nn

    n = x.shape[0]
    kernel = torch.zeros(n, n, dtype=torch.float64, device=x.device)

    def hook(_module, _inputs, output):
        codes = (output.detach().reshape(n, -1) > 0).to(torch.float32)
        kernel.add_((codes @ codes.T + (1.0 - codes) @ (1.0 - codes).T).to(torch.float64))

    handles = [m.register_forward_hook(hook) for m in model.modules() if isinstance(m, nn.ReLU)]
    try:
        model.train()
        with torch.no_grad():
            model(x)
    finally:
        for h in handles:
            h.remove()
    _sign, logdet = torch.linalg.slogdet(kernel)
    return float(logdet) / n


def synflow_score(model, input_side: int = 32, in_channels: int = 3) -> float:
    """SynFlow: ``log sum |theta * grad|`` with |theta| and an all-ones float64 input."""
    import torch

    model = model.double().eval()
    with torch.no_grad():
        for p in model.parameters():
            p.abs_()
    model.zero_grad()
    x = torch.ones(1, in_channels, input_side, input_side, dtype=torch.float64,
                   device=next(model.parameters()).device)  # fmt: skip
    model(x).sum().backward()
    total = sum(
        float((p.detach() * p.grad).abs().sum()) for p in model.parameters() if p.grad is not None
    )
    return math.log(total) if total > 0 else -math.inf


def proxy_score(row, data: ImageData, kind: str = "naswot", batch: int = 64, seed: int = 0,
                device: str = "cpu") -> dict:  # fmt: skip
    """Score one architecture (native row) at initialisation -> {"score", "seconds", ...}."""
    import torch

    from lens_fast.accuracy.models import build_model

    _check_kind(kind)
    if not 2 <= batch <= len(data.train_y):
        raise LensError(f"proxy batch must be in 2..{len(data.train_y)}, got {batch}")
    start = time.perf_counter()
    torch.manual_seed(seed)
    model = build_model(decode(np.asarray(row)), input_side=32, in_channels=3).to(device)
    if kind == "naswot":
        from lens_fast.accuracy.data import channels_first

        mean = torch.tensor(data.mean, device=device).view(1, 3, 1, 1)
        std = torch.tensor(data.std, device=device).view(1, 3, 1, 1)
        x = (channels_first(data.train_x[:batch]).to(device).float() / 255.0 - mean) / std
        score = naswot_score(model, x)
    else:
        score = synflow_score(model)
    return {"kind": kind, "score": score, "batch": batch, "seconds": time.perf_counter() - start}


def estimate_error(score: float | np.ndarray, kind: str = "naswot",
                   calibration: dict | None = None) -> np.ndarray:  # fmt: skip
    """Test error estimate in (0, 0.9) of scores: ``0.9 * sigmoid(a + b * score)``."""
    _check_kind(kind)
    cal = calibration or CALIBRATION[kind]
    s = np.asarray(score, dtype=np.float64)
    finite = np.isfinite(s)
    z = np.clip(cal["a"] + cal["b"] * np.where(finite, s, 0.0), -500.0, 500.0)
    z = np.where(finite, z, 500.0)  # an unusable score (singular kernel) -> chance error
    return CHANCE_ERROR / (1.0 + np.exp(-z))


def fit_calibration(scores: np.ndarray, errors: np.ndarray) -> dict[str, float]:
    """Least-squares (a, b) of ``error ~ 0.9 * sigmoid(a + b * score)`` over finite pairs."""
    from scipy.optimize import curve_fit

    s = np.asarray(scores, dtype=np.float64)
    e = np.asarray(errors, dtype=np.float64)
    ok = np.isfinite(s) & np.isfinite(e)
    s, e = s[ok], e[ok]
    scale = float(np.std(s)) or 1.0
    centre = float(np.mean(s))

    def curve(x, a, b):
        return CHANCE_ERROR / (1.0 + np.exp(-(a + b * (x - centre) / scale)))

    (a, b), _ = curve_fit(curve, s, e, p0=(0.0, -1.0), maxfev=20_000)
    # Back to the raw score: a + b (x - centre) / scale = a' + b' x.
    return {"a": float(a - b * centre / scale), "b": float(b / scale)}
