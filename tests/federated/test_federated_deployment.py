"""A real deployment on loopback: SuperLink + 3 SuperNodes with TLS and SuperNode authentication.

Starts ``flower-superlink`` (TLS, ``--enable-supernode-auth``, no runtime dependency installation),
registers three districts' public keys, starts one ``flower-supernode`` per district with its own
data and node config, runs ``flwr run`` to the end, checks that a SuperNode whose key was never
registered is refused, and stops everything it started.

One ``flwr run`` (the demand classifier, one secure round): each message round costs ~15 s here (the
SuperNode and the ServerApp each poll every 3 s and a ClientApp process starts per message), so a second
run (the benchmark, 9 message rounds, ~120 s of the test's ~250 s at session 16) is left to the
in-process tests that run the same app with a process per message and the deployment defaults
(test_federated_s16, test_federated_run_config, test_federated_benchmark).
"""

from __future__ import annotations

import json
import os
import shutil
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

import pandas as pd
import pytest

pytestmark = [pytest.mark.xdist_group("flower"), pytest.mark.slow]

ROOT = Path(__file__).resolve().parents[2]
BIN = Path(sys.executable).parent


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _wait_port(port: int, timeout: float) -> None:
    t0 = time.monotonic()
    while time.monotonic() - t0 < timeout:
        with socket.socket() as s:
            if s.connect_ex(("127.0.0.1", port)) == 0:
                return
        time.sleep(0.3)
    raise TimeoutError(f"nothing listens on port {port} after {timeout} s")


@pytest.fixture()
def federation(tmp_path, assessments, messages):
    if not (BIN / "flower-superlink").exists():
        pytest.skip("flower-superlink is not installed next to this Python")
    certs = tmp_path / "certs"
    subprocess.run([sys.executable, str(ROOT / "scripts" / "federated" / "make_certs.py"), str(certs),
                    "--district", "区1", "--district", "区2", "--district", "区3", "--district", "outsider"],
                   check=True, capture_output=True)
    data = tmp_path / "data"
    data.mkdir()
    for d, g in assessments.groupby("district"):
        g.to_csv(data / f"{d}.csv", index=False)
    for d, g in messages.groupby("district"):
        g.to_csv(data / f"{d}_messages.csv", index=False)
    flwr_home = tmp_path / "flwr"
    flwr_home.mkdir()
    port = _free_port()
    (flwr_home / "config.toml").write_text(
        f'[superlink]\ndefault = "govml"\n\n[superlink.govml]\naddress = "127.0.0.1:{port}"\n'
        f'root-certificates = "{certs / "ca.crt"}"\n', encoding="utf-8")
    # XDG_CACHE_HOME: the districts' run caches (govml.federated.node_cache's default folder) stay in tmp_path
    env = {**os.environ, "FLWR_HOME": str(flwr_home), "XDG_CACHE_HOME": str(tmp_path / "cache"),
           "PATH": f"{BIN}{os.pathsep}{os.environ.get('PATH', '')}"}
    procs: list[subprocess.Popen] = []

    def start(args: list[str], log: str) -> subprocess.Popen:
        fh = open(tmp_path / log, "wb")  # noqa: SIM115 - closed when the test ends
        p = subprocess.Popen(args, stdout=fh, stderr=subprocess.STDOUT, env=env, cwd=tmp_path,
                             start_new_session=True)
        procs.append(p)
        return p

    try:
        start([str(BIN / "flower-superlink"), "--ssl-ca-certfile", str(certs / "ca.crt"),
               "--ssl-certfile", str(certs / "superlink.crt"), "--ssl-keyfile", str(certs / "superlink.key"),
               "--enable-supernode-auth", "--disable-runtime-dependency-installation",
               "--host", "127.0.0.1", "--port", str(port)], "superlink.log")
        _wait_port(port, 60)
        yield {"tmp": tmp_path, "certs": certs, "data": data, "env": env, "port": port, "start": start}
    finally:
        for p in procs:
            if p.poll() is None:
                os.killpg(p.pid, signal.SIGTERM)
        for p in procs:
            try:
                p.wait(timeout=20)
            except subprocess.TimeoutExpired:
                os.killpg(p.pid, signal.SIGKILL)
                p.wait(timeout=5)


