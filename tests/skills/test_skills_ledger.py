"""The hash-chained assessment log: every kind of tampering is detected and named."""

from __future__ import annotations

import json

from govml.skills import ledger


def _clock():
    n = iter(range(10_000))
    return lambda: f"2024-12-31T08:00:{next(n):02d}Z"


def _log(n=6):
    entries = ledger.build_entries([{"worker_id": f"W{k}", "period": "2024Q4", "scores": {"a": 80.0 + k}}
                                    for k in range(n)], clock=_clock())
    return [ledger.entry_line(e) for e in entries], entries


def test_intact_chain_and_append_continues_it():
    lines, entries = _log()
    v = ledger.verify(lines, head=ledger.head_of(entries[-1]))
    assert v.intact and v.n_entries == 6 and v.last["seq"] == 5
    more = ledger.build_entries([{"worker_id": "W9"}], last=v.last, clock=_clock())
    assert more[0]["seq"] == 6 and more[0]["prev_hash"] == entries[-1]["hash"]
    assert ledger.verify(lines + [ledger.entry_line(more[0])]).intact
    # the hash is SHA-256 of the canonical JSON of seq, timestamp, payload, prev_hash
    import hashlib

    e = entries[2]
    body = json.dumps({"seq": 2, "timestamp": e["timestamp"], "payload": e["payload"], "prev_hash": e["prev_hash"]},
                      sort_keys=True, ensure_ascii=False, separators=(",", ":"))
    assert e["hash"] == hashlib.sha256(body.encode()).hexdigest()


def _kinds(v):
    return {(f.kind, tuple(f.seqs)) for f in v.findings}


def test_edit_detected():
    lines, _ = _log()
    e = json.loads(lines[2])
    e["payload"]["scores"]["a"] = 99.0
    lines[2] = json.dumps(e, ensure_ascii=False)
    v = ledger.verify(lines)
    assert not v.intact and ("edited", (2,)) in _kinds(v)
    assert "line 3" in v.first_broken


def test_edit_with_recomputed_hash_detected():
    lines, _ = _log()
    e = json.loads(lines[2])
    e["payload"]["scores"]["a"] = 99.0
    e["hash"] = ledger.entry_hash(e["seq"], e["timestamp"], e["payload"], e["prev_hash"])
    lines[2] = json.dumps(e, ensure_ascii=False)
    v = ledger.verify(lines)
    assert not v.intact and _kinds(v) == {("edited", (2,))}


def test_removed_detected():
    lines, _ = _log()
    del lines[3]
    v = ledger.verify(lines)
    assert _kinds(v) == {("removed", (3,))}
    assert "seq 4" in v.first_broken


def test_reordered_detected():
    lines, _ = _log()
    lines[2], lines[3] = lines[3], lines[2]
    v = ledger.verify(lines)
    assert _kinds(v) == {("reordered", (2, 3))}


def test_inserted_detected():
    lines, entries = _log()
    forged = ledger.build_entries([{"worker_id": "FAKE"}], last=entries[2], clock=_clock())[0]
    lines.insert(3, ledger.entry_line(forged))
    v = ledger.verify(lines)
    assert ("inserted", (3,)) in _kinds(v)
    assert not any(k == "removed" for k, _ in _kinds(v))


def test_truncation_detected_with_head_and_cut_line():
    lines, entries = _log()
    head = ledger.head_of(entries[-1])
    v = ledger.verify(lines[:4], head=head)
    assert _kinds(v) == {("truncated", (4, 5))}
    assert ledger.verify(lines[:4]).intact  # without the head a shorter chain is still a chain
    cut = lines[:5] + [lines[5][:40]]
    v = ledger.verify(cut)
    assert not v.intact and v.findings[0].kind == "truncated"


def test_verify_log_command_exit_codes(tmp_path, samples_dir):
    from typer.testing import CliRunner

    from govml.cli import app

    runner = CliRunner()
    log = tmp_path / "log.jsonl"
    r = runner.invoke(app, ["skills", "log-append", str(log), str(samples_dir / "assessments.csv")])
    assert r.exit_code == 0, r.output
    n = len(log.read_text(encoding="utf-8").splitlines())
    assert n == 1280
    r = runner.invoke(app, ["skills", "verify-log", str(log)])
    assert r.exit_code == 0 and "intact" in r.output
    lines = log.read_text(encoding="utf-8").splitlines()
    log.write_text("\n".join(lines[:10] + lines[11:]) + "\n", encoding="utf-8")
    r = runner.invoke(app, ["skills", "verify-log", str(log)])
    assert r.exit_code == 1 and "removed: seq 10" in r.output
    r = runner.invoke(app, ["skills", "log-append", str(log), str(samples_dir / "assessments.csv")])
    assert r.exit_code != 0 and "refusing to append" in str(r.exception)
    # truncation at the end is caught through the head file
    log.write_text("\n".join(lines[:100]) + "\n", encoding="utf-8")
    r = runner.invoke(app, ["skills", "verify-log", str(log)])
    assert r.exit_code == 1 and "truncated" in r.output


def test_payload_has_no_text_beyond_ids(tiny):
    import pandas as pd

    data = pd.DataFrame({"worker_id": ["W1"], "community": ["c"], "district": ["d"], "area_type": ["urban"],
                         "period": ["2024Q1"], "a": [1.0], "b": [float("nan")], "c": [3.0], "name": ["张三"]})
    p = ledger.assessment_payloads(data, ["a", "b", "c"])[0]
    assert "name" not in p and p["scores"]["a"] == 1.0
    e = ledger.build_entries([p], clock=_clock())[0]
    assert e["payload"]["scores"]["b"] is None
