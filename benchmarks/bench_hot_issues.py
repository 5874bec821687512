"""Hot-issue benchmark: the real message board (teddycup 附件3) and the planted issues of data_samples.

Real data (4,326 messages, no labels for issues): the top 15 issues are printed for inspection, and
for the contest's known concentrated problems (found by a keyword rule on the titles, so the counts
are approximate) the share of their messages that land in one issue and that issue's rank.
data_samples: for each planted issue (truth_hot_issues.csv) the share of its messages in its best
issue and that issue's rank.

Run: ``.venv/bin/python benchmarks/bench_hot_issues.py [--params JSON]`` (the real-data part is
skipped when ``../shared/data`` is absent). ``--params`` goes to :class:`HotIssueFinder` on both data
sets, e.g. ``--params '{"min_content_similarity_long": null}'`` for the grouping without the joins of
recurring problems across a long gap, ``'{"semantic_components": 50}'`` for the meaning-level joins
(latent semantic similarity learnt from the input; off by default), ``'{"semantic_components": 50,
"semantic_stray_ratio": 0.4, "semantic_relief": null}'`` for the stray split alone.

``--joins`` prints, for the real data, every candidate pair of the joins across a long gap (joined or
refused) with both titles, the pair's content and semantic similarity and the two units' means — the
list to read by hand (where a meaning-backed candidate joins units of unequal size, at least
``join_neighbours`` times, the content figure is the smaller unit's mean over its nearest members of the
other, as the rule reads it; where a candidate needed the median, the semantic figure is the median of the
members' means). Each line ends with the two units' title meaning similarity, judged against the title bar
printed above the list (``semantic_title_quantile``). ``--params '{"join_neighbours": null}'``: the mean over
all pairs everywhere (the rule before session 9); ``'{"semantic_title_quantile": null, "semantic_median":
false}'``: the rule before session 10. ``--scale N`` times the fit on the generated messages at N times the size of
data_samples (``govml samples --scale N``, written to a temporary folder; N = 10 is 88,121 messages)
and prints the planted issues within the top 120 instead of the real-data and data_samples parts.
"""

from __future__ import annotations

import argparse
import json
import resource
import sys
import tempfile
import time
from pathlib import Path

import pandas as pd

from govml.text.hot_issues import HotIssueFinder

ROOT = Path(__file__).resolve().parents[1]
REAL = ROOT.parent / "shared" / "data" / "teddycup2020c" / "hotspot_messages_full_附件3.csv"
SAMPLES = ROOT / "data_samples"

# known concentrated problems of the contest data: title keyword rule → the problem
KNOWN = {
    "A2区丽发新城 搅拌站": r"丽发新城.*(?:搅拌|噪|灰|粉)|搅拌站",
    "伊景园滨河苑 车位捆绑": r"伊景园|滨河苑",
    "A5区魅力之城 油烟噪音": r"魅力之城.*(?:油烟|噪|夜宵|烧烤|商铺|门面|门店)",
    "58车贷案": r"58车贷",
    "A6区月亮岛路 高压线": r"月亮岛路.*高压",
    "涉外经济学院 强制实习": r"经济学院.*(?:实习|打工|工厂|社会实践)",
}


def capture(labels: pd.Series, member: pd.Series) -> tuple[int, int, int, int]:
    """(messages, in the best issue, that issue's size, its rank)."""
    lab = labels[member.to_numpy()]
    lab = lab[lab >= 0]
    if lab.empty:
        return int(member.sum()), 0, 0, 0
    best = int(lab.value_counts().index[0])
    return int(member.sum()), int((lab == best).sum()), int((labels == best).sum()), best + 1


def _counts(f: HotIssueFinder) -> str:
    joined = int((f.issues_["n_bursts"] > 1).sum()) if "n_bursts" in f.issues_ else 0
    return (f"{len(f.issues_)} issues of ≥ 2 messages, {int((f.labels_ >= 0).sum())} messages in issues, "
            f"{joined} issues of several bursts ({getattr(f, 'n_long_links_', 0)} joining pairs)")


def _print_joins(f: HotIssueFinder, titles: list[str]) -> None:
    """The candidates of the joins across a long gap, in the order they were judged."""
    print("long-gap candidates: joined?, pair content / semantic similarity, units' mean content / semantic, "
          "unit sizes, the two titles")
    heads = getattr(f, "_join_titles", None) or [float("nan")] * len(f._joins)
    if getattr(f, "title_bar_", None) is not None:
        print(f"  (title meaning bar {f.title_bar_:.3f}; each line's last figure is the units' title meaning)")
    for (r, c, v, m, sa, sb, ok, *sem), mt in zip(f._joins, heads, strict=True):
        w, ms = sem if sem else (float("nan"), float("nan"))
        print(f"  {'JOIN' if ok else 'no  '} {v:.2f}/{w:.2f} {m:.3f}/{ms:.3f} {sa:>2}+{sb:<2} {titles[r][:34]} | {titles[c][:34]}"
              f"  {mt:.2f}")


