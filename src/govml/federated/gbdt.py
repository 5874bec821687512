"""Histogram gradient boosting whose only input from the data is a sum of histograms.

This is the core of the federated hotspot forecaster (design in docs/federated.md): LightGBM-style
boosting (Poisson loss, log link, fixed feature bins, depth-wise trees, second-order gains) written
so that every quantity a split or a leaf needs is a **sum over rows** — per node, per feature, per
bin: Σ gradient, Σ hessian, count. Sums over districts' rows are sums of districts' sums, so a
tree grown from securely summed per-district histograms is *the same tree* as one grown on the
pooled rows (up to the fixed-point error of the secure sum). Bins are fixed in advance
(:class:`BinEdges`), so every district bins identically without seeing the others' values.

:func:`fit` takes a ``hist_fn(trees, tree, frontier) -> (len(frontier), n_features, n_bins, 3)``
callback: locally it is :func:`local_histograms` on one table; federated, it asks every district
for :func:`local_histograms` on its own rows and adds the replies (securely).
"""

from __future__ import annotations

import functools
from collections.abc import Callable, Generator, Sequence
from dataclasses import dataclass, field

import numpy as np

__all__ = ["BinEdges", "Tree", "GBDTParams", "Booster", "local_histograms", "fit", "base_sums", "RegrowTree",
           "pack_trees", "unpack_trees", "fit_many", "grow_steps"]


class RegrowTree(Exception):  # noqa: N818 — a signal, not an error
    """Raised by a ``hist_fn`` when the rows behind the histograms changed in the middle of a tree
    (a district left): :func:`fit` throws the unfinished tree away and grows it again from the root
    on the rows that remain. The parents' histograms the subtraction trick relies on included the
    departed rows, so no level of the unfinished tree can be kept."""


@dataclass(frozen=True)
class BinEdges:
    """Per-feature inner bin edges (``n_bins - 1`` increasing values each); bin b holds
    ``edges[b-1] < x <= edges[b]``; missing values go to bin 0."""

    edges: tuple[tuple[float, ...], ...]

    @property
    def n_bins(self) -> int:
        return max(len(e) for e in self.edges) + 1

    @classmethod
    def counts(cls, n_features: int, max_value: float = 1000.0, n_bins: int = 32) -> BinEdges:
        """Public bins for non-negative count-like features: 0, then log-spaced up to ``max_value``."""
        inner = np.unique(np.concatenate([[0.0], np.geomspace(0.5, max_value, n_bins - 2)]))
        return cls(tuple(tuple(float(x) for x in inner) for _ in range(n_features)))

    @classmethod
    def from_quantiles(cls, X: np.ndarray, n_bins: int = 32) -> BinEdges:
        """Edges from one table's quantiles (centralized use, or from a public reference sample)."""
        out = []
        for j in range(X.shape[1]):
            col = X[:, j][np.isfinite(X[:, j])]
            qs = np.unique(np.quantile(col, np.linspace(0, 1, n_bins + 1)[1:-1])) if col.size else np.array([0.0])
            out.append(tuple(float(x) for x in qs))
        return cls(tuple(out))

    def transform(self, X: np.ndarray) -> np.ndarray:
        out = np.zeros(X.shape, dtype=np.int32)
        for j, e in enumerate(self.edges):
            col = X[:, j]
            b = np.searchsorted(np.asarray(e), col, side="left")
            out[:, j] = np.where(np.isfinite(col), b, 0)
        return out


@dataclass
class Tree:
    """Array-encoded tree (numbers only: it can travel in an ArrayRecord)."""

    feature: list[int] = field(default_factory=lambda: [-1])
    threshold: list[int] = field(default_factory=lambda: [0])  # go left when bin <= threshold
    left: list[int] = field(default_factory=lambda: [-1])
    right: list[int] = field(default_factory=lambda: [-1])
    value: list[float] = field(default_factory=lambda: [0.0])

    def assign(self, bins: np.ndarray) -> np.ndarray:
        """Node index of every row (leaf, or the frontier node for a tree still growing)."""
        node = np.zeros(bins.shape[0], dtype=np.int64)
        for _ in range(64):
            f = np.asarray(self.feature)[node]
            internal = f >= 0
            if not internal.any():
                break
            rows = np.nonzero(internal)[0]
            go_left = bins[rows, f[rows]] <= np.asarray(self.threshold)[node[rows]]
            node[rows] = np.where(go_left, np.asarray(self.left)[node[rows]], np.asarray(self.right)[node[rows]])
        return node

    def predict(self, bins: np.ndarray) -> np.ndarray:
        return np.asarray(self.value)[self.assign(bins)]

    def to_arrays(self) -> np.ndarray:
        return np.array([self.feature, self.threshold, self.left, self.right, self.value], dtype=np.float64)

    @classmethod
    def from_arrays(cls, a: np.ndarray) -> Tree:
        f, t, lft, r, v = a
        return cls([int(x) for x in f], [int(x) for x in t], [int(x) for x in lft], [int(x) for x in r],
                   [float(x) for x in v])


