"""The on-disk cache folder and atomic writes into it.

Everything lookimagine writes on its own (rendered emoji, generated datasets)
lives under ``cache_dir()``: ``$LOOKIMAGINE_CACHE`` if set, else
``~/.cache/lookimagine``. Nothing is written anywhere else.

Writes are atomic: data goes to a temporary file in the same folder, is
flushed to disk, and is then moved over the destination with ``os.replace``.
A reader therefore sees either the old file or the new one, never half of one,
even when two processes build the same cache entry at once.

Arrays are stored with ``np.save`` and read back with ``allow_pickle=False``
(``load_array``), so a cache file can never execute code.
"""

from __future__ import annotations

import hashlib
import io
import json
import os
import tempfile
from pathlib import Path

import numpy as np

ENV_VAR = "LOOKIMAGINE_CACHE"


def cache_dir() -> Path:
    """The cache root, created on demand: ``$LOOKIMAGINE_CACHE`` or ``~/.cache/lookimagine``."""
    root = os.environ.get(ENV_VAR)
    path = Path(root).expanduser() if root else Path.home() / ".cache" / "lookimagine"
    path.mkdir(parents=True, exist_ok=True)
    return path


def atomic_write_bytes(path: str | os.PathLike, data: bytes) -> None:
    """Write ``data`` to ``path`` atomically (temp file in the same folder, then ``os.replace``)."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    try:
        os.chmod(tmp, 0o644)  # mkstemp makes 0600; cache files are ordinary readable files
        with os.fdopen(fd, "wb") as f:
            f.write(data)
            f.flush()
            os.fsync(f.fileno())
        os.replace(tmp, path)
    except BaseException:
        try:
            os.unlink(tmp)
        except FileNotFoundError:
            pass
        raise


def atomic_write_text(path: str | os.PathLike, text: str) -> None:
    """Write UTF-8 ``text`` to ``path`` atomically."""
    atomic_write_bytes(path, text.encode("utf-8"))


def atomic_write_json(path: str | os.PathLike, obj) -> None:
    """Write ``obj`` as indented UTF-8 JSON to ``path`` atomically."""
    atomic_write_text(path, json.dumps(obj, ensure_ascii=False, indent=1) + "\n")


def atomic_save_array(path: str | os.PathLike, array: np.ndarray) -> None:
    """``np.save`` ``array`` to ``path`` atomically (object arrays are refused)."""
    if array.dtype.hasobject:
        raise TypeError("refusing to cache an object array: it could only be read back with pickle")
    buf = io.BytesIO()
    np.save(buf, array, allow_pickle=False)
    atomic_write_bytes(path, buf.getvalue())


def load_array(path: str | os.PathLike) -> np.ndarray:
    """Read an array written by ``atomic_save_array``; never unpickles.

    Raises ``OSError`` / ``ValueError`` on a missing, truncated or malformed file.
    """
    with open(path, "rb") as f:
        return np.load(f, allow_pickle=False)


def read_json(path: str | os.PathLike):
    """Read a JSON file; raises ``OSError`` or ``ValueError`` when it is missing or malformed."""
    with open(path, encoding="utf-8") as f:
        return json.load(f)


def array_sha256(array: np.ndarray) -> str:
    """Hex sha256 of an array's raw bytes (C order), for cache checksums."""
    return hashlib.sha256(np.ascontiguousarray(array).data).hexdigest()
