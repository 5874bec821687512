"""The real adapters on the sample data: two retrains → two tracked runs, at most one promotion; a
degraded export is refused before training and the champion stays."""

from __future__ import annotations

import uuid

import pandas as pd
import pytest

from govml import retrain, tracking

pytestmark = pytest.mark.slow


def _recent(src, dst, weeks: int) -> pd.DataFrame:
    df = pd.read_csv(src, dtype=str)
    when = pd.to_datetime(df["created_at"])
    df = df[when > when.max() - pd.Timedelta(weeks=weeks)]
    df.to_csv(dst, index=False)
    return df


def test_classifier_on_sample_messages(tmp_path, samples_dir):
    pytest.importorskip("govml.text.classify")
    src = samples_dir / "messages.csv"
    if not src.exists():
        pytest.skip("data_samples/messages.csv not generated yet")
    import mlflow

    data = tmp_path / "incoming"
    data.mkdir()
    recent = _recent(src, data / "messages_1.csv", weeks=12)
    base = retrain.load_config(samples_dir.parent / "configs" / "retrain.yaml")
    spec = base.models["demand-classifier"]
    key = f"demand-classifier-{uuid.uuid4().hex[:6]}"  # its own history in the shared test store
    name = f"govml-test-{key}"
    cfg = retrain.RetrainConfig.model_validate({"models": {key: {
        **spec.model_dump(), "task": "demand-classifier", "registered_name": name,
        "data": [str(data / "messages_*.csv")]}}})

    first, second = retrain.retrain(cfg), retrain.retrain(cfg)
    decisions = [first.outcomes[0].decision, second.outcomes[0].decision]
    assert decisions == ["promoted", "kept"], [first.outcomes[0].reason, second.outcomes[0].reason]
    o = second.outcomes[0]
    assert o.metric == "macro_f1" and o.champion["macro_f1"] == pytest.approx(o.challenger["macro_f1"])
    assert o.champion["holdout_rows"] == o.challenger["holdout_rows"] > 0
    champion = tracking.get_alias(name, "champion")
    assert str(champion.version) == "1"
    run_files = [a.path for a in tracking.client().list_artifacts(first.outcomes[0].run_id)]
    assert "confusion_matrix.png" in run_files and "data_fingerprint.json" in run_files

    # a degraded export: a third of the rows and one category gone
    gone = recent["category"].value_counts().index[-1]
    degraded = recent[recent["category"] != gone].iloc[: len(recent) // 3]
    degraded.to_csv(data / "messages_2.csv", index=False)
    third = retrain.retrain(cfg)
    o3 = third.outcomes[0]
    assert o3.decision == "refused" and third.exit_code == retrain.EXIT_FAILED
    assert "far fewer" in o3.reason and f"vanished: {gone}" in o3.reason
    assert str(tracking.get_alias(name, "champion").version) == "1"
    run = mlflow.get_run(o3.run_id)
    assert run.info.status == "FAILED" and "vanished" in run.data.tags["govml.reason"]