def pack_trees(trees: Sequence[Tree]) -> np.ndarray:
    """All trees in one float64 vector ``[n, nodes_0 … nodes_{n-1}, tree_0 arrays, …]`` — one array
    on the wire instead of one per tree (each array costs a serialisation and a parse per message)."""
    parts = [t.to_arrays().ravel() for t in trees]
    sizes = [len(t.feature) for t in trees]
    return np.concatenate([[float(len(trees))], np.asarray(sizes, dtype=np.float64), *parts]) if trees \
        else np.zeros(1)


def unpack_trees(packed: np.ndarray) -> list[Tree]:
    """Inverse of :func:`pack_trees`."""
    packed = np.asarray(packed, dtype=np.float64).ravel()
    n = int(packed[0])
    sizes = packed[1:1 + n].astype(np.int64)
    out, pos = [], 1 + n
    for k in sizes:
        out.append(Tree.from_arrays(packed[pos:pos + 5 * k].reshape(5, k)))
        pos += 5 * k
    return out


@dataclass
class GBDTParams:
    n_trees: int = 100
    max_depth: int = 4
    learning_rate: float = 0.1
    reg_lambda: float = 1.0
    min_child_hessian: float = 1e-3
    min_child_count: int = 20
    min_gain: float = 0.0


@dataclass
class Booster:
    base: float
    trees: list[Tree]
    edges: BinEdges

    def raw(self, X: np.ndarray) -> np.ndarray:
        bins = self.edges.transform(X)
        return self.base + sum((t.predict(bins) for t in self.trees), np.zeros(X.shape[0]))

    def predict(self, X: np.ndarray) -> np.ndarray:
        """Expected counts (Poisson mean, exp of the raw score)."""
        return np.exp(self.raw(X))


def base_sums(y: np.ndarray) -> np.ndarray:
    """``[Σy, n]`` — all the base score needs (log of the pooled mean)."""
    return np.array([float(np.sum(y)), float(y.size)])


def local_histograms(bins: np.ndarray, y: np.ndarray, raw: np.ndarray, tree: Tree, frontier: Sequence[int],
                     n_bins: int) -> np.ndarray:
    """Σ gradient, Σ hessian and count of the Poisson loss per frontier node × feature × bin."""
    mu = np.exp(raw)
    g, h = mu - y, mu
    node = tree.assign(bins)
    F, K = bins.shape[1], len(frontier)
    lut = np.full(max(max(frontier), int(node.max(initial=0))) + 1, -1, dtype=np.int64)
    lut[np.asarray(frontier, dtype=np.int64)] = np.arange(K)
    pos = lut[node]
    rows = pos >= 0
    out = np.zeros((K, F, n_bins, 3), dtype=np.float64)
    if not rows.any():
        return out
    idx = pos[rows][:, None] * n_bins + bins[rows]
    gr, hr = g[rows], h[rows]
    for j in range(F):
        out[:, j, :, 0] = np.bincount(idx[:, j], weights=gr, minlength=K * n_bins).reshape(K, n_bins)
        out[:, j, :, 1] = np.bincount(idx[:, j], weights=hr, minlength=K * n_bins).reshape(K, n_bins)
        out[:, j, :, 2] = np.bincount(idx[:, j], minlength=K * n_bins).reshape(K, n_bins)
    return out


def _best_split(hist: np.ndarray, p: GBDTParams) -> tuple[float, int, int]:
    """(gain, feature, threshold bin) of the best split of one node from its (F, B, 3) histogram."""
    G, H, N = (hist[0, :, i].sum() for i in range(3))
    parent = G * G / (H + p.reg_lambda)
    cg = np.cumsum(hist[:, :, 0], axis=1)[:, :-1]
    ch = np.cumsum(hist[:, :, 1], axis=1)[:, :-1]
    cn = np.cumsum(hist[:, :, 2], axis=1)[:, :-1]
    gain = cg**2 / (ch + p.reg_lambda) + (G - cg) ** 2 / (H - ch + p.reg_lambda) - parent
    ok = ((ch >= p.min_child_hessian) & (H - ch >= p.min_child_hessian)
          & (cn >= p.min_child_count) & (N - cn >= p.min_child_count))
    gain = np.where(ok, gain, -np.inf)
    if not np.isfinite(gain).any():
        return -np.inf, -1, 0
    j, b = np.unravel_index(int(np.argmax(gain)), gain.shape)
    return float(gain[j, b]), int(j), int(b)


HistFn = Callable[[list[Tree], Tree, list[int]], np.ndarray]


Request = tuple[list[Tree], Tree, list[int]]


def grow_steps(base: float, edges: BinEdges, params: GBDTParams,
               on_tree: Callable[[int, Tree], None] | None = None) -> Generator[Request, np.ndarray, Booster]:
    """:func:`fit` as a generator: it yields ``(trees, tree, frontier)`` histogram requests, is sent
    the summed histograms back, and returns the :class:`Booster`. Throwing :class:`RegrowTree` into
    it throws the unfinished tree away and restarts it from the root. Several of these can be driven
    in lockstep (:func:`fit_many`): one message round per level for all of them."""
    trees: list[Tree] = []
    regrown = 0
    while len(trees) < params.n_trees:
        try:
            tree = yield from _grow_steps(trees, params)
        except RegrowTree:
            regrown += 1
            if regrown > max(8, params.n_trees):
                raise
            continue
        trees.append(tree)
        if on_tree:
            on_tree(len(trees) - 1, tree)
    return Booster(base=base, trees=trees, edges=edges)


