"""Where models come from: a local folder, or a Hugging Face Hub id downloaded once; one sentence when neither.

Every model the package loads comes through here: pocket checkpoints and
pipeline folders (``load_model``, ``LookImagineMatch.from_pretrained``, ``app.py
--checkpoint``), galleries in the ``folder`` format (a Hub *dataset*
repository), and the full tier's pretrained models (open_clip towers, a
captioner, a text-to-image pipeline).

``resolve`` keeps a local folder as it is and downloads anything that can be a
Hub id. A Hub id that is not in the local cache cannot be had offline
(``HF_HUB_OFFLINE=1``, or no network); the libraries then raise errors of their
own kinds and wordings (open_clip a bare ``RuntimeError``, transformers an
``OSError``, diffusers either), so ``load_or_explain`` turns *any* failure of a
loader into ``ModelUnavailable``, and ``unavailable_message`` is the one wording:
the model, why in one line, and how to supply it locally. The original error
stays chained (``__cause__``) for the log.

The lowest layer beside ``errors``: it imports nothing else from the package,
and no torch. Publishing (model cards, push) is ``lookimagine.publish``.
"""

from __future__ import annotations

import json
import os
from collections.abc import Callable
from pathlib import Path
from typing import TypeVar

from .errors import HubUnavailable, ModelUnavailable

T = TypeVar("T")


def offline() -> bool:
    """True when the Hugging Face Hub must not be contacted (``HF_HUB_OFFLINE``/``TRANSFORMERS_OFFLINE``)."""
    from huggingface_hub import constants

    return bool(constants.is_offline_mode())


def is_local(source: str) -> bool:
    """True when ``source`` is a local folder or file, or can only be a path, never a Hub id ("owner/name")."""
    if source.startswith(("local-dir:", ".", "~", "/")) or os.path.isabs(source) or "\\" in source:
        return True
    return source.count("/") > 1 or Path(source).expanduser().exists()


def display_name(source: str) -> str:
    """What the page shows for a model: a Hub id as it is, a local folder or file by its own name."""
    if is_local(source):
        return Path(source.removeprefix("local-dir:")).expanduser().resolve().name or source
    return source


def unavailable_message(kind: str, source: str, option: str, error: BaseException, hub_id: str | None = None,
                        repo_type: str = "model") -> str:
    """The sentence shown when ``source`` (a ``kind`` of model, set by ``option``) cannot be loaded.

    ``hub_id`` is the Hub repository to download when it differs from ``source``
    (open_clip's pretrained tags name one); ``repo_type`` "dataset" for a gallery.
    ``option`` "" when the folder goes where the id went.
    """
    reason = f"{type(error).__name__}: {str(error).strip().splitlines()[0] if str(error).strip() else ''}".rstrip(": ")
    if is_local(source):
        return f"Cannot load the {kind} from {source!r} ({reason}). Check that it is a complete saved model."
    fetch = f"hf download {hub_id or source}" + (" --repo-type dataset" if repo_type == "dataset" else "")
    if offline():
        why = "it is not in the local Hugging Face cache and HF_HUB_OFFLINE is set"
    else:
        why = f"it could not be downloaded from the Hugging Face Hub ({reason})"
    return (f"Cannot load the {kind} {source!r}: {why}. Download it once where the Hub can be reached "
            f"(`{fetch}`, then run with HF_HUB_OFFLINE=1), or download it elsewhere with "
            f"`{fetch} --local-dir DIR` and pass {f'{option} DIR' if option else 'DIR in its place'}.")


def download(repo_id: str, repo_type: str = "model", what: str = "checkpoint") -> Path:
    """A Hub repository → its local snapshot folder (from the cache when offline); ``HubUnavailable`` if not."""
    from huggingface_hub import snapshot_download

    try:
        return Path(snapshot_download(repo_id, repo_type=repo_type))
    except Exception as e:  # offline, unknown id, no network, gated: huggingface_hub raises many kinds
        raise HubUnavailable(unavailable_message(what, repo_id, "", e, repo_type=repo_type)) from e


def resolve(source: str | Path, repo_type: str = "model", what: str = "checkpoint") -> Path:
    """A local folder as is; anything that can be a Hub id and is not a folder here is downloaded."""
    path = Path(source).expanduser()
    if path.exists() or is_local(str(source)):
        return path
    return download(str(source), repo_type, what)


def load_or_explain(kind: str, source: str, option: str, load: Callable[[], T], hub_id: str | None = None) -> T:
    """``load()``, or ``ModelUnavailable`` with ``unavailable_message`` when it fails in any way."""
    try:
        return load()
    except ModelUnavailable:
        raise
    except Exception as error:
        raise ModelUnavailable(unavailable_message(kind, source, option, error, hub_id)) from error


# ---- open_clip weights in a downloaded folder --------------------------------------------------------------------
#: open_clip's weight files in a downloaded Hub repository, most preferred first (open_clip's own order)
OPEN_CLIP_WEIGHTS = ("open_clip_model.safetensors", "open_clip_pytorch_model.safetensors",
                     "open_clip_pytorch_model.bin", "open_clip_pytorch_model.pth")


def open_clip_weights(source: str) -> str:
    """``clip_pretrained`` as open_clip takes it: a folder (``hf download … --local-dir DIR``) becomes the
    open_clip weights file in it; a tag or a file passes through. ``FileNotFoundError`` for a folder without one.

    open_clip itself accepts only a tag or a file for ``pretrained``; a Hub repository also holds other
    formats (e.g. timm's ``model.safetensors``), so only open_clip's own file names are taken.
    """
    folder = Path(source).expanduser()
    if not folder.is_dir():
        return source
    for name in OPEN_CLIP_WEIGHTS:
        if (folder / name).is_file():
            return str(folder / name)
    raise FileNotFoundError(f"the folder {source!r} holds no open_clip weights ({', '.join(OPEN_CLIP_WEIGHTS)})")


def open_clip_preprocess(source: str) -> dict:
    """The ``preprocess_cfg`` (image mean, std, ...) of the ``open_clip_config.json`` in a weights folder or
    beside a weights file; {} when there is none (a tag: open_clip knows its own)."""
    path = Path(source).expanduser()
    config = (path if path.is_dir() else path.parent) / "open_clip_config.json"
    if not is_local(source) or not config.is_file():
        return {}
    try:
        return dict(json.loads(config.read_text()).get("preprocess_cfg") or {})
    except (OSError, ValueError, AttributeError):
        return {}
