"""Cross-check a `govml demands` output against the messages it was made from (session 22).

    .venv/bin/python benchmarks/check_demands_outputs.py top    INPUT top.csv    [--by COL] [--period M] [--sample 400]
    .venv/bin/python benchmarks/check_demands_outputs.py hot    INPUT hot.csv
    .venv/bin/python benchmarks/check_demands_outputs.py alerts INPUT alerts.csv [--by COL] [--period W]

Column options as the commands' (--text-col repeatable, --time-col, --id-col, --label-col); the input is read
by the commands' own reader (recognised columns, times parsed, rows without a time left out), everything else
is recomputed here independently:

* top: for a sample of rows, count = messages of the group-period holding the term (a word, or 2–3 adjacent
  words within a clause, joined) with the command's tokenizer (configs/text.yaml), share = count / messages of
  the group-period, period_start a Monday / 1st / quarter start, no (group, period, term) twice, example = the
  shortest message (≥ 15 characters) of the cell holding the term, masked (no phone or ID number left).
* hot: message ids disjoint across issues and all in the input, n_messages = ids, first/last_seen = their
  times, ids in time order, ranks 1… by heat descending, the summary a clause of one of its (masked) messages
  (after ``place：``), the place (district code aside) written in one of them.
* alerts: observed = the messages of the group × category (× term: the command's words, configs/text.yaml)
  in a window of 1, 2 or 4 periods ending at period_start; p_value in [0, 1]; expected ≥ 0; no period after
  the data's last;
  each row meets the README's rule for its level.

Prints one line per check with the number of failures (0 = holds) and a few examples.
"""

from __future__ import annotations

import argparse
import re

import numpy as np
import pandas as pd


def _read(args, optional=()):  # noqa: ANN001, ANN202
    from govml.cli.demands import _read_for_text

    required = [("--time-col", args.time_col)]
    if args.what == "hot":
        required.append(("--id-col", args.id_col))
    df, _ = _read_for_text(args.input, text_cols=list(args.text_col or ["text"]), required=required,
                           optional=[c for c in optional if c])
    return df.reset_index(drop=True)


def _say(name: str, bad: list) -> None:  # noqa: ANN001
    print(f"{name}: {len(bad)} failing" + (f" e.g. {bad[:3]}" if bad else ""))


def _grams(tokens: list[str]) -> set[str]:
    from govml.text.tokenize import BREAK

    return {"".join(tokens[i:i + n]) for n in (1, 2, 3) for i in range(len(tokens) - n + 1)
            if BREAK not in tokens[i:i + n]}


def check_top(args) -> None:  # noqa: ANN001
    from govml.cli.demands import _text_tokenizer
    from govml.privacy import mask

    df = _read(args, [args.by])
    out = pd.read_csv(args.output, dtype={"group": str}, keep_default_na=False)
    tok, _ = _text_tokenizer(None)
    tok.set_params(mark_breaks=True)
    text = df["_text"].fillna("")
    grams = [_grams(t) for t in tok.tokenize_many(list(text))]
    start = df[args.time_col].dt.to_period(args.period).dt.start_time
    group = df[args.by].astype("string").fillna("(空)") if args.by else pd.Series("全部", index=df.index)
    cells = pd.DataFrame({"g": group, "p": start}).groupby(["g", "p"]).indices
    ps = pd.to_datetime(out["period_start"])
    aligned = {"W": ps.dt.day_of_week == 0, "M": ps.dt.day == 1,
               "Q": (ps.dt.day == 1) & ps.dt.month.isin([1, 4, 7, 10])}[args.period]
    print(f"{len(out)} rows, {len(df)} messages")
    _say("period_start not a period start", list(out.loc[~aligned, "period_start"]))
    _say("(group, period, term) twice", out[out.duplicated(["group", "period_start", "term"])]["term"].tolist())
    bad_count, bad_share, bad_example, unmasked = [], [], [], []
    for r in out.sample(min(args.sample, len(out)), random_state=0).itertuples():
        rows = cells[(r.group, pd.Timestamp(r.period_start))]
        holding = [i for i in rows if r.term in grams[i]]
        if r.count != len(holding):
            bad_count.append((r.group, r.period_start, r.term, r.count, len(holding)))
        if abs(r.share - len(holding) / len(rows)) > 1e-6:
            bad_share.append((r.group, r.period_start, r.term, r.share, len(holding) / len(rows)))
        lengths = {i: len(text.iloc[i]) for i in holding}
        long = [n for n in lengths.values() if n >= 15]
        want = min(long) if long else max(lengths.values(), default=0)
        shown = {" ".join(mask(text.iloc[i]).split()) for i, n in lengths.items() if n == want}
        if not any(s == r.example or s.startswith(r.example.rstrip("…")) for s in shown):
            bad_example.append((r.group, r.period_start, r.term, r.example[:30]))
        if re.search(r"(?<!\d)1[3-9]\d{9}(?!\d)|(?<!\d)\d{17}[\dXx]", r.example):
            unmasked.append(r.example[:40])
    _say(f"count != messages holding the term (sample of {min(args.sample, len(out))})", bad_count)
    _say("share != count / messages", bad_share)
    _say("example not the shortest (>= 15 chars) message holding the term", bad_example)
    _say("example with a phone or ID number", unmasked)


