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
    "HEADER_ALIASES",
    "COLUMN_ALIASES",
    "header_aliases",
    "alias_columns",
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
    aliases: dict[Kind, dict[str, list[str]]] = Field(
        default_factory=dict, description="more header names per kind of table and canonical column, read "
        "after the built-in ones (:data:`HEADER_ALIASES`)")


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

#: Header names of common Chinese (and English) exports, per kind of table and canonical column — the one
#: table every reader takes them from: ``govml validate`` and the commands alike. Only unambiguous names: a
#: header that could mean two things (``区`` district or area in a message export?) is not listed there.
#: ``configs/columns.yaml`` may add names under ``aliases.<kind>.<column>`` (:func:`header_aliases`).
#:
#: * ``messages`` / ``events``: tried in this order after the profiles (:func:`guess_column`, used by the
#:   demands and federated commands to find the columns they need);
#: * ``assessments`` / ``courses``: a header is read as ours when ours is absent and exactly one of its names is
#:   present (:func:`alias_columns`, used by the skills commands and ``govml validate``); the skills readers
#:   (``govml.skills.readings``) take them from here.
HEADER_ALIASES: dict[str, dict[str, tuple[str, ...]]] = {
    "messages": {
        "text": ("留言详情", "留言内容", "诉求内容", "投诉内容", "反映内容", "来电内容", "问题描述", "内容", "详情",
                 "content", "description"),
        "title": ("留言主题", "留言标题", "诉求标题", "诉求主题", "工单标题", "主题", "标题", "title", "subject"),
        "id": ("留言编号", "工单编号", "工单号", "编号", "id", "case_id"),
        "created_at": ("留言时间", "受理时间", "来电时间", "投诉时间", "反映时间", "创建时间", "登记时间", "提交时间", "日期",
                       "时间", "created_at", "date", "time"),
        "likes": ("点赞数", "点赞", "likes"),
        "user_id": ("留言用户", "用户", "用户名", "user"),
        "category": ("一级标签", "一级分类", "诉求类别", "诉求类型", "诉求分类", "问题分类", "问题类别", "工单类别",
                     "类别", "分类", "category", "label"),
        "community": ("社区", "所属社区", "社区名称", "community"),
        "district": ("区县", "所属区县", "district"),
        "channel": ("来源渠道", "受理渠道", "诉求渠道", "来电渠道", "工单来源", "渠道", "channel"),
        # a 12345 export's handling columns (the hotspot efficiency tables' closed_at / status)
        "closed_at": ("办结时间", "结案时间", "办结日期", "完成时间", "关闭时间", "答复时间", "closed_at"),
        "status": ("办理状态", "处理状态", "工单状态", "办结状态", "状态", "status"),
    },
    "assessments": {
        "worker_id": ("工号", "人员编号", "职工编号", "员工编号", "社工编号", "编号"),
        "community": ("社区", "所属社区", "社区名称", "村（社区）", "村(社区)", "村/社区", "村居"),
        "district": ("区县", "所属区县", "区", "所属区", "街道", "所属街道", "街道（镇）", "街镇"),
        "period": ("考核周期", "考核期", "周期", "考核期间", "考核时间", "考核季度", "考核月份", "期次"),
        "area_type": ("区域类型", "城乡类型", "城乡"),
        "resident_rating": ("居民评分", "居民评议", "居民评议得分", "居民评价"),
        "indicator": ("指标", "考核指标", "指标名称"),
        "score": ("得分", "分数", "指标得分"),
        "source": ("评价来源", "来源", "评分来源"),
    },
    "courses": {
        "course_id": ("课程编号", "课程代码", "编号"),
        "title": ("课程名称", "课程", "名称"),
        "hours": ("学时", "课时", "时长", "小时"),
        "cost": ("费用", "成本", "价格", "经费"),
        "indicators": ("对应指标", "培训指标", "指标"),
        "prerequisites": ("先修课程", "前置课程", "先修"),
        "capacity": ("容量", "人数上限", "班额"),
        "mode": ("方式", "培训方式", "形式"),
    },
}
#: events are complaints or service requests: the message names of the columns they share
HEADER_ALIASES["events"] = {c: HEADER_ALIASES["messages"][c]
                            for c in ("created_at", "community", "category", "id", "district", "closed_at", "status")}
