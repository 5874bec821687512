"""The federated benchmark task reads a district's indicator scores as the skills commands do (session 13):
``85分`` / ``85%`` / full-width digits are numbers, ``缺考`` is no value (never zero), a grade is a row problem,
and a 合计 / 平均 row of the export is counted as left out — it is no worker and would have counted as one."""

from __future__ import annotations

import pandas as pd
import pytest

from govml.errors import DataError
from govml.federated.task import validate


def _scores(cells: dict | None = None) -> pd.DataFrame:
    df = pd.DataFrame({"worker_id": ["W1", "W2", "W3", "W4"], "community": ["甲社区", "甲社区", "乙社区", "乙社区"],
                       "service": ["85分", "９０", "缺考", "70"]})
    for (col, i), v in (cells or {}).items():
        df.loc[i, col] = v
    return df


def test_scores_with_units_and_absences_are_read():
    out = validate(_scores(), "benchmark", {"indicators": "service"}, "d1.csv")
    assert out["service"].tolist()[:2] == [85.0, 90.0] and pd.isna(out["service"].iloc[2])
    assert out["service"].iloc[3] == 70.0 and len(out) == 4


def test_a_total_row_is_left_out_and_counted():
    df = pd.concat([_scores(), pd.DataFrame({"worker_id": ["平均"], "community": ["乙社区"], "service": ["81.7"]})],
                   ignore_index=True)
    out = validate(df, "benchmark", {"indicators": "service"}, "d1.csv")
    assert len(out) == 4 and "平均" not in set(df.loc[out.index, "worker_id"])
    account = out.attrs["govml_exclusions"]
    assert account.counts["total_row"]["rows"] == 1


def test_a_grade_is_a_row_problem():
    with pytest.raises(DataError) as exc:
        validate(_scores({("service", 1): "优"}), "benchmark", {"indicators": "service"}, "d1.csv")
    text = str(exc.value)
    assert "d1.csv" in text and "service" in text and "优" in text


def test_average_rows_below_the_data_are_footer_rows(tmp_path):
    """A CSV export ending 合计 / 平均 / 制表人 (each with at most two cells): all three are footer rows
    (平均, 均值 and 汇总 joined 合计 in session 13; only 制表人 had been skipped after a 平均 row)."""
    from govml.io import read_table

    rows = ["工号,社区,service,备注", "W1,甲社区,85,", "W2,乙社区,70,", "合计,155,,", "平均,77.5,,", "制表人：李明,,,"]
    f = tmp_path / "scores.csv"
    f.write_text("\n".join(rows) + "\n", encoding="utf-8")
    df = read_table(f)
    assert df["工号"].tolist() == ["W1", "W2"]
    assert df.attrs["govml"]["footer_rows"] == [4, 5, 6]
