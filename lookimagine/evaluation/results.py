"""The fixed parts of RESULTS.md that no evaluation produces: the paper's table and the generated block's markers.

``python -m lookimagine.report`` writes the tables between ``MARK_START`` and ``MARK_END`` (from the
evaluation JSONs in assets/results/; no number is typed by hand) and quotes ``PAPER`` for orientation.
"""

from __future__ import annotations

# The paper's MSCOCO 1K table (R@1 / R@10 / median rank), in its order.
PAPER = [("VSE++ (ResNet-152, fine-tuned)", "64.6 / 95.7 / 1", "52.0 / 92.0 / 1"),
         ("GXN, no generators", "64.0 / 97.1 / 1", "53.6 / 94.4 / 1"),
         ("GXN, i2t only (XE)", "68.2 / 98.0 / 1", "54.5 / 94.8 / 1"),
         ("GXN, i2t only (XE+RL)", "68.4 / 98.1 / 1", "55.6 / 94.6 / 1"),
         ("GXN, t2i only", "67.1 / 98.3 / 1", "56.5 / 94.8 / 1"),
         ("GXN, i2t + t2i", "68.5 / 97.9 / 1", "56.6 / 94.5 / 1")]
MARK_START, MARK_END = "<!-- results:start -->", "<!-- results:end -->"
