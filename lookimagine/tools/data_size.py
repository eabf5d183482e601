"""When does imagining pay? GXN − baseline on shapes against the training set's size (issue 23), from the runs of
``scripts/data_size.sh``, into ``assets/results/data_size/shapes.json`` and a figure.

    python -m lookimagine.tools.data_size                 # the JSON, the figure, RESULTS.md's block
    python -m lookimagine.tools.data_size --report        # only RESULTS.md's block from the JSON

The hypothesis tested: generative losses help when data, not compute, is the limit — so GXN's lead over its
baseline should grow as the fixed training set shrinks. Per size (a fixed set of 1,000 or 4,000 scenes, or
10,000 fresh scenes every epoch) and direction: each variant's test R@1 over the seeds, and the paired
differences GXN − baseline at equal epochs and at equal wall-clock, with their two-sided paired-t p-values
Holm-adjusted over every cell of this curve (sizes × directions × bases). The runs' own records give what each
side cost (GXN's stages 2 and 3 against the wall-clock control) and where stage 1 stopped.
"""

from __future__ import annotations

import argparse
import json
import re
import shlex
import sys
from pathlib import Path

from ..evaluation.multiple import holm, paired_p
from ..evaluation.verdict import mean_ci, paired, result_metrics

SIZES = ("1000", "4000", "fresh")
LABELS = {"1000": "1,000 fixed", "4000": "4,000 fixed", "fresh": "10,000 fresh / epoch"}
BASES = {"gxn_minus_baseline": ("baseline", "equal epochs"), "gxn_minus_baseline_wall": ("baseline-wall",
                                                                                           "equal wall-clock")}
DIRECTIONS = {"i2t_r1": "image→text R@1", "t2i_r1": "text→image R@1"}
_NAME = re.compile(r"^(baseline|gxn|baseline-wall)-n(\w+)-s(\d+)-test\.json$")
MARK_START, MARK_END = "<!-- data_size:start -->", "<!-- data_size:end -->"


def load(results: Path) -> dict[str, dict[str, dict[int, dict]]]:
    """{size: {variant: {seed: metrics}}} from ``results``' evaluation JSONs."""
    out: dict[str, dict[str, dict[int, dict]]] = {}
    for path in sorted(Path(results).glob("*.json")):
        m = _NAME.match(path.name)
        if m:
            variant, size, seed = m.group(1), m.group(2), int(m.group(3))
            result = json.loads(path.read_text())
            metrics = result_metrics(result)
            metrics["selected_epoch"] = result.get("selected_epoch")  # the epoch its checkpoint is from (val)
            out.setdefault(size, {}).setdefault(variant, {})[seed] = metrics
    return out


def run_costs(runs: Path, size: str, seed: int) -> dict | None:
    """What one seed's runs cost and where stage 1 stopped, from their run.json (None if any is missing)."""
    root = Path(runs) / f"shapes-n{size}-s{seed}"
    paths = {name: root / name / "run.json" for name in ("stage1", "stage2", "gxn", "baseline", "baseline-wall")}
    if not all(p.is_file() for p in paths.values()):
        return None
    r = {name: json.loads(p.read_text()) for name, p in paths.items()}
    return {"stage1_best_epoch": r["stage1"]["best_epoch"], "stage1_epochs": r["stage1"]["train"]["epochs"],
            "stage1_stopped_early": r["stage1"]["stopped_early"],
            "stage1_best_val_rsum": round(r["stage1"]["best_val_rsum"], 2),
            "gxn_stages_2_3_seconds": round(r["stage2"]["wall_seconds"] + r["gxn"]["wall_seconds"], 1),
            "control_wall_seconds": round(r["baseline-wall"]["wall_seconds"], 1),
            "control_wall_epochs": r["baseline-wall"]["train"]["epochs"],
            "control_wall_best_epoch": r["baseline-wall"]["best_epoch"],
            "equal_epochs_control_seconds": round(r["baseline"]["wall_seconds"], 1)}


