"""Session 20: the masking made cheaper without changing what it finds (issue 3's tokenizer margin).

Each cheaper step is checked against the code it replaced, run on the planted cases, data_samples/messages.csv and
strings written to hit the edges: the cue scans (_find_cue_hits: literal regexes with a look-ahead instead of a
str.find loop), the name gate's trigger groups in measured frequency order (the same hits as the old layout), the
start characters of _NAME_CUE read from its parsed pattern, _normalise without findall, _given_ok without all().
The whole-output comparison against the code before the session is benchmarks/check_privacy_identity.py.
"""

from __future__ import annotations

import csv
import random
import re
import sys
from pathlib import Path

import pytest

from govml import privacy

sys.path.insert(0, str(Path(__file__).resolve().parent))

import privacy_cases as pc  # noqa: E402

ROOT = Path(__file__).resolve().parents[2]


def _texts() -> list[str]:
    planted = [pc.parse(v)[0] for name, value in sorted(vars(pc).items())
               if name.isupper() and isinstance(value, list) and value and all(isinstance(v, str) for v in value)
               for v in value]
    with open(ROOT / "data_samples" / "messages.csv", encoding="utf-8", newline="") as f:
        samples = [row["text"] for row in csv.DictReader(f)]
    edges = ["我是我是张伟，", "本人本人王芳要求", "社工人员", "社工张强说", "工人李明反映", "反映人反映人：", "我就是我就是郑大勇，",
             "去找去找马建国，", "小周小周每次", "老李老王说", "同事同学刘洋、", "管家“陈红”说", "来电人来电人周敏"]
    return planted + samples + edges


TEXTS = _texts()


def _old_find_cue_hits(text: str) -> list[int]:
    """_find_cue_hits as it was before session 20 (str.find, then a match per occurrence)."""
    rests = {"weak": re.compile(privacy._WEAK_REST), "role": re.compile(privacy._ROLE_SUR),
             "speech": privacy._SPEECH_REST}
    cues = ([(c, rests["weak"].match) for c in privacy._FIND_CUES] + [(c, rests["role"].match) for c in privacy._FIND_ROLES]
            + [(c, None) for c in privacy._FIND_STRONG] + [(c, rests["speech"].match) for c in privacy._SPEECH_CUES])
    hits: list[int] = []
    for cue, match in cues:
        i = text.find(cue)
        while i >= 0:
            if match is None or match(text, i + len(cue)):
                hits.append(i)
            i = text.find(cue, i + len(cue))
    for scan in privacy._XIAO_SCANS:
        hits += [m.start() for m in scan.finditer(text)]
    return sorted(hits)


def test_cue_scans_find_what_the_find_loop_found():
    joined = "\x02".join(TEXTS)
    assert privacy._find_cue_hits(joined) == _old_find_cue_hits(joined)
    assert len(privacy._find_cue_hits(joined)) > 40  # the edges alone hold more than 20
    for t in TEXTS[-13:]:
        assert privacy._find_cue_hits(t) == _old_find_cue_hits(t), t


def test_name_gate_hits_do_not_depend_on_the_group_order(monkeypatch):
    """The gate built as before session 20 (groups of 12 in _FREQUENT order) hits the same places."""
    monkeypatch.setattr(privacy, "_TRIGGERS_BY_FREQUENCY", "")
    monkeypatch.setattr(privacy, "_GATE_GROUP_SIZES", (12,))
    first, body = privacy._name_gate_pattern()
    old_name = re.compile(f"[{first}](?:{body})")
    old_scan_body = privacy._GATE_SCAN_BODY.replace(f"|(?<=[{privacy._L}])(?:", "|")[:-1]
    assert old_scan_body != privacy._GATE_SCAN_BODY
    old_all = re.compile(f"[{privacy._GATE_SCAN_FIRST}{first}]"
                         f"(?:(?<=[{privacy._GATE_SCAN_FIRST}])(?:{old_scan_body})|(?<=[{first}])(?:{body}))")
    assert old_name.pattern != privacy._NAME_GATE.pattern
    joined = "\x02".join(TEXTS + ["湘A·12345", "湘 A 12345", "粤B-D12345", "a@b.cn", "局长卢鸣鸿在"])
    new_name = [m.start() for m in privacy._NAME_GATE.finditer(joined)]
    assert new_name == [m.start() for m in old_name.finditer(joined)]
    assert len(new_name) > 500
    new_all = [m.start() for m in privacy._GATE_ALL.finditer(joined)]
    assert new_all == [m.start() for m in old_all.finditer(joined)]


@pytest.mark.parametrize(("pattern", "expected"), [
    ("ab|c", set("ac")), ("a?b", set("ab")), ("(?=x)y", {"y"}), ("(?<=q)[0-3]z", set("0123")),
    ("(?:副|总)?局长", set("副总局")), ("(?P<g>x{2,3})|y", set("xy")), ("a*", None), ("[^a]b", None), (".b", None),
    ("[\u4e00-\u9fff]", None), ("(?i:a)", None),
])
def test_first_chars(pattern, expected):
    got = privacy._first_chars(pattern)
    assert (got if got is None else set(got)) == expected


def test_name_cue_starts_with_a_first_character():
    first = privacy._NAME_CUE_FIRST
    assert first is not None and {"我", "本", "副", "总", "老", "“", "网", "自", "，"} <= first
    joined = "\x02".join(TEXTS)
    starts = [i for i in range(len(joined)) if privacy._NAME_CUE.match(joined, i)]
    assert len(starts) > 1000
    assert all(joined[i] in first for i in starts)


def test_normalise_is_translate():
    rng = random.Random(20)
    alphabet = [chr(c) for c in range(0xFF01, 0xFF5F)] + ["\u3000", "—", "–", "−", "中", "文", "1", "a", " "]
    cases = ["".join(rng.choice(alphabet) for _ in range(rng.randint(0, 60))) for _ in range(300)] + TEXTS[:500]
    for t in cases:
        assert privacy._normalise(t) == t.translate(privacy._FULLWIDTH), t


def test_given_ok_as_before():
    chars = "建国和的了王A1 ＡＢ㐀\u4dbf\u9fff\u4e00\ua000"
    for a in chars:
        for b in chars:
            for given in (a, a + b, ""):
                for veto in (privacy._GIVEN_NO, privacy._GIVEN_NEVER, privacy._GIVEN_NO_AFTER):
                    assert privacy._given_ok(given, veto) == all(privacy._is_han(c) and c not in veto for c in given)


def test_batch_equals_one_by_one_on_the_samples():
    texts = TEXTS
    once = [privacy.mask(t) for t in texts]
    assert privacy.mask_many(texts) == once
    assert sum(a != b for a, b in zip(once, texts, strict=True)) > 300
