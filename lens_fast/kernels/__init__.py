"""numba kernels: arrays in, arrays out; no I/O, no torch, no click.

Public wrappers live next to each kernel and validate nothing: callers
(`lens_fast.objectives`, `lens_fast.runtime`, `lens_fast.search`) validate first.
"""