def curve(results: dict, runs: Path | None = None) -> dict:
    """Per size, over the seeds with all three variants: each variant's R@1 and the paired differences, each
    difference with its p-value; then Holm over every difference cell of the curve."""
    sizes = {}
    for size in [s for s in SIZES if s in results] + sorted(set(results) - set(SIZES)):
        by = results[size]
        seeds = sorted(set.intersection(*(set(by.get(v, {})) for v in ("baseline", "gxn", "baseline-wall"))))
        if not seeds:
            continue
        entry: dict = {"seeds": seeds, "label": LABELS.get(size, size)}
        for variant in ("baseline", "gxn", "baseline-wall"):
            entry[variant] = {d: mean_ci([by[variant][s][d] for s in seeds]) for d in DIRECTIONS}
            entry[variant]["selected_epochs"] = [by[variant][s].get("selected_epoch") for s in seeds]
        for basis, (control, _) in BASES.items():
            entry[basis] = {}
            for d in DIRECTIONS:
                stat = paired([by[control][s][d] for s in seeds], [by["gxn"][s][d] for s in seeds])
                stat["p"] = paired_p(stat)
                entry[basis][d] = stat
        # descriptive, outside Holm: what the wall-clock control's extra epochs buy the baseline at this size
        entry["control_wall_minus_baseline"] = {
            d: paired([by["baseline"][s][d] for s in seeds], [by["baseline-wall"][s][d] for s in seeds])
            for d in DIRECTIONS}
        if runs is not None:
            costs = {s: run_costs(runs, size, s) for s in seeds}
            entry["runs"] = {str(s): c for s, c in costs.items() if c is not None}
        sizes[size] = entry
    cells = [(size, basis, d) for size, e in sizes.items() for basis in BASES for d in DIRECTIONS
             if e[basis][d]["p"] is not None]
    for (size, basis, d), adjusted in zip(cells, holm([sizes[s][b][d]["p"] for s, b, d in cells])):
        sizes[size][basis][d]["holm_p"] = adjusted
    return {"sizes": sizes, "examined": len(cells),
            "survive": sum(sizes[s][b][d]["holm_p"] < 0.05 for s, b, d in cells)}


def markdown(summary: dict) -> str:
    """RESULTS.md's block: one row per size and direction, both bases with their intervals and Holm p."""
    def diff(stat: dict) -> str:
        ci = f" [{stat['ci95'][0]:+.1f}, {stat['ci95'][1]:+.1f}]" if stat.get("ci95") else ""
        holm_p = f" (Holm p {stat['holm_p']:.2f})" if "holm_p" in stat else ""
        return f"{stat['mean']:+.1f}{ci}{holm_p}"

    lines = ["<!-- generated by `python -m lookimagine.tools.data_size --report` from "
             "assets/results/data_size/shapes.json; do not edit by hand -->", "",
             "| training set | seeds | direction | baseline | GXN | control at equal wall-clock | "
             "GXN − baseline, equal epochs | GXN − control, equal wall-clock |",
             "|---|---|---|---|---|---|---|---|"]
    for size, e in summary["sizes"].items():
        for d, name in DIRECTIONS.items():
            lines.append(f"| {e['label']} | {len(e['seeds'])} | {name} | {e['baseline'][d]['mean']:.1f} | "
                         f"{e['gxn'][d]['mean']:.1f} | {e['baseline-wall'][d]['mean']:.1f} | "
                         f"{diff(e['gxn_minus_baseline'][d])} | {diff(e['gxn_minus_baseline_wall'][d])} |")
    lines += ["", f"{summary['survive']} of {summary['examined']} cells survive Holm correction (α = 0.05).", ""]
    if all("control_wall_minus_baseline" in e for e in summary["sizes"].values()):
        bought = "; ".join(f"{e['label']} {e['control_wall_minus_baseline']['i2t_r1']['mean']:+.1f} / "
                           f"{e['control_wall_minus_baseline']['t2i_r1']['mean']:+.1f}"
                           for e in summary["sizes"].values())
        lines += ["What the control's extra epochs buy the baseline (control at equal wall-clock − baseline, "
                  f"image→text / text→image R@1): {bought}.", ""]
    if all("selected_epochs" in e["baseline"] for e in summary["sizes"].values()):
        chosen = "; ".join(f"{e['label']}: " + ", ".join(
            f"{v} {'/'.join(str(x) for x in e[v]['selected_epochs'])}" for v in ("baseline", "gxn", "baseline-wall"))
            for e in summary["sizes"].values())
        lines += [f"The epoch each checkpoint was chosen at on val, per seed: {chosen}.", ""]
    planned = [(c, summary["sizes"].get(c["size"])) for c in summary.get("plan", {}).get("expected_to_move", [])]
    if planned:
        said = []
        for c, e in planned:
            basis = next(b for b, (_, name) in BASES.items() if name == c["basis"])
            stat = e[basis][c["metric"]] if e else None
            said.append(f"{LABELS.get(c['size'], c['size'])}, {c['basis']}, {DIRECTIONS[c['metric']]}: "
                        + (diff(stat) if stat else "not run"))
        lines += [f"Expected to move, as written before the test figures were read ({summary['plan_file']}): "
                  + "; ".join(said) + ".", ""]
    costs = [c for e in summary["sizes"].values() for c in e.get("runs", {}).values()]
    if costs:
        g = [c["gxn_stages_2_3_seconds"] for c in costs]
        w = [c["control_wall_seconds"] for c in costs]
        lines += [f"GXN's stages 2 and 3 took {min(g) / 60:.1f}–{max(g) / 60:.1f} min per run; the control at equal "
                  f"wall-clock {min(w) / 60:.1f}–{max(w) / 60:.1f} min (one thread, the other core busy).", ""]
    lines.append(f"<sub>`{summary['command']}`</sub>")
    return "\n".join(lines) + "\n"


