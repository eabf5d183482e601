"""The layout of a pipeline folder, the one place that knows it.

    <root>/gxn/               GXN's checkpoint (config.json, model.safetensors, vocab.json)
    <root>/baseline/          the baseline's checkpoint, same files
    <root>/differences.json   optional: test queries where the two disagree
                              (``lookimagine.evaluation.differences``)

``LookImagineMatch.from_pretrained`` reads it and ``save_pretrained`` writes
it; ``python -m lookimagine.report`` writes the shipped ones under
``assets/checkpoints/<dataset>/``. Importing this module imports no torch.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

MODELS = ("gxn", "baseline")
DIFFERENCES = "differences.json"
ASSETS = Path(__file__).resolve().parents[2] / "assets"


@dataclass(frozen=True)
class PipelineFolder:
    root: Path

    def __post_init__(self) -> None:
        object.__setattr__(self, "root", Path(self.root).expanduser())

    @classmethod
    def shipped(cls, dataset: str, assets_dir: str | Path = ASSETS) -> PipelineFolder:
        """The pocket pipeline shipped for ``dataset``: ``<assets>/checkpoints/<dataset>``."""
        return cls(Path(assets_dir) / "checkpoints" / dataset)

    def checkpoint(self, model: str) -> Path:
        """The checkpoint folder of ``model`` ("gxn" or "baseline")."""
        if model not in MODELS:
            raise ValueError(f"a pipeline folder holds {MODELS}, not {model!r}")
        return self.root / model

    @property
    def differences(self) -> Path:
        return self.root / DIFFERENCES

    def exists(self) -> bool:
        return all(self.checkpoint(m).is_dir() for m in MODELS)

    def missing(self) -> str | None:
        """Why this is not a pipeline folder (a message naming what is missing), or None when it is."""
        if not self.root.exists():
            return (f"{self.root}: checkpoint folder not found (looked in {self.root.resolve()}; "
                    f"a pipeline folder holds {' and '.join(m + '/' for m in MODELS)} checkpoints)")
        for m in MODELS:
            if not self.checkpoint(m).is_dir():
                return (f"{self.checkpoint(m)}: missing (a pipeline folder holds "
                        f"{' and '.join(x + '/' for x in MODELS)} checkpoints); looked in {self.root.resolve()}")
        return None
