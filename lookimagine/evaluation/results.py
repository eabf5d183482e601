"""Turn the evaluation JSONs in assets/results/ into the tables of RESULTS.md.

Everything here reads files that ``python -m lookimagine.evaluate`` wrote; no
number is typed by hand. Outputs:
- the tables (``python -m lookimagine.report`` writes them into RESULTS.md and ``assets/results/tables.md``),
- ``assets/figures/<dataset>_recall.png`` (recall@K, baseline vs GXN, mean over seeds),
- ``assets/figures/<dataset>_val_curves.png`` (val rsum per epoch).

The queries on which the two models disagree are ``differences.py``'s.
"""

from __future__ import annotations

import json
import re
from collections import defaultdict
from pathlib import Path

import numpy as np

from .retrieval import recall_at_k_curve

# The paper's ablation rows, in its order (paper.md, MSCOCO 1K table), then our extra row.
ROWS = [("baseline", "no generators (baseline)"), ("i2t-xe", "i2t only (XE)"), ("i2t", "i2t only (XE+RL)"),
        ("t2i", "t2i only (GAN)"), ("gxn-xe", "i2t (XE) + t2i"), ("gxn", "i2t (XE+RL) + t2i = **GXN**"),
        ("gxn-diffusion", "i2t (XE+RL) + t2i diffusion")]
PAPER = [("VSE++ (ResNet-152, fine-tuned)", "64.6 / 95.7 / 1", "52.0 / 92.0 / 1"),
         ("GXN, no generators", "64.0 / 97.1 / 1", "53.6 / 94.4 / 1"),
         ("GXN, i2t only (XE)", "68.2 / 98.0 / 1", "54.5 / 94.8 / 1"),
         ("GXN, i2t only (XE+RL)", "68.4 / 98.1 / 1", "55.6 / 94.6 / 1"),
         ("GXN, t2i only", "67.1 / 98.3 / 1", "56.5 / 94.8 / 1"),
         ("GXN, i2t + t2i", "68.5 / 97.9 / 1", "56.6 / 94.5 / 1")]
DIRECTIONS = (("image_to_text", "image→text"), ("text_to_image", "text→image"))
MARK_START, MARK_END = "<!-- results:start -->", "<!-- results:end -->"


def load_results(results_dir: Path) -> dict:
    """{dataset: {split: {variant: {seed: result}}}} from assets/results/<dataset>/<run>[-heldout].json."""
    out: dict = defaultdict(lambda: defaultdict(lambda: defaultdict(dict)))
    for path in sorted(results_dir.glob("*/*.json")):
        m = re.fullmatch(r"(\w+)-(.+)-s(\d+)(-heldout)?", path.stem)
        if not m:
            continue
        dataset, variant, seed, heldout = m.groups()
        out[dataset]["test-heldout" if heldout else "test"][variant][int(seed)] = json.loads(path.read_text())
    return out


def _stat(values: list[float], digits: int = 1) -> str:
    if len(values) == 1:
        return f"{values[0]:.{digits}f}"
    return f"{np.mean(values):.{digits}f} ± {np.std(values, ddof=1):.{digits}f}"


def retrieval_table(runs: dict) -> str:
    head = ("| model | seeds | i2t R@1 | i2t R@5 | i2t R@10 | i2t medR | t2i R@1 | t2i R@5 | t2i R@10 | t2i medR "
            "| rsum |\n|---|---|---|---|---|---|---|---|---|---|---|")
    lines = [head]
    for variant, label in ROWS:
        if variant not in runs:
            continue
        seeds = sorted(runs[variant])
        rs = [runs[variant][s]["retrieval"] for s in seeds]
        cells = []
        for d, _ in DIRECTIONS:
            for key in ("r1", "r5", "r10", "median_rank"):
                cells.append(_stat([r[d][key] for r in rs], 0 if key == "median_rank" and len(rs) == 1 else 1))
        cells.append(_stat([r["rsum"] for r in rs]))
        lines.append(f"| {label} | {', '.join(map(str, seeds))} | " + " | ".join(cells) + " |")
    return "\n".join(lines)


