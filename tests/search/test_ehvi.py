"""The closed-form EHVI kernel against quadrature of the exact improvement and Monte Carlo."""

from __future__ import annotations

import numpy as np
import pytest
from scipy.stats import norm

from lens_fast.kernels.ehvi import ehvi, psi
from lens_fast.search.pareto import pareto_mask
from tests import naive

REF = np.array([1.0, 1.0, 1.0])


def _front(rng, n=7, ties=True):
    pts = rng.random((n, 3))
    if ties:
        pts[rng.random(n) < 0.3, 1] = 0.5
        pts[rng.random(n) < 0.3, 2] = 0.25
    front = pts[pareto_mask(pts)]
    return front[np.argsort(front[:, 0], kind="stable")]


def _kernel(mu, sigma, lat, en, front, ref=REF):
    f = np.ascontiguousarray(front)
    return ehvi(
        np.atleast_1d(np.asarray(mu, float)),
        np.atleast_1d(np.asarray(sigma, float)),
        np.atleast_1d(np.asarray(lat, float)),
        np.atleast_1d(np.asarray(en, float)),
        f[:, 0].copy(),
        f[:, 1].copy(),
        f[:, 2].copy(),
        ref,
    )


def test_psi_is_the_integral_of_the_normal_cdf():
    from scipy.integrate import quad

    z = np.linspace(-6, 4, 11)
    integral = [quad(norm.cdf, -60, v, epsabs=1e-13, epsrel=1e-12, limit=200)[0] for v in z]
    np.testing.assert_allclose([psi(v) for v in z], integral, rtol=1e-9, atol=1e-15)
    assert psi(0.0) == pytest.approx(1 / np.sqrt(2 * np.pi), rel=1e-15)


def test_deterministic_improvement_equals_exact_hypervolume_difference():
    rng = np.random.default_rng(0)
    for _ in range(60):
        front = _front(rng)
        mu, lat, en = rng.random(3) * np.array([1.0, 0.8, 0.8])
        if rng.random() < 0.3:
            lat = front[0, 1]  # a tie with a front coordinate
        got = _kernel(mu, 0.0, lat, en, front)[0]
        want = naive.ehvi_quadrature(mu, 0.0, lat, en, front, REF)
        assert got == pytest.approx(want, rel=1e-12, abs=1e-14)


def test_gaussian_error_equals_quadrature():
    rng = np.random.default_rng(1)
    for _ in range(6):
        front = _front(rng, n=6)
        mu, lat, en = rng.random(3) * np.array([1.0, 0.8, 0.8])
        sigma = float(rng.uniform(0.02, 0.3))
        got = _kernel(mu, sigma, lat, en, front)[0]
        want = naive.ehvi_quadrature(mu, sigma, lat, en, front, REF)
        assert got == pytest.approx(want, rel=1e-8, abs=1e-12)


def test_monte_carlo_estimate_agrees():
    """EHVI = E[HVI(e)]: the mean of exact improvements at sampled errors (4 standard errors)."""
    rng = np.random.default_rng(2)
    front = _front(rng, n=30, ties=False)
    for mu, sigma, lat, en in [(0.3, 0.1, 0.2, 0.3), (0.05, 0.2, 0.6, 0.1), (0.5, 0.05, 0.1, 0.1)]:
        closed = _kernel(mu, sigma, lat, en, front)[0]
        e = rng.normal(mu, sigma, 200_000)
        hvi = _kernel(e, np.zeros_like(e), np.full_like(e, lat), np.full_like(e, en), front)
        se = hvi.std() / np.sqrt(len(e))
        assert abs(closed - hvi.mean()) < 4 * se + 1e-12


def test_closed_forms_without_front_and_beyond_the_reference():
    box = (1 - 0.2) * (1 - 0.3)
    got = _kernel(0.4, 0.1, 0.2, 0.3, np.empty((0, 3)))[0]
    assert got == pytest.approx(box * 0.1 * psi((1 - 0.4) / 0.1), rel=1e-14)
    assert _kernel(0.4, 0.1, 1.0, 0.3, np.empty((0, 3)))[0] == 0.0  # latency at the reference
    front = np.array([[0.1, 0.1, 0.1]])
    # Weakly dominated in every objective by a point with lower error: improvement only
    # when the error draws below 0.1.
    assert _kernel(0.5, 0.0, 0.2, 0.3, front)[0] == 0.0
    assert _kernel(0.05, 0.0, 0.2, 0.3, front)[0] == pytest.approx(0.05 * box, rel=1e-14)


def test_ehvi_is_monotone_in_the_mean_and_nonnegative():
    rng = np.random.default_rng(3)
    front = _front(rng, n=40, ties=False)
    mus = np.linspace(-0.2, 1.2, 50)
    values = _kernel(mus, np.full(50, 0.05), np.full(50, 0.3), np.full(50, 0.3), front)
    assert (values >= 0).all() and (np.diff(values) <= 1e-15).all()
