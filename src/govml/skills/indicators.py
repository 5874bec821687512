"""The indicator system: dimensions, indicators, sources, cards — validated configuration.

``configs/indicators.yaml`` documents every key. :func:`load_indicator_system` reads a YAML file
(or a dict) into an :class:`IndicatorSystem`; any problem raises :class:`govml.errors.ConfigError`
naming the file and the key. New indicators are added in YAML only: nothing in the code lists them.
"""

from __future__ import annotations

import logging
from fractions import Fraction
from pathlib import Path
from typing import Any, Literal

import numpy as np
from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator, model_validator

from govml.errors import ConfigError

log = logging.getLogger(__name__)

DEFAULT_CONFIG_NAME = "indicators.yaml"


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class AhpSpec(_Strict):
    order: list[str]
    matrix: list[list[float | str]]


class Dimension(_Strict):
    id: str = Field(min_length=1)
    name: str = Field(min_length=1)
    weight: float = Field(default=1.0, gt=0)
    weights_by_area: dict[str, float] = Field(default_factory=dict)
    # optional: within-dimension indicator weights from an AHP pairwise matrix (order = indicator ids)
    indicator_ahp: AhpSpec | None = None


class Indicator(_Strict):
    id: str = Field(min_length=1)
    name: str = Field(min_length=1)
    dimension: str
    direction: Literal["higher", "lower"] = "higher"
    unit: str = ""
    normalisation: Literal["minmax", "zscore", "target"] = "minmax"
    range: tuple[float, float] = (0.0, 100.0)
    target: float | dict[str, float]
    weight: float = Field(default=1.0, gt=0)
    weights_by_area: dict[str, float] = Field(default_factory=dict)

    @field_validator("range")
    @classmethod
    def _range_ordered(cls, v: tuple[float, float]) -> tuple[float, float]:
        if not v[0] < v[1]:
            raise ValueError(f"range must be [lo, hi] with lo < hi, got {list(v)}")
        return v

    @field_validator("weights_by_area")
    @classmethod
    def _positive(cls, v: dict[str, float]) -> dict[str, float]:
        bad = {k: w for k, w in v.items() if not w > 0}
        if bad:
            raise ValueError(f"weights must be > 0, got {bad}")
        return v

    def target_for(self, area_type: str) -> float:
        if isinstance(self.target, dict):
            return float(self.target[area_type])
        return float(self.target)


class Source(_Strict):
    id: str
    name: str
    weight: float = Field(gt=0)


class ResidentRating(_Strict):
    weight: float = Field(default=0.4, ge=0, lt=1)
    range: tuple[float, float] = (0.0, 100.0)


class Cards(_Strict):
    threshold: float = 75.0
    window: int = Field(default=4, ge=1)
    yellow: int = Field(default=1, ge=1)
    red: int = Field(default=2, ge=1)

    @model_validator(mode="after")
    def _order(self) -> Cards:
        if self.red < self.yellow:
            raise ValueError(f"red ({self.red}) must be >= yellow ({self.yellow})")
        if self.red > self.window:
            raise ValueError(f"red ({self.red}) can never trigger within window ({self.window})")
        return self


class Diagnosis(_Strict):
    persistent_periods: int = Field(default=2, ge=1)


class Missing(_Strict):
    max_missing_share: float = Field(default=0.3, ge=0, le=1)


