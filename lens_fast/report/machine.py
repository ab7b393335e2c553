"""Facts about the machine a measurement ran on (for benchmark results and profiles)."""

from __future__ import annotations

import os
import platform
from pathlib import Path


def cpu_name() -> str:
    """The CPU's model name (from /proc/cpuinfo where available)."""
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.lower().startswith("model name"):
                return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or platform.machine() or "unknown CPU"


def load_avg() -> float:
    """The 1-minute load average (0.0 where the OS has none)."""
    try:
        return round(os.getloadavg()[0], 2)
    except OSError:
        return 0.0


def machine_info(torch: bool = False) -> dict:
    """CPU, cores, numba threads and versions, load; with `torch`, its version and GPU."""
    import numba

    info = {
        "cpu": cpu_name(),
        "cores": os.cpu_count(),
        "numba": numba.__version__,
        "numba_threads": numba.get_num_threads(),
        "python": platform.python_version(),
        "load_avg_1m": load_avg(),
    }
    if torch:
        import torch as th

        info["torch"] = th.__version__
        info["gpu"] = th.cuda.get_device_name(0) if th.cuda.is_available() else None
    return info
