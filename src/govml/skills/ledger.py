"""A tamper-evident, append-only log of assessment submissions (a hash chain).

Each entry is one JSON line::

    {"seq": 7, "timestamp": "2024-12-31T08:00:00Z", "payload": {...}, "prev_hash": "<hash of entry 6>",
     "hash": SHA-256 of the canonical JSON of {seq, timestamp, payload, prev_hash}}

(canonical JSON: keys sorted, no spaces, UTF-8, no NaN). The first entry's ``prev_hash`` is 64
zeros. Changing any byte of an entry breaks its own hash; recomputing that hash breaks the next
entry's link; so an edit, removal, reordering or insertion shows up on verification. Removing
entries from the *end* leaves a valid shorter chain: keep the head (last ``seq`` and ``hash``,
written beside the log as ``<log>.head`` by ``govml skills log-append``) somewhere the editor
cannot reach, and pass it to :func:`verify` to catch truncation.

This module has no file I/O: it turns payloads into lines and checks lines. ``govml skills
log-append`` / ``verify-log`` read and write the files.
"""

from __future__ import annotations

import hashlib
import json
import math
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

GENESIS = "0" * 64
FIELDS = ("seq", "timestamp", "payload", "prev_hash", "hash")


def canonical_json(obj: Any) -> str:
    return json.dumps(obj, sort_keys=True, ensure_ascii=False, separators=(",", ":"), allow_nan=False)


def entry_hash(seq: int, timestamp: str, payload: Any, prev_hash: str) -> str:
    body = canonical_json({"seq": seq, "timestamp": timestamp, "payload": payload, "prev_hash": prev_hash})
    return hashlib.sha256(body.encode("utf-8")).hexdigest()


def _utc_now() -> str:
    return datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


def _clean(v: Any) -> Any:
    if isinstance(v, float) and not math.isfinite(v):
        return None
    if isinstance(v, Mapping):
        return {str(k): _clean(x) for k, x in v.items()}
    if isinstance(v, (list, tuple)):
        return [_clean(x) for x in v]
    if hasattr(v, "item") and not isinstance(v, (str, bytes)):  # numpy scalars
        return _clean(v.item())
    return v


def build_entries(payloads: Iterable[Mapping[str, Any]], last: Mapping[str, Any] | None = None,
                  clock: Callable[[], str] = _utc_now) -> list[dict[str, Any]]:
    """Chain new entries after ``last`` (the log's current last entry, or ``None`` for a new log).

    Payloads must be JSON-serialisable (numpy scalars and NaN are cleaned: NaN → null).
    """
    seq = int(last["seq"]) + 1 if last else 0
    prev = str(last["hash"]) if last else GENESIS
    out = []
    for p in payloads:
        ts = clock()
        payload = _clean(dict(p))
        h = entry_hash(seq, ts, payload, prev)
        out.append({"seq": seq, "timestamp": ts, "payload": payload, "prev_hash": prev, "hash": h})
        seq, prev = seq + 1, h
    return out


def entry_line(entry: Mapping[str, Any]) -> str:
    """One JSON line for the log (field order fixed for readability; the hash does not depend on it)."""
    return json.dumps({k: entry[k] for k in FIELDS}, ensure_ascii=False, separators=(",", ":"), allow_nan=False)


def assessment_payloads(data: Any, indicators: list[str], *, source: str | None = None) -> list[dict[str, Any]]:
    """One payload per worker and period of a canonical wide assessment table.

    Only ids, period, community/district/area type and numbers: no names, no free text (PII-free).
    """
    cols = [c for c in ("worker_id", "community", "district", "area_type", "period") if c in data.columns]
    extra = [c for c in ("resident_rating",) if c in data.columns]
    out = []
    for rec in data[cols + extra + indicators].to_dict("records"):
        p = {c: (None if rec[c] is None else str(rec[c])) for c in cols}
        p["scores"] = {i: rec[i] for i in indicators + extra}
        if source:
            p["submitted_file"] = source
        out.append(p)
    return out


