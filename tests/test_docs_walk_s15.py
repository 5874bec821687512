"""What README.md and docs/*.md show a new user still matches the code (session 15's walk through the docs).

* every ``--option`` the docs give a ``govml`` command (fenced ``bash`` blocks and inline ```govml …```) is an option
  of that command — a renamed or dropped option fails here, not in a user's terminal;
* the README's Python: the doctest block runs and prints what it shows; the other blocks, which use the reader's own
  data (``events``) or a long backtest, are checked call by call: every name they import exists and every call binds
  to the signature it calls (keywords included);
* ``govml validate --drop-incomplete`` counts the file's rows first, then the rows left after dropping.
"""

from __future__ import annotations

import ast
import doctest
import functools
import importlib
import inspect
import re
from pathlib import Path

import click
import pytest
import typer

from cli_runner import govml as _govml
from govml.cli import app

ROOT = Path(__file__).resolve().parents[1]
DOCS = ["README.md", "docs/design.md", "docs/hotspots.md", "docs/skills.md", "docs/tracking.md", "docs/federated.md",
        "docs/contributing.md"]
GLOBAL_OPTIONS = {"--help", "--debug", "--version"}


def _govml_lines(text: str) -> list[str]:
    """``govml …`` command lines: from fenced bash blocks (continuations joined, comments cut) and inline code."""
    lines = []
    for block in re.findall(r"```(?:bash|sh)\n(.*?)```", text, flags=re.S):
        for line in re.sub(r"\\\n\s*", " ", block).splitlines():
            line = line.split(" #")[0].strip()
            if line.startswith("govml "):
                lines.append(line)
    lines += re.findall(r"`(govml [^`]+)`", text)
    return lines


@functools.cache
def _root() -> click.Command:
    return typer.main.get_command(app)


def _resolve(words: list[str]) -> click.Command:
    cmd = _root()
    for word in words[1:]:
        if not (isinstance(cmd, click.Group) and word in cmd.commands):
            break
        cmd = cmd.commands[word]
    return cmd


def _options(cmd: click.Command) -> set[str]:
    return {o for p in cmd.params for o in [*getattr(p, "opts", []), *getattr(p, "secondary_opts", [])]}


def test_the_walk_reads_the_docs_commands() -> None:
    lines = [line for doc in DOCS for line in _govml_lines((ROOT / doc).read_text(encoding="utf-8"))]
    assert len(lines) >= 50  # the parser finds the docs' commands (70 in session 15)
    assert any(line.startswith("govml hotspots backtest ") and "--origins 8" in line for line in lines)
    assert any(line.startswith("govml skills verify-log ") for line in lines)


@pytest.mark.parametrize("doc", DOCS)
def test_every_option_the_docs_give_a_command_exists(doc: str) -> None:
    wrong = []
    for line in _govml_lines((ROOT / doc).read_text(encoding="utf-8")):
        words = re.sub(r"[\[\]]", " ", line).split()  # [--opt VALUE] marks an optional part
        cmd = _resolve(words)
        known = _options(cmd) | GLOBAL_OPTIONS
        # `--sheet/--encoding` in prose names two options
        given = [o.split("=")[0] for w in words if w.startswith("--") for o in w.split("/")]
        wrong += [f"{o} in `{line[:90]}`" for o in given if o not in known]
    assert not wrong, f"{doc}: options that `{'/'.join(wrong)}` do not exist"


def test_the_option_check_would_catch_a_wrong_option() -> None:
    cmd = _resolve("govml hotspots backtest x.csv --origins 8".split())
    assert cmd.name == "backtest" and "--origins" in _options(cmd)
    assert "--origin" not in _options(cmd) and "--budget-hours" not in _options(cmd)


def _python_blocks(doc: str) -> list[str]:
    return re.findall(r"```python\n(.*?)```", (ROOT / doc).read_text(encoding="utf-8"), flags=re.S)


def test_readme_doctest_block_prints_what_it_shows() -> None:
    blocks = [b for b in _python_blocks("README.md") if b.lstrip().startswith(">>>")]
    assert blocks, "the README's privacy example (>>> privacy.mask(...)) was not found"
    runner = doctest.DocTestRunner(optionflags=doctest.NORMALIZE_WHITESPACE)
    for i, block in enumerate(blocks):
        test = doctest.DocTestParser().get_doctest(block, {}, f"README python block {i}", "README.md", 0)
        runner.run(test)
    assert runner.summarize(verbose=False).failed == 0


