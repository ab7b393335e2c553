"""Exceptions. Every error a user can cause is a `LensError`.

Messages say what was got and what was expected, in one line, e.g.
"tu must be > 0 Mbit/s, got -3.0 (row 17 of trace.csv)". The CLI prints them
without a traceback and exits with code 1.
"""

from __future__ import annotations


class LensError(Exception):
    """Base class of every error caused by user input or user files."""


class SpaceError(LensError, ValueError):
    """An architecture is not in the search space (names the field and value)."""


class ProfileError(LensError, ValueError):
    """A device profile table or profile folder is malformed."""


class NetworkError(LensError, ValueError):
    """A throughput, radio technology, RTT or trace is invalid."""


class InputFileError(LensError, OSError):
    """A file cannot be read, parsed or written."""


class RunStoreError(LensError):
    """A run folder is corrupted, foreign, or incompatible with the options."""


class DataError(LensError, ValueError):
    """A dataset path or dataset file is invalid."""


class ParetoError(LensError, ValueError):
    """Objective points, a reference point or thresholds of a Pareto metric are invalid."""