class IndicatorSystem(_Strict):
    """A validated indicator system. Weight helpers return normalised weights."""

    version: int = 1
    area_types: list[str] = Field(default_factory=lambda: ["urban", "rural"], min_length=1)
    default_area_type: str = "urban"
    dimensions: list[Dimension] = Field(min_length=1)
    dimension_ahp: AhpSpec | None = None
    indicators: list[Indicator] = Field(min_length=1)
    sources: list[Source] = Field(default_factory=list)
    resident_rating: ResidentRating = Field(default_factory=ResidentRating)
    cards: Cards = Field(default_factory=Cards)
    diagnosis: Diagnosis = Field(default_factory=Diagnosis)
    missing: Missing = Field(default_factory=Missing)

    @model_validator(mode="after")
    def _cross_checks(self) -> IndicatorSystem:
        dims = [d.id for d in self.dimensions]
        if len(set(dims)) != len(dims):
            raise ValueError(f"dimensions: duplicate ids in {dims}")
        ids = [i.id for i in self.indicators]
        dup = sorted({i for i in ids if ids.count(i) > 1})
        if dup:
            raise ValueError(f"indicators: duplicate ids {dup}")
        if self.default_area_type not in self.area_types:
            raise ValueError(f"default_area_type {self.default_area_type!r} is not in area_types {self.area_types}")
        areas = set(self.area_types)
        for d in self.dimensions:
            extra = set(d.weights_by_area) - areas
            if extra:
                raise ValueError(f"dimension {d.id!r}: weights_by_area names unknown area types {sorted(extra)}")
        for ind in self.indicators:
            if ind.dimension not in dims:
                raise ValueError(f"indicator {ind.id!r}: unknown dimension {ind.dimension!r} (known: {dims})")
            extra = set(ind.weights_by_area) - areas
            if extra:
                raise ValueError(f"indicator {ind.id!r}: weights_by_area names unknown area types {sorted(extra)}")
            if isinstance(ind.target, dict):
                missing = areas - set(ind.target)
                if missing:
                    raise ValueError(f"indicator {ind.id!r}: target has no value for area types {sorted(missing)}")
                extra = set(ind.target) - areas
                if extra:
                    raise ValueError(f"indicator {ind.id!r}: target names unknown area types {sorted(extra)}")
            lo, hi = ind.range
            for area in self.area_types:
                t = ind.target_for(area)
                if not lo <= t <= hi:
                    raise ValueError(f"indicator {ind.id!r}: target {t} for {area} is outside range [{lo}, {hi}]")
                if ind.normalisation == "target" and t <= 0:
                    raise ValueError(f"indicator {ind.id!r}: normalisation 'target' needs a target > 0")
        for dim in dims:
            if not any(i.dimension == dim for i in self.indicators):
                raise ValueError(f"dimension {dim!r} has no indicators")
        if self.dimension_ahp is not None:
            if sorted(self.dimension_ahp.order) != sorted(dims):
                raise ValueError(f"dimension_ahp.order must list each dimension once: {dims}")
        for d in self.dimensions:
            if d.indicator_ahp is not None:
                members = [i.id for i in self.indicators if i.dimension == d.id]
                if sorted(d.indicator_ahp.order) != sorted(members):
                    raise ValueError(f"dimension {d.id!r}: indicator_ahp.order must list each of its indicators "
                                     f"once: {members}")
        src = [s.id for s in self.sources]
        if len(set(src)) != len(src):
            raise ValueError(f"sources: duplicate ids in {src}")
        return self

    # -- lookups -----------------------------------------------------------------------------
    @property
    def indicator_ids(self) -> list[str]:
        """Indicator ids in configuration order — the indicator columns of an assessment table."""
        return [i.id for i in self.indicators]

    @property
    def dimension_ids(self) -> list[str]:
        return [d.id for d in self.dimensions]

    def indicator(self, indicator_id: str) -> Indicator:
        for ind in self.indicators:
            if ind.id == indicator_id:
                return ind
        raise KeyError(indicator_id)

    def dimension(self, dimension_id: str) -> Dimension:
        for d in self.dimensions:
            if d.id == dimension_id:
                return d
        raise KeyError(dimension_id)

    def names(self) -> dict[str, str]:
        """id → Chinese name, for indicators and dimensions."""
        out = {d.id: d.name for d in self.dimensions}
        out.update({i.id: i.name for i in self.indicators})
        return out

    # -- weights -------------------------------------------------------------------------------
    def dimension_weights(self, area_type: str) -> dict[str, float]:
        base = {d.id: d.weight for d in self.dimensions}
        if self.dimension_ahp is not None:
            from govml.skills.weights import ahp_weights

            res = ahp_weights(_ahp_matrix(self.dimension_ahp.matrix))
            base = dict(zip(self.dimension_ahp.order, res.weights, strict=True))
        w = {d.id: d.weights_by_area.get(area_type, base[d.id]) for d in self.dimensions}
        total = sum(w.values())
        return {k: v / total for k, v in w.items()}

    def indicator_weights(self, area_type: str) -> dict[str, float]:
        """Within-dimension weights (sum to 1 in each dimension)."""
        base = {i.id: i.weight for i in self.indicators}
        for d in self.dimensions:
            if d.indicator_ahp is not None:
                from govml.skills.weights import ahp_weights

                res = ahp_weights(_ahp_matrix(d.indicator_ahp.matrix))
                base.update(dict(zip(d.indicator_ahp.order, res.weights.tolist(), strict=True)))
        raw = {i.id: i.weights_by_area.get(area_type, base[i.id]) for i in self.indicators}
        out: dict[str, float] = {}
        for d in self.dimensions:
            members = [i.id for i in self.indicators if i.dimension == d.id]
            tot = sum(raw[m] for m in members)
            out.update({m: raw[m] / tot for m in members})
        return out

    def overall_weights(self, area_type: str) -> dict[str, float]:
        """Weight of each indicator in the composite (before the resident-rating blend); sums to 1."""
        dw = self.dimension_weights(area_type)
        iw = self.indicator_weights(area_type)
        return {i.id: dw[i.dimension] * iw[i.id] for i in self.indicators}

    def with_indicator_weights(self, weights: dict[str, float], floor: float = 1e-6) -> IndicatorSystem:
        """A copy whose within-dimension indicator weights are ``weights`` (e.g. entropy weights from
        the data; renormalised within each dimension; area overrides and indicator AHP dropped;
        weights below ``floor`` are raised to it so that no indicator silently disappears)."""
        unknown = sorted(set(weights) - set(self.indicator_ids))
        if unknown:
            raise ConfigError(f"weights for unknown indicators: {unknown}")
        data = self.model_dump()
        for ind in data["indicators"]:
            if ind["id"] in weights:
                ind["weight"] = max(float(weights[ind["id"]]), floor)
                ind["weights_by_area"] = {}
        for d in data["dimensions"]:
            d["indicator_ahp"] = None
        return IndicatorSystem.model_validate(data)

    def source_weights(self) -> dict[str, float]:
        return {s.id: s.weight for s in self.sources}