def resubmissions(lines: Iterable[str], payloads: Iterable[Mapping[str, Any]]) -> list[tuple[int, int, bool]]:
    """Payloads whose worker and period the log already holds: ``(payload position, seq of the latest
    earlier entry for that worker and period, identical scores)``.

    The log keeps every submission (a correction is a new entry); this says which ones repeat one.
    """
    latest: dict[tuple[str, str], tuple[int, Any]] = {}
    for _, e in parse_lines(lines)[0]:
        p = e.get("payload")
        if isinstance(p, Mapping) and p.get("worker_id") is not None and p.get("period") is not None:
            latest[(str(p["worker_id"]), str(p["period"]))] = (int(e["seq"]), p.get("scores"))
    out = []
    for k, p in enumerate(payloads):
        key = (str(p.get("worker_id")), str(p.get("period")))
        if key in latest:
            seq, scores = latest[key]
            out.append((k, seq, canonical_json(_clean(p.get("scores"))) == canonical_json(scores)))
    return out


@dataclass
class Finding:
    kind: str  # edited | removed | reordered | inserted | appended | truncated | corrupted | broken
    seqs: list[int]
    detail: str

    def __str__(self) -> str:
        return f"{self.kind}: seq {', '.join(map(str, self.seqs)) or '-'} — {self.detail}"


@dataclass
class Verdict:
    intact: bool
    n_entries: int
    first_broken: str | None = None
    findings: list[Finding] = field(default_factory=list)
    last: dict[str, Any] | None = None

    def summary(self) -> str:
        if self.intact:
            return f"intact: {self.n_entries} entries, chain and hashes verified"
        lines = [f"TAMPERED: {self.first_broken}"] + [f"  - {f}" for f in self.findings]
        return "\n".join(lines)


def parse_lines(lines: Iterable[str]) -> tuple[list[tuple[int, dict[str, Any]]], list[Finding]]:
    """(entries with their 1-based line numbers, problems with unreadable lines)."""
    entries: list[tuple[int, dict[str, Any]]] = []
    bad: list[Finding] = []
    lines = list(lines)
    for k, raw in enumerate(lines, start=1):
        if not raw.strip():
            continue
        try:
            e = json.loads(raw)
            if not isinstance(e, dict) or any(f not in e for f in FIELDS):
                raise ValueError("missing fields")
            int(e["seq"])
        except (ValueError, TypeError):
            last = k == len(lines) or all(not x.strip() for x in lines[k:])
            bad.append(Finding("truncated" if last else "corrupted", [],
                               f"line {k} is not a complete log entry" + (" (last line cut off)" if last else "")))
            continue
        entries.append((k, e))
    return entries, bad


