"""Entropy, AHP and TOPSIS against values computed by hand."""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
import pytest

from govml.errors import ConfigError
from govml.skills import ahp_weights, entropy_weights, topsis


def test_entropy_weights_hand_computed():
    # column x: 1,2,3 -> normalised 0, .5, 1 -> p = 0, 1/3, 2/3
    # column y: 1,1,4 -> normalised 0, 0, 1 -> p = 0, 0, 1 -> entropy 0
    df = pd.DataFrame({"x": [1.0, 2.0, 3.0], "y": [1.0, 1.0, 4.0]})
    e_x = -(1 / 3 * math.log(1 / 3) + 2 / 3 * math.log(2 / 3)) / math.log(3)
    d_x, d_y = 1 - e_x, 1.0
    w = entropy_weights(df)
    assert w["x"] == pytest.approx(d_x / (d_x + d_y), abs=1e-12)
    assert w["y"] == pytest.approx(d_y / (d_x + d_y), abs=1e-12)
    assert w["x"] == pytest.approx(0.29608, abs=1e-5)


def test_entropy_direction_lower_and_constant_column():
    df = pd.DataFrame({"x": [3.0, 2.0, 1.0], "y": [1.0, 1.0, 4.0], "k": [5.0, 5.0, 5.0]})
    w_lower = entropy_weights(df, {"x": "lower"})
    w_ref = entropy_weights(pd.DataFrame({"x": [1.0, 2.0, 3.0], "y": [1.0, 1.0, 4.0], "k": [5.0, 5.0, 5.0]}))
    assert w_lower["x"] == pytest.approx(w_ref["x"])
    assert w_lower["k"] == 0.0
    assert w_lower.sum() == pytest.approx(1.0)


def test_ahp_consistent_matrix_exact_weights():
    A = [[1, 2, 4], [1 / 2, 1, 2], [1 / 4, 1 / 2, 1]]
    res = ahp_weights(A)
    np.testing.assert_allclose(res.weights, [4 / 7, 2 / 7, 1 / 7], atol=1e-12)
    assert res.lambda_max == pytest.approx(3.0)
    assert res.cr == pytest.approx(0.0, abs=1e-12)


def test_ahp_textbook_matrix():
    # Saaty's classic example: weights ~ (0.637, 0.258, 0.105), lambda_max ~ 3.039, CR ~ 0.033 (RI = 0.58)
    A = [[1, 3, 5], [1 / 3, 1, 3], [1 / 5, 1 / 3, 1]]
    res = ahp_weights(A)
    np.testing.assert_allclose(res.weights, [0.6370, 0.2583, 0.1047], atol=5e-4)
    assert res.lambda_max == pytest.approx(3.0385, abs=5e-4)
    assert res.ci == pytest.approx((res.lambda_max - 3) / 2)
    assert res.cr == pytest.approx(res.ci / 0.58)
    assert res.cr == pytest.approx(0.033, abs=1e-3)


def test_ahp_refuses_inconsistent_matrix_showing_cr():
    A = [[1, 9, 1 / 9], [1 / 9, 1, 9], [9, 1 / 9, 1]]  # a > b > c > a
    with pytest.raises(ConfigError, match=r"CR = \d+\.\d+ > 0.1"):
        ahp_weights(A)


def test_ahp_refuses_non_reciprocal():
    with pytest.raises(ConfigError, match="not reciprocal"):
        ahp_weights([[1, 2], [2, 1]])


def test_topsis_hand_computed():
    # two criteria (benefit), equal weights; rows: A=(1, 2), B=(2, 1), C=(2, 2)
    df = pd.DataFrame({"p": [1.0, 2.0, 2.0], "q": [2.0, 1.0, 2.0]}, index=["A", "B", "C"])
    res = topsis(df)
    n = math.sqrt(1 + 4 + 4)  # column norms are both 3
    v = df / n * 0.5
    best, worst = v.max(), v.min()
    d_best = np.sqrt(((v - best) ** 2).sum(axis=1))
    d_worst = np.sqrt(((v - worst) ** 2).sum(axis=1))
    np.testing.assert_allclose(res["closeness"], d_worst / (d_best + d_worst))
    assert res.loc["C", "rank"] == 1 and res.loc["C", "closeness"] == pytest.approx(1.0)
    assert res.loc["A", "closeness"] == pytest.approx(0.5)


def test_topsis_cost_criterion_flips():
    df = pd.DataFrame({"hours": [10.0, 20.0]}, index=["fast", "slow"])
    res = topsis(df, directions={"hours": "lower"})
    assert res.loc["fast", "rank"] == 1