def per_seed_table(runs: dict) -> str:
    """R@1 per seed for baseline and GXN, and GXN's margin on each seed."""
    if "baseline" not in runs or "gxn" not in runs:
        return ""
    seeds = sorted(set(runs["baseline"]) & set(runs["gxn"]))
    lines = ["| seed | baseline i2t R@1 | GXN i2t R@1 | Δ | baseline t2i R@1 | GXN t2i R@1 | Δ |",
             "|---|---|---|---|---|---|---|"]
    for s in seeds:
        b, g = runs["baseline"][s]["retrieval"], runs["gxn"][s]["retrieval"]
        cells = []
        for d, _ in DIRECTIONS:
            cells += [f"{b[d]['r1']:.1f}", f"{g[d]['r1']:.1f}", f"{g[d]['r1'] - b[d]['r1']:+.1f}"]
        lines.append(f"| {s} | " + " | ".join(cells) + " |")
    return "\n".join(lines)


def verdict(runs: dict) -> dict:
    """Does GXN beat the baseline by the paper's margins (+4.5 i2t, +3.0 t2i R@1), on the mean and every seed?"""
    if "baseline" not in runs or "gxn" not in runs:
        return {}
    seeds = sorted(set(runs["baseline"]) & set(runs["gxn"]))
    out = {}
    for (d, name), bar in zip(DIRECTIONS, (4.5, 3.0)):
        deltas = [runs["gxn"][s]["retrieval"][d]["r1"] - runs["baseline"][s]["retrieval"][d]["r1"] for s in seeds]
        out[name] = {"mean_delta": float(np.mean(deltas)), "deltas": deltas, "paper_margin": bar,
                     "meets_bar": bool(np.mean(deltas) >= bar and all(x > 0 for x in deltas)),
                     "ahead_on_every_seed": bool(all(x > 0 for x in deltas))}
    return out


def imagination_table(runs: dict) -> str:
    lines = ["| model | seeds | caption BLEU-4 | caption CIDEr-D | image R-precision@1 (judge: baseline of another seed) "
             "| judge on real test images |", "|---|---|---|---|---|---|"]
    for variant, label in ROWS:
        if variant not in runs or variant == "baseline":
            continue
        seeds = sorted(runs[variant])
        rs = [runs[variant][s] for s in seeds]
        cap = [r["captioning"] for r in rs if "captioning" in r]
        img = [r["image_generation"] for r in rs if "image_generation" in r]
        lines.append(f"| {label} | {', '.join(map(str, seeds))} | "
                     + (f"{_stat([c['bleu4'] for c in cap])} | {_stat([c['cider_d'] for c in cap])}" if cap else "– | –")
                     + " | "
                     + (f"{_stat([i['r_precision'] for i in img])} | {_stat([i['r_precision_real_images'] for i in img])}"
                        if img else "– | –") + " |")
    return "\n".join(lines)


def recall_figure(runs: dict, dataset: str, out: Path) -> Path | None:
    """Recall@K (K = 1..50) for baseline and GXN, both directions, mean over seeds with the seed range shaded."""
    if "baseline" not in runs or "gxn" not in runs:
        return None
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    ks = np.arange(1, 51)
    fig, axes = plt.subplots(1, 2, figsize=(9, 3.6), sharey=True)
    for ax, (d, name) in zip(axes, DIRECTIONS):
        for variant, colour, label in (("baseline", "#8a8f98", "baseline (Look → Match)"),
                                       ("gxn", "#4f46e5", "GXN (Look → Imagine → Match)")):
            curves = np.array([recall_at_k_curve(np.array(r["retrieval"][d]["ranks"]), ks)
                               for r in runs[variant].values()])
            ax.plot(ks, curves.mean(0), color=colour, label=f"{label}, {len(curves)} seeds")
            ax.fill_between(ks, curves.min(0), curves.max(0), color=colour, alpha=0.2, linewidth=0)
        ax.set_title(f"{dataset} test · {name}")
        ax.set_xscale("log")
        ax.set_xticks([1, 5, 10, 50], ["1", "5", "10", "50"])
        ax.set_xlabel("K")
        ax.grid(alpha=0.3)
    axes[0].set_ylabel("recall@K (%)")
    axes[0].legend(loc="lower right", fontsize=8)
    fig.tight_layout()
    out.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(out, dpi=110)
    plt.close(fig)
    return out


