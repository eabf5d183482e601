"""Stage 1 to convergence, summarised: the baseline's seeds on every test split, before and after, against
the targets of issue 20 ("A Match a visitor can trust").

    python -m lookimagine.tools.stage1_report shapes --runs runs/stage1 --results assets/results/stage1/shapes \
        --seeds 0 1 2 3 4

reads ``<results>/baseline-s<seed>-<split>.json`` (``scripts/evaluate_stage1.sh`` writes them) and, on emoji,
``<results>/wild.json`` (``tools.framing`` on test-style-wild), and writes ``<results>/summary.json``:

* ``splits``: per split, each figure's mean, std and 95% t-interval over the seeds (the verdict's figures:
  R@1 both ways, rsum, R@1 per caption type on shapes);
* ``wild`` (emoji): R@1 both ways on test-style-wild, as the pictures are and as the pipeline reframes them;
* ``before``: the first recipe's baseline on the same splits (``assets/results/staged/<ds>/baseline-s*``, the
  equal-epoch control of the staged runs, five seeds), and on wild the first shipped baseline
  (``assets/results/framing/emoji.json``);
* ``targets``: each target of the issue, the figure it is read from, and whether the mean meets it;
* ``training``: per seed the best val epoch of how many, minutes, pairs/s end to end, best val rsum.
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

from ..data.framing import REFRAMED_DATASETS
from ..evaluation.verdict import load_results, mean_ci, result_metrics

ROOT = Path(__file__).resolve().parents[2]
SPLITS = {"shapes": ("test", "test-heldout"), "emoji": ("test", "test-style")}
# (split, figure, at least): issue 20's targets for the baseline. Emoji's in-style test must also stay within
# the seed spread of the first recipe's (``no_worse``).
TARGETS = {
    "shapes": [("test", "i2t_r1", 85.0), ("test", "t2i_r1", 70.0),
               ("test", "relations.i2t_r1", 60.0), ("test", "relations.t2i_r1", 60.0)],
    "emoji": [("test", "i2t_r1", 55.0), ("test", "t2i_r1", 55.0),
              ("test-style-wild", "i2t", 10.0), ("test-style-wild", "t2i", 10.0)],
}


def split_figures(folder: Path, seeds: list[int]) -> dict[str, dict[str, dict]]:
    """{split: {figure: mean_ci over seeds}} of the ``baseline-s*`` results in ``folder`` (only ``seeds``)."""
    out = {}
    for split, by_variant in load_results(folder).items():
        runs = {s: result_metrics(r) for s, r in by_variant.get("baseline", {}).items() if s in seeds}
        if runs:
            keys = [k for k in next(iter(runs.values())) if all(k in m for m in runs.values())]
            out[split] = {"seeds": sorted(runs), **{k: mean_ci([runs[s][k] for s in sorted(runs)]) for k in keys}}
    return out


def wild_figures(path: Path) -> dict:
    """{"as_is"|"normalised": {"i2t"|"t2i": mean_ci over the checkpoints}} from a ``tools.framing`` report."""
    r1 = json.loads(path.read_text())["r1"]["test-style-wild"]
    return {how: {d: mean_ci([m[d] for m in r1[how].values()]) for d in ("i2t", "t2i")}
            for how in ("as_is", "normalised")}


def training_figures(runs: Path, dataset: str, seeds: list[int]) -> dict:
    """Per seed: the best val epoch of how many, minutes, pairs/s end to end and the best val rsum."""
    out = {}
    for seed in seeds:
        path = runs / f"{dataset}-s{seed}" / "run.json"
        if path.is_file():
            meta = json.loads(path.read_text())
            out[seed] = {"best_epoch": meta["best_epoch"], "epochs": len(meta["history"]),
                         "minutes": round(meta["wall_seconds"] / 60, 1),
                         "pairs_per_second": meta["samples_per_second"],
                         "best_val_rsum": round(meta["best_val_rsum"], 2), "command": meta["command"]}
    return out


def targets(dataset: str, after: dict, wild: dict | None, before: dict) -> list[dict]:
    """Each target with the mean it is read from and whether it is met."""
    how = "normalised" if dataset in REFRAMED_DATASETS else "as_is"  # what the pipeline does to an upload
    rows = []
    for split, figure, least in TARGETS[dataset]:
        if split == "test-style-wild" and wild is None:
            continue  # not measured (yet)
        stat = wild[how][figure] if split == "test-style-wild" else after[split][figure]
        rows.append({"split": split, "figure": figure, "at_least": least, "mean": round(stat["mean"], 2),
                     "met": stat["mean"] >= least, **({"framing": how} if split == "test-style-wild" else {})})
    if dataset == "emoji":  # in-style test no worse than the first recipe's by more than its seed spread
        for figure in ("i2t_r1", "t2i_r1"):
            was = before["test"][figure]
            floor = was["mean"] - (was["std"] or 0.0)
            rows.append({"split": "test", "figure": figure, "no_worse_than": round(floor, 2),
                         "mean": round(after["test"][figure]["mean"], 2), "met": after["test"][figure]["mean"] >= floor})
    return rows


MARK_START, MARK_END = "<!-- stage1:{}:start -->", "<!-- stage1:{}:end -->"
FIGURES = {"shapes": ["i2t_r1", "t2i_r1", "relations.i2t_r1", "relations.t2i_r1", "counts.i2t_r1", "counts.t2i_r1",
                      "attributes.i2t_r1", "attributes.t2i_r1"],
           "emoji": ["i2t_r1", "t2i_r1"]}


def _cell(stat: dict | None) -> str:
    if stat is None:
        return "–"
    return f"{stat['mean']:.1f} ± {stat['std']:.1f}" if stat.get("std") is not None else f"{stat['mean']:.1f}"


def markdown(summary: dict) -> str:
    """The before/after table of one dataset (mean ± std over the seeds), the targets and the training time."""
    ds = summary["dataset"]
    rows = [f"| split | R@1 | first recipe ({len(summary['before']['splits'].get('test', {}).get('seeds', []))} "
            f"seeds) | stage 1 to convergence ({len(summary['seeds'])} seeds) |", "|---|---|---|---|"]
    for split, figures in summary["splits"].items():
        for figure in FIGURES[ds]:
            if figure in figures:
                was = summary["before"]["splits"].get(split, {}).get(figure)
                name = figure.replace("_r1", "").replace("i2t", "image→text").replace("t2i", "text→image")
                rows.append(f"| {split} | {name} | {_cell(was)} | {_cell(figures[figure])} |")
    if summary.get("wild"):
        for d, name in (("i2t", "image→text"), ("t2i", "text→image")):
            was = summary["before"]["wild"]["normalised"][d]
            rows.append(f"| test-style-wild (reframed) | {name} | {was:.1f} (the shipped model) | "
                        f"{_cell(summary['wild']['normalised'][d])} |")
    met = [f"{'✓' if t['met'] else '✗'} {t['split']} {t['figure']} "
           + (f"≥ {t['at_least']:g}" if "at_least" in t else f"no worse than {t['no_worse_than']:g}")
           + f" (mean {t['mean']:.1f})" for t in summary["targets"]]
    minutes = [t["minutes"] for t in summary["training"].values()]
    best = [f"{t['best_epoch']}/{t['epochs']}" for t in summary["training"].values()]
    return "\n".join([*rows, "", "Targets: " + "; ".join(met) + ".", "",
                      f"Training: {min(minutes):.1f}–{max(minutes):.1f} min per seed on one thread; best val epoch "
                      f"{', '.join(best)}. <sub>`{summary['command']}`</sub>"])


def splice_markdown(path: Path, summary: dict) -> None:
    """Rewrite the block between this dataset's stage-1 markers in ``path`` (nothing without them)."""
    start, end = MARK_START.format(summary["dataset"]), MARK_END.format(summary["dataset"])
    text = path.read_text()
    if start in text and end in text:
        head, rest = text.split(start, 1)
        path.write_text(f"{head}{start}\n{markdown(summary)}\n{end}{rest.split(end, 1)[1]}")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("dataset", choices=sorted(SPLITS))
    parser.add_argument("--runs", default="runs/stage1")
    parser.add_argument("--results", help="default: assets/results/stage1/<dataset>")
    parser.add_argument("--seeds", type=int, nargs="+", default=[0, 1, 2, 3, 4])
    args = parser.parse_args(argv)
    results = Path(args.results or ROOT / "assets" / "results" / "stage1" / args.dataset)
    after = split_figures(results, args.seeds)
    before = split_figures(ROOT / "assets" / "results" / "staged" / args.dataset, [0, 1, 2, 3, 4])
    wild = wild_figures(results / "wild.json") if (results / "wild.json").is_file() else None
    summary = {
        "command": "python -m lookimagine.tools.stage1_report " + " ".join(argv if argv is not None else sys.argv[1:]),
        "dataset": args.dataset, "seeds": args.seeds, "splits": after, "wild": wild,
        "before": {"source": f"assets/results/staged/{args.dataset}/baseline-s*", "splits": before},
        "training": training_figures(Path(args.runs), args.dataset, args.seeds),
        "targets": targets(args.dataset, after, wild, before),
    }
    if wild is not None:
        shipped = json.loads((ROOT / "assets" / "results" / "framing" / "emoji.json").read_text())
        summary["before"]["wild"] = {"source": "assets/results/framing/emoji.json (the first shipped baseline)",
                                     **{how: shipped["r1"]["test-style-wild"][how]["baseline"]
                                        for how in ("as_is", "normalised")}}
    (results / "summary.json").write_text(json.dumps(summary, indent=1))
    splice_markdown(ROOT / "RESULTS.md", summary)
    for row in summary["targets"]:
        print(("met    " if row["met"] else "MISSED ") + json.dumps(row))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
