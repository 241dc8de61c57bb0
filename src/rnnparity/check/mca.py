"""Monte Carlo arithmetic on a reference layer: copies of it that round differently, and one that
computes in a higher precision. The rounding envelope (envelope.py) runs an ensemble of them.

The model (numerical analysis of a recurrence h_t = F(h_{t-1}, x_t; W)): a computed step is
    h^_t = F(h^_{t-1}, x_t; W) + e_t,   |e_t| ~ a few ulps of the quantities the step combines,
and to first order the error at step t is sum_s J(t <- s) e_s, with J(t <- s) the product of the step
Jacobians from s to t. Any two valid computations (the framework, the reference; another summation
order, another tanh) differ by such a sum with different local errors e_s. An ensemble of runs whose
local errors are random ulp-sized draws samples the same linear propagation, so its spread measures how
far valid computations of *this* case scatter, step by step: it grows where the recurrence amplifies
(exploding layers) and stays at a few ulps where it contracts. That is Monte Carlo arithmetic (Parker
1997) and CADNA / Verificarlo's random rounding, applied at the granularity of a cell step:
- each step's output and new states are randomly rounded (moved by 0 or +-1 ulp): the rounding of the
  step's own arithmetic (gates, c = f c + i g, h = z h + (1 - z) hh); the output of a stacked cell
  is the input of the next one, so the rounding between cells is modelled too;
- the carried states entering a step are therefore perturbed: sum_k h_k U_kj (1 + d_k) has the size of
  the rounding error of the recurrent product h U (its backward error, at the scale of the terms, not
  of their possibly cancelling sum);
- the inputs x (fresh for every element and step) and the input projection x W + b are randomly rounded
  the same way: the rounding of the projection, again at the scale of its terms;
- the initial states are perturbed (the state entering step 1); the weights optionally (once per run:
  a systematic error, which real rounding is not; off by default).
Wrapping the cells' `step` and `project_inputs` on a private copy leaves reference/scan.py untouched:
no cost at all when no envelope is computed.
"""
from __future__ import annotations

import copy

import numpy as np

from ..reference import Bidirectional, RecurrentLayer, StackedRNNCells


# -- random rounding of arrays -----------------------------------------------------------------
def is_float_array(a) -> bool:
    return isinstance(a, np.ndarray) and a.dtype.kind == "f"


def jitter(a, rng, ulps=1.0, eps=None, limit=None):
    """``a`` randomly rounded: each element plus a relative perturbation uniform in
    [-ulps * eps, ulps * eps] of its dtype (or of the given ``eps``: a virtual precision, as
    Verificarlo's MCA computes in a high precision and perturbs at the precision it models), rounded
    back to the dtype. With ulps=1 an element moves
    by 0 or +-1 ulp (its own magnitude sets the ulp; exact zeros, infinities and NaNs stay as they
    are). Non-float arrays and everything that is not an array (None, masks) come back as they are.
    Called once per array per step: kept to a few NumPy calls."""
    if not is_float_array(a) or a.size == 0:
        return a
    bound = ulps * float(np.finfo(a.dtype).eps if eps is None else eps)
    with np.errstate(over="ignore", invalid="ignore"):
        out = a * rng.uniform(-bound, bound, a.shape).astype(a.dtype)
        out += a
    np.copyto(out, a, where=~np.isfinite(out))  # inf + (-inf) would be NaN
    if limit is not None:  # the virtual precision's range: beyond its largest value, it overflows
        np.copyto(out, np.copysign(np.inf, out).astype(out.dtype), where=np.abs(out) > limit)
    return out


def jitter_tree(tree, rng, ulps=1.0, eps=None, limit=None):
    """`jitter` on every array of nested lists/tuples (stacked cells' states), keeping the containers."""
    if isinstance(tree, (list, tuple)):
        return type(tree)(jitter_tree(t, rng, ulps, eps, limit) for t in tree)
    return jitter(np.asarray(tree), rng, ulps, eps, limit) if tree is not None else None


# -- what a reference is made of ---------------------------------------------------------------
def layers_of(reference):
    """The recurrent layers of a reference: itself, or a Bidirectional's two directions."""
    if isinstance(reference, Bidirectional):
        return [reference.forward_layer, reference.backward_layer]
    if isinstance(reference, RecurrentLayer):
        return [reference]
    raise TypeError(f"the rounding envelope takes a rnnparity SimpleRNN, LSTM, GRU, RNN or "
                    f"Bidirectional reference, got {type(reference).__module__}."
                    f"{type(reference).__qualname__}")


def cells_of(layer):
    """The built-in cells of a layer, bottom to top for stacked cells."""
    cell = layer.cell
    return list(cell.cells) if isinstance(cell, StackedRNNCells) else [cell]


