"""Configuration files: YAML read into pydantic models, with one clear error per mistake.

:func:`load_yaml_model` is the one way every ``configs/*.yaml`` is read: a YAML syntax error, a
missing key, an unknown key or a wrong value raises :class:`~govml.errors.ConfigError` naming the
file, the key path (``profiles.teddycup.columns``) and what was expected.

The column-mapping profiles (``configs/columns.yaml``) map the column names of known exports to
govml's canonical names; :func:`resolve_mapping` combines a profile with ``--map canonical=theirs``
options from the command line.
"""

from __future__ import annotations

import os
from collections.abc import Iterable, Mapping
from pathlib import Path
from typing import Any, Literal, TypeVar

from pydantic import BaseModel, ConfigDict, Field, ValidationError

from govml.errors import ConfigError

M = TypeVar("M", bound=BaseModel)

__all__ = [
    "read_utf8_text",
    "load_yaml_model",
    "config_path",
    "ColumnProfile",
    "ColumnsConfig",
    "load_column_profiles",
    "resolve_mapping",
    "ColumnMapping",
    "parse_map_pairs",
    "COLUMN_ALIASES",
    "guess_column",
]

_PROJECT_CONFIGS = Path(__file__).resolve().parents[2] / "configs"


def config_path(name: str) -> Path:
    """Where the default config ``name`` (e.g. ``columns.yaml``) lives: ``$GOVML_CONFIG_DIR/name``
    if that variable is set, else ``./configs/name`` if it exists, else the project's ``configs/``."""
    env = os.environ.get("GOVML_CONFIG_DIR")
    if env:
        return Path(env) / name
    local = Path("configs") / name
    if local.exists():
        return local
    return _PROJECT_CONFIGS / name


def _loc(loc: Iterable[Any]) -> str:
    out = ""
    for part in loc:
        if isinstance(part, int):
            out += f"[{part}]"
        else:
            out += ("." if out else "") + str(part)
    return out or "(top level)"


def read_utf8_text(path: str | os.PathLike[str], what: str = "file") -> str:
    """The text of a UTF-8 file (a BOM is dropped); :class:`ConfigError` naming the file when it is
    missing or not UTF-8 (``what`` says which file it is, e.g. ``"configuration file"``)."""
    p = Path(path)
    try:
        return p.read_text(encoding="utf-8-sig")
    except FileNotFoundError:
        raise ConfigError(f"{p}: {what} not found") from None
    except UnicodeDecodeError as exc:
        raise ConfigError(f"{p}: not UTF-8 text (invalid byte at position {exc.start}); save it as UTF-8") from None


def load_yaml_model(path: str | os.PathLike[str], model: type[M]) -> M:
    """Read the YAML file ``path`` into ``model`` (a pydantic model). Raises :class:`ConfigError`
    naming the file, the key path and what was expected (all validation errors, one per line)."""
    import yaml

    p = Path(path)
    text = read_utf8_text(p, "configuration file")
    try:
        data = yaml.safe_load(text)
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        where = f" at line {mark.line + 1}, column {mark.column + 1}" if mark is not None else ""
        problem = getattr(exc, "problem", None) or str(exc)
        raise ConfigError(f"{p}: not valid YAML{where}: {problem}") from None
    if data is None:
        data = {}
    if not isinstance(data, dict):
        raise ConfigError(f"{p}: expected a mapping of keys at the top level, found {type(data).__name__}")
    try:
        return model.model_validate(data)
    except ValidationError as exc:
        lines = []
        for err in exc.errors():
            key = _loc(err["loc"])
            msg = err["msg"]
            if err["type"] == "extra_forbidden":
                msg = "unknown key (check its spelling)"
            found = err.get("input")
            shown = "" if err["type"] in ("missing", "extra_forbidden") else f" (found {found!r})"
            lines.append(f"key '{key}': {msg}{shown}")
        if len(lines) == 1:
            raise ConfigError(f"{p}: {lines[0]}") from None
        raise ConfigError(f"{p}: {len(lines)} problems\n" + "\n".join(f"  - {line}" for line in lines)) from None


# --------------------------------------------------------------------------------------------------
# column-mapping profiles

Kind = Literal["messages", "events", "assessments", "courses"]


class ColumnProfile(BaseModel):
    """One export format: which of its columns is which canonical column."""

    model_config = ConfigDict(extra="forbid")

    description: str = ""
    kinds: list[Kind] = Field(default_factory=list, description="kinds of table this profile is for")
    columns: dict[str, str] = Field(description="canonical column name → the export's column name")


class ColumnsConfig(BaseModel):
    model_config = ConfigDict(extra="forbid")

    profiles: dict[str, ColumnProfile] = Field(default_factory=dict)


def load_column_profiles(path: str | os.PathLike[str] | None = None) -> ColumnsConfig:
    """The column-mapping profiles in ``path`` (default: :func:`config_path` ``("columns.yaml")``)."""
    return load_yaml_model(Path(path) if path is not None else config_path("columns.yaml"), ColumnsConfig)


