"""Where the baseline and GXN disagree: test queries one model ranks first and the other does not.

``Difference`` is the row; ``find_differences`` is its one producer (from the
two models' ground-truth ranks); ``differences_report`` runs it on the
evaluation JSONs of one seed and returns what ``python -m lookimagine.report``
ships as ``differences.json`` in a pipeline folder::

    {"seed": 0, "counts": {"<direction>:<winner>": n, ...}, "n_queries": {"<direction>": n},
     "rows": [Difference.to_json(), ...], "source": ["<baseline command>", "<gxn command>"]}

``read_differences`` reads the rows back. Pure Python: no model is imported.
"""

from __future__ import annotations

import json
import logging
from collections import defaultdict
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path

log = logging.getLogger(__name__)
DIRECTIONS = ("image_to_text", "text_to_image")
MODELS = ("baseline", "gxn")


@dataclass(frozen=True)
class Difference:
    """One query on which exactly one of the two models ranks the ground truth first.

    direction: "text_to_image" (a caption query) or "image_to_text" (an image query).
    query_id:  the image's id; a caption's is "<image id>#<caption number>".
    query_text: the caption of a text query, None for an image query.
    """

    direction: str
    query_id: str
    query_text: str | None
    baseline_rank: int
    gxn_rank: int

    @property
    def winner(self) -> str:
        """"gxn" or "baseline": the model that ranks the ground truth higher."""
        return "gxn" if self.gxn_rank < self.baseline_rank else "baseline"

    def to_json(self) -> dict:
        return {"direction": self.direction, "query_id": self.query_id, "query_text": self.query_text,
                "baseline_rank": self.baseline_rank, "gxn_rank": self.gxn_rank, "winner": self.winner}

    @classmethod
    def from_json(cls, row: Mapping) -> Difference:
        """A row of ``differences.json`` (its "winner" is derived, so it is not read)."""
        return cls(str(row["direction"]), str(row["query_id"]), row.get("query_text"),
                   int(row["baseline_rank"]), int(row["gxn_rank"]))


def caption_ids(ids: Sequence[str], image_of_caption: Sequence[int]) -> list[str]:
    """The id of every caption row: "<image id>#<n>", n counting that image's captions from 0."""
    seen: dict[int, int] = defaultdict(int)
    out = []
    for image in image_of_caption:
        out.append(f"{ids[image]}#{seen[image]}")
        seen[image] += 1
    return out


def find_differences(ranks: Mapping[str, Mapping[str, Sequence[int]]], ids: Sequence[str],
                     captions: Sequence[str], image_of_caption: Sequence[int],
                     limit: int = 60) -> tuple[list[Difference], dict[str, int]]:
    """Rows where one model's ground-truth rank is 1 and the other's is not, and their counts.

    ``ranks[model][direction]`` holds one rank per query (per image for
    image_to_text, per caption row for text_to_image). For each direction and
    winner the ``limit`` starkest disagreements are kept; ``counts`` counts all.
    """
    text_ids = caption_ids(ids, image_of_caption)
    rows, counts = [], {}
    for d in DIRECTIONS:
        rb, rg = ranks["baseline"][d], ranks["gxn"][d]
        for winner in ("gxn", "baseline"):
            first, other = (rg, rb) if winner == "gxn" else (rb, rg)
            hits = [q for q in range(len(rg)) if first[q] == 1 and other[q] > 1]
            counts[f"{d}:{winner}"] = len(hits)
            hits.sort(key=lambda q: -abs(rb[q] - rg[q]))  # the starkest disagreements first
            for q in hits[:limit]:
                query_id, text = (ids[q], None) if d == "image_to_text" else (text_ids[q], captions[q])
                rows.append(Difference(d, query_id, text, int(rb[q]), int(rg[q])))
    return rows, counts


def differences_report(runs: dict, seed: int, limit: int = 60) -> dict:
    """The ``differences.json`` content for one seed, from the evaluation JSONs in ``runs[variant][seed]``."""
    b, g = runs["baseline"][seed], runs["gxn"][seed]
    ranks = {m: {d: r["retrieval"][d]["ranks"] for d in DIRECTIONS} for m, r in (("baseline", b), ("gxn", g))}
    rows, counts = find_differences(ranks, g["ids"], g["captions"], g["image_of_caption"], limit)
    return {"seed": seed, "counts": counts, "n_queries": {d: len(g["retrieval"][d]["ranks"]) for d in DIRECTIONS},
            "rows": [r.to_json() for r in rows], "source": [b["command"], g["command"]]}


def write_differences(path: str | Path, report: dict) -> Path:
    """Write a ``differences_report`` as JSON."""
    path = Path(path)
    path.write_text(json.dumps(report, indent=1))
    return path


def read_differences(path: str | Path | None) -> list[Difference]:
    """The rows of a ``differences.json``; none (with a warning) when it is missing or unreadable."""
    if path is None or not Path(path).is_file():
        return []
    try:
        return [Difference.from_json(row) for row in json.loads(Path(path).read_text())["rows"]]
    except (OSError, ValueError, KeyError, TypeError) as e:
        log.warning("cannot read %s: %s", path, e)
        return []