# -- perturbed copies --------------------------------------------------------------------------
class RandomRounding:
    """`jitter` with the random stream of the current run (set ``rng`` before each run): one
    perturbed copy of a reference serves every run of an ensemble (copying a reference costs more
    than running a short case)."""

    def __init__(self, ulps=1.0, rng=None, eps=None, limit=None):
        self.ulps, self.rng, self.eps, self.limit = ulps, rng, eps, limit

    def __call__(self, a):
        return jitter(a, self.rng, self.ulps, self.eps, self.limit)

    def tree(self, tree):
        return jitter_tree(tree, self.rng, self.ulps, self.eps, self.limit)


def _rounded_step(step, rounding):
    def step_(x_t, states):
        output, new_states = step(x_t, states)
        out = rounding(output)
        # the output and the h state are one array: rounded once, as one value
        return out, [out if s is output else rounding(s) for s in new_states]
    return step_


def _rounded_projection(project_inputs, rounding):
    def project_inputs_(x):
        return rounding(project_inputs(x))
    return project_inputs_


class PerturbedReference:
    """A private copy of a reference whose every cell step and input projection is randomly rounded
    (see the module docstring). `start_run(rng)` begins a run: it restores the stored states of a
    warm stateful reference, randomly rounded (they enter its next step), and with ``weights``
    perturbs every weight once for the run."""

    def __init__(self, reference, ulps=1.0, weights=False, tile=1, eps=None, limit=None):
        self.rounding = RandomRounding(ulps, eps=eps, limit=limit)
        self.tile = tile  # warm states repeated this many times along the batch (envelope.py)
        self.layer = copy.deepcopy(reference)
        self.weights = [np.asarray(w) for w in self.layer.get_weights()] if weights else None
        self.states = [layer.states for layer in layers_of(self.layer)]
        for layer in layers_of(self.layer):
            for cell in cells_of(layer):
                # instance attributes shadow the methods: layer.run and StackedRNNCells.step look them up
                cell.step = _rounded_step(cell.step, self.rounding)
                cell.project_inputs = _rounded_projection(cell.project_inputs, self.rounding)

    def start_run(self, rng):
        self.rounding.rng = rng
        if self.weights is not None:
            self.layer.set_weights([self.rounding(w) for w in self.weights])
        for layer, states in zip(layers_of(self.layer), self.states):
            layer.states = None if states is None else [
                self.rounding(np.concatenate([np.asarray(s)] * self.tile, axis=0)) for s in states]
        return self.layer


# -- the high-precision copy -------------------------------------------------------------------
def high_precision(dtype) -> np.dtype | None:
    """The precision that stands for exact arithmetic against ``dtype``: float64 for float32 and
    coarser, long double (x87 80-bit on x86-64: eps 1.1e-19) for float64; None where long double is
    no wider than float64 (then the unperturbed run is the centre of the envelope)."""
    dtype = np.dtype(dtype)
    if np.finfo(dtype).eps > np.finfo(np.float64).eps:
        return np.dtype(np.float64)
    if np.finfo(np.longdouble).eps < np.finfo(np.float64).eps and dtype == np.float64:
        return np.dtype(np.longdouble)
    return None


def recast(reference, dtype):
    """A copy of ``reference`` computing in ``dtype`` everywhere (weights, inputs, states, every
    cast of the layers and of a Bidirectional wrapper): a wider ``dtype`` stands for exact
    arithmetic against the layer's own precision, a narrower one tests whether a framework computed
    in it. The dtype policies cannot express long double, so the copy's compute dtypes are set
    directly; `envelope.rounding_envelope` checks its outputs come out in ``dtype``."""
    dtype = np.dtype(dtype)
    ref = copy.deepcopy(reference)
    if isinstance(ref, Bidirectional):
        ref.compute_dtype = dtype
    for layer in layers_of(ref):
        layer.compute_dtype = dtype
        if layer.states is not None:
            layer.states = [np.asarray(s).astype(dtype) for s in layer.states]
        for cell in cells_of(layer):
            if cell.dtype.kind != "f":  # bfloat16: its matmul and activations round through float32
                raise ValueError(f"the rounding envelope does not model {cell.dtype.name} cells")
            cell.dtype = dtype
            cell.matmul = np.matmul
            for name in ("kernel", "recurrent_kernel", "bias"):
                value = getattr(cell, name)
                if value is not None:
                    setattr(cell, name, np.asarray(value).astype(dtype))
    return ref


def cast_tree(tree, dtype):
    """Floating arrays of nested lists/tuples as ``dtype`` (exact when ``dtype`` is wider)."""
    if isinstance(tree, (list, tuple)):
        return type(tree)(cast_tree(t, dtype) for t in tree)
    if tree is None:
        return None
    a = np.asarray(tree)
    return a.astype(dtype) if a.dtype.kind == "f" else a
