"""Session 10 (issue 3, the cost of `govml demands train`): the model is serialised once (MLflow's model file is a
copy of model-dir's model.skops and MLflow's loads of it while logging use the model in memory), the shared
analyses are dropped before the final fit's classifier, the term -> id dict is freed at once, the feature matrix
is not copied and the float32 rounding needs no whole float32 copy — each with the same model, bit for bit."""

from __future__ import annotations

import gc
from collections import defaultdict
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import skops.io as sio

from govml.text import classify
from govml.text.classify import DemandClassifier, cross_validate_classifier, shared_analysis


@pytest.fixture(scope="module")
def messages(samples_dir: Path) -> tuple[list[str], list[str]]:
    """400 sample messages as 'title\\ndetails' (the title: the text up to its first comma), with labels."""
    df = pd.read_csv(samples_dir / "messages.csv", dtype=str).dropna(subset=["text", "category"]).head(400)
    return [t.replace("，", "\n", 1) for t in df["text"]], df["category"].tolist()


def _assert_same_fitted(a: DemandClassifier, b: DemandClassifier) -> None:
    for (name, va), (_, vb) in zip(a.features_.transformer_list, b.features_.transformer_list, strict=True):
        if hasattr(va, "vocabulary_"):
            assert list(va.vocabulary_.items()) == list(vb.vocabulary_.items()), name
            assert va._tfidf.idf_.tobytes() == vb._tfidf.idf_.tobytes(), name
    for ma, mb in zip(classify._linear_models(a.classifier_), classify._linear_models(b.classifier_), strict=True):
        assert ma.coef_.tobytes() == mb.coef_.tobytes()
        assert ma.coef_.flags.c_contiguous == mb.coef_.flags.c_contiguous


def test_float32_values_are_astype_round_trip_bit_for_bit() -> None:
    rng = np.random.default_rng(0)
    raw = rng.normal(size=(7, 5001)) * 10.0 ** rng.integers(-8, 8, size=(7, 5001))
    raw[0, :10] = [0.0, -0.0, np.inf, -np.inf, np.nan, 1e-45, 3.4e38, 1e39, -1e-40, 0.1]
    cases = [raw[:, :-1],  # LinearSVC's coef_: a view of raw_coef_ without the intercept column
             raw, np.asfortranarray(raw), raw[0], raw[:1, :-1]]
    for w in cases:
        with np.errstate(over="ignore"):
            want = w.astype(np.float32).astype(np.float64)
            got = classify._float32_values(w)
        assert got.dtype == np.float64 and got.shape == w.shape
        assert got.tobytes() == want.tobytes()
        assert (got.flags.c_contiguous, got.flags.f_contiguous) == (want.flags.c_contiguous, want.flags.f_contiguous)


@pytest.mark.parametrize("chunk", [7, 1 << 20])
def test_same_bits_is_the_byte_comparison_without_copies(monkeypatch, chunk) -> None:
    monkeypatch.setattr(classify, "_SAME_BITS_CHUNK", chunk)
    rng = np.random.default_rng(1)
    a = rng.normal(size=(5, 301))
    neg0 = a.copy()
    neg0[2, 7] = 0.0
    b = neg0.copy()
    b[2, 7] = -0.0  # equal as numbers, not as bits
    nan1, nan2 = a.copy(), a.copy()
    nan1[4, 300] = np.nan
    nan2[4, 300] = -np.nan  # another NaN bit pattern
    last = a.copy()
    last[4, 300] = np.nextafter(last[4, 300], np.inf)
    cases = [(a, a.copy()), (a, np.asfortranarray(a)), (np.asfortranarray(a), np.asfortranarray(a)),
             (a[:, ::2], a[:, ::2].copy()), (a[:, :-1], a[:, :-1].copy()), (neg0, b), (nan1, nan2), (nan1, nan1.copy()),
             (a, last), (a.astype(np.float32), a.astype(np.float32)), (a, a.astype(np.float32)), (a, a.T),
             (a.ravel(), a.ravel().copy()), ((a * 100).astype(np.int8), (a * 100).astype(np.int8)),
             (np.zeros(0), np.zeros(0)), (np.array(["x", 1], dtype=object), np.array(["x", 1], dtype=object))]
    for x, y in cases:
        want = x.shape == y.shape and x.dtype == y.dtype and x.tobytes() == y.tobytes()
        assert classify._same_bits(x, y) is want or classify._same_bits(x, y) == want, (x.shape, x.dtype)
    assert not classify._same_bits(neg0, b) and not classify._same_bits(a, last)


