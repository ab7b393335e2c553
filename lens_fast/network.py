"""Radio power models, throughput validation and per-byte transmission prices.

Upload power of a radio at throughput tu (Mbit/s) is ``P_tx = alpha * tu + beta``
(mW), the linear model of Huang et al., "A Close Examination of Performance and
Power Characteristics of 4G LTE Networks", MobiSys 2012 (Table 4 uplink figures,
as used by LENS): WiFi alpha = 283.17 mW/Mbps, beta = 132.86 mW; LTE 438.39, 1288.04;
3G 868.98, 817.88.

Transmitting ``s`` bytes at tu takes ``s * 8 / (tu * 1000)`` ms and costs that time
times ``P_tx / 1000`` mJ. `price_per_byte` returns both prices per byte, the only
throughput-dependent quantities of Algorithm 1.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from lens_fast.errors import NetworkError

# (alpha mW/Mbps, beta mW) from Huang et al., MobiSys 2012.
RADIOS: dict[str, tuple[float, float]] = {
    "wifi": (283.17, 132.86),
    "lte": (438.39, 1288.04),
    "3g": (868.98, 817.88),
}


@dataclass(frozen=True)
class Radio:
    """Linear upload power model ``P_tx = alpha * tu + beta`` (mW, tu in Mbit/s)."""

    name: str
    alpha_mw_per_mbps: float
    beta_mw: float

    def power_mw(self, tu_mbps: np.ndarray | float) -> np.ndarray | float:
        return self.alpha_mw_per_mbps * tu_mbps + self.beta_mw


def radio(tech: str = "wifi", alpha: float | None = None, beta: float | None = None) -> Radio:
    """The radio of a technology name (wifi, lte, 3g), or a custom one.

    `alpha` and `beta` override the technology's figures (both must be finite, >= 0).
    """
    key = tech.lower()
    if key not in RADIOS and (alpha is None or beta is None):
        raise NetworkError(
            f"unknown radio technology {tech!r}, expected one of {', '.join(RADIOS)} "
            "(or give both alpha and beta)"
        )
    a0, b0 = RADIOS.get(key, (np.nan, np.nan))
    a = a0 if alpha is None else float(alpha)
    b = b0 if beta is None else float(beta)
    for name, v in (("alpha", a), ("beta", b)):
        if not np.isfinite(v) or v < 0:
            raise NetworkError(f"radio {name} must be a finite number >= 0, got {v}")
    return Radio(key, a, b)


def check_tu(tu_mbps: object, where: str = "") -> np.ndarray:
    """Coerce throughputs to a 1-D float64 array; every value finite and > 0 Mbit/s."""
    try:
        tu = np.atleast_1d(np.asarray(tu_mbps, dtype=np.float64))
    except (TypeError, ValueError) as exc:
        raise NetworkError(f"tu must be numbers in Mbit/s, got {tu_mbps!r}") from exc
    if tu.ndim != 1:
        raise NetworkError(f"tu must be a 1-D list of throughputs, got shape {tu.shape}")
    if tu.size == 0:
        raise NetworkError("at least one throughput tu is needed, got none")
    bad = ~(np.isfinite(tu) & (tu > 0))
    if bad.any():
        i = int(np.flatnonzero(bad)[0])
        suffix = f" ({where} {i})" if where else (f" (value {i})" if tu.size > 1 else "")
        raise NetworkError(f"tu must be > 0 Mbit/s and finite, got {tu[i]}{suffix}")
    return np.ascontiguousarray(tu)


def check_rtt(rtt_ms: float) -> float:
    """RTT in ms: finite and >= 0."""
    value = float(rtt_ms)
    if not np.isfinite(value) or value < 0:
        raise NetworkError(f"rtt must be a finite number >= 0 ms, got {rtt_ms}")
    return value


def ms_per_byte(tu_mbps: np.ndarray) -> np.ndarray:
    """Transmission time of one byte, ms: ``8 / (tu * 1000)``."""
    return 8.0 / (tu_mbps * 1000.0)


def mj_per_byte(tu_mbps: np.ndarray, rad: Radio) -> np.ndarray:
    """Transmission energy of one byte, mJ: ``ms_per_byte * (alpha*tu + beta) / 1000``."""
    return ms_per_byte(tu_mbps) * (rad.alpha_mw_per_mbps * tu_mbps + rad.beta_mw) / 1000.0


def tu_grid(spec: str, log: bool = False) -> np.ndarray:
    """Throughputs from "START:STOP:COUNT" (inclusive), linear or log-spaced."""
    parts = spec.split(":")
    try:
        start, stop, count = float(parts[0]), float(parts[1]), int(parts[2])
        if len(parts) != 3:
            raise ValueError
    except (ValueError, IndexError) as exc:
        raise NetworkError(f"tu grid must be START:STOP:COUNT, got {spec!r}") from exc
    if count < 1:
        raise NetworkError(f"tu grid COUNT must be >= 1, got {count}")
    check_tu([start, stop])
    if stop < start:
        raise NetworkError(f"tu grid STOP must be >= START, got {spec!r}")
    grid = np.geomspace(start, stop, count) if log else np.linspace(start, stop, count)
    return check_tu(grid)
