"""Choosing the next candidates from a pool (Algorithm 2's acquisition step).

* `select_fast`: latency and energy are known exactly for every pool candidate, so
  only the error has a GP. The acquisition is the closed-form expected hypervolume
  improvement of `lens_fast.kernels.ehvi` over the whole pool; q > 1 by sequential
  greedy selection, each chosen candidate added to the front with its predicted
  error (a "kriging believer" fantasy) and the GP conditioned on it.
* `select_faithful`: the paper's setting: one GP per objective (error, latency,
  energy) and BoTorch's qLogNEHVI maximised over the discrete pool (sequential
  greedy for q > 1).

GP inputs are `lens_fast.search.features` (`[0, 1]^22`); outcomes are standardised;
everything runs in float64 on the chosen torch device. torch and BoTorch are
imported inside the functions.
"""

from __future__ import annotations

import numpy as np

from lens_fast.search.pareto import pareto_mask

POSTERIOR_CHUNK = 8_192
FIT_MAXITER = 300  # L-BFGS steps of a cold fit
WARM_MAXITER = 100  # of a fit started from the previous iteration's hyperparameters


class _single_thread:
    """Run torch on one thread inside the block: GP fits are many small steps, for
    which a second thread only adds synchronisation (and spins on a busy machine)."""

    def __enter__(self):
        import torch

        self.before = torch.get_num_threads()
        torch.set_num_threads(1)

    def __exit__(self, *exc):
        import torch

        torch.set_num_threads(self.before)


def fit_gp(train_x, train_y, warm_state: dict | None = None):
    """A BoTorch SingleTaskGP with standardised outcomes, fitted by marginal likelihood.

    `warm_state` (from `gp_state` of an earlier fit on a subset of these data) starts
    the optimiser where the previous iteration stopped, so the hyperparameters keep
    converging across iterations at `WARM_MAXITER` steps each (`FIT_MAXITER` cold).
    """
    import torch
    from botorch.fit import fit_gpytorch_mll
    from botorch.models import SingleTaskGP
    from botorch.models.transforms.outcome import Standardize
    from gpytorch.mlls import ExactMarginalLogLikelihood

    model = SingleTaskGP(train_x, train_y, outcome_transform=Standardize(m=train_y.shape[-1]))
    if warm_state:
        with torch.no_grad():
            for name, param in model.named_parameters():
                if name in warm_state:
                    param.copy_(torch.as_tensor(warm_state[name], dtype=param.dtype))
    steps = WARM_MAXITER if warm_state else FIT_MAXITER
    with _single_thread():
        fit_gpytorch_mll(
            ExactMarginalLogLikelihood(model.likelihood, model),
            optimizer_kwargs={"options": {"maxiter": steps}},
        )
    return model


def gp_state(model) -> dict:
    """The fitted hyperparameters as JSON-able lists (exact float64 round trip)."""
    return {name: p.detach().cpu().double().tolist() for name, p in model.named_parameters()}


class _Kernel:
    """k(a, b) of a fitted model: RBF (optionally scaled) computed directly with one
    matmul per block, else the model's own kernel module."""

    def __init__(self, model) -> None:
        from gpytorch.kernels import RBFKernel, ScaleKernel

        k, self.scale = model.covar_module, 1.0
        if isinstance(k, ScaleKernel):
            self.scale = float(k.outputscale.reshape(-1)[0])
            k = k.base_kernel
        self.module = model.covar_module
        self.lengthscale = (
            k.lengthscale.detach().reshape(1, -1) if isinstance(k, RBFKernel) else None
        )

    def __call__(self, a, b):
        if self.lengthscale is None:
            return self.module(a, b).to_dense()
        a = a / self.lengthscale
        b = b / self.lengthscale
        d2 = (a * a).sum(-1, keepdim=True) + (b * b).sum(-1).unsqueeze(0) - 2.0 * (a @ b.T)
        return self.scale * (-0.5 * d2.clamp_min(0.0)).exp()

    def diag(self, a):
        if self.lengthscale is None:
            return self.module(a, diag=True)
        return self.scale * a.new_ones(a.shape[0])


