"""Two runs' imagination sheets side by side (tools/imagination.py's ``sheet``: the same captions, a real
picture of each, then 4 samples, seeds 0-3), to see what one change did to the pictures.

    python scripts/imagination/side_by_side.py runs/longgan/shapes-s1/stage2 runs/final_ms/shapes-s1/stage2 \\
        --out assets/figures/imagination_mode_seeking.png
    python scripts/imagination/side_by_side.py assets/checkpoints/shapes/gxn assets/checkpoints/shapes/gxn \\
        --left-best-of 1 --right-best-of 16 --out assets/figures/imagination_best_of.png

``--left-best-of`` / ``--right-best-of``: that side's sampler shows the best of k drawings by GXN's own s*
(``ModelConfig.imagine_best_of``) instead of the checkpoint's setting.
"""

from __future__ import annotations

import argparse
import sys
import tempfile
from pathlib import Path

from PIL import Image

sys.path.insert(0, str(Path(__file__).resolve().parents[2]))

from lookimagine.tools.imagination import sheet  # noqa: E402


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("left")
    p.add_argument("right")
    p.add_argument("--dataset", default="shapes")
    p.add_argument("--out", required=True)
    p.add_argument("--left-best-of", type=int)
    p.add_argument("--right-best-of", type=int)
    a = p.parse_args()
    side = lambda k: {"imagine_best_of": k} if k else None  # noqa: E731
    with tempfile.TemporaryDirectory() as tmp:
        left = Image.open(sheet(a.left, a.dataset, Path(tmp) / "left.png", sampler=side(a.left_best_of)))
        right = Image.open(sheet(a.right, a.dataset, Path(tmp) / "right.png", sampler=side(a.right_best_of)))
        both = Image.new("RGB", (left.width + right.width + 12, max(left.height, right.height)), "white")
        both.paste(left, (0, 0))
        both.paste(right, (left.width + 12, 0))
    both.quantize(256).save(a.out, optimize=True)  # a palette: a third of the bytes, the same to the eye
    print(a.out, both.size)


if __name__ == "__main__":
    main()