def parse_map_pairs(pairs: Iterable[str] | None) -> dict[str, str]:
    """``["created_at=留言时间", ...]`` → ``{"created_at": "留言时间"}``; a malformed pair raises
    :class:`ConfigError`."""
    out: dict[str, str] = {}
    for pair in pairs or []:
        canon, sep, theirs = pair.partition("=")
        canon, theirs = canon.strip(), theirs.strip()
        if not sep or not canon or not theirs:
            raise ConfigError(f"--map {pair!r}: expected canonical=their_column, e.g. --map created_at=留言时间")
        if canon in out and out[canon] != theirs:
            raise ConfigError(f"--map: '{canon}' is mapped twice ({out[canon]!r} and {theirs!r})")
        out[canon] = theirs
    return out


class ColumnMapping(dict):
    """A column mapping {canonical: their column} that remembers which entries came from a profile
    (``from_profile``): a profile column missing from a file is normal, a ``--map`` typo is not."""

    def __init__(self, *args: Any, from_profile: Iterable[str] = (), **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.from_profile: set[str] = set(from_profile)
        self.profile: str | None = None
        self.kinds: list[str] = []  # the kinds of table the profile is meant for (empty: any)


def resolve_mapping(
    cli_pairs: Iterable[str] | Mapping[str, str] | None = None,
    profile: str | None = None,
    path: str | os.PathLike[str] | None = None,
) -> ColumnMapping:
    """The column mapping {canonical: their column}: the ``profile``'s columns (from ``path``,
    default ``configs/columns.yaml``), overridden by ``cli_pairs`` (``"canonical=theirs"`` strings or
    a mapping). An unknown profile raises :class:`ConfigError` listing the known ones."""
    mapping = ColumnMapping()
    if profile:
        cfg = load_column_profiles(path)
        if profile not in cfg.profiles:
            where = path if path is not None else config_path("columns.yaml")
            known = ", ".join(sorted(cfg.profiles)) or "none"
            raise ConfigError(f"{where}: no column profile named {profile!r} (known profiles: {known})")
        mapping.update(cfg.profiles[profile].columns)
        mapping.profile = profile
        mapping.kinds = list(cfg.profiles[profile].kinds)
    if isinstance(cli_pairs, Mapping):
        given = {str(k): str(v) for k, v in cli_pairs.items()}
    else:
        given = parse_map_pairs(cli_pairs)
    mapping.from_profile = set(mapping) - set(given)
    mapping.update(given)
    return mapping


# --------------------------------------------------------------------------------------------------
# recognising the columns of common exports when a command's default column is absent

#: Header names of common Chinese (and English) message exports, per canonical column, tried in this
#: order after the profiles in ``configs/columns.yaml``. Only unambiguous names: a header that could
#: mean two things (``区`` district or area?) is not guessed.
COLUMN_ALIASES: dict[str, tuple[str, ...]] = {
    "text": ("留言详情", "留言内容", "诉求内容", "投诉内容", "反映内容", "来电内容", "问题描述", "内容", "详情",
             "content", "description"),
    "title": ("留言主题", "留言标题", "诉求标题", "诉求主题", "主题", "标题", "title", "subject"),
    "id": ("留言编号", "工单编号", "工单号", "编号", "id", "case_id"),
    "created_at": ("留言时间", "受理时间", "来电时间", "投诉时间", "创建时间", "登记时间", "日期", "时间",
                   "created_at", "date", "time"),
    "likes": ("点赞数", "点赞", "likes"),
    "user_id": ("留言用户", "用户", "用户名", "user"),
    "category": ("一级标签", "一级分类", "诉求类别", "诉求类型", "诉求分类", "问题分类", "问题类别", "工单类别",
                 "类别", "分类", "category", "label"),
    "community": ("社区", "所属社区", "社区名称", "community"),
    "district": ("区县", "所属区县", "district"),
}


def guess_column(canonical: str, headers: Iterable[str],
                 profiles_path: str | os.PathLike[str] | None = None) -> tuple[str, str] | None:
    """The column of ``headers`` that is most likely ``canonical`` (e.g. ``"text"``), with where the
    guess came from: ``("留言详情", "profile teddycup")`` or ``("内容", "common name")``; ``None`` when
    nothing matches. Profiles come first (those matching most of ``headers`` win), then
    :data:`COLUMN_ALIASES`; names compare without surrounding spaces and case."""
    have = {str(h).strip().casefold(): str(h) for h in headers}
    try:
        profiles = load_column_profiles(profiles_path).profiles
    except ConfigError:  # no or broken profile file: the common names still work
        profiles = {}
    ranked = sorted(profiles.items(),
                    key=lambda kv: -sum(str(v).strip().casefold() in have for v in kv[1].columns.values()))
    for name, prof in ranked:
        theirs = prof.columns.get(canonical)
        if theirs is not None and str(theirs).strip().casefold() in have:
            return have[str(theirs).strip().casefold()], f"profile {name}"
    for alias in COLUMN_ALIASES.get(canonical, ()):
        if alias.casefold() in have:
            return have[alias.casefold()], "common name"
    return None