class ErrorPosterior:
    """Marginal posterior of a fitted one-output GP over a pool, with greedy fantasies.

    Computed from the model's own hyperparameters with one Cholesky factor:
    ``mean = c + K_px alpha`` and ``var = k_pp - ||L^-1 K_xp||^2`` in standardised
    units. `believe(i)` conditions on a fantasy observation at pool point i equal to
    its mean (a kriging believer): the mean does not move and every variance falls
    by a rank-one term, so q greedy steps cost q passes over the pool.
    """

    CACHE_LIMIT = 40_000_000  # pool x train kernel entries kept for the greedy steps

    def __init__(self, model, pool_x) -> None:
        import torch

        self.model = model
        self.px = pool_x
        self.kernel = _Kernel(model)
        with torch.no_grad():
            tx = model.train_inputs[0]
            self.tx = tx
            self.noise = float(model.likelihood.noise.reshape(-1)[0])
            k_xx = self.kernel(tx, tx)
            eye = torch.eye(k_xx.shape[0], dtype=k_xx.dtype, device=k_xx.device)
            self.chol = torch.linalg.cholesky(k_xx + self.noise * eye)
            self.const = float(model.mean_module.constant.reshape(-1)[0])
            resid = (model.train_targets.reshape(-1) - self.const).unsqueeze(-1)
            alpha = torch.cholesky_solve(resid, self.chol).squeeze(-1)
            tf = model.outcome_transform
            self.y_mean = float(tf.means.reshape(-1)[0])
            self.y_std = float(tf.stdvs.reshape(-1)[0])
            keep = pool_x.shape[0] * tx.shape[0] <= self.CACHE_LIMIT
            self.k_px: list = []
            means, variances = [], []
            for start in range(0, pool_x.shape[0], POSTERIOR_CHUNK):
                chunk = pool_x[start : start + POSTERIOR_CHUNK]
                k_px = self.kernel(chunk, tx)
                means.append(self.const + k_px @ alpha)
                v = torch.linalg.solve_triangular(self.chol, k_px.T, upper=False)
                variances.append((self.kernel.diag(chunk) - (v * v).sum(0)).clamp_min(0.0))
                if keep:
                    self.k_px.append(k_px)
            self.mean_s = torch.cat(means)
            self.var_s = torch.cat(variances)
        self.fantasies: list = []  # c vectors over the pool, one per believed point

    def mean_std(self) -> tuple[np.ndarray, np.ndarray]:
        """Posterior mean and standard deviation of the error, original units."""
        mean = self.mean_s.cpu().numpy() * self.y_std + self.y_mean
        std = self.var_s.clamp_min(0.0).sqrt().cpu().numpy() * self.y_std
        return mean, std

    def believe(self, i: int) -> None:
        """Condition on observing pool point i at its posterior mean."""
        import torch

        with torch.no_grad():
            xf = self.px[i : i + 1]
            w = torch.cholesky_solve(self.kernel(self.tx, xf), self.chol).squeeze(-1)
            covs = []
            for n_chunk, start in enumerate(range(0, self.px.shape[0], POSTERIOR_CHUNK)):
                chunk = self.px[start : start + POSTERIOR_CHUNK]
                k_px = self.k_px[n_chunk] if self.k_px else self.kernel(chunk, self.tx)
                covs.append(self.kernel(chunk, xf).squeeze(-1) - k_px @ w)
            cov = torch.cat(covs)
            for c in self.fantasies:
                cov = cov - c * c[i]
            c_new = cov / np.sqrt(float(self.var_s[i]) + self.noise)
            self.var_s = (self.var_s - c_new * c_new).clamp_min(0.0)
            self.fantasies.append(c_new)


def _front(points: np.ndarray) -> np.ndarray:
    """Non-dominated rows of `m x 3` points, sorted by the first column (error)."""
    front = points[pareto_mask(points)]
    return np.ascontiguousarray(front[np.argsort(front[:, 0], kind="stable")])


