"""A tiny task adapter for the retrain tests: logistic regression on generated data.

``label = x1 + x2 > 0``; ``features`` picks the columns the model may use (a model on ``x1`` alone is
clearly worse than one on both). Importable as ``toy_adapter:ToyAdapter`` with this folder on
``sys.path`` (tests/tracking/conftest.py puts it there; subprocesses get it through PYTHONPATH).
"""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path

import numpy as np
import pandas as pd

from govml import tracking
from govml.errors import DataError

COLUMNS = ["created_at", "group", "x1", "x2", "label"]


def make_data(path: Path, n: int = 600, seed: int = 0, groups: tuple[str, ...] = ("a", "b", "c"),
              noise: float = 0.05) -> Path:
    rng = np.random.default_rng(seed)
    x1, x2 = rng.normal(size=n), rng.normal(size=n)
    label = ((x1 + x2) > 0).astype(int)
    flip = rng.random(n) < noise
    label[flip] = 1 - label[flip]
    frame = pd.DataFrame({
        "created_at": pd.Timestamp("2026-01-05") + pd.to_timedelta(np.sort(rng.integers(0, 140, n)), unit="D"),
        "group": rng.choice(list(groups), n), "x1": x1, "x2": x2, "label": label})
    path.parent.mkdir(parents=True, exist_ok=True)
    frame.to_csv(path, index=False)
    return path


class ToyAdapter:
    registered_name = "govml-toy"
    metric = "accuracy"
    greater_is_better = True
    time_col = "created_at"
    category_cols = ("group",)

    def __init__(self, features: tuple[str, ...] | list[str] = ("x1", "x2"), holdout_weeks: int = 4,
                 min_holdout: int = 20, pause_at: str | None = None, pause_file: str | None = None) -> None:
        self.features = list(features)
        self.holdout_weeks = holdout_weeks
        self.min_holdout = min_holdout
        # for kill tests: write pause_file and sleep at "train" or at "load_back" (the new version's
        # load from the registry, after it was registered and before any alias points at it)
        self.pause_at = pause_at
        self.pause_file = pause_file
        self._loads = 0

    def _pause(self, where: str) -> None:
        if self.pause_at == where and self.pause_file:
            import time

            Path(self.pause_file).write_text(where)
            time.sleep(120)

    def load_data(self, path: Path, mapping: Mapping[str, str]) -> pd.DataFrame:
        frame = pd.read_csv(path).rename(columns=dict(mapping))
        missing = [c for c in COLUMNS if c not in frame.columns]
        if missing:
            raise DataError(message=f"{path.name}: missing column(s) {missing}")
        frame["created_at"] = pd.to_datetime(frame["created_at"])
        return frame

    def check_data(self, frame: pd.DataFrame) -> list[str]:
        return [] if frame["label"].nunique() == 2 else ["the label has a single class"]

    def split(self, frame: pd.DataFrame) -> tuple[pd.DataFrame, pd.DataFrame]:
        cut = frame["created_at"].max() - pd.Timedelta(weeks=self.holdout_weeks)
        return frame[frame["created_at"] <= cut], frame[frame["created_at"] > cut]

    def train(self, frame: pd.DataFrame):
        from sklearn.compose import ColumnTransformer
        from sklearn.linear_model import LogisticRegression
        from sklearn.pipeline import Pipeline

        self._pause("train")
        pipe = Pipeline([("select", ColumnTransformer([("keep", "passthrough", self.features)])),
                         ("clf", LogisticRegression())])
        return pipe.fit(frame[["x1", "x2"]], frame["label"])

    def evaluate(self, model, holdout: pd.DataFrame) -> dict[str, float]:
        pred = np.asarray(model.predict(holdout[["x1", "x2"]]))
        return {"accuracy": float((pred == holdout["label"].to_numpy()).mean()), "n": float(len(holdout))}

    def log_model(self, model, frame: pd.DataFrame) -> str:
        return tracking.log_sklearn_model(model, input_example=frame[["x1", "x2"]].head(3))

    def load_model(self, model_uri: str):
        import mlflow.sklearn

        self._loads += 1
        model = mlflow.sklearn.load_model(model_uri)
        if self._loads == 2:  # the 1st load is the champion's, the 2nd the new version's
            self._pause("load_back")
        return model

    def log_plots(self, model, holdout: pd.DataFrame) -> None:
        import matplotlib.pyplot as plt

        fig, ax = plt.subplots()
        ax.scatter(holdout["x1"], holdout["x2"], c=model.predict(holdout[["x1", "x2"]]))
        tracking.log_figure(fig, "toy_holdout.png")
        plt.close(fig)
