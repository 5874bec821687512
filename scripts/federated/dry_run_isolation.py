"""Dry run of a govml federation on this machine (loopback), as district IT staff would start it.

    python scripts/federated/dry_run_isolation.py WORK_DIR [--isolation process|subprocess] [--tls]
        [--task benchmark] [--task hotspot-forecaster] [--task demand-classifier] [--districts 2] [--count-reads]
        [--superexec-user nobody --superexec-python /usr/bin/python3]

Starts, each on a free port of 127.0.0.1 and each as its own process group (all stopped at the end):

* ``flower-superlink --isolation ISOLATION`` (with ``--tls``: its certificate from ``make_certs.py`` and
  ``--enable-supernode-auth``, the districts' keys registered with ``flwr supernode register``);
* with ``--isolation process``: the SuperLink's own ``flower-superexec --runtime-api-address 127.0.0.1:PORT``
  (it starts one ``flwr-serverapp`` per run), started from another folder;
* one ``flower-supernode --isolation ISOLATION --port P`` per district (cwd ``WORK_DIR/districtN``, node config
  from ``WORK_DIR/districtN/node.toml``: absolute ``data-path``, ``hotspot-forecaster-path``,
  ``demand-classifier-path``, ``output-dir`` and ``cache-dir``);
* with ``--isolation process``: each district's ``flower-superexec --runtime-api-address 127.0.0.1:P`` (it starts
  one ``flwr-clientapp`` per message), from ``WORK_DIR/districtN/exec`` — another folder than the SuperNode's;

then ``flwr run`` for each ``--task`` on small synthetic data (3 districts' sizes as tests/federated use: an
assessment table of 12 communities × 6 workers per district; weekly events of 4 areas × 3 categories × 70 weeks;
300 labelled messages per district, tests/federated's ``make_messages``), and writes ``WORK_DIR/summary.json``: each
run's wall time, the CPU time of every process started (theirs and their children's, read from /proc before they
are stopped), each district's table reads (``--count-reads``: an audit hook in the ClientApp processes logs every
open of a district file), the result file and the forecasts, each district's SuperNode id (new at every start: the
logs name a district by it; the outcome does not depend on it since session 19), and what the districts' cache
folders held while the run went on (polled every ~0.5 s: each file's name and size, and whether it holds the text of
any of the district's messages).

``--superexec-user USER`` (``--isolation process``, run as root): each district's ``flower-superexec`` and so its
``flwr-clientapp`` processes run as USER (``setpriv --reuid/--regid --clear-groups``, a clean environment: no HOME,
``FLWR_HOME`` in its own folder), the SuperNode as the caller. USER cannot run this venv's Python when it lives in a
folder only root may open (here /root, 0700): ``--superexec-python`` names an interpreter USER can run, of the same
minor version, which imports this venv's packages and govml through ``PYTHONPATH`` (``flower-superexec`` and
``flwr-clientapp`` are small wrappers in ``WORK_DIR/userbin``). The district's ``exec`` folder, ``cache-dir`` and
``output-dir`` are made and given to USER (nothing outside WORK_DIR changes).

Flower 1.42 has no long-lived ``flwr-clientapp``: ``flwr-clientapp`` needs ``--token`` (one app run), and
``flower-supernode --clientappio-api-address`` is refused ("no longer supported; use --host and --port"). In
``process`` isolation the long-lived process a district starts next to its SuperNode is ``flower-superexec``.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pandas as pd

ROOT = Path(__file__).resolve().parents[2]
BIN = Path(sys.executable).parent

# an audit hook put in every Python process the SuperExec starts (PYTHONPATH): each open of a file under
# GOVML_DRY_RUN_DATA is appended (pid, path) to GOVML_DRY_RUN_READS
SITECUSTOMIZE = '''
import os, sys
_data = os.environ.get("GOVML_DRY_RUN_DATA")
_log = os.environ.get("GOVML_DRY_RUN_READS")
if _data and _log:
    def _hook(event, args):
        if event == "open" and isinstance(args[0], str) and args[0].startswith(_data) and args[0].endswith(".csv"):
            mode = args[1] if len(args) > 1 and isinstance(args[1], str) else "r"
            if "r" in mode and "+" not in mode:
                with open(_log, "a", encoding="utf-8") as fh:
                    fh.write(f"{os.getpid()}\\t{args[0]}\\n")
    sys.addaudithook(_hook)
'''


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def wait_port(port: int, timeout: float) -> None:
    t0 = time.monotonic()
    while time.monotonic() - t0 < timeout:
        with socket.socket() as s:
            if s.connect_ex(("127.0.0.1", port)) == 0:
                return
        time.sleep(0.3)
    raise TimeoutError(f"nothing listens on port {port} after {timeout} s")


def cpu_seconds(pid: int) -> float:
    """utime + stime + cutime + cstime of ``pid`` (its waited-for children included) and of its live descendants
    (under subprocess isolation the SuperNode's SuperExec lives as long as the SuperNode), in seconds."""
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
        children = Path(f"/proc/{pid}/task/{pid}/children").read_text().split()
    except OSError:
        return 0.0
    own = sum(int(v) for v in fields[11:15]) / os.sysconf("SC_CLK_TCK")
    return own + sum(cpu_seconds(int(c)) for c in children)


def assessments(districts: int, seed: int = 1) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    rows = []
    for d in range(districts):
        for c in range(12):
            level = rng.normal(70 + 4 * d, 8)
            for w in range(6):
                rows.append({"worker_id": f"w{d}{c}{w}", "community": f"区{d + 1}社区{c}", "period": "2026Q1",
                             "service": float(np.clip(level + rng.normal(0, 5), 0, 100)),
                             "response": float(np.clip(level * 0.9 + rng.normal(0, 7), 0, 100)),
                             "district": f"区{d + 1}"})
    return pd.DataFrame(rows)


def events(districts: int, seed: int = 4) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    weeks = pd.date_range("2024-01-01", periods=70, freq="W-MON")
    rows = []
    for d in range(districts):
        for a in range(4):
            for c, cat in enumerate(["噪音", "停车", "垃圾"]):
                base = 1.0 + 0.8 * a + 1.2 * c + 0.5 * d
                season = 1 + 0.4 * np.sin(np.arange(70) / 52 * 2 * np.pi + c)
                trend = 1 + 0.01 * np.arange(70) * (c == 1)
                for w, n in zip(weeks, rng.poisson(base * season * trend), strict=True):
                    rows += [{"created_at": w + pd.Timedelta(hours=int(h)), "community": f"区{d + 1}社区{a}",
                              "category": cat, "district": f"区{d + 1}"} for h in rng.integers(0, 160, n)]
    return pd.DataFrame(rows)


TOPICS = {
    "城乡建设": ["小区", "物业", "电梯", "违建", "楼道", "加装", "维修", "房屋"],
    "环境保护": ["噪音", "油烟", "垃圾", "污水", "异味", "排放", "工地", "扬尘"],
    "交通运输": ["公交", "停车", "道路", "拥堵", "红绿灯", "站台", "占道", "车辆"],
    "教育文体": ["学校", "学位", "幼儿园", "学生", "教师", "图书馆", "体育", "招生"],
    "卫生计生": ["医院", "医保", "疫苗", "诊所", "挂号", "药店", "卫生", "防疫"],
}
COMMON = ["反映", "希望", "尽快", "处理", "问题", "居民", "社区", "解决", "情况", "最近", "附近", "严重"]


def messages(districts: int, seed: int = 0, label_noise: float = 0.1) -> pd.DataFrame:
    """tests/federated/conftest.py's ``make_messages(300 * districts, districts)``: each district's own category mix."""
    rng = np.random.default_rng(seed)
    cats = list(TOPICS)
    rows = []
    for i in range(300 * districts):
        d = i % districts
        mix = np.roll(np.array([0.4, 0.25, 0.15, 0.12, 0.08]), d)
        cat = cats[rng.choice(len(cats), p=mix)]
        words = list(rng.choice(TOPICS[cat], size=3)) + list(rng.choice(COMMON, size=4))
        if rng.random() < 0.3:
            other = cats[rng.integers(len(cats))]
            words.append(rng.choice(TOPICS[other]))
        rng.shuffle(words)
        label = cats[rng.integers(len(cats))] if rng.random() < label_noise else cat
        rows.append({"id": f"m{i:05d}", "district": f"区{d + 1}", "community": f"区{d + 1}社区{rng.integers(8)}",
                     "text": "".join(words), "category": label})
    return pd.DataFrame(rows)


class CacheWatch:
    """Polls the districts' cache folders while a run goes on: every file seen (name, largest size) and whether
    it held the text of one of that district's messages (the UTF-8 bytes of any message's text in the file)."""

    def __init__(self, work: Path, texts: dict[int, list[bytes]]) -> None:
        self.work, self.texts = work, texts
        self.seen: dict[str, dict] = {}

    def poll(self) -> None:
        for d, texts in self.texts.items():
            for f in (self.work / f"district{d}" / "cache").glob("run-*/*"):
                try:
                    data = f.read_bytes()
                except OSError:  # replaced or deleted while read
                    continue
                rel = str(f.relative_to(self.work))
                entry = self.seen.setdefault(rel, {"bytes": 0, "messages_text_found": 0})
                entry["bytes"] = max(entry["bytes"], len(data))
                entry["messages_text_found"] = max(entry["messages_text_found"], sum(t in data for t in texts))


def run_configs(work: Path, ev: pd.DataFrame, msgs: pd.DataFrame) -> dict[str, str]:
    weeks = pd.date_range("2024-01-01", periods=70, freq="W-MON")
    cats = "|".join(sorted(ev["category"].unique()))
    return {
        "benchmark": 'task="benchmark" indicators="service,response"',
        "hotspot-forecaster": (f'task="hotspot-forecaster" num-rounds=2 horizon=4 categories="{cats}" '
                               f'panel-start="{weeks[0].date()}" panel-end="{weeks[-1].date()}"'),
        # 3 rounds chosen on the validation rows, refit, the held-out score (pyproject's defaults but the size)
        "demand-classifier": (f'task="demand-classifier" labels="{"|".join(sorted(msgs["category"].unique()))}" '
                              'n-features=4096 num-rounds=3'),
    }


class Federation:
    def __init__(self, work: Path, isolation: str, tls: bool, count_reads: bool) -> None:
        self.work, self.isolation, self.tls = work, isolation, tls
        self.procs: list[tuple[str, subprocess.Popen]] = []
        self.env = {**os.environ, "FLWR_HOME": str(work / "flwr"), "PATH": f"{BIN}{os.pathsep}{os.environ['PATH']}"}
        if count_reads:
            hooks = work / "hooks"
            hooks.mkdir(exist_ok=True)
            (hooks / "sitecustomize.py").write_text(SITECUSTOMIZE, encoding="utf-8")
            path = os.pathsep.join(p for p in (str(hooks), os.environ.get("PYTHONPATH", "")) if p)
            self.exec_env = {**self.env, "PYTHONPATH": path, "GOVML_DRY_RUN_DATA": str(work / "data"),
                             "GOVML_DRY_RUN_READS": str(work / "reads.tsv")}
        else:
            self.exec_env = self.env
        # subprocess isolation: the SuperNode starts the SuperExec, which inherits the SuperNode's environment
        self.node_env = self.env if isolation == "process" else self.exec_env

    def start(self, name: str, args: list[str], cwd: Path, env: dict | None = None) -> subprocess.Popen:
        cwd.mkdir(parents=True, exist_ok=True)
        fh = open(self.work / "logs" / f"{name}.log", "wb")  # noqa: SIM115 - kept open while the process runs
        p = subprocess.Popen(args, stdout=fh, stderr=subprocess.STDOUT, cwd=cwd, env=env or self.env,
                             start_new_session=True)
        self.procs.append((name, p))
        return p

    def cpu(self) -> dict[str, float]:
        return {name: round(cpu_seconds(p.pid), 2) for name, p in self.procs if p.poll() is None}

    def stop(self) -> None:
        for _, p in self.procs:
            if p.poll() is None:
                os.killpg(p.pid, signal.SIGTERM)
        for _, p in self.procs:
            try:
                p.wait(timeout=20)
            except subprocess.TimeoutExpired:
                os.killpg(p.pid, signal.SIGKILL)
                p.wait(timeout=5)


def node_ids(work: Path, n: int) -> dict[str, int | None]:
    """Each district's SuperNode id, from its log's ``SuperNode ID: N`` line (None when not found)."""
    import re

    out: dict[str, int | None] = {}
    for d in range(1, n + 1):
        log = work / "logs" / f"supernode{d}.log"
        t0 = time.monotonic()
        found = None
        while found is None and time.monotonic() - t0 < 60:
            found = re.search(r"SuperNode ID: (\d+)", log.read_text(errors="replace")) if log.exists() else None
            if found is None:
                time.sleep(0.5)
        out[f"区{d}"] = int(found.group(1)) if found else None
    return out


def user_exec(work: Path, user: str, python: str, env: dict) -> tuple[list[str], dict, tuple[int, int]]:
    """How to start a district's SuperExec as ``user``: the setpriv prefix, its environment, its uid/gid. Its
    ``flower-superexec`` / ``flwr-clientapp`` are wrappers running ``python`` on this venv's packages and govml."""
    import pwd
    import sysconfig

    pw = pwd.getpwnam(user)
    ver = subprocess.run([python, "-c", "import sys; print(sys.version_info[:2])"], capture_output=True, text=True,
                         check=True).stdout.strip()
    if ver != str(tuple(sys.version_info[:2])):
        raise SystemExit(f"--superexec-python {python} is Python {ver}, this venv's is {tuple(sys.version_info[:2])}")
    bindir = work / "userbin"
    bindir.mkdir(exist_ok=True)
    for name, mod, fn in (("flower-superexec", "flwr.supercore.cli", "flower_superexec"),
                          ("flwr-clientapp", "flwr.supernode.cli", "flwr_clientapp")):
        w = bindir / name
        w.write_text(f'#!/bin/sh\nexec {python} -c "import sys; from {mod} import {fn}; sys.argv[0] = \'{name}\'; '
                     f'sys.exit({fn}())" "$@"\n', encoding="utf-8")
        w.chmod(0o755)
    src = [p for p in env.get("PYTHONPATH", "").split(os.pathsep) if p] + [str(ROOT / "src"),
                                                                           sysconfig.get_paths()["purelib"]]
    uenv = {"PATH": f"{bindir}{os.pathsep}/usr/bin{os.pathsep}/bin", "PYTHONPATH": os.pathsep.join(src),
            "HOME": "/nonexistent", "LANG": env.get("LANG", "C.UTF-8")}
    uenv.update({k: v for k, v in env.items() if k.startswith("GOVML_DRY_RUN_")})
    prefix = ["setpriv", f"--reuid={pw.pw_uid}", f"--regid={pw.pw_gid}", "--clear-groups"]
    return prefix, uenv, (pw.pw_uid, pw.pw_gid)


def give(path: Path, ids: tuple[int, int], mode: int = 0o700) -> None:
    path.mkdir(parents=True, exist_ok=True)
    os.chown(path, *ids)
    path.chmod(mode)


def tls_args(certs: Path, tls: bool) -> list[str]:
    return ["--root-certificates", str(certs / "ca.crt")] if tls else ["--insecure"]


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("work", type=Path)
    ap.add_argument("--isolation", choices=["process", "subprocess"], default="process")
    ap.add_argument("--tls", action="store_true")
    ap.add_argument("--task", action="append", choices=["benchmark", "hotspot-forecaster", "demand-classifier"])
    ap.add_argument("--districts", type=int, default=2)
    ap.add_argument("--count-reads", action="store_true")
    ap.add_argument("--no-superexec", type=int, action="append", default=[], metavar="N",
                    help="process isolation: do not start district N's flower-superexec (what the run does then)")
    ap.add_argument("--superexec-user", default=None, metavar="USER",
                    help="process isolation, as root: run each district's flower-superexec as USER")
    ap.add_argument("--superexec-python", default=sys.executable, metavar="PYTHON",
                    help="with --superexec-user: an interpreter USER can run (same minor version as this one)")
    ap.add_argument("--run-config", default="", help="extra run config for every run, e.g. 'round-timeout=60'")
    args = ap.parse_args(argv)
    tasks = args.task or ["benchmark"]
    work = args.work.absolute()
    if work.exists():
        shutil.rmtree(work)
    for sub in ("logs", "flwr", "data"):
        (work / sub).mkdir(parents=True)
    n = args.districts
    tab, ev, msgs = assessments(n), events(n), messages(n)
    for d in range(1, n + 1):
        msgs[msgs["district"] == f"区{d}"].drop(columns="district").to_csv(work / "data" / f"区{d}_messages.csv",
                                                                         index=False)
        tab[tab["district"] == f"区{d}"].drop(columns="district").to_csv(work / "data" / f"区{d}.csv", index=False)
        ev[ev["district"] == f"区{d}"].drop(columns="district").to_csv(work / "data" / f"区{d}_events.csv",
                                                                       index=False)
    certs = work / "certs"
    if args.tls:
        subprocess.run([sys.executable, str(ROOT / "scripts" / "federated" / "make_certs.py"), str(certs),
                        *[a for d in range(1, n + 1) for a in ("--district", f"区{d}")]], check=True,
                       capture_output=True)
    port = free_port()
    profile = f'[superlink]\ndefault = "govml"\n\n[superlink.govml]\naddress = "127.0.0.1:{port}"\n'
    profile += f'root-certificates = "{certs / "ca.crt"}"\n' if args.tls else "insecure = true\n"
    (work / "flwr" / "config.toml").write_text(profile, encoding="utf-8")
    fed = Federation(work, args.isolation, args.tls, args.count_reads)
    if args.superexec_user and args.isolation != "process":
        raise SystemExit("--superexec-user needs --isolation process")
    as_user = user_exec(work, args.superexec_user, args.superexec_python, fed.exec_env) if args.superexec_user else None
    if as_user is not None and args.count_reads:  # the user's processes append to the reads log
        (work / "reads.tsv").touch()
        os.chown(work / "reads.tsv", *as_user[2])
    summary: dict = {"isolation": args.isolation, "tls": args.tls, "districts": n, "no_superexec": args.no_superexec,
                     "run_config": args.run_config, "superexec_user": args.superexec_user, "runs": {}}
    try:
        link = ["--host", "127.0.0.1", "--port", str(port), "--isolation", args.isolation,
                "--disable-runtime-dependency-installation"]
        link += (["--ssl-ca-certfile", str(certs / "ca.crt"), "--ssl-certfile", str(certs / "superlink.crt"),
                  "--ssl-keyfile", str(certs / "superlink.key"), "--enable-supernode-auth"]
                 if args.tls else ["--insecure"])
        fed.start("superlink", [str(BIN / "flower-superlink"), *link], work / "link")
        wait_port(port, 60)
        if args.isolation == "process":
            fed.start("superlink-superexec", [str(BIN / "flower-superexec"), "--runtime-api-address",
                                              f"127.0.0.1:{port}", *tls_args(certs, args.tls)], work / "link-exec")
        if args.tls:
            for d in range(1, n + 1):
                res = subprocess.run([str(BIN / "flwr"), "supernode", "register",
                                      str(certs / "supernodes" / f"district{d}.pub"), "govml", "--name", f"区{d}"],
                                     env=fed.env, capture_output=True, text=True, timeout=60)
                if res.returncode != 0:
                    raise RuntimeError(f"flwr supernode register: {res.stdout}{res.stderr}")
        for d in range(1, n + 1):
            home = work / f"district{d}"
            home.mkdir()
            node = home / "node.toml"
            node.write_text(f'data-path = "{work / "data" / f"区{d}.csv"}"\n'
                            f'hotspot-forecaster-path = "{work / "data" / f"区{d}_events.csv"}"\n'
                            f'demand-classifier-path = "{work / "data" / f"区{d}_messages.csv"}"\n'
                            f'district = "区{d}"\noutput-dir = "{home / "out"}"\ncache-dir = "{home / "cache"}"\n',
                            encoding="utf-8")
            rport = free_port()
            auth = (["--auth-supernode-private-key", str(certs / "supernodes" / f"district{d}")] if args.tls else [])
            fed.start(f"supernode{d}", [str(BIN / "flower-supernode"), "--superlink", f"127.0.0.1:{port}",
                                        *tls_args(certs, args.tls), *auth, "--isolation", args.isolation,
                                        "--host", "127.0.0.1", "--port", str(rport), "--node-config", str(node)],
                      home, env=fed.node_env)
            wait_port(rport, 60)
            if args.isolation == "process" and d not in args.no_superexec and as_user is not None:
                prefix, uenv, ids = as_user
                for sub in ("exec", "cache", "out"):  # the user's own folders (cache-dir is checked to be its own)
                    give(home / sub, ids)
                give(home / "exec" / "flwr", ids)
                fed.start(f"supernode{d}-superexec", [*prefix, str(work / "userbin" / "flower-superexec"),
                                                      "--runtime-api-address", f"127.0.0.1:{rport}", "--insecure"],
                          home / "exec", env={**uenv, "FLWR_HOME": str(home / "exec" / "flwr")})
            elif args.isolation == "process" and d not in args.no_superexec:
                fed.start(f"supernode{d}-superexec", [str(BIN / "flower-superexec"), "--runtime-api-address",
                                                      f"127.0.0.1:{rport}", "--insecure"], home / "exec",
                          env=fed.exec_env)
        app = work / "app"  # the app is this project (pyproject.toml [tool.flwr.app]), copied
        app.mkdir()
        shutil.copy(ROOT / "pyproject.toml", app / "pyproject.toml")
        shutil.copy(ROOT / "README.md", app / "README.md")
        cfgs = run_configs(work, ev, msgs)
        summary["node_ids"] = node_ids(work, n)
        texts = {d: [t.encode() for t in msgs.loc[msgs["district"] == f"区{d}", "text"]] for d in range(1, n + 1)}
        for task in tasks:
            watch = CacheWatch(work, texts)
            result = work / f"result-{task}.json"
            reads0 = (work / "reads.tsv").read_text().count("\n") if (work / "reads.tsv").exists() else 0
            cpu0 = fed.cpu()
            t0 = time.monotonic()
            with open(work / "logs" / f"flwr-run-{task}.log", "wb") as fh:
                run = subprocess.Popen([str(BIN / "flwr"), "run", str(app), "govml", "--run-config",
                                        f'{cfgs[task]} {args.run_config} result-path="{result}"', "--stream"],
                                       env=fed.env, stdout=fh, stderr=subprocess.STDOUT)
                while run.poll() is None and time.monotonic() - t0 < 1800:
                    watch.poll()
                    time.sleep(0.5)
                if run.poll() is None:
                    run.kill()
                rc = run.wait()
            wall = time.monotonic() - t0
            time.sleep(5)  # the run's app processes are reaped (their CPU counted in their SuperExec's)
            cpu1 = fed.cpu()
            lines = (work / "reads.tsv").read_text().splitlines()[reads0:] if (work / "reads.tsv").exists() else []
            out = json.loads(result.read_text(encoding="utf-8")) if result.exists() else None
            summary["runs"][task] = {
                "wall_s": round(wall, 1), "flwr_run_rc": rc,
                "cpu_s": {k: round(cpu1[k] - cpu0.get(k, 0.0), 2) for k in cpu1},
                "reads": ({Path(p).name: sum(1 for x in lines if x.split("\t")[1] == p)
                           for p in sorted({x.split("\t")[1] for x in lines})} if args.count_reads else None),
                "result": out,
                "caches_left": sorted(str(p.relative_to(work)) for p in work.glob("district*/cache/run-*")),
                "cache_files_seen": watch.seen,
            }
            if task == "hotspot-forecaster":
                summary["runs"][task]["forecasts"] = {
                    f"district{d}": pd.read_csv(work / f"district{d}" / "out" / "forecasts.csv").to_dict("list")
                    for d in range(1, n + 1) if (work / f"district{d}" / "out" / "forecasts.csv").exists()}
            print(f"{task}: rc {rc}, {wall:.0f} s wall, status "
                  f"{(out or {}).get('status')}", flush=True)
    finally:
        summary["cpu_total_s"] = fed.cpu()
        fed.stop()
        (work / "summary.json").write_text(json.dumps(summary, ensure_ascii=False, indent=1, default=str),
                                           encoding="utf-8")
    ok = all(r["flwr_run_rc"] == 0 and (r["result"] or {}).get("status") == "completed"
             for r in summary["runs"].values())
    return 0 if ok else 1


if __name__ == "__main__":
    raise SystemExit(main())
