"""Test helper: the file an older govml wrote, simulated — a model pickled with attributes left out of its state
(shared by the saved-model tests of sessions 17 and 18)."""

from __future__ import annotations

import io
import pickle

from govml._compat import VERSION_KEY


def old_file(model: object, *drop: str, version: str | None = None, packed: tuple[str, ...] = ()) -> bytes:
    """``model`` pickled with the attributes ``drop`` left out of its state, as a govml that wrote ``version``
    (``None``: one from before the version was recorded) saved it; ``packed``: keys of the state that hold a
    dropped attribute's parts (left out where present)."""
    buf = io.BytesIO()

    class OldPickler(pickle.Pickler):
        def reducer_override(self, obj):  # noqa: ANN001, ANN202
            if obj is not model:
                return NotImplemented
            func, args, state, *rest = obj.__reduce_ex__(pickle.DEFAULT_PROTOCOL)
            assert set(drop) <= set(state), set(drop) - set(state)
            state = {k: v for k, v in state.items() if k not in (*drop, *packed, VERSION_KEY)}
            if version is not None:
                state[VERSION_KEY] = version
            return (func, args, state, *rest)

    OldPickler(buf, protocol=pickle.DEFAULT_PROTOCOL).dump(model)
    return buf.getvalue()
