"""Category classifier on real messages (issue 3, item 3): govml's default against two plain peers.

    .venv/bin/python benchmarks/bench_classifier.py [--draws 3] [--size 400] [--variants default,peer_word,peer_char]

Data: the development data ``../shared/data/teddycup2020c/`` (skips cleanly when absent). The
contest's labelled 附件2 is not in it, so the labels are ``benchmarks/data/teddycup2020c_dev_labels.csv``:
564 messages of 附件3/附件4 labelled by the govml developers into the 7 first-level categories from
their titles, following the contest taxonomy (附件1: bus and metro → 城乡建设 / 城市公共设施, noise →
环境保护, new rural medical insurance → 劳动和社会保障 …); messages of other categories were skipped.
336 come from a random sample, 228 from a keyword-enriched sample of the rarer classes. Only ids and
labels are stored; text is read from the development data.

Each draw takes ``--size`` labelled messages (stratified, seed = draw number), then runs 5-fold stratified CV
(:func:`govml.text.classify.cross_validate_classifier`) for every variant; it prints macro-F1
mean ± sd over the draws, then each variant's paired difference to ``default`` (mean ± sd over draws).
Title and details are joined by a newline, as ``govml demands train --text-col 留言主题 --text-col 留言详情``
does (so ``title_repeat`` sees the title as the first line). Features are memoised per fold and feature
settings, so variants that change only the classifier reuse them (identical results; ``--no-cache``).
Unlabelled text (``+unlabeled`` variants): the messages of 附件3 and 附件4 minus the draw's own messages (all of them, or a seeded sample of ``--unlabeled-n``).
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path

import numpy as np
import pandas as pd

ROOT = Path(__file__).resolve().parents[1]
DATA = ROOT.parent / "shared" / "data" / "teddycup2020c"
LABELS = ROOT / "benchmarks" / "data" / "teddycup2020c_dev_labels.csv"


def load() -> tuple[pd.DataFrame, pd.DataFrame] | None:
    f3, f4 = DATA / "hotspot_messages_full_附件3.csv", DATA / "replies_full_附件4.csv"
    if not (f3.exists() and f4.exists() and LABELS.exists()):
        return None
    a = pd.read_csv(f4)
    a["src"] = 4
    b = pd.read_csv(f3)
    b["src"] = 3
    allm = pd.concat([a, b], ignore_index=True)
    # title and details joined by a newline, as `govml demands train --text-col 留言主题 --text-col 留言详情` does
    allm["text"] = allm["留言主题"].fillna("") + "\n" + allm["留言详情"].fillna("")
    lab = pd.read_csv(LABELS)
    x = allm.merge(lab, left_on=["留言编号", "src"], right_on=["id", "src"])
    return x, allm


class JiebaTokens:
    """Peer 1's tokenizer: plain jieba.lcut (picklable wrapper)."""

    def __call__(self, text: str) -> list[str]:
        import jieba

        return jieba.lcut(text)


def peer_word():
    from sklearn.feature_extraction.text import TfidfVectorizer
    from sklearn.pipeline import make_pipeline
    from sklearn.svm import LinearSVC

    return make_pipeline(TfidfVectorizer(tokenizer=JiebaTokens(), token_pattern=None, lowercase=False), LinearSVC())


def peer_char():
    from sklearn.feature_extraction.text import TfidfVectorizer
    from sklearn.pipeline import make_pipeline
    from sklearn.svm import LinearSVC

    return make_pipeline(TfidfVectorizer(analyzer="char", ngram_range=(1, 3)), LinearSVC())


def variants() -> dict[str, tuple[object, bool]]:
    from govml.text.classify import DemandClassifier

    return {
        "peer_word": (peer_word(), False),
        "peer_char": (peer_char(), False),
        "default": (DemandClassifier(), False),
        "default+unlabeled": (DemandClassifier(), True),
        "self_training_0.9+unlabeled": (DemandClassifier(self_training=0.9), True),
        "lr": (DemandClassifier(model="lr"), False),
        "char_1_3": (DemandClassifier(char_ngrams=(1, 3)), False),
        "char_2_4": (DemandClassifier(char_ngrams=(2, 4)), False),
        "word_only": (DemandClassifier(char_ngrams=None), False),
        "char_only": (DemandClassifier(word_ngrams=None), False),
        "C_0.2": (DemandClassifier(C=0.2), False),
        "C_1": (DemandClassifier(C=1.0), False),
        "word_weight_1.5": (DemandClassifier(word_weight=1.5), False),
        "uncalibrated": (DemandClassifier(calibration=None), False),
        "isotonic": (DemandClassifier(calibration="isotonic"), False),
        "no_sublinear": (DemandClassifier(sublinear_tf=False), False),
        "ensemble": (DemandClassifier(model="ensemble"), False),
        "ensemble+nb": (DemandClassifier(model="ensemble+nb"), False),
        "C_auto": (DemandClassifier(C="auto"), False),
        "title_1": (DemandClassifier(title_repeat=1), False),
        "title_2": (DemandClassifier(title_repeat=2), False),
        "lsa_100+unlabeled": (DemandClassifier(lsa_components=100), True),
        "word_weight_0.7": (DemandClassifier(word_weight=0.7), False),
        "C_2": (DemandClassifier(C=2.0), False),
    }