def select_fast(
    train_x: np.ndarray,
    train_obj: np.ndarray,
    pool_x: np.ndarray,
    pool_obj: np.ndarray,
    ref: np.ndarray,
    q: int,
    device: str = "cpu",
    warm_state: dict | None = None,
) -> tuple[np.ndarray, np.ndarray, dict]:
    """Indices of q pool candidates by greedy closed-form EHVI, their EHVI values, and
    the fitted GP state.

    train_x: `n x 22` features of the evaluated candidates; train_obj: `n x 3`
    (error, latency, energy); pool_x: `P x 22`; pool_obj: `P x 2` (latency, energy)
    known exactly; ref: (3,) reference point.
    """
    import torch

    dev = torch.device(device)
    tx = torch.as_tensor(train_x, dtype=torch.float64, device=dev)
    ty = torch.as_tensor(train_obj[:, :1], dtype=torch.float64, device=dev)
    px = torch.as_tensor(pool_x, dtype=torch.float64, device=dev)
    model = fit_gp(tx, ty, warm_state)
    with _single_thread():
        return _greedy(model, px, train_obj, pool_obj, ref, q)


def _greedy(model, px, train_obj, pool_obj, ref, q) -> tuple[np.ndarray, np.ndarray, dict]:
    from lens_fast.kernels.ehvi import ehvi

    post = ErrorPosterior(model, px)
    mu, sd = post.mean_std()
    observed = train_obj.copy()
    lat = np.ascontiguousarray(pool_obj[:, 0])
    en = np.ascontiguousarray(pool_obj[:, 1])
    ref = np.asarray(ref, dtype=np.float64)
    chosen: list[int] = []
    values: list[float] = []
    for step in range(q):
        front = _front(observed)
        acq = ehvi(mu, sd, lat, en, front[:, 0].copy(), front[:, 1].copy(), front[:, 2].copy(), ref)
        acq[chosen] = -np.inf
        best = int(np.argmax(acq))
        if not acq[best] > 0:
            # Nothing improves the front in expectation: take the most uncertain candidate.
            score = sd.copy()
            score[chosen] = -np.inf
            best = int(np.argmax(score))
        chosen.append(best)
        values.append(float(acq[best]))
        if step + 1 < q:
            observed = np.vstack([observed, [mu[best], lat[best], en[best]]])
            post.believe(best)
            mu, sd = post.mean_std()
    return np.asarray(chosen, dtype=np.int64), np.asarray(values), gp_state(model)


def select_faithful(
    train_x: np.ndarray,
    train_obj: np.ndarray,
    pool_x: np.ndarray,
    ref: np.ndarray,
    q: int,
    seed: int,
    device: str = "cpu",
    mc_samples: int = 64,
    alpha: float = 0.0,
    warm_state: dict | None = None,
) -> tuple[np.ndarray, np.ndarray, dict]:
    """Indices of q pool candidates by BoTorch qLogNEHVI on three GPs, the values, and
    the fitted GP state.

    train_obj: `n x 3` (error, latency, energy), all modelled; BoTorch maximises, so
    objectives and the reference point are negated. `alpha` > 0 lets BoTorch
    approximate its box decompositions (much faster for three objectives).
    """
    import torch
    from botorch.acquisition.multi_objective.logei import (
        qLogNoisyExpectedHypervolumeImprovement,
    )
    from botorch.optim import optimize_acqf_discrete
    from botorch.sampling import SobolQMCNormalSampler

    dev = torch.device(device)
    tx = torch.as_tensor(train_x, dtype=torch.float64, device=dev)
    ty = -torch.as_tensor(train_obj, dtype=torch.float64, device=dev)
    model = fit_gp(tx, ty, warm_state)
    with _single_thread():  # thousands of small tensor ops: one thread is fastest
        acq = qLogNoisyExpectedHypervolumeImprovement(
            model=model,
            ref_point=(-torch.as_tensor(ref, dtype=torch.float64, device=dev)).tolist(),
            X_baseline=tx,
            prune_baseline=True,
            sampler=SobolQMCNormalSampler(sample_shape=torch.Size([mc_samples]), seed=seed),
            alpha=alpha,
        )
        choices = torch.as_tensor(pool_x, dtype=torch.float64, device=dev)
        picked, value = optimize_acqf_discrete(
            acq, q=q, choices=choices, max_batch_size=1024, unique=True
        )
    index = {row.tobytes(): i for i, row in enumerate(np.asarray(pool_x, dtype=np.float64))}
    chosen = [index[row.tobytes()] for row in picked.cpu().numpy().astype(np.float64)]
    values = np.atleast_1d(value.detach().cpu().numpy())
    return np.asarray(chosen, dtype=np.int64), values, gp_state(model)
