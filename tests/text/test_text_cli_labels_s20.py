"""`govml demands train` prints numbered labels in their numbers' order (session 20; hC saw 1, 10, 11, 2 …)."""

from __future__ import annotations

from rich.console import Console

from govml.cli.demands import _label_order, _metrics_table


def _rows(report: dict) -> list[str]:
    console = Console(width=200, record=True)
    console.print(_metrics_table(report, "CV"))
    text = console.export_text()
    return [line.split("│")[1].strip() for line in text.splitlines() if line.count("│") >= 5]


def test_numbered_labels_are_listed_in_number_order():
    labels = ["1", "10", "11", "2", "3"]  # as np.unique sorts string labels
    per_class = {lab: {"precision": 0.5, "recall": 0.5, "f1": 0.5, "support": 10} for lab in labels}
    report = {"per_class": per_class, "macro_f1": 0.5, "macro_f1_sd": 0.01, "n": 50, "accuracy": 0.5}
    rows = _rows(report)
    assert rows[:5] == ["1", "2", "3", "10", "11"]


def test_label_order_keeps_text_labels_and_numbers_inside_them():
    labels = ["类别10", "城乡建设", "类别2", "交通运输", "2"]
    assert sorted(labels, key=_label_order) == ["2", "交通运输", "城乡建设", "类别2", "类别10"]
