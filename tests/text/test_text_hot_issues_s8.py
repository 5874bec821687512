"""Session 8 (h3's dry run): a board of many look-alike messages links each one through its closest
neighbours only (bounded memory: Boston 311's 121,145 titles took 24 GB before), and issues stay whole."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
from scipy import sparse

from govml.text.hot_issues import MAX_NEIGHBOURS, HotIssueFinder, _top_per_row


def test_top_per_row_keeps_the_largest_entries_and_a_chain_of_copies() -> None:
    s = sparse.csr_matrix(np.array([[0.1, 0.9, 0.5, 0.0], [0.3, 0.0, 0.0, 0.2], [0.0, 0.0, 0.0, 0.0]]))
    got = _top_per_row(s, 1).toarray()
    assert np.array_equal(got, [[0.0, 0.9, 0.0, 0.0], [0.3, 0.0, 0.0, 0.2], [0.0, 0.0, 0.0, 0.0]])
    # a row of copies (similarity 1) whose own column is 2: the copies at 1 and 3 and itself stay, 0 and 4 go
    s = sparse.csr_matrix(np.array([[1.0, 1.0, 1.0, 1.0, 1.0, 0.4, 0.6]]))
    got = _top_per_row(s, 1, offset=2).toarray()
    assert np.array_equal(got, [[0.0, 1.0, 1.0, 1.0, 0.0, 0.0, 0.6]])


def test_a_complaint_written_by_hundreds_stays_one_issue(samples_dir: Path) -> None:
    base = pd.read_csv(samples_dir / "messages.csv", dtype={"id": str}).head(3000)
    n = 3 * MAX_NEIGHBOURS
    rng = np.random.default_rng(0)
    t0 = pd.to_datetime(base["created_at"]).min() + pd.Timedelta(days=40)
    tails = ["严重影响休息", "请尽快处理", "多次反映无果", "老人孩子睡不着", "希望相关部门管一管", "恳请解决"]
    burst = pd.DataFrame({
        "id": [f"B{i}" for i in range(n)],
        "created_at": [str(t0 + pd.Timedelta(hours=float(h))) for h in rng.uniform(0, 24 * 20, n)],
        "community": "金桥社区",
        "text": [f"金桥社区丽发新城旁边搅拌站夜间施工噪音扰民，{tails[i % 6]}，{tails[(i * 5 + 1) % 6]}"
                 for i in range(n)],
    })
    df = pd.concat([base[["id", "created_at", "community", "text"]], burst], ignore_index=True)
    finder = HotIssueFinder(semantic_components=None).fit(df)
    lab = finder.labels_[len(base):]
    assert (lab >= 0).all()
    main = np.bincount(lab).argmax()
    assert (lab == main).mean() >= 0.95  # one issue, not split by keeping only the closest pairs
    assert finder.issues_.iloc[0]["n_messages"] >= 0.95 * n
