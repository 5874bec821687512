"""Robust option of the federated hotspot forecaster: check every district's own replies.

Secure sums hide each district's histograms, so a district that sends scaled-up histograms cannot
be caught under secure aggregation; with ``forecaster-robust = true`` (which needs ``secure =
false``) the server gets each district's plain replies and checks them against invariants that
hold for *any* honest district's data, whatever it is — so the checks need no threshold tuned on
data and have no false positives beyond floating-point tolerance:

* **citywide sums** (``query.city``, per category: count sums per week and the series count) are
  non-negative integers, and every category has the same number of series (each area gets a
  series for every agreed category);
* **base sums** (``[Σy, n]`` of the training rows) follow from the district's own citywide sums:
  ``n = series · Σ_h max(0, cut − 1 − h)`` and ``Σy = Σ_h Σ_{u=h+1}^{cut−1} (weekly total)_u``;
* **every histogram** (per node × feature × bin: Σg, Σh, count of the Poisson loss): counts are
  non-negative integers, ``Σh ≥ 0``, ``Σy = Σh − Σg ≥ 0`` per bin, and every feature's bins add up
  to the same node totals (each feature partitions the same rows); ``Σh / count`` lies within
  ``[exp(f_min), exp(f_max)]`` of the current model's raw-score range;
* **a chain from the base sums to every node**: a tree's root holds the district's declared ``n``
  and ``Σy``, and ``Σh`` equal to ``n · e^base`` for the first tree and to ``Σ_leaves e^{v_L} ·
  Σh(L)`` of the district's own leaves of the previous tree for later ones (the server knows the
  leaf values); a child's histogram on its parent's split feature equals the parent's bins on its
  side (zero on the other), and on every feature it is a subset of the parent's (counts and Σy
  per bin at most the parent's). The larger child of each split is the parent minus the smaller,
  per district, so every node of every tree is checked.

A scaled reply (histograms ×F on every channel, or on Σg/Σh only) breaks the root totals at the
first tree; scaling the citywide sums breaks the base-sum identity. With ``rescale`` (the default
policy) a reply that is an exact multiple of one passing every check is divided back and kept
(:class:`HistogramScreen`); anything else fails and the server leaves the district out.

A district that scales *everything* it sends consistently from its first reply on by a whole number
F — city sums, series counts, base sums and histograms (``poison-all:F``) — passes every check above:
it looks exactly like a district holding F copies of each of its series. :class:`CopyScreen` catches
it by arithmetic instead: every whole count such a district sends (weekly totals per category,
series counts, row counts per histogram bin) is divisible by F, while the counts of honest data have
greatest common divisor 1 unless the district is tiny (a few dozen events; measured in
docs/federated.md). The gcd of its citywide counts is a *hypothesis* (the server divides that
district's sums by it); its first histograms confirm it (every bin count divisible too) or refute it
(the factor is narrowed to what the histogram counts share too — 1 for an honest district — and
training starts again). Not caught: copies that
are perturbed or scaled by a non-integer — that is fake data, which no check on sums can tell from
real data.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from govml.federated.gbdt import Tree

TOL = 1e-6


def rows_per_series(cut: int, horizon: int) -> int:
    """Training rows one series gives at a cut (``forecaster.training_rows`` without a window)."""
    return int(sum(max(0, cut - 1 - h) for h in range(1, horizon + 1)))


def implied_base(city: np.ndarray, cut: int, horizon: int) -> tuple[float, float]:
    """``(Σy, n)`` of the training rows implied by one district's citywide sums ``(n_cat, cut + 1)``."""
    weekly = city[:, :cut].sum(axis=0)
    series = float(city[:, cut].sum())
    y = float(sum(weekly[h + 1:cut].sum() for h in range(1, horizon + 1)))
    return y, series * rows_per_series(cut, horizon)


def check_city(city: np.ndarray, cut: int) -> str | None:
    """Why one district's citywide sums ``(n_cat, cut + 1)`` cannot be honest, or None."""
    if city.shape[1] != cut + 1:
        return f"citywide sums have {city.shape[1]} columns, expected {cut + 1}"
    if not np.isfinite(city).all():
        return "citywide sums hold non-finite values"
    if (city < -TOL).any() or np.abs(city - np.rint(city)).max(initial=0.0) > TOL:
        return "citywide sums are not non-negative whole counts"
    if np.ptp(city[:, cut]) > 0.5:
        return "citywide sums give different numbers of series for different categories"
    return None


