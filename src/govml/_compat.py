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
"""

from __future__ import annotations

import inspect
import logging
from typing import Any, ClassVar

log = logging.getLogger(__name__)

_NO_DEFAULT = inspect.Parameter.empty


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


class FillsMissingParams:
    """Mixin for govml's estimators: a model saved before a parameter existed loads with that parameter set (its
    ``__init__`` default, or ``_old_param_values[name]``), so ``get_params``, ``clone`` and ``repr`` work on it and it
    predicts as it did. Put it before ``BaseEstimator`` in the bases; a class's own ``__setstate__`` calls
    ``super().__setstate__(state)`` as usual."""

    #: parameters whose ``__init__`` default is not what a model saved before the parameter existed did:
    #: ``{name: the value that reproduces such a model}``
    _old_param_values: ClassVar[dict[str, Any]] = {}

    def __setstate__(self, state: Any) -> None:
        state = fill_missing_params(type(self), state)
        parent = getattr(super(), "__setstate__", None)
        if parent is not None:
            parent(state)
        else:  # no parent with a __setstate__: what pickle does without one
            self.__dict__.update(state)