def _scale(scale: int, params: dict) -> int:
    """Fit on ``govml samples --scale N`` messages: CPU and wall time of the fit, peak memory, and how
    many planted issues have most of their messages in an issue within the top 120."""
    from govml.io import load
    from govml.samples import generate_all

    with tempfile.TemporaryDirectory() as tmp:
        generate_all(Path(tmp), scale=scale, seed=0, only=["messages"])
        df = load(Path(tmp) / "messages.csv", "messages")
        truth = pd.read_csv(Path(tmp) / "truth_hot_issues.csv", dtype=str)
    c0, t0 = time.process_time(), time.perf_counter()
    f = HotIssueFinder(**params).fit(df)
    cpu, wall = time.process_time() - c0, time.perf_counter() - t0
    labels, ids = pd.Series(f.labels_), df["id"].astype(str)
    top = 0
    for _, row in truth.iterrows():
        n, got, _, rank = capture(labels, ids.isin(set(row["message_ids"].split(";"))))
        top += bool(got * 2 > n and 0 < rank <= 120)
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 2**20
    print(f"[scale {scale}] {len(df)} messages → {_counts(f)}; fit {cpu:.1f} s CPU, {wall:.1f} s wall, "
          f"peak RSS {peak:.2f} GB; planted issues with most messages in a top-120 issue: {top}/{len(truth)}")
    return 0


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--params", default="{}", help="HotIssueFinder parameters as JSON")
    ap.add_argument("--joins", action="store_true", help="print the long-gap join candidates of the real data")
    ap.add_argument("--scale", type=int, default=0, help="time the fit on generated messages at this scale")
    args = ap.parse_args(argv)
    params = json.loads(args.params)
    if args.scale:
        return _scale(args.scale, params)
    if REAL.exists():
        raw = pd.read_csv(REAL)
        c0, t0 = time.process_time(), time.perf_counter()
        f = HotIssueFinder(text_cols=("留言主题", "留言详情"), id_col="留言编号", time_col="留言时间",
                           likes_col="点赞数", user_col="留言用户", **params).fit(raw)
        secs, cpu = time.perf_counter() - t0, time.process_time() - c0
        print(f"[teddycup 附件3] {len(raw)} messages → {_counts(f)}, {secs:.1f} s ({cpu:.1f} s CPU)")
        with pd.option_context("display.width", 200, "display.max_colwidth", 50):
            cols = ["rank", "heat", "n_messages", "n_users", "likes", "first_seen", "last_seen", "place", "summary"]
            if "n_bursts" in f.issues_:
                cols.insert(4, "n_bursts")
            print(f.issues_.head(15)[cols].to_string(index=False))
        labels = pd.Series(f.labels_)
        print("known problems (keyword rule on titles): messages, in best issue, issue size, rank")
        for name, pat in KNOWN.items():
            n, got, size, rank = capture(labels, raw["留言主题"].astype(str).str.contains(pat))
            print(f"  {name:<16} {n:>3} {got:>3} ({got / max(n, 1):.0%})  size {size:>3}  rank {rank}")
        if args.joins:
            _print_joins(f, raw["留言主题"].astype(str).tolist())
    else:
        print(f"skip real data: {REAL} not found")
    truth_path = SAMPLES / "truth_hot_issues.csv"
    if truth_path.exists():
        from govml.io import load

        df = load(SAMPLES / "messages.csv", "messages")
        truth = pd.read_csv(truth_path, dtype=str)
        t0 = time.perf_counter()
        f = HotIssueFinder(**params).fit(df)
        secs = time.perf_counter() - t0
        labels = pd.Series(f.labels_)
        ids = df["id"].astype(str)
        print(f"[data_samples] {len(df)} messages → {_counts(f)}, {secs:.1f} s; planted issues:")
        for _, row in truth.iterrows():
            n, got, size, rank = capture(labels, ids.isin(set(row["message_ids"].split(";"))))
            print(f"  {row['issue_key']} {row['place']:<14} {n:>3} {got:>3} ({got / max(n, 1):.0%})  "
                  f"size {size:>3}  rank {rank}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