def check_base(base: np.ndarray, city: np.ndarray, cut: int, horizon: int) -> str | None:
    """Why a district's base sums ``[Σy, n]`` disagree with its own citywide sums, or None."""
    y_exp, n_exp = implied_base(city, cut, horizon)
    y, n = float(base[0]), float(base[1])
    if abs(n - n_exp) > 0.5 or abs(y - y_exp) > TOL * (1.0 + abs(y_exp)):
        return (f"base sums (Σy={y:.6g}, n={n:.6g}) disagree with its citywide sums "
                f"(Σy={y_exp:.6g}, n={n_exp:.6g})")
    return None


@dataclass
class Chain:
    """What the server knows of one district's rows for one model (one backtest cut)."""

    n: float
    y: float
    h_root: float  # expected Σh at the root of tree number ``trees``
    trees: int = 0
    nodes: dict[int, np.ndarray] = field(default_factory=dict)  # the current tree's (F, B, 3) histograms


def _parent(tree: Tree, node: int) -> tuple[int, bool]:
    """(parent, is the left child) of a node of a growing tree."""
    for p, (lft, rgt) in enumerate(zip(tree.left, tree.right, strict=True)):
        if lft == node:
            return p, True
        if rgt == node:
            return p, False
    raise KeyError(node)


def _raw_range(base: float, trees: list[Tree]) -> tuple[float, float]:
    lo = hi = base
    for t in trees:
        leaves = [v for f, v in zip(t.feature, t.value, strict=True) if f < 0]
        lo, hi = lo + min(leaves), hi + max(leaves)
    return lo, hi


def check_hist(h: np.ndarray, *, root: tuple[float, float, float] | None = None,
               parent: np.ndarray | None = None, split: tuple[int, int, bool] | None = None,
               raw_range: tuple[float, float] | None = None) -> str | None:
    """Why one node's histogram ``(F, B, 3)`` cannot come from honest rows, or None.

    ``root``: ``(n, Σy, Σh)`` the node must total; ``parent`` and ``split`` ``(feature, threshold bin,
    is left child)``: the district's own parent histogram and the split that made this node."""
    g, hh, c = h[..., 0], h[..., 1], h[..., 2]
    if not np.isfinite(h).all():
        return "non-finite values"
    if (c < -TOL).any() or np.abs(c - np.rint(c)).max(initial=0.0) > TOL:
        return "counts are not non-negative whole numbers"
    y = hh - g  # Σy per bin: Poisson gradient is μ − y, hessian μ
    H = float(hh[0].sum())
    atol = TOL * (1.0 + abs(H))
    if (hh < -atol).any() or (y < -atol).any():
        return "Σh < 0 or Σg > Σh (targets would be negative)"
    tot = h.sum(axis=1)  # (F, 3): each feature's bins cover the same rows
    if np.abs(tot - tot[0]).max() > atol + TOL * np.abs(tot[0]).max():
        return "features' bins add up to different node totals"
    n_node, y_node = float(tot[0, 2]), float(tot[0, 1] - tot[0, 0])
    if root is not None:
        n, ysum, hsum = root
        if abs(n_node - n) > 0.5:
            return f"tree root counts {n_node:.6g} rows, the district declared {n:.6g}"
        if abs(y_node - ysum) > TOL * (1.0 + abs(ysum) + abs(H)):
            return f"tree root holds Σy={y_node:.6g}, the district declared {ysum:.6g}"
        if abs(H - hsum) > TOL * (1.0 + abs(hsum)):
            return f"tree root holds Σh={H:.6g}, the previous trees give {hsum:.6g}"
    if parent is not None and split is not None:
        j, b, left = split
        side = np.arange(h.shape[1]) <= b
        if not left:
            side = ~side
        pj = parent[j]
        if (np.abs(h[j][side] - pj[side]).max(initial=0.0) > atol + TOL * np.abs(pj[side]).max(initial=0.0)
                or np.abs(h[j][~side]).max(initial=0.0) > atol):
            return "a child's histogram on its parent's split feature differs from the parent's bins on its side"
        py = parent[..., 1] - parent[..., 0]
        if (c > parent[..., 2] + 0.5).any() or (y > py + atol).any():
            return "a child's bins hold more rows or targets than its parent's"
    if raw_range is not None:
        occupied = c > 0.5
        if occupied.any():
            ratio = hh[occupied] / c[occupied]
            lo, hi = np.exp(raw_range[0]), np.exp(raw_range[1])
            if (ratio < lo * (1 - TOL) - TOL).any() or (ratio > hi * (1 + TOL) + TOL).any():
                return (f"Σh / count per bin outside [{lo:.4g}, {hi:.4g}], the range of the current model's "
                        "predictions")
    return None


