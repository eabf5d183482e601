"""One clear sentence when a pretrained model cannot be loaded, instead of a library's stack trace.

The full tier loads three kinds of pretrained model (open_clip towers, a
captioner, a text-to-image pipeline), each from a Hugging Face Hub id or a
local folder. A Hub id that is not in the local cache cannot be loaded
offline (``HF_HUB_OFFLINE=1``, or no network); the libraries then raise
errors of their own kinds and wordings (open_clip a bare ``RuntimeError``,
transformers an ``OSError``, diffusers either), so ``load_or_explain`` turns
*any* failure of a loader into ``ModelUnavailable``, whose message names the
model, says why in one line and how to supply it locally. The original error
stays chained (``__cause__``) for the log.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import TypeVar

from .checkpoint import CheckpointError

T = TypeVar("T")


class ModelUnavailable(CheckpointError):
    """A pretrained model that could not be loaded; the message is meant for a person."""


def offline() -> bool:
    """True when the Hugging Face Hub must not be contacted (``HF_HUB_OFFLINE``/``TRANSFORMERS_OFFLINE``)."""
    from huggingface_hub import constants

    return bool(constants.is_offline_mode())


def is_local(source: str) -> bool:
    """True when ``source`` names a local folder or file rather than a Hub id."""
    if source.startswith("local-dir:"):
        return True
    return source.startswith(("/", ".", "~")) or Path(source).expanduser().exists()


def unavailable_message(kind: str, source: str, option: str, error: BaseException, hub_id: str | None = None) -> str:
    """The sentence shown when ``source`` (a ``kind`` of model, set by ``option``) cannot be loaded.

    ``hub_id`` is the Hub repository to download when it differs from ``source``
    (open_clip's pretrained tags name one).
    """
    reason = f"{type(error).__name__}: {str(error).strip().splitlines()[0] if str(error).strip() else ''}".rstrip(": ")
    if is_local(source):
        return f"Cannot load the {kind} from {source!r} ({reason}). Check that it is a complete saved model."
    repo = hub_id or source
    if offline():
        why = "it is not in the local Hugging Face cache and HF_HUB_OFFLINE is set"
    else:
        why = f"it could not be downloaded from the Hugging Face Hub ({reason})"
    return (f"Cannot load the {kind} {source!r}: {why}. Download it once where the Hub can be reached "
            f"(`hf download {repo}`, then run with HF_HUB_OFFLINE=1), or download it elsewhere with "
            f"`hf download {repo} --local-dir DIR` and pass {option} DIR.")


def load_or_explain(kind: str, source: str, option: str, load: Callable[[], T], hub_id: str | None = None) -> T:
    """``load()``, or ``ModelUnavailable`` with ``unavailable_message`` when it fails in any way."""
    try:
        return load()
    except ModelUnavailable:
        raise
    except Exception as error:
        raise ModelUnavailable(unavailable_message(kind, source, option, error, hub_id)) from error