def check_hot(args) -> None:  # noqa: ANN001
    from govml.privacy import mask

    df = _read(args)
    df[args.id_col] = df[args.id_col].astype("string").str.strip()
    by_id = df.set_index(args.id_col)
    out = pd.read_csv(args.output, dtype={"message_ids": str}, keep_default_na=False)
    ids = [s.split(";") for s in out["message_ids"]]
    flat = [i for x in ids for i in x]
    print(f"{len(out)} issues, {len(flat)} messages in them, {len(df)} messages")
    _say("ids in two issues", [i for i, n in pd.Series(flat).value_counts().items() if n > 1])
    _say("ids not in the input", [i for i in flat if i not in by_id.index])
    _say("n_messages != number of ids", [r.issue_id for r, x in zip(out.itertuples(), ids, strict=True)
                                         if r.n_messages != len(x)])
    _say("rank not 1… by heat descending", [] if (list(out["rank"]) == list(range(1, len(out) + 1))
                                                  and out["heat"].is_monotonic_decreasing) else ["order"])
    bad_t, bad_order, bad_summary, bad_place = [], [], [], []
    for r, x in zip(out.itertuples(), ids, strict=True):
        sub = by_id.loc[[i for i in x if i in by_id.index]]
        t = sub[args.time_col]
        if (str(t.min()), str(t.max())) != (r.first_seen, r.last_seen):
            bad_t.append((r.issue_id, r.first_seen, r.last_seen, str(t.min()), str(t.max())))
        if not t.is_monotonic_increasing:
            bad_order.append(r.issue_id)
        texts = [" ".join(mask(str(v)).split()) for v in sub["_text"]]
        clause = " ".join(str(r.summary).split()).removeprefix(f"{r.place}：")
        if not any(clause in v for v in texts):
            bad_summary.append((r.issue_id, r.summary))
        place = re.sub(r"^([A-Z]\d{0,2}[市区县])+", "", str(r.place))
        if place and not any(place in v for v in texts):
            bad_place.append((r.issue_id, r.place))
    _say("first/last_seen != the ids' times", bad_t)
    _say("ids not in time order", bad_order)
    _say("summary not a clause of its messages", bad_summary)
    _say("place not written in its messages", bad_place)


def check_alerts(args) -> None:  # noqa: ANN001
    from govml.cli.demands import _text_tokenizer

    label = args.label_col
    df = _read(args, [label, args.by])
    if args.by not in df.columns:
        df[args.by] = "全部"
    out = pd.read_csv(args.output, dtype={"group": str, "key": str}, keep_default_na=False)
    print(f"{len(out)} alerts {out['level'].value_counts().to_dict()}, {len(df)} messages")
    t = df[args.time_col]
    start = t.dt.to_period("W" if args.period == "W" else "M").dt.start_time
    back = ((lambda s, k: s - pd.Timedelta(weeks=k)) if args.period == "W"
            else (lambda s, k: (s.to_period("M") - k).start_time))
    starts = pd.to_datetime(out["period_start"])
    _say("p_value outside [0, 1]", out.loc[~out["p_value"].between(0, 1), "p_value"].tolist())
    _say("expected < 0", out.loc[out["expected"] < 0, "expected"].tolist())
    _say("period after the data's last", out.loc[starts > start.max(), "period_start"].tolist())
    toks = ([set(x) for x in _text_tokenizer(None)[0].tokenize_many(df["_text"].fillna("").tolist())]
            if (out["kind"] == "term").any() else None)
    group = df[args.by].astype("string").fillna("(空)").to_numpy(dtype=object)
    no_category = label not in df.columns
    bad = []
    for r in out.itertuples():
        s = pd.Timestamp(r.period_start)
        in_group = group == r.group
        if r.kind == "category":
            hit = np.ones(len(df), bool) if no_category else (df[label].astype("string") == r.key).fillna(False).to_numpy()
        else:
            hit = np.array([r.key in x for x in toks])
        counts = {w: int((in_group & hit & (start >= back(s, w - 1)).to_numpy() & (start <= s).to_numpy()).sum())
                  for w in (1, 2, 4)}
        if r.observed not in counts.values():
            bad.append((r.group, r.period_start, r.kind, r.key, r.observed, counts))
    _say("observed != any window's count", bad)
    q, ratio, o, p = 10 ** -out["score"], out["observed"] / out["expected"].clip(lower=1e-12), out["observed"], out["p_value"]
    tol = 10 ** 0.0015  # score is rounded to 3 decimals
    cat = {"告警": (q <= 0.01 * tol) & (ratio >= 3) & (o >= 6),
           "预警": ((q <= (0.35 if no_category else 0.125) * tol) & (ratio >= 2) & (o >= 4))
           | ((p <= 0.05) & (ratio >= 1.5) & (o >= 4)),
           "关注": (p <= 0.01) & (ratio >= 1.5) & (o >= 3)}
    term = {"告警": (q <= 0.001 * tol) & (ratio >= 5) & (o >= 6), "预警": (q <= 0.01 * tol) & (ratio >= 3) & (o >= 4),
            "关注": (p <= 0.001) & (ratio >= 3) & (o >= 4)}
    ok = pd.Series(False, index=out.index)
    for level in cat:
        at = out["level"] == level
        ok |= at & (((out["kind"] == "category") & cat[level]) | ((out["kind"] == "term") & term[level]))
    _say("row not meeting its level's rule (README)", out.loc[~ok, ["kind", "key", "level"]].values.tolist())


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("what", choices=["top", "hot", "alerts"])
    ap.add_argument("input")
    ap.add_argument("output")
    ap.add_argument("--by", default=None)
    ap.add_argument("--period", default=None)
    ap.add_argument("--text-col", action="append")
    ap.add_argument("--time-col", default="created_at")
    ap.add_argument("--id-col", default="id")
    ap.add_argument("--label-col", default="category")
    ap.add_argument("--sample", type=int, default=400)
    args = ap.parse_args()
    args.period = (args.period or ("W" if args.what == "alerts" else "M")).upper()
    if args.what == "alerts" and args.by is None:
        args.by = "community"
    {"top": check_top, "hot": check_hot, "alerts": check_alerts}[args.what](args)


if __name__ == "__main__":
    main()