def _old_pack_weights(w: np.ndarray) -> dict | None:
    """_pack_weights as it was before session 10 (whole-matrix copies), the reference."""
    order = "F" if w.flags.f_contiguous and not w.flags.c_contiguous else "C"
    flat = w.ravel(order=order)
    nonzero = flat.view(np.uint64) != 0
    values = flat[nonzero]
    as32 = values.astype(np.float32)
    if as32.astype(np.float64).tobytes() == values.tobytes():
        values = as32
    return {"shape": np.array(w.shape, dtype=np.int64), "order": order,
            "nonzero": classify._zip_array(np.packbits(nonzero)), "values": classify._zip_array(values)}


@pytest.mark.parametrize("chunk", [7, 1 << 20])
def test_pack_weights_chunked_packs_the_same(monkeypatch, chunk) -> None:
    monkeypatch.setattr(classify, "_SAME_BITS_CHUNK", chunk)
    rng = np.random.default_rng(2)
    w64 = rng.normal(size=(7, 400)) * (rng.random((7, 400)) < 0.7)  # zeros among the weights
    w64[0, :3] = [-0.0, np.nan, np.inf]
    w32 = classify._float32_values(w64)  # what weights_dtype="float32" leaves: packed as float32
    one_off = w32.copy()
    one_off[6, 399] = 0.1  # one value that is no float32 number: all packed as float64
    for w in (w32, w64, one_off, np.asfortranarray(w32), w32[:, :-1], np.ravel(w32)):
        got, want = classify._pack_weights(w), _old_pack_weights(w)
        assert got is not None and got["order"] == want["order"] and got["shape"].tolist() == list(w.shape)
        for part in ("nonzero", "values"):
            assert got[part]["dtype"] == want[part]["dtype"]
            assert got[part]["zlib"].tobytes() == want[part]["zlib"].tobytes()
        back = classify._unpack_weights(got)
        assert back.shape == w.shape and np.ravel(back).tobytes() == np.ravel(w).tobytes()
    assert classify._pack_weights(w32)["values"]["dtype"] == np.dtype(np.float32).str
    assert classify._pack_weights(one_off)["values"]["dtype"] == np.dtype(np.float64).str
    bad = classify._pack_weights(w32)
    assert not classify._unpacks_to(bad, np.ravel(one_off))  # the check sees a changed value


def test_term_dict_freed_without_the_cyclic_collector(messages) -> None:
    """The term -> id dict of an analysis was a reference cycle (its default_factory is its own __len__): dropped,
    it stayed in memory until the cyclic collector ran. Now reference counting frees it at once."""
    texts, _ = messages
    block = DemandClassifier()._features(True).transformer_list[1][1]  # the character block
    block._validate_ngram_range()
    counts = classify._TermCounts(block.build_analyzer(), block.dtype)
    gc.collect()
    was = gc.get_debug()
    gc.disable()
    try:
        gc.set_debug(gc.DEBUG_SAVEALL)
        counts.rows(texts[:200])
        counts.rows(texts[200:])  # a second batch: the dict rebuilt and dropped again
        gc.collect()
        cyclic = [o for o in gc.garbage if isinstance(o, defaultdict) and len(o) > 1000]
    finally:
        gc.set_debug(was)
        gc.garbage.clear()
        gc.enable()
    assert counts._vocab is None and len(counts.terms) > 1000
    assert cyclic == []


@pytest.mark.slow
def test_last_fit_drops_the_analyses_and_fits_the_same_model(messages) -> None:
    texts, labels = messages
    est = DemandClassifier(random_state=0)
    plain = DemandClassifier(random_state=0).fit(texts, labels)  # no shared analysis at all
    with shared_analysis() as shared:
        report = cross_validate_classifier(texts, labels, cv=3, estimator=est)
        assert shared.blocks  # the folds' analyses are kept for the final fit
        shared.last_fit()
        final = DemandClassifier(random_state=0).fit(texts, labels)
        assert shared.blocks == {} and not shared.release_after_features  # dropped before the SVM was fitted
        again = DemandClassifier(random_state=0).fit(texts, labels)  # a later fit analyses afresh
        assert shared.blocks
    _assert_same_fitted(final, plain)
    _assert_same_fitted(again, plain)
    assert np.array_equal(final.predict_proba(texts[:50]), plain.predict_proba(texts[:50]))
    assert report == cross_validate_classifier(texts, labels, cv=3, estimator=est)  # the folds themselves: unchanged


