"""Models saved by an older govml: parameters added since are filled in when the model is loaded.

A govml estimator stores its parameters as attributes (scikit-learn's contract), and a saved model — a pickle, a
cloudpickle file, a skops file, an MLflow model (one of those) — holds the attributes it had when it was saved. A
parameter added to the class later is then missing from it: ``predict`` may cope, but scikit-learn's
``get_params``, ``clone`` and ``repr`` read every parameter of ``__init__`` and raise ``AttributeError``.

:class:`FillsMissingParams` (a mixin, before ``BaseEstimator`` in the bases) fills each parameter missing from the
loaded state with its ``__init__`` default — or, for a parameter whose default would change what an old model does,
with the value listed in the class's ``_old_param_values`` (the value that reproduces models saved before it
existed). pickle, cloudpickle, ``copy`` and skops all load through ``__setstate__`` (skops: ``cls.__new__`` then
``__setstate__`` with the loaded attributes), so every way govml saves a model goes through it.
:func:`fill_missing_params` is the same fill for a class that has its own ``__setstate__`` and no
``BaseEstimator`` (``GovTokenizer``).

By the project's adoption rule a parameter is added with a default that keeps what the model did before (an
option, off), so the ``__init__`` default is the old behaviour unless ``_old_param_values`` says otherwise.

Learned attributes (session 18). A learned attribute ``fit`` sets since a later govml is missing from an older
model too. Each class says, per learned attribute its methods read, one of two things:

* ``_old_learned_values`` — ``{name: the value a model saved before the attribute existed had}``: the value with
  which the methods take the path they took then (``point_shift_={}``: no shift; ``holiday_factors_=None``: no
  holiday factor). A fitted model loaded without it gets a copy of that value, and that is said (log INFO).
* ``_required_learned`` — names no value reproduces (what ``fit`` learns from the data: the series, the trees'
  inputs, the chosen weights). A fitted model loaded without one loads (it is said, log WARNING) and whatever
  reads the attribute raises :class:`~govml.errors.ModelError` naming the class, the attribute, the govml that
  saved the file and "retrain", instead of ``AttributeError``.

Neither is applied to a model saved unfitted (no learned attribute in its state), nor to the attribute that
marks a model fitted (``models_``, ``y_``, ``booster_`` …: its own "not fitted" error stands). The govml version
that wrote a file is saved with the model's state (``_govml_version``; files written before session 18 have none).
"""

from __future__ import annotations

import copy
import inspect
import logging
from typing import Any, ClassVar

log = logging.getLogger(__name__)

_NO_DEFAULT = inspect.Parameter.empty

#: the key of a saved model's state that holds the govml version that wrote it (popped when it is loaded)
VERSION_KEY = "_govml_version"
#: the attribute a loaded model keeps its missing required learned attributes in: ``{name: saved by}``
MISSING_KEY = "_missing_learned"


def init_defaults(cls: type) -> dict[str, Any]:
    """``{parameter: default}`` of ``cls.__init__`` (keyword parameters only; ``*args``/``**kwargs`` and
    parameters without a default are left out)."""
    init = getattr(cls.__init__, "deprecated_original", cls.__init__)
    if init is object.__init__:
        return {}
    out = {}
    for name, p in inspect.signature(init).parameters.items():
        if name == "self" or p.kind in (p.VAR_POSITIONAL, p.VAR_KEYWORD) or p.default is _NO_DEFAULT:
            continue
        out[name] = p.default
    return out


def fill_missing_params(cls: type, state: dict[str, Any]) -> dict[str, Any]:
    """``state`` (a loaded model's attributes) with every ``__init__`` parameter of ``cls`` it lacks added: the
    value in ``cls._old_param_values`` when there is one, else the ``__init__`` default. Returns ``state`` itself
    when nothing is missing, else a new dict (the one given is not changed). Says which were filled (log, INFO)."""
    if not isinstance(state, dict):
        return state
    missing = {k: v for k, v in init_defaults(cls).items() if k not in state}
    if not missing:
        return state
    old = getattr(cls, "_old_param_values", None) or {}
    filled = {k: old.get(k, v) for k, v in missing.items()}
    saved_by = state.get("_sklearn_version")
    log.info("%s saved by an older govml%s: parameter(s) added since set to %s", cls.__name__,
             f" (scikit-learn {saved_by})" if saved_by else "",
             ", ".join(f"{k}={v!r}" for k, v in filled.items()))
    return {**state, **filled}


def _is_learned(name: str) -> bool:
    """scikit-learn's mark of learned state (``check_is_fitted``): a name ending in ``_``, not ``__``-private."""
    return name.endswith("_") and not name.startswith("__")