def verify(lines: Iterable[str], head: Mapping[str, Any] | None = None) -> Verdict:
    """Check a log's lines. ``head`` ({"seq", "hash"} kept elsewhere) also catches truncation."""
    entries, findings = parse_lines(lines)
    first: str | None = findings[0].detail if findings else None

    def note(msg: str) -> None:
        nonlocal first
        if first is None:
            first = msg

    n = len(entries)
    seqs = [int(e["seq"]) for _, e in entries]
    hashes = [str(e["hash"]) for _, e in entries]
    self_ok = []
    for (line, e), s in zip(entries, seqs, strict=True):
        try:
            ok = entry_hash(s, e["timestamp"], e["payload"], e["prev_hash"]) == e["hash"]
        except (TypeError, ValueError):
            ok = False
        self_ok.append(ok)
        if not ok:
            findings.append(Finding("edited", [s], f"line {line}: content does not match its hash"))
            note(f"line {line} (seq {s}): content does not match its hash")
    referenced = {str(e["prev_hash"]) for _, e in entries}
    by_seq: dict[int, list[int]] = {}
    for i, s in enumerate(seqs):
        by_seq.setdefault(s, []).append(i)
    # inserted: a duplicate seq whose hash nobody links to (the genuine one is linked or last)
    inserted: set[int] = set()
    for idx in by_seq.values():
        if len(idx) > 1:
            loose = [i for i in idx if hashes[i] not in referenced]
            pick = loose[:-1] if len(loose) == len(idx) else loose
            if not pick:
                pick = idx[1:]
            inserted.update(pick)
    for i in sorted(inserted):
        findings.append(Finding("inserted", [seqs[i]], f"line {entries[i][0]}: an extra entry with a seq already "
                                "used, not part of the chain"))
    # an entry whose link points outside the chain and whose seq is new is also an insertion
    kept = [i for i in range(n) if i not in inserted]
    present = {seqs[i] for i in kept}
    hash_set = {hashes[i] for i in kept}
    for i in kept:
        if str(entries[i][1]["prev_hash"]) not in hash_set | {GENESIS} and seqs[i] - 1 in present \
                and self_ok[i] and hashes[i] not in referenced and i != kept[-1]:
            inserted.add(i)
            findings.append(Finding("inserted", [seqs[i]], f"line {entries[i][0]}: an entry that links to no entry of "
                                    "the chain"))
    kept = [i for i in range(n) if i not in inserted]
    present = {seqs[i] for i in kept}
    top = max(present) if present else -1
    removed = [s for s in range(0, top + 1) if s not in present]
    if removed:
        findings.append(Finding("removed", removed, f"{len(removed)} entr{'y' if len(removed) == 1 else 'ies'} missing "
                                "from the chain"))
    # reordered: entries out of seq order in the file
    moved = [seqs[b] for a, b in zip(kept, kept[1:], strict=False) if seqs[b] < seqs[a]]
    if moved:
        pairs = sorted({s for a, b in zip(kept, kept[1:], strict=False) if seqs[b] < seqs[a] for s in (seqs[a], seqs[b])})
        findings.append(Finding("reordered", pairs, "entries appear out of order in the file"))
    # links in file order
    prev_hash, prev_seq = GENESIS, -1
    for pos, i in enumerate(kept):
        line, e = entries[i]
        ok_link = str(e["prev_hash"]) == prev_hash
        ok_seq = seqs[i] == prev_seq + 1
        if not (ok_link and ok_seq):
            note(f"line {line} (seq {seqs[i]}): does not link to the entry before it"
                 + ("" if ok_seq else f" (expected seq {prev_seq + 1})"))
            if ok_seq and pos > 0 and self_ok[kept[pos - 1]] and str(e["prev_hash"]) not in hash_set \
                    and kept[pos - 1] not in inserted:
                findings.append(Finding("edited", [prev_seq], f"line {entries[kept[pos - 1]][0]}: content changed "
                                        "and its hash recomputed (the next entry no longer links to it)"))
        prev_hash, prev_seq = hashes[i], seqs[i]
    last = entries[kept[-1]][1] if kept else None
    if head is not None:
        hs, hh = int(head["seq"]), str(head["hash"])
        if hs > top:
            gone = list(range(top + 1, hs + 1))
            findings.append(Finding("truncated", gone, f"the head says the log ends at seq {hs}, the file at seq {top}"))
            note(f"end of file (seq {top}): entries up to seq {hs} expected")
        elif hs in by_seq and all(hashes[i] != hh for i in by_seq[hs]):
            findings.append(Finding("edited", [hs], "the entry at the recorded head has a different hash"))
            note(f"seq {hs}: hash differs from the recorded head")
        if hs < top:
            # Anyone can extend a hash chain: entries past the head were not written by
            # `govml skills log-append` (it moves the head), or the head file is older than the log.
            after = [i for i in kept if seqs[i] > hs]
            findings.append(Finding("appended", [seqs[i] for i in after],
                                    f"line {entries[after[0]][0]}: entries after the recorded head (seq {hs}) — "
                                    "appended without moving the head, or the head file is older than the log"))
            note(f"line {entries[after[0]][0]} (seq {seqs[after[0]]}): after the recorded head (seq {hs})")
    intact = not findings
    return Verdict(intact=intact, n_entries=n, first_broken=None if intact else (first or str(findings[0])),
                   findings=_dedupe(findings), last=last)


def _dedupe(findings: list[Finding]) -> list[Finding]:
    seen = set()
    out = []
    for f in findings:
        key = (f.kind, tuple(f.seqs), f.detail)
        if key not in seen:
            seen.add(key)
            out.append(f)
    return out


def head_of(entry: Mapping[str, Any] | None) -> dict[str, Any] | None:
    return None if entry is None else {"seq": int(entry["seq"]), "hash": str(entry["hash"])}
