"""Session 9 (issue 3): a label is shown as the user wrote it; NFKC, spaces and case only decide which names are
the same (a unique full-width label such as 教育文体（A） was shown as 教育文体(A))."""

from __future__ import annotations

import json
from pathlib import Path

import pandas as pd

from govml.io import merge_spellings


def test_merge_spellings_as_written_keeps_the_users_forms() -> None:
    s = pd.Series(["教育文体（A）"] * 3 + ["物业（B）"] * 4 + ["物业(B)", "物业 （B）", None, "", "城乡 建设"])
    out = merge_spellings(s, cjk_spaces=True, as_written=True).tolist()
    assert out[:3] == ["教育文体（A）"] * 3  # written one way only: as written
    assert out[3:8] == ["物业（B）"] * 5  # one name (NFKC), shown in its most frequent spelling as written
    assert out[8] == "物业 （B）"  # a space before a bracket is no gap between two Chinese characters: another name
    assert out[-1] == "城乡建设" and pd.isna(out[-3]) and out[-2] == ""
    plain = merge_spellings(s, cjk_spaces=True).tolist()  # the default is unchanged: NFKC forms
    assert plain[:3] == ["教育文体(A)"] * 3


def test_metric_names_are_made_acceptable_to_mlflow() -> None:
    from govml.tracking import metric_name

    assert metric_name("f1.教育文体（A）") == "f1.教育文体_A_"
    assert metric_name("f1.a&b (c)/d:e-f") == "f1.a_b _c_/d:e-f"
    assert metric_name("f1.x(y)", {"f1.x_y_"}) == "f1.x_y__2"


def test_train_shows_a_full_width_label_as_written(samples_dir: Path, tmp_path: Path) -> None:
    """Was shown as 供暖供水(A); and any label with a bracket stopped the train at MLflow (exit 70)."""
    from cli_runner import govml

    df = pd.read_csv(samples_dir / "messages.csv", dtype=str).head(500)
    heat = df["category"] == "供暖供水"
    df.loc[heat, "category"] = "供暖供水（A）"
    df.to_csv(tmp_path / "lab.csv", index=False)
    code, text = govml("demands", "train", tmp_path / "lab.csv", "--model-dir", tmp_path / "m", "--cv", "2")
    assert code == 0, text
    labels = json.loads((tmp_path / "m" / "model.json").read_text(encoding="utf-8"))["labels"]
    assert "供暖供水（A）" in labels and "供暖供水(A)" not in labels
    flat = " ".join(text.split())
    assert "供暖供水（A）" in flat and "供暖供水(A)" not in flat and "written another way" not in flat
    df.head(50).to_csv(tmp_path / "new.csv", index=False)
    code, text = govml("demands", "classify", tmp_path / "new.csv", "--model-dir", tmp_path / "m",
                       "--out", tmp_path / "pred.csv")
    assert code == 0, text
    pred = pd.read_csv(tmp_path / "pred.csv")
    assert "供暖供水（A）" in set(pred["category_pred"]) and "供暖供水(A)" not in set(pred["category_pred"])