def saved_by(state: dict[str, Any]) -> str:
    """Which govml wrote a loaded state, as a message says it."""
    v = state.get(VERSION_KEY)
    return f"govml {v}" if v else "an older govml (the file records no govml version: written before session 18)"


def fill_missing_learned(cls: type, state: dict[str, Any]) -> dict[str, Any]:
    """``state`` (a loaded model's attributes, ``_govml_version`` popped or not) with the learned attributes added
    since it was saved dealt with, when the state is a fitted model's (it holds a learned attribute): each in
    ``cls._old_learned_values`` it lacks set to a copy of that value (log INFO); each in ``cls._required_learned``
    it lacks listed in ``state["_missing_learned"]`` (``{name: which govml saved it}``; log WARNING), which makes
    reading it raise :class:`~govml.errors.ModelError` (:meth:`FillsMissingParams.__getattr__`). Returns ``state``
    itself when nothing is missing, else a new dict."""
    if not isinstance(state, dict) or not any(_is_learned(k) for k in state):
        return state
    old = getattr(cls, "_old_learned_values", None) or {}
    filled = {k: copy.deepcopy(v) for k, v in old.items() if k not in state}
    required = [k for k in (getattr(cls, "_required_learned", None) or ()) if k not in state]
    if not filled and not required:
        return state
    by = saved_by(state)
    out = {**state, **filled}
    if filled:
        log.info("%s saved by %s: learned attribute(s) added since set to the value such a model had: %s",
                 cls.__name__, by, ", ".join(f"{k}={v!r}" for k, v in filled.items()))
    if required:
        out[MISSING_KEY] = {**(state.get(MISSING_KEY) or {}), **dict.fromkeys(required, by)}
        log.warning("%s saved by %s has no %s (learned by fit; no value reproduces it): what reads it fails; "
                    "retrain the model with this govml", cls.__name__, by, ", ".join(required))
    return out


def missing_learned_error(obj: object, name: str, by: str) -> Exception:
    """The error a loaded model gives where a method reads a learned attribute its file lacks."""
    from govml import __version__
    from govml.errors import ModelError

    return ModelError(f"{type(obj).__name__}: the model saved by {by} has no {name!r}, which fit() learns and "
                      f"this needs; no value reproduces it: retrain the model with this govml ({__version__})")


class FillsMissingParams:
    """Mixin for govml's estimators: a model saved before a parameter existed loads with that parameter set (its
    ``__init__`` default, or ``_old_param_values[name]``), so ``get_params``, ``clone`` and ``repr`` work on it and it
    predicts as it did. Put it before ``BaseEstimator`` in the bases; a class's own ``__setstate__`` calls
    ``super().__setstate__(state)`` as usual."""

    #: parameters whose ``__init__`` default is not what a model saved before the parameter existed did:
    #: ``{name: the value that reproduces such a model}``
    _old_param_values: ClassVar[dict[str, Any]] = {}
    #: learned attributes added since the class was first saved: ``{name: the value a model saved before it
    #: existed had}`` (its methods then take the path they took), filled in when a fitted model lacks it
    _old_learned_values: ClassVar[dict[str, Any]] = {}
    #: learned attributes the methods read that no value reproduces: a fitted model loaded without one raises
    #: :class:`~govml.errors.ModelError` ("retrain") where it is read
    _required_learned: ClassVar[tuple[str, ...]] = ()

    def __getstate__(self) -> Any:
        parent = getattr(super(), "__getstate__", None)
        state = parent() if parent is not None else None
        if state is None:
            state = self.__dict__
        if isinstance(state, dict):  # the govml that writes the file (read back by fill_missing_learned)
            from govml import __version__

            state = {**state, VERSION_KEY: __version__}
            state.pop(MISSING_KEY, None)  # an old model saved again: what it lacks is found again on load
        return state

    def __setstate__(self, state: Any) -> None:
        state = fill_missing_learned(type(self), fill_missing_params(type(self), state))
        if isinstance(state, dict) and VERSION_KEY in state:
            state = {k: v for k, v in state.items() if k != VERSION_KEY}
        parent = getattr(super(), "__setstate__", None)
        if parent is not None:
            parent(state)
        else:  # no parent with a __setstate__: what pickle does without one
            self.__dict__.update(state)

    def __getattr__(self, name: str) -> Any:
        # called only when the attribute is not there: a learned attribute an old model's file lacks gives a clear
        # error; everything else the usual AttributeError (getattr(model, "x_", default) and hasattr work as ever)
        missing = self.__dict__.get(MISSING_KEY)
        if missing and name in missing:
            raise missing_learned_error(self, name, missing[name])
        raise AttributeError(f"{type(self).__name__!r} object has no attribute {name!r}")