def _factors(h: np.ndarray, root: tuple[float, float, float] | None, parent: np.ndarray | None,
             split: tuple[int, int, bool] | None) -> tuple[float, float] | None:
    """``(count factor, Σg/Σh factor)`` by which a reply would be a multiple of what its district
    declared: at a root against ``n`` and the expected Σh, below it against the parent's bins on its side
    of the split feature. None when there is nothing to compare with."""
    if root is not None:
        num_c, den_c, num_h, den_h = h[0, :, 2].sum(), root[0], h[0, :, 1].sum(), root[2]
    elif parent is not None and split is not None:
        j, b, left = split
        side = np.arange(h.shape[1]) <= b
        if not left:
            side = ~side
        num_c, den_c = h[j, side, 2].sum(), parent[j, side, 2].sum()
        num_h, den_h = h[j, side, 1].sum(), parent[j, side, 1].sum()
    else:
        return None
    if den_c <= 0 or den_h <= 0:
        return None
    fc, fh = float(num_c / den_c), float(num_h / den_h)
    if not (np.isfinite(fc) and np.isfinite(fh)) or fc == 0 or fh == 0:
        return None
    return fc, fh


@dataclass
class Verdict:
    """A district's reply to one request: why it cannot be honest (None: it passed), the histograms
    to add (rescaled when it was an exact multiple of an honest reply), and the factors undone."""

    reason: str | None
    hists: np.ndarray
    factors: tuple[float, float] | None = None


class HistogramScreen:
    """Per district and model: the chain of checks of :func:`check_hist` through every tree.

    ``rescale``: a reply that fails but is an exact multiple of a reply that passes every check —
    counts × a, Σg and Σh × b, measured against the district's own declared totals — is divided back
    and kept (its influence is then that of an honest district of its declared size); otherwise the
    district fails."""

    def __init__(self, rescale: bool = True) -> None:
        self.rescale = rescale
        self.chains: dict[tuple[int, int], Chain] = {}

    def start(self, node: int, model: int, base_sums: np.ndarray, base: float) -> None:
        y, n = float(base_sums[0]), float(base_sums[1])
        self.chains[(node, model)] = Chain(n=n, y=y, h_root=n * float(np.exp(base)))

    def check(self, node: int, model: int, base: float, trees: list[Tree], tree: Tree, frontier: list[int],
              hists: np.ndarray) -> Verdict:
        """Check one district's reply for one model's request; on success keep its node histograms."""
        ch = self.chains[(node, model)]
        if frontier == [0]:  # a new tree (or the unfinished one again): roll the root's expected Σh
            if len(trees) == ch.trees + 1:
                last = trees[-1]
                ch.h_root = float(sum(np.exp(last.value[k]) * ch.nodes[k][0, :, 1].sum()
                                      for k, f in enumerate(last.feature) if f < 0))
                ch.trees = len(trees)
            elif len(trees) != ch.trees:
                return Verdict(f"internal: the chain is at tree {ch.trees}, the request at tree {len(trees)}", hists)
            ch.nodes = {}
        rr = _raw_range(base, trees)
        hists = np.array(hists, dtype=np.float64, copy=True)
        undone: tuple[float, float] | None = None
        for k, nd in enumerate(frontier):
            h = hists[k]
            ctx: dict = {"root": (ch.n, ch.y, ch.h_root)} if nd == 0 else {}
            if nd != 0:
                p, left = _parent(tree, nd)
                ctx = {"parent": ch.nodes[p], "split": (tree.feature[p], tree.threshold[p], left)}
            why = check_hist(h, raw_range=rr, **ctx)
            if why and self.rescale and (f := _factors(h, ctx.get("root"), ctx.get("parent"), ctx.get("split"))):
                fixed = h.copy()
                fixed[..., 2] = fixed[..., 2] / f[0]
                fixed[..., :2] = fixed[..., :2] / f[1]
                if check_hist(fixed, raw_range=rr, **ctx) is None:
                    fixed[..., 2] = np.rint(fixed[..., 2])
                    hists[k], why, undone = fixed, None, undone or f
            if why:
                return Verdict(f"tree {len(trees) + 1}, node {nd}: {why}", hists)
        for k, nd in enumerate(frontier):
            ch.nodes[nd] = hists[k]
            if nd != 0:
                p, left = _parent(tree, nd)
                sib = tree.right[p] if left else tree.left[p]
                ch.nodes[sib] = ch.nodes[p] - hists[k]
        return Verdict(None, hists, undone)

    def forget(self, node: int) -> None:
        for key in [k for k in self.chains if k[0] == node]:
            del self.chains[key]