def _flwr(args: list[str], env: dict, timeout: float = 60) -> subprocess.CompletedProcess:
    return subprocess.run([str(BIN / "flwr"), *args], env=env, capture_output=True, text=True, timeout=timeout)


def test_tls_authenticated_federation_runs_to_the_end(federation):
    f = federation
    env, certs, port = f["env"], f["certs"], f["port"]
    # the three registrations at once (each `flwr` command spends ~5 s starting up)
    regs = [subprocess.Popen([str(BIN / "flwr"), "supernode", "register", str(certs / "supernodes" / f"district{i}.pub"),
                              "govml", "--name", f"district{i}"], env=env, stdout=subprocess.PIPE,
                             stderr=subprocess.PIPE, text=True) for i in (1, 2, 3)]
    for p in regs:
        out, err = p.communicate(timeout=60)
        assert p.returncode == 0 and "registered successfully" in out, out + err
    for i in (1, 2, 3):
        f["start"]([str(BIN / "flower-supernode"), "--superlink", f"127.0.0.1:{port}",
                    "--root-certificates", str(certs / "ca.crt"),
                    "--auth-supernode-private-key", str(certs / "supernodes" / f"district{i}"),
                    "--node-config", f'data-path="{f["data"] / f"区{i}.csv"}" district="区{i}" '
                    f'demand-classifier-path="{f["data"] / f"区{i}_messages.csv"}"',
                    "--port", str(_free_port())], f"supernode{i}.log")
    # a SuperNode whose key was never registered is refused
    outsider = f["start"]([str(BIN / "flower-supernode"), "--superlink", f"127.0.0.1:{port}",
                           "--root-certificates", str(certs / "ca.crt"),
                           "--auth-supernode-private-key", str(certs / "supernodes" / "district4"),
                           "--node-config", f'data-path="{f["data"] / "区1.csv"}" district="outsider"',
                           "--port", str(_free_port()), "--max-retries", "2", "--max-wait-time", "15"],
                          "outsider.log")
    assert outsider.wait(timeout=90) != 0
    assert "Failed to activate SuperNode" in (f["tmp"] / "outsider.log").read_text(errors="replace")

    # the app is this project (pyproject.toml [tool.flwr.app]); copied so the run never touches the tree
    app = f["tmp"] / "app"
    app.mkdir()
    shutil.copy(ROOT / "pyproject.toml", app / "pyproject.toml")
    shutil.copy(ROOT / "README.md", app / "README.md")
    # the demand classifier, each SuperNode reading its messages table (`demand-classifier-path`, next to the
    # `data-path` of its assessments), one secure round; no refit and no final test round (simulations
    # test those two paths)
    result = f["tmp"] / "classifier.json"
    labels = "|".join(sorted(pd.read_csv(f["data"] / "区1_messages.csv")["category"].unique()))
    run_cfg = (f'task="demand-classifier" labels="{labels}" n-features=4096 num-rounds=1 '
               f'refit=false final-test-eval=false result-path="{result}"')
    res = _flwr(["run", str(app), "govml", "--run-config", run_cfg, "--stream"], env, timeout=400)
    assert res.returncode == 0, res.stdout[-2000:] + res.stderr[-2000:]
    out = json.loads(result.read_text(encoding="utf-8"))
    assert out["status"] == "completed" and out["task"] == "demand-classifier"
    assert sorted(out["districts"]) == ["区1", "区2", "区3"] and sorted(out["contributors"]) == sorted(out["districts"])
    assert out["excluded"] == {} and out["missing"] == {} and out["secure"] is True
    assert out["secure_threshold"] == 2  # double masking: seed/key shares of 2 of the 3 districts needed
    # each SuperNode trained on its messages table (300 rows), not on its `data-path` (72 assessment rows)
    assert {d: r["rows_used"] for d, r in out["district_rows"].items()} == \
        {d: len(pd.read_csv(f["data"] / f"{d}_messages.csv")) for d in ("区1", "区2", "区3")}
    # `flwr run` merges pyproject's dp-clip default into the run config: the districts must still
    # reply in the secure (not the DP) layout, or the sum is garbage (train_loss < 0, accuracy ~0.05)
    assert out["history"][0]["train_loss"] >= 0
    assert out["history"][0]["federated_eval_accuracy"] > 0.5