def _ahp_matrix(rows: list[list[float | str]]) -> np.ndarray:
    def num(v: float | str) -> float:
        return float(Fraction(v)) if isinstance(v, str) else float(v)

    return np.array([[num(v) for v in r] for r in rows], dtype=float)


def _format_validation(exc: ValidationError, source: str) -> str:
    parts = []
    for err in exc.errors()[:8]:
        loc = ".".join(str(p) for p in err["loc"]) or "(top level)"
        parts.append(f"{source}: key '{loc}': {err['msg']}")
    return "; ".join(parts)


def indicator_system_from_dict(data: dict[str, Any], source: str = "<config>") -> IndicatorSystem:
    """Validate a parsed configuration; :class:`ConfigError` names ``source`` and the key."""
    if not isinstance(data, dict):
        raise ConfigError(f"{source}: expected a mapping at the top level, found {type(data).__name__}")
    try:
        system = IndicatorSystem.model_validate(data)
    except ValidationError as exc:
        raise ConfigError(_format_validation(exc, source)) from None
    return _check_ahp(system, source)


def _check_ahp(system: IndicatorSystem, source: str) -> IndicatorSystem:
    from govml.skills.weights import ahp_weights

    for k, d in enumerate(system.dimensions):
        if d.indicator_ahp is not None:
            try:
                ahp_weights(_ahp_matrix(d.indicator_ahp.matrix))
            except (ConfigError, ValueError, ZeroDivisionError) as exc:
                raise ConfigError(f"{source}: key 'dimensions[{k}].indicator_ahp.matrix': {exc}") from None
    if system.dimension_ahp is not None:
        from govml.skills.weights import ahp_weights

        try:
            ahp_weights(_ahp_matrix(system.dimension_ahp.matrix))
        except ConfigError as exc:
            raise ConfigError(f"{source}: key 'dimension_ahp.matrix': {exc}") from None
        except (ValueError, ZeroDivisionError) as exc:
            raise ConfigError(f"{source}: key 'dimension_ahp.matrix': {exc}") from None
    return system


def load_indicator_system(path: str | Path | None = None) -> IndicatorSystem:
    """Read and validate an indicator-system YAML file.

    ``None`` means ``configs/indicators.yaml`` under the current folder when it exists, else the
    copy shipped inside the package (so commands work outside the repository).
    """
    from govml.config import load_yaml_model

    p = resolve_config_path(path)
    system = load_yaml_model(p, IndicatorSystem)
    return _check_ahp(system, str(p))


def resolve_config_path(path: str | Path | None) -> Path:
    if path is not None:
        return Path(path)
    local = Path("configs") / DEFAULT_CONFIG_NAME
    if local.is_file():
        return local
    from importlib import resources

    return Path(str(resources.files("govml") / "resources" / DEFAULT_CONFIG_NAME))
