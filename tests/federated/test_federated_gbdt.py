"""Histogram boosting from summed histograms: federated trees equal pooled trees; quality vs LightGBM."""

from __future__ import annotations

import numpy as np
import pytest

from govml.federated.gbdt import BinEdges, GBDTParams, Tree, base_sums, fit, fit_local, local_histograms
from govml.federated.secagg import KeyPair, dequantize, mask_vector, quantize, unmask_sum


@pytest.fixture(scope="module")
def counts():
    rng = np.random.default_rng(0)
    n, F = 9000, 6
    X = rng.gamma(2.0, 3.0, size=(n, F))
    X[:, 5] = rng.integers(0, 10, n)
    mu = np.exp(0.3 + 0.08 * X[:, 0] - 0.05 * X[:, 1] + 0.4 * (X[:, 5] > 6) + 0.02 * X[:, 2] * (X[:, 3] > 5))
    return X, rng.poisson(mu).astype(float), mu


def test_binning_is_public_and_identical_everywhere():
    e = BinEdges.counts(2, max_value=100, n_bins=16)
    X = np.array([[0.0, np.nan], [0.3, 1000.0], [5.0, 2.0]])
    b = e.transform(X)
    assert b[0, 0] == 0 and b[0, 1] == 0  # zero and missing share bin 0
    assert b[1, 1] == e.n_bins - 1  # beyond the last edge: last bin
    assert (b[:, 0] == np.sort(b[:, 0])).all()


def test_tree_round_trips_as_numbers():
    t = Tree(feature=[1, -1, -1], threshold=[3, 0, 0], left=[1, -1, -1], right=[2, -1, -1], value=[0, -0.5, 0.5])
    a = t.to_arrays()
    assert a.dtype == np.float64 and a.shape == (5, 3)
    assert Tree.from_arrays(a) == t
    bins = np.array([[0, 2], [0, 7]])
    assert list(t.predict(bins)) == [-0.5, 0.5]


def test_trees_from_securely_summed_district_histograms_equal_pooled_trees(counts):
    X, y, _ = counts
    edges = BinEdges.counts(X.shape[1], max_value=200, n_bins=24)
    params = GBDTParams(n_trees=8, max_depth=3)
    parts = np.array_split(np.arange(len(y)), 3)
    bins = [edges.transform(X[p]) for p in parts]
    ys = [y[p] for p in parts]
    keys = {i: KeyPair() for i in (3, 5, 8)}
    pubs = {i: k.public_bytes for i, k in keys.items()}
    s = sum(base_sums(v) for v in ys)
    base = float(np.log(s[0] / s[1]))
    raws = [np.full(len(v), base) for v in ys]
    done = [0]
    calls = [0]
    scale = 2.0**20

    def hist_fn(trees, tree, frontier):
        for tr in trees[done[0]:]:
            for i, b in enumerate(bins):
                raws[i] = raws[i] + tr.predict(b)
        done[0] = len(trees)
        calls[0] += 1
        masked = []
        for (nid, kp), b, v, r in zip(keys.items(), bins, ys, raws, strict=True):
            h = local_histograms(b, v, r, tree, frontier, edges.n_bins)
            masked.append(mask_vector(quantize(h.ravel(), scale), kp, nid, pubs, f"tree{len(trees)}|{calls[0]}"))
        return dequantize(unmask_sum(masked), scale).reshape(len(frontier), X.shape[1], edges.n_bins, 3)

    fed = fit(hist_fn, base, edges, params)
    central = fit_local(X, y, edges, params)
    assert [t.feature for t in fed.trees] == [t.feature for t in central.trees]
    assert [t.threshold for t in fed.trees] == [t.threshold for t in central.trees]
    assert np.abs(fed.raw(X) - central.raw(X)).max() < 1e-5


def test_quality_close_to_lightgbm(counts):
    lgb = pytest.importorskip("lightgbm")
    X, y, mu = counts
    tr, te = slice(0, 7000), slice(7000, None)
    edges = BinEdges.counts(X.shape[1], max_value=200, n_bins=32)
    ours = fit_local(X[tr], y[tr], edges, GBDTParams(n_trees=60, max_depth=4, learning_rate=0.1))
    ref = lgb.LGBMRegressor(objective="poisson", n_estimators=60, learning_rate=0.1, max_depth=4, num_leaves=15,
                            verbose=-1, random_state=0).fit(X[tr], y[tr])

    def rmse(p):
        return float(np.sqrt(np.mean((p - y[te]) ** 2)))

    assert rmse(ours.predict(X[te])) <= 1.03 * rmse(ref.predict(X[te]))
    assert rmse(ours.predict(X[te])) < rmse(np.full(len(y[te]), y[tr].mean()))  # it learned something


def test_trees_travel_packed_in_one_array(counts):
    from govml.federated.gbdt import pack_trees, unpack_trees

    X, y, _ = counts
    booster = fit_local(X, y, BinEdges.counts(X.shape[1], max_value=200, n_bins=16), GBDTParams(n_trees=5, max_depth=3))
    packed = pack_trees(booster.trees)
    assert packed.dtype == np.float64 and packed.ndim == 1
    assert unpack_trees(packed) == booster.trees
    assert unpack_trees(pack_trees([])) == []


def test_boosters_grown_in_lockstep_equal_boosters_grown_alone(counts):
    """fit_many (one request round for several models, e.g. backtest origins) = fit, also when a
    round is thrown away (RegrowTree) and the unfinished trees are grown again."""
    from govml.federated.gbdt import RegrowTree, fit_many

    X, y, _ = counts
    edges = BinEdges.counts(X.shape[1], max_value=200, n_bins=16)
    params = GBDTParams(n_trees=4, max_depth=3)
    data = [(edges.transform(X[:4000]), y[:4000]), (edges.transform(X[4000:]), y[4000:])]
    alone = [fit_local(X[:4000], y[:4000], edges, params), fit_local(X[4000:], y[4000:], edges, params)]
    bases = [b.base for b in alone]
    calls = [0]

    def hist_many(reqs):
        calls[0] += 1
        if calls[0] == 7:
            raise RegrowTree
        out = {}
        for i, (trees, tree, frontier) in reqs.items():
            bins, yy = data[i]
            raw = bases[i] + sum((t.predict(bins) for t in trees), np.zeros(len(yy)))
            out[i] = local_histograms(bins, yy, raw, tree, frontier, edges.n_bins)
        return out

    both = fit_many(hist_many, bases, edges, params)
    for a, b in zip(alone, both, strict=True):
        assert [t.feature for t in a.trees] == [t.feature for t in b.trees]
        assert [t.threshold for t in a.trees] == [t.threshold for t in b.trees]
        np.testing.assert_allclose(np.concatenate([t.value for t in a.trees]),
                                   np.concatenate([t.value for t in b.trees]), rtol=1e-9, atol=1e-12)