def load_training(results_dir: Path, dataset: str) -> dict[str, dict]:
    """{run name: run.json} for a dataset's training records (assets/results/<dataset>/train/ and analysis/)."""
    out = {}
    for folder in (results_dir / dataset / "train", results_dir / "analysis"):
        for path in sorted(folder.glob("*.json")):
            record = json.loads(path.read_text())
            if record.get("train", {}).get("dataset") == dataset:
                out[path.stem] = record
    return out


def val_table(records: dict[str, dict]) -> str:
    """Best val rsum and the val R@1 of that epoch, per run: what model selection saw."""
    lines = ["| run | val rsum at epoch 10 | best val rsum | at epoch | val i2t R@1 | val t2i R@1 | train time (s) "
             "| images/s | peak MB |", "|---|---|---|---|---|---|---|---|---|"]
    for name, r in sorted(records.items(), key=lambda kv: -kv[1]["best_val_rsum"]):
        best = max(r["history"], key=lambda h: h["val_rsum"])
        at10 = next((f"{h['val_rsum']:.1f}" for h in r["history"] if h["epoch"] == 10), "–")
        lines.append(f"| {name} | {at10} | {r['best_val_rsum']:.1f} | {best['epoch']} | {best['val_i2t_r1']:.1f} | "
                     f"{best['val_t2i_r1']:.1f} | {r['wall_seconds']:.0f} | {r['samples_per_second']:.0f} | "
                     f"{r['peak_memory_mb']:.0f} |")
    return "\n".join(lines)


def val_curves_figure(records: dict[str, dict], dataset: str, out: Path) -> Path | None:
    """Val rsum per epoch of every run (baselines grey, GXN indigo, ablations and analysis runs coloured)."""
    if not records:
        return None
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, ax = plt.subplots(figsize=(7.5, 4))
    palette = {"baseline": "#8a8f98", "gxn": "#4f46e5"}
    others = iter(["#d97706", "#059669", "#db2777", "#0891b2", "#65a30d", "#7c3aed", "#dc2626"])
    colours = {}
    for name, r in sorted(records.items()):
        variant = r.get("preset", name).split("-", 1)[1] if "-" in r.get("preset", "") else name
        key = variant if not name.startswith("analysis") else name
        if key not in colours:
            colours[key] = palette.get(key) or next(others, "#000000")
        epochs = [h["epoch"] for h in r["history"]]
        ax.plot(epochs, [h["val_rsum"] for h in r["history"]], color=colours[key], alpha=0.85, lw=1.4,
                label=key if key not in ax.get_legend_handles_labels()[1] else None)
    ax.set_xlabel("epoch")
    ax.set_ylabel("val rsum")
    ax.set_title(f"{dataset}: validation rsum per epoch (model selection)")
    ax.grid(alpha=0.3)
    ax.legend(fontsize=8, ncol=2)
    fig.tight_layout()
    out.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(out, dpi=110)
    plt.close(fig)
    return out


def verdict_sentence(dataset: str, runs: dict) -> str:
    """One generated paragraph: does GXN clear the bar (paper's margins, every seed ahead) on this dataset?"""
    v = verdict(runs)
    if not v:
        return ""
    parts = []
    for name, d in v.items():
        seeds = ", ".join(f"{x:+.1f}" for x in d["deltas"])
        state = ("meets the bar" if d["meets_bar"] else
                 "is ahead on every seed but short of the paper's margin" if d["ahead_on_every_seed"] else
                 "does **not** beat the baseline")
        parts.append(f"{name} R@1 {d['mean_delta']:+.1f} on average (seeds: {seeds}; paper: +{d['paper_margin']}) — "
                     f"GXN {state}")
    return f"**Verdict on {dataset}:** " + "; ".join(parts) + "."