#: the message table's names (the name the demands and federated commands import)
COLUMN_ALIASES: dict[str, tuple[str, ...]] = HEADER_ALIASES["messages"]


def header_aliases(kind: str, path: str | os.PathLike[str] | None = None) -> dict[str, tuple[str, ...]]:
    """The header names of ``kind``'s columns: :data:`HEADER_ALIASES`, then the names that ``path``'s
    ``aliases.<kind>`` adds (default file: :func:`config_path` ``("columns.yaml")``; none when it does not exist;
    a broken file is a :class:`ConfigError`). An unknown ``kind`` is a :class:`ConfigError`."""
    if kind not in HEADER_ALIASES:
        raise ConfigError(f"unknown kind of table {kind!r}; expected one of {', '.join(HEADER_ALIASES)}")
    table = dict(HEADER_ALIASES[kind])
    p = Path(path) if path is not None else config_path("columns.yaml")
    if path is None and not p.exists():
        return table
    extra = load_column_profiles(p).aliases.get(kind, {})  # type: ignore[call-overload]
    for canon, names in extra.items():
        table[canon] = tuple(dict.fromkeys([*table.get(canon, ()), *(str(n).strip() for n in names)]))
    return table


def alias_columns(df: Any, aliases: Mapping[str, Iterable[str]]) -> tuple[Any, list[str]]:
    """Rename a column to ours when ours is absent and exactly one of its names (``aliases[ours]``) is present.

    Several present names for one column are said and none is used (which is meant is not certain), except
    ``district``: one of its first three names (the county level, 区县) beside a street-level one (街道) is used.
    Returns the frame (``attrs`` kept) and the notes (``columns read by their Chinese names: period ← 考核周期``)."""
    cols = [str(c) for c in df.columns]
    rename: dict[str, str] = {}
    notes: list[str] = []
    said: list[str] = []
    for ours, names in aliases.items():
        names = tuple(names)
        if ours in cols:
            continue
        found = [n for n in names if n in cols and n not in rename]
        if len(found) == 1:
            rename[found[0]] = ours
            said.append(f"{ours} ← {found[0]}")
        elif len(found) > 1:  # which one is meant is not certain: say so, map none
            first_kind = [n for n in found if n in names[:3]]
            if ours == "district" and len(first_kind) == 1:  # 区县 beside 街道: the county level is our district
                rename[first_kind[0]] = ours
                said.append(f"{ours} ← {first_kind[0]} ({', '.join(n for n in found if n != first_kind[0])} "
                            "not used)")
            else:
                notes.append(f"{ours}: several columns could be it ({', '.join(found)}); none used — "
                             f"map one with --map {ours}=NAME")
    if said:
        notes.insert(0, "columns read by their Chinese names: " + ", ".join(said))
    if not rename:
        return df, notes
    attrs = dict(df.attrs)
    out = df.rename(columns=rename)
    out.attrs.update(attrs)
    return out, notes


def guess_column(canonical: str, headers: Iterable[str],
                 profiles_path: str | os.PathLike[str] | None = None) -> tuple[str, str] | None:
    """The column of ``headers`` that is most likely ``canonical`` (e.g. ``"text"``), with where the
    guess came from: ``("留言详情", "profile teddycup")`` or ``("内容", "common name")``; ``None`` when
    nothing matches. Profiles come first (those matching most of ``headers`` win), then
    :data:`COLUMN_ALIASES`; names compare without surrounding spaces and case."""
    have = {str(h).strip().casefold(): str(h) for h in headers}
    try:
        cfg = load_column_profiles(profiles_path)
        profiles, extra = cfg.profiles, cfg.aliases.get("messages", {})
    except ConfigError:  # no or broken profile file: the common names still work
        profiles, extra = {}, {}
    ranked = sorted(profiles.items(),
                    key=lambda kv: -sum(str(v).strip().casefold() in have for v in kv[1].columns.values()))
    for name, prof in ranked:
        theirs = prof.columns.get(canonical)
        if theirs is not None and str(theirs).strip().casefold() in have:
            return have[str(theirs).strip().casefold()], f"profile {name}"
    for alias in (*COLUMN_ALIASES.get(canonical, ()), *extra.get(canonical, ())):
        if str(alias).strip().casefold() in have:
            return have[str(alias).strip().casefold()], "common name"
    return None