def copies_gcd(counts: np.ndarray) -> int:
    """Greatest common divisor of the non-zero whole counts in ``counts`` — the largest F for which the
    counts could be F copies of whole counts; 1 when there is no non-zero count or some value is not a
    whole number (or too large to be a count)."""
    a = np.abs(np.asarray(counts, dtype=np.float64).ravel())
    a = a[a > 0.5]
    if a.size == 0 or not np.isfinite(a).all() or a.max() >= 2.0**53:
        return 1
    r = np.rint(a)
    if np.abs(a - r).max() > TOL:
        return 1
    return int(np.gcd.reduce(r.astype(np.int64)))


class CopyScreen:
    """Per district: does it send every count as a multiple of a whole number g > 1 (``poison-all:g``,
    a district claiming g copies of each of its series)?

    The server calls :meth:`city` with a district's citywide sums (every cut), then passes its base sums
    and histogram replies through :meth:`divide` and :meth:`hist`. The citywide gcd is a hypothesis: the
    district's first histogram reply confirms it (every bin count divisible by g) or refutes it — an
    honest small district whose weekly totals happened to share a factor with its series count. A
    refuted factor is narrowed to ``gcd(g, gcd of the histogram counts)`` for the rest of the run (1 for
    an honest district: nothing is divided; a district sending F copies of a district whose own counts
    share a factor still keeps F), :meth:`hist` returns ``"refuted"`` and the server trains again from
    the citywide sums. ``factors`` holds the current hypotheses, ``confirmed`` the districts shown to
    send g-fold counts, ``bound`` the factors narrowed by histograms."""

    def __init__(self) -> None:
        self.factors: dict[int, int] = {}
        self.confirmed: dict[int, int] = {}
        self.bound: dict[int, int] = {}

    @property
    def cleared(self) -> set[int]:
        """Districts whose histograms refuted any common factor."""
        return {n for n, b in self.bound.items() if b == 1}

    def city(self, node: int, mats: list[np.ndarray]) -> int:
        """The factor g the district's citywide sums (one ``(n_cat, cut + 1)`` matrix per cut) share, within
        what its histograms allowed; 1 for none. Sums failing :func:`check_city` get 1 (they fail there)."""
        g = copies_gcd(np.concatenate([np.asarray(m, dtype=np.float64).ravel() for m in mats]))
        if node in self.bound:
            g = int(np.gcd(g, self.bound[node]))
        if g > 1:
            self.factors[node] = g
        else:
            self.factors.pop(node, None)
        return g

    def factor(self, node: int) -> int:
        return self.factors.get(node, 1)

    def divide(self, node: int, vec: np.ndarray) -> np.ndarray:
        """A district's citywide or base sums divided by its factor (a new array; as sent when none)."""
        g = self.factor(node)
        return np.asarray(vec, dtype=np.float64) / g if g > 1 else vec

    def hist(self, node: int, vec: np.ndarray) -> tuple[np.ndarray, str]:
        """A histogram reply ``(…, 3)`` flattened (Σg, Σh, count per bin) divided by the district's factor,
        and what it showed: ``""`` (no hypothesis, or already confirmed), ``"confirmed"`` (first reply,
        every count divisible by g) or ``"refuted"`` (some count is not: the factor is narrowed, the reply
        comes back as sent)."""
        g = self.factor(node)
        if g <= 1:
            return vec, ""
        status = ""
        if node not in self.confirmed:
            counts = np.asarray(vec, dtype=np.float64).reshape(-1, 3)[:, 2]
            r = np.rint(counts)
            if np.abs(counts - r).max(initial=0.0) > TOL or (np.mod(r, g) != 0).any():
                self.factors.pop(node, None)
                self.bound[node] = int(np.gcd(g, copies_gcd(counts)))
                return vec, "refuted"
            self.confirmed[node] = g
            status = "confirmed"
        return np.asarray(vec, dtype=np.float64) / g, status

    def forget(self, node: int) -> None:
        self.factors.pop(node, None)
        self.confirmed.pop(node, None)