class _CachedFeatures:
    """Memoises DemandClassifier's feature union per (feature settings, texts): variants that change only
    the classifier reuse the features of the same fold (results are identical; ``--no-cache`` turns it off)."""

    store: dict = {}

    def __init__(self, union, key) -> None:
        self.union, self.key, self.fitted = union, key, None

    def __getattr__(self, name):
        return getattr(self.fitted if self.fitted is not None else self.union, name)

    def fit_transform(self, texts, y=None):
        k = (self.key, hash(tuple(texts)))
        if k not in self.store:
            F = self.union.fit_transform(texts)
            self.store[k] = (self.union, F)
        self.fitted, F = self.store[k]
        return F

    def transform(self, texts):
        k = (self.key, id(self.fitted), hash(tuple(texts)))
        if k not in self.store:
            self.store[k] = self.fitted.transform(texts)
        return self.store[k]


def cache_features() -> None:
    from govml.text.classify import DemandClassifier

    orig = DemandClassifier._features

    def _features(self):
        key = (self.word_ngrams, self.char_ngrams, self.word_weight, self.min_df, self.max_features,
               self.sublinear_tf, repr(self.tokenizer))
        return _CachedFeatures(orig(self), key)

    DemandClassifier._features = _features


def stratified_draw(y: pd.Series, size: int, seed: int) -> np.ndarray:
    from sklearn.model_selection import train_test_split

    if size >= len(y):
        return np.arange(len(y))
    idx, _ = train_test_split(np.arange(len(y)), train_size=size, stratify=y, random_state=seed)
    return np.sort(idx)


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--draws", type=int, default=3)
    ap.add_argument("--size", type=int, default=400)
    ap.add_argument("--variants", default="peer_word,peer_char,default,default+unlabeled")
    ap.add_argument("--title-repeat", type=int, default=0, help="prepend the title this many extra times")
    ap.add_argument("--no-cache", action="store_true", help="recompute the features for every variant")
    ap.add_argument("--first-draw", type=int, default=0, help="seed of the first draw")
    ap.add_argument("--unlabeled-n", type=int, default=0,
                    help="use only this many unlabelled messages (seeded sample; 0 = all)")
    args = ap.parse_args()
    loaded = load()
    if loaded is None:
        print(f"skipped: development data or labels not found ({DATA}, {LABELS})")
        return
    x, allm = loaded
    if args.title_repeat:
        x["text"] = (x["留言主题"].fillna("") + "。") * args.title_repeat + x["text"]
    from govml.text.classify import cross_validate_classifier

    if not args.no_cache:
        cache_features()

    table = variants()
    names = args.variants.split(",")
    scores: dict[str, list[float]] = {n: [] for n in names}
    for d in range(args.first_draw, args.first_draw + args.draws):
        _CachedFeatures.store.clear()
        idx = stratified_draw(x["label"], args.size, seed=d)
        sub = x.iloc[idx]
        in_draw = set(zip(sub["留言编号"], sub["src"], strict=True))
        unl = allm.loc[[k not in in_draw for k in zip(allm["留言编号"], allm["src"], strict=True)], "text"]
        if args.unlabeled_n:
            unl = unl.sample(min(args.unlabeled_n, len(unl)), random_state=d)
        for n in names:
            est, use_unl = table[n]
            t0 = time.perf_counter()
            rep = cross_validate_classifier(sub["text"], sub["label"], unlabeled=unl if use_unl else None,
                                            cv=5, seed=d, estimator=est)
            scores[n].append(rep["macro_f1"])
            print(f"draw {d} n={rep['n']} {n:30s} macro-F1 {rep['macro_f1']:.3f} acc {rep['accuracy']:.3f} "
                  f"({time.perf_counter() - t0:.0f} s)", file=sys.stderr, flush=True)
    summary = {n: {"macro_f1_mean": round(float(np.mean(s)), 3), "macro_f1_sd": round(float(np.std(s, ddof=1)), 3)
                   if len(s) > 1 else 0.0, "draws": [round(v, 3) for v in s]} for n, s in scores.items()}
    base = "default" if "default" in scores else names[0]
    for n, s in scores.items():
        diff = np.array(s) - np.array(scores[base])
        print(f"{n:30s} {np.mean(s):.3f} ± {np.std(s, ddof=1) if len(s) > 1 else 0:.3f}   vs {base}: "
              f"{diff.mean():+.3f} ± {diff.std(ddof=1) if len(s) > 1 else 0:.3f} (paired, sd over draws)",
              file=sys.stderr)
    print(json.dumps({"size": args.size, "draws": args.draws, "first_draw": args.first_draw,
                      "unlabeled_n": args.unlabeled_n or "all", "title_repeat": args.title_repeat,
                      "results": summary}, ensure_ascii=False, indent=2))


if __name__ == "__main__":
    main()