def figure(summary: dict, out: Path) -> Path:
    """Two panels (image→text, text→image): GXN − baseline against the training set, both bases, 95% intervals."""
    import matplotlib

    matplotlib.use("Agg")
    from matplotlib.figure import Figure

    sizes = list(summary["sizes"])
    fig = Figure(figsize=(10, 3.8), dpi=120)
    axes = fig.subplots(1, 2, sharey=True)
    styles = {"gxn_minus_baseline": ("#2563eb", "o", -0.08), "gxn_minus_baseline_wall": ("#dc2626", "s", 0.08)}
    for ax, (d, name) in zip(axes, DIRECTIONS.items()):
        for basis, (colour, marker, shift) in styles.items():
            xs, ys, lo, hi = [], [], [], []
            for i, size in enumerate(sizes):
                stat = summary["sizes"][size][basis][d]
                xs.append(i + shift)
                ys.append(stat["mean"])
                low, high = stat["ci95"] if stat.get("ci95") else (stat["mean"], stat["mean"])
                lo.append(stat["mean"] - low)
                hi.append(high - stat["mean"])
            ax.errorbar(xs, ys, yerr=[lo, hi], color=colour, marker=marker, capsize=3, lw=1.6,
                        label=f"GXN − baseline, {BASES[basis][1]}")
        ax.axhline(0, color="black", lw=1)
        ax.set_xticks(range(len(sizes)), [summary["sizes"][s]["label"] for s in sizes])
        ax.set_title(name, fontsize=11)
        ax.grid(axis="y", alpha=0.35)
        ax.set_xlabel("training scenes")
    axes[0].set_ylabel("R@1 difference (points), 95% interval")
    axes[1].legend(fontsize=8.5, loc="best")
    n = sorted({len(e["seeds"]) for e in summary["sizes"].values()})
    fig.suptitle(f"When does imagining pay? shapes test, {'/'.join(map(str, n))} paired seeds per size",
                 fontsize=12, fontweight="bold")
    fig.tight_layout()
    out.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(out, facecolor="white")
    return out


def report(results: Path, results_md: Path) -> None:
    from ..report import splice

    text = results_md.read_text()
    if MARK_START not in text:
        raise SystemExit(f"{results_md} has no {MARK_START} … {MARK_END} block")
    results_md.write_text(splice(text, MARK_START, MARK_END, markdown(json.loads(results.read_text()))))


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(prog="python -m lookimagine.tools.data_size", description=__doc__,
                                formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--results", default="assets/results/data_size/shapes", help="the evaluation JSONs")
    p.add_argument("--runs", default="runs/data_size", help="the runs (their run.json: costs, stage 1)")
    p.add_argument("--out", default="assets/results/data_size/shapes.json")
    p.add_argument("--figure", default="assets/figures/data_size_shapes.png")
    p.add_argument("--plan", default="assets/results/data_size/plan.json",
                   help="the prediction, committed before the test figures were read")
    p.add_argument("--results-md", default="RESULTS.md")
    p.add_argument("--report", action="store_true", help="only write RESULTS.md's block from --out")
    a = p.parse_args(argv)
    if not a.report:
        runs = Path(a.runs) if Path(a.runs).is_dir() else None
        summary = curve(load(Path(a.results)), runs)
        if runs is None:  # the evaluation JSONs still give each checkpoint's selected epoch
            summary["runs_note"] = f"{a.runs} was not on this machine: the runs' costs are not in this file"
        if not summary["sizes"]:
            raise SystemExit(f"no size has all three variants in {a.results}")
        used = sys.argv[1:] if argv is None else argv
        summary = {"command": "python -m lookimagine.tools.data_size" + (" " + shlex.join(used) if used else ""),
                   "recipe": "scripts/data_size.sh: the staged GAN recipe of shapes, stage 1 by the first recipe; "
                             "every stage sees as many training pairs at every size",
                   "figure": a.figure, **summary}
        if Path(a.plan).is_file():
            summary.update(plan=json.loads(Path(a.plan).read_text()), plan_file=a.plan)
        Path(a.out).parent.mkdir(parents=True, exist_ok=True)
        Path(a.out).write_text(json.dumps(summary, indent=1))
        figure(summary, Path(a.figure))
    if Path(a.results_md).is_file() and MARK_START in Path(a.results_md).read_text():
        report(Path(a.out), Path(a.results_md))
    print(markdown(json.loads(Path(a.out).read_text())))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