def _count_calls(monkeypatch, module, name: str) -> list[int]:
    calls: list[int] = []
    original = getattr(module, name)

    def counted(*a, **k):
        calls.append(1)
        return original(*a, **k)

    monkeypatch.setattr(module, name, counted)
    return calls


def test_log_sklearn_model_copies_the_saved_file(tmp_path, monkeypatch) -> None:
    import mlflow
    import mlflow.sklearn
    from sklearn.linear_model import LogisticRegression

    from govml import tracking

    X = pd.DataFrame({"a": np.arange(40.0), "b": np.arange(40.0) % 7})
    clf = LogisticRegression().fit(X, np.arange(40) % 2)
    saved = tmp_path / "model.skops"
    sio.dump(clf, saved)
    trusted = sio.get_untrusted_types(file=saved)
    save_fn, load_fn = mlflow.sklearn._save_model, mlflow.sklearn._load_model_from_local_file
    dumps = _count_calls(monkeypatch, sio, "dump")
    loads = _count_calls(monkeypatch, sio, "load")
    tracking.configure()
    mlflow.set_experiment("govml-test-s10-copy")
    with mlflow.start_run():
        uri = tracking.log_sklearn_model(clf, input_example=X.head(2), skops_trusted_types=trusted, saved_file=saved)
    assert dumps == [] and loads == []  # neither written again nor loaded back while logging
    assert (mlflow.sklearn._save_model, mlflow.sklearn._load_model_from_local_file) == (save_fn, load_fn)
    local = Path(mlflow.artifacts.download_artifacts(uri))
    assert (local / "model.skops").read_bytes() == saved.read_bytes()
    back = mlflow.sklearn.load_model(uri)
    assert np.array_equal(back.predict_proba(X), clf.predict_proba(X))
    assert (local / "input_example.json").exists()

    # without a saved file MLflow serialises the model itself (and loads it back), as before
    other = LogisticRegression(C=0.01).fit(X, np.arange(40) % 2)
    with mlflow.start_run():
        uri2 = tracking.log_sklearn_model(other, input_example=X.head(2), skops_trusted_types=trusted)
    assert len(dumps) == 1 and len(loads) >= 1
    assert np.array_equal(mlflow.sklearn.load_model(uri2).predict_proba(X), other.predict_proba(X))


@pytest.mark.slow
def test_cli_train_serialises_the_model_once(tmp_path, monkeypatch, messages) -> None:
    import mlflow
    from typer.testing import CliRunner

    from govml import tracking
    from govml.cli import app
    from govml.cli.demands import load_model_dir

    texts, labels = messages
    title, _, details = zip(*(t.partition("\n") for t in texts[:240]), strict=True)
    src = tmp_path / "lab.csv"
    pd.DataFrame({"id": range(240), "title": title, "details": details, "cat": labels[:240]}).to_csv(src, index=False)
    monkeypatch.setenv("GOVML_HOME", str(tmp_path / "home"))
    dumps = _count_calls(monkeypatch, sio, "dump")
    loads = _count_calls(monkeypatch, sio, "load")
    res = CliRunner().invoke(app, ["demands", "train", str(src), "--label-col", "cat", "--text-col", "title",
                                   "--text-col", "details", "--cv", "3", "--model-dir", str(tmp_path / "m")])
    assert res.exit_code == 0, res.output
    assert len(dumps) == 1 and loads == []  # was 2 dumps and 2 loads (MLflow's trial load, its example check)
    model, meta = load_model_dir(tmp_path / "m")
    tracking.configure()
    runs = mlflow.search_runs(experiment_names=[tracking.experiment_name("demand-classifier")])
    logged = mlflow.search_logged_models(experiment_ids=[runs["experiment_id"].iloc[0]], output_format="list")
    assert len(logged) == 1
    local = Path(mlflow.artifacts.download_artifacts(logged[0].model_uri))
    assert (local / "model.skops").read_bytes() == (tmp_path / "m" / "model.skops").read_bytes()
    assert "serialization_format: skops" in (local / "MLmodel").read_text()
    back = mlflow.sklearn.load_model(logged[0].model_uri)
    assert np.array_equal(back.predict_proba(texts[240:300]), model.predict_proba(texts[240:300]))
    assert meta["cv"]["n"] == 240