def fit(hist_fn: HistFn, base: float, edges: BinEdges, params: GBDTParams,
        on_tree: Callable[[int, Tree], None] | None = None) -> Booster:
    """Grow ``params.n_trees`` depth-wise trees from summed histograms (see module docstring).

    Histogram subtraction: of each pair of children only the one with fewer rows is asked for;
    its sibling's histogram is the parent's minus it (sums stay sums), which halves both the
    districts' work and what they send. ``hist_fn`` may raise :class:`RegrowTree`."""
    return fit_many(lambda reqs: {0: hist_fn(*reqs[0])}, [base], edges, params,
                    None if on_tree is None else (lambda _i, t, tree: on_tree(t, tree)))[0]


def fit_many(hist_many: Callable[[dict[int, Request]], dict[int, np.ndarray]], bases: Sequence[float],
             edges: BinEdges, params: GBDTParams,
             on_tree: Callable[[int, int, Tree], None] | None = None) -> list[Booster]:
    """Grow one booster per base score in lockstep: ``hist_many({i: request})`` answers the pending
    requests of all of them at once (federated: one secure sum per step instead of one per model);
    each booster is exactly what :func:`fit` grows alone. If ``hist_many`` raises
    :class:`RegrowTree`, every booster regrows its unfinished tree."""
    gens = [grow_steps(b, edges, params, None if on_tree is None else functools.partial(on_tree, i))
            for i, b in enumerate(bases)]
    done: dict[int, Booster] = {}

    def advance(i: int, send: Callable[[], Request]) -> Request | None:
        try:
            return send()
        except StopIteration as stop:
            done[i] = stop.value
            return None

    reqs = {i: r for i, g in enumerate(gens) if (r := advance(i, g.__next__)) is not None}
    while reqs:
        try:
            hists = hist_many(reqs)
        except RegrowTree:
            step = {i: advance(i, functools.partial(gens[i].throw, RegrowTree())) for i in reqs}
        else:
            step = {i: advance(i, functools.partial(gens[i].send, hists[i])) for i in reqs}
        reqs = {i: r for i, r in step.items() if r is not None}
    return [done[i] for i in range(len(gens))]


def _grow_steps(trees: list[Tree], params: GBDTParams) -> Generator[Request, np.ndarray, Tree]:
    """One depth-wise tree from summed histograms (yields its histogram requests)."""
    tree = Tree()
    frontier = [0]
    hists: dict[int, np.ndarray] = {0: (yield (trees, tree, [0]))[0]}
    for depth in range(params.max_depth + 1):
        pairs: list[tuple[int, int, int]] = []  # (parent, smaller child, larger child)
        for nd in frontier:
            hist = hists.pop(nd)
            G, H = hist[0, :, 0].sum(), hist[0, :, 1].sum()
            tree.value[nd] = float(-params.learning_rate * G / (H + params.reg_lambda))
            if depth == params.max_depth:
                continue
            gain, j, b = _best_split(hist, params)
            if j < 0 or gain <= params.min_gain:
                continue
            left, right = len(tree.feature), len(tree.feature) + 1
            tree.feature[nd], tree.threshold[nd], tree.left[nd], tree.right[nd] = j, b, left, right
            for _ in range(2):
                tree.feature.append(-1)
                tree.threshold.append(0)
                tree.left.append(-1)
                tree.right.append(-1)
                tree.value.append(0.0)
            n_left = hist[j, : b + 1, 2].sum()
            small, large = (left, right) if n_left <= hist[0, :, 2].sum() - n_left else (right, left)
            hists[-1 - nd] = hist  # parent kept until its children are known
            pairs.append((nd, small, large))
        if not pairs:
            break
        got = yield (trees, tree, [p[1] for p in pairs])
        for k, (nd, small, large) in enumerate(pairs):
            parent = hists.pop(-1 - nd)
            hists[small] = got[k]
            hists[large] = parent - got[k]
        frontier = [c for _nd, s_, l_ in pairs for c in (s_, l_)]
    return tree


def fit_local(X: np.ndarray, y: np.ndarray, edges: BinEdges, params: GBDTParams) -> Booster:
    """Centralized training with the same algorithm (the reference the federated model equals)."""
    bins = edges.transform(X)
    s = base_sums(y)
    base = float(np.log(max(s[0], 1e-9) / s[1]))
    state = {"raw": np.full(len(y), base), "done": 0}

    def hist_fn(trees: list[Tree], tree: Tree, frontier: list[int]) -> np.ndarray:
        for tr in trees[state["done"]:]:  # scores are updated tree by tree, never recomputed
            state["raw"] = state["raw"] + tr.predict(bins)
        state["done"] = len(trees)
        return local_histograms(bins, y, state["raw"], tree, frontier, edges.n_bins)

    return fit(hist_fn, base, edges, params)