def _check_calls(code: str) -> list[str]:
    """Bind every call in ``code`` whose callee is an imported govml name, a govml module's attribute, or a method of
    an instance made in the same expression (``Cls(...).fit(x)``); returns what does not import or bind."""
    tree = ast.parse(code)
    names: dict[str, object] = {}
    problems = []
    for node in ast.walk(tree):
        if isinstance(node, ast.ImportFrom) and (node.module or "").startswith("govml"):
            module = importlib.import_module(node.module)
            for alias in node.names:
                try:
                    names[alias.asname or alias.name] = getattr(module, alias.name)
                except AttributeError:
                    try:  # a submodule: from govml import tracking
                        names[alias.asname or alias.name] = importlib.import_module(f"{node.module}.{alias.name}")
                    except ImportError:
                        problems.append(f"from {node.module} import {alias.name}: no such name")
        elif isinstance(node, ast.Import):
            for alias in node.names:
                if alias.name.startswith("govml"):
                    names[alias.asname or alias.name] = importlib.import_module(alias.name)

    def target(func: ast.expr) -> object | None:
        if isinstance(func, ast.Name):
            return names.get(func.id)
        if isinstance(func, ast.Attribute):
            if isinstance(func.value, ast.Name) and inspect.ismodule(names.get(func.value.id)):
                owner = names[func.value.id]
            elif isinstance(func.value, ast.Call) and inspect.isclass(target(func.value.func)):
                owner = target(func.value.func)  # Cls(...).method(...): bind against Cls.method (self added below)
            else:
                return None
            if not hasattr(owner, func.attr):
                problems.append(f"{getattr(owner, '__name__', owner)}.{func.attr}: no such attribute")
                return None
            return getattr(owner, func.attr)
        return None

    for node in ast.walk(tree):
        if not isinstance(node, ast.Call):
            continue
        fn = target(node.func)
        if fn is None or not callable(fn):
            continue
        args = [object()] * len(node.args)
        if isinstance(node.func, ast.Attribute) and isinstance(node.func.value, ast.Call):
            args = [object(), *args]  # self
        kwargs = {k.arg: object() for k in node.keywords if k.arg}
        try:
            inspect.signature(fn).bind(*args, **kwargs)
        except TypeError as exc:
            problems.append(f"{ast.unparse(node)[:80]}: {exc}")
    return problems


def test_readme_and_tracking_python_calls_bind_to_the_code() -> None:
    blocks = [b for b in _python_blocks("README.md") if not b.lstrip().startswith(">>>")]
    blocks += [b for b in _python_blocks("docs/tracking.md") if "tracking." in b]
    assert any("run_backtest(" in b for b in blocks) and any("tracking.run(" in b for b in blocks)
    problems = [p for b in blocks for p in _check_calls(b)]
    assert not problems, problems


def test_the_call_check_would_catch_a_wrong_keyword_or_name() -> None:
    wrong = ("from govml.hotspot import build_panel, HotspotForecaster, no_such_thing\n"
             "panel = build_panel(clean, frequency='W')\n"
             "HotspotForecaster(horizon=4).fit(panel).predict(4)\n"
             "HotspotForecaster(horizon=4).fit(panel, 1, 2, 3)\n")
    problems = _check_calls(wrong)
    assert any("no_such_thing" in p for p in problems)
    assert any("frequency" in p for p in problems)
    assert any("fit(panel, 1, 2, 3)" in p for p in problems)
    assert len(problems) == 3  # the right calls (horizon=4, .fit(panel), .predict(4)) bind


def test_validate_drop_incomplete_counts_the_files_rows_then_the_rows_left(tmp_path: Path) -> None:
    f = tmp_path / "events.csv"
    f.write_text("created_at,community,category\n2024-01-01,A,噪音\n2024-01-02,,噪音\n2024-01-03,B,\n"
                 "2024-01-04,C,噪音\n2024-01-05,D,停车\n", encoding="utf-8")
    code, out = _govml("validate", f, "--kind", "events", "--drop-incomplete")
    text = " ".join(out.split())
    assert code == 0, out
    assert "5 data rows, 3 columns" in text  # the file has 5 data rows …
    assert "✓ usable as events (3 rows after dropping 2 incomplete" in text  # … of which 3 are kept
    code, out = _govml("validate", f, "--kind", "events")
    assert code == 1 and "5 data rows, 3 columns" in " ".join(out.split())


def test_every_command_and_option_has_help() -> None:
    """`govml … --help` is where the options the docs leave out are documented: none may be blank."""
    blank = []

    def walk(cmd: click.Command, path: list[str]) -> None:
        if isinstance(cmd, click.Group):
            for name, sub in cmd.commands.items():
                walk(sub, [*path, name])
            return
        if not (cmd.help or "").strip():
            blank.append(" ".join(path))
        blank.extend(f"{' '.join(path)} {p.opts[0]}" for p in cmd.params
                     if isinstance(p, click.Option) and not (p.help or "").strip())

    walk(_root(), ["govml"])
    assert not blank, blank
