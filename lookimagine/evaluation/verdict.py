"""The verdict: GXN against its baseline over seeds, as paired differences with 95% intervals.

Input: the evaluation JSONs of the staged runs, ``<dir>/{baseline,gxn,baseline-wall}-s{seed}-{split}.json``
(``scripts/evaluate_staged.sh``), and the runs' ``run.json`` files for time and training health.
GXN and its baseline of one seed share their stage-1 encoders, so the seed-by-seed difference is the
effect of the generative branches alone; its mean and t-interval over seeds is the verdict. The baseline
trains for the epochs GXN's stage 3 takes (equal epochs); ``baseline-wall``, where present, for as many
epochs as fit in the time GXN spends on stages 2 and 3 (equal wall-clock), and GXN is compared with it too.
"""

from __future__ import annotations

import json
import math
import re
from pathlib import Path

import numpy as np

# two-sided 95% Student t quantiles by degrees of freedom
_T95 = {1: 12.706, 2: 4.303, 3: 3.182, 4: 2.776, 5: 2.571, 6: 2.447, 7: 2.365, 8: 2.306, 9: 2.262, 10: 2.228}
_NAME = re.compile(r"^(baseline-wall|baseline|gxn)-s(\d+)-(.+)\.json$")


def mean_ci(values: list[float]) -> dict:
    """Mean, sample std and the 95% t-interval of the mean (None with fewer than two values)."""
    v = np.asarray(values, dtype=float)
    if v.size == 0:
        raise ValueError("mean_ci needs at least one value")
    mean = float(v.mean())
    if v.size < 2:
        return {"n": 1, "mean": mean, "std": None, "ci95": None, "values": v.tolist()}
    std = float(v.std(ddof=1))
    half = _T95.get(v.size - 1, 1.96) * std / math.sqrt(v.size)
    return {"n": int(v.size), "mean": mean, "std": std, "ci95": [mean - half, mean + half], "values": v.tolist()}


def paired(baseline: list[float], gxn: list[float]) -> dict:
    """GXN − baseline, seed by seed: the mean difference and its 95% interval."""
    if len(baseline) != len(gxn):
        raise ValueError("paired needs one baseline and one GXN figure per seed")
    return mean_ci([g - b for b, g in zip(baseline, gxn)])


def result_metrics(result: dict) -> dict[str, float]:
    """The figures compared, flat: R@1 both ways, rsum, per-type R@1 and the imagination scores."""
    r = result["retrieval"]
    out = {"i2t_r1": r["image_to_text"]["r1"], "t2i_r1": r["text_to_image"]["r1"], "rsum": r["rsum"]}
    for kind, t in result.get("retrieval_by_type", {}).items():
        out[f"{kind}.i2t_r1"] = t["image_to_text"]["r1"]
        out[f"{kind}.t2i_r1"] = t["text_to_image"]["r1"]
    if "retrieval_text" in result:
        out["text_protocol.rsum"] = result["retrieval_text"]["rsum"]
    if "captioning" in result:
        out["caption_cider_d"] = result["captioning"]["cider_d"]
    if "image_generation" in result:
        out["image_r_precision"] = result["image_generation"]["r_precision"]
        out["judge_r_precision_real"] = result["image_generation"]["r_precision_real_images"]
    return out


def load_results(folder: Path) -> dict[str, dict[str, dict[int, dict]]]:
    """{split: {variant: {seed: result}}} from a folder of evaluation JSONs."""
    out: dict[str, dict[str, dict[int, dict]]] = {}
    for path in sorted(Path(folder).glob("*.json")):
        m = _NAME.match(path.name)
        if m:
            variant, seed, split = m.group(1), int(m.group(2)), m.group(3)
            out.setdefault(split, {}).setdefault(variant, {})[seed] = json.loads(path.read_text())
    return out


def verdict(results: dict[str, dict[str, dict[int, dict]]]) -> dict:
    """Per split: each variant's mean ± std ± interval, and the paired GXN − baseline difference."""
    out = {}
    for split, by_variant in results.items():
        seeds = sorted(set(by_variant.get("baseline", {})) & set(by_variant.get("gxn", {})))
        if not seeds:
            continue
        flat = {v: {s: result_metrics(by_variant[v][s]) for s in seeds} for v in ("baseline", "gxn")}
        keys = [k for k in flat["gxn"][seeds[0]] if all(k in flat[v][s] for v in flat for s in seeds)]
        out[split] = {
            "seeds": seeds,
            "protocol": by_variant["gxn"][seeds[0]].get("protocol", "text"),
            "baseline": {k: mean_ci([flat["baseline"][s][k] for s in seeds]) for k in keys},
            "gxn": {k: mean_ci([flat["gxn"][s][k] for s in seeds]) for k in keys},
            "gxn_minus_baseline": {k: paired([flat["baseline"][s][k] for s in seeds],
                                             [flat["gxn"][s][k] for s in seeds]) for k in keys},
            "gxn_only": {k: mean_ci([flat["gxn"][s][k] for s in seeds]) for k in flat["gxn"][seeds[0]]
                         if k not in keys},
        }
        wall = by_variant.get("baseline-wall", {})
        if seeds and all(s in wall for s in seeds):  # equal wall-clock: only over the same seeds
            w = {s: result_metrics(wall[s]) for s in seeds}
            wkeys = [k for k in keys if all(k in w[s] for s in seeds)]
            out[split]["baseline_wall"] = {k: mean_ci([w[s][k] for s in seeds]) for k in wkeys}
            out[split]["gxn_minus_baseline_wall"] = {k: paired([w[s][k] for s in seeds],
                                                               [flat["gxn"][s][k] for s in seeds]) for k in wkeys}
        if "oracle" in by_variant["gxn"][seeds[0]]:
            out[split]["oracle"] = by_variant["gxn"][seeds[0]]["oracle"]
    return out


def training_summary(runs: Path, dataset: str, seeds: list[int]) -> dict:
    """Wall-clock per stage, images/s, and the health records (last epoch) of the staged runs."""
    stages = ("stage1", "baseline", "stage2", "gxn", "baseline-wall")
    per_seed = {}
    for seed in seeds:
        if not (runs / f"{dataset}-s{seed}" / "gxn" / "run.json").is_file():
            continue  # not finished: left out of every figure
        row = {}
        for stage in stages:
            path = runs / f"{dataset}-s{seed}" / stage / "run.json"
            if not path.is_file():
                continue
            meta = json.loads(path.read_text())
            last = meta["history"][-1]
            row[stage] = {"wall_seconds": meta["wall_seconds"], "samples_per_second": meta["samples_per_second"],
                          "epochs_run": len(meta["history"]), "epochs_budget": meta["train"]["epochs"],
                          "best_epoch": meta["best_epoch"],
                          "best_val_rsum": meta["best_val_rsum"], "health": last.get("health", {}),
                          "val_rsum_by_epoch": [r["val_rsum"] for r in meta["history"]]}
        per_seed[seed] = row
    total = {
        "baseline": [sum(r[s]["wall_seconds"] for s in ("stage1", "baseline") if s in r) for r in per_seed.values()],
        "gxn": [sum(r[s]["wall_seconds"] for s in ("stage1", "stage2", "gxn") if s in r) for r in per_seed.values()],
        "baseline_wall": [r["stage1"]["wall_seconds"] + r["baseline-wall"]["wall_seconds"]
                          for r in per_seed.values() if "stage1" in r and "baseline-wall" in r],
    }
    basis = {seed: {"gxn_stages_2_3_seconds": round(r["stage2"]["wall_seconds"] + r["gxn"]["wall_seconds"], 1),
                    "control_seconds": r["baseline-wall"]["wall_seconds"],
                    "control_epochs_budget": r["baseline-wall"]["epochs_budget"],
                    "control_epochs_run": r["baseline-wall"]["epochs_run"]}
             for seed, r in per_seed.items() if all(s in r for s in ("stage2", "gxn", "baseline-wall"))}
    out = {"per_seed": per_seed, "total_wall_seconds": {k: mean_ci(v) for k, v in total.items() if v}}
    if basis:
        out["wall_clock_basis"] = {
            "what": "the control at equal wall-clock (baseline-wall) is stage 1 fine-tuned without generators for "
                    "up to as many epochs as fit in GXN's stages 2 and 3, measured in the format the runs use "
                    "(the preset's epochs; early-stopped where it sets a patience)", "per_seed": basis}
    return out


# ---- markdown for RESULTS.md (python -m lookimagine.report) ---------------------------------------------
SPLIT_TITLES = {"test": "test", "test-heldout": "test-heldout (held-out colour–shape pairs)",
                "test-style": "test-style (Noto Color Emoji, an artist never seen in training)"}


def _ms(stat: dict, ci: bool = False) -> str:
    """mean ± std, and with ``ci`` the 95% interval of the mean."""
    if stat.get("std") is None:
        return f"{stat['mean']:.1f}"
    text = f"{stat['mean']:.1f} ± {stat['std']:.1f}"
    return text + (f" [{stat['ci95'][0]:.1f}, {stat['ci95'][1]:.1f}]" if ci else "")


def _diff(stat: dict) -> str:
    if stat.get("ci95") is None:
        return f"{stat['mean']:+.1f}"
    lo, hi = stat["ci95"]
    mark = " ✱" if lo > 0 or hi < 0 else ""  # the interval excludes 0
    return f"{stat['mean']:+.1f} [{lo:+.1f}, {hi:+.1f}]{mark}"


def _oracle_cells(oracle: dict | None) -> list[str]:
    if not oracle:
        return ["", "", ""]
    t = oracle["truth"]
    return [f"{t['image_to_text']['r1']:.1f}", f"{t['text_to_image']['r1']:.1f}", f"{t['rsum']:.1f}"]


def retrieval_markdown(summary: dict) -> str:
    """Per split: baseline, GXN, the paired difference (95% t-interval) and, with a checker, the oracle."""
    rows = ["| split | protocol | model | i2t R@1 | t2i R@1 | rsum |", "|---|---|---|---|---|---|",
            "| | | | mean ± std [95% CI] | | |"]
    for split, v in summary["splits"].items():
        title, proto = SPLIT_TITLES.get(split, split), v["protocol"]
        for name in ("baseline", "gxn"):
            m = v[name]
            rows.append(f"| {title} | {proto} | {'GXN' if name == 'gxn' else 'baseline'} | {_ms(m['i2t_r1'], True)} | "
                        f"{_ms(m['t2i_r1'], True)} | {_ms(m['rsum'], True)} |")
        d = v["gxn_minus_baseline"]
        rows.append(f"| {title} | {proto} | **GXN − baseline** | {_diff(d['i2t_r1'])} | {_diff(d['t2i_r1'])} | "
                    f"{_diff(d['rsum'])} |")
        if v.get("oracle"):
            o = v["oracle"]
            rows.append(f"| {title} | truth | oracle (perfect model) | {' | '.join(_oracle_cells(o))} |")
            t = o["text"]
            rows.append(f"| {title} | text | oracle (perfect model) | {t['image_to_text']['r1']:.1f} | "
                        f"{t['text_to_image']['r1']:.1f} | {t['rsum']:.1f} |")
            if "text_protocol.rsum" in v["baseline"]:
                rows.append(f"| {title} | text | baseline / GXN rsum, for continuity | | | "
                            f"{_ms(v['baseline']['text_protocol.rsum'])} / {_ms(v['gxn']['text_protocol.rsum'])} |")
    return "\n".join(rows) + "\n"


def by_type_markdown(summary: dict, split: str) -> str:
    v = summary["splits"].get(split)
    if not v or not v.get("oracle"):
        return ""
    types = [k.split(".")[0] for k in v["baseline"] if k.endswith(".t2i_r1")]
    rows = ["| caption type | baseline i2t | GXN i2t | Δ i2t [95% CI] | baseline t2i | GXN t2i | Δ t2i [95% CI] | "
            "oracle i2t / t2i |", "|---|---|---|---|---|---|---|---|"]
    for t in types:
        b, g, d = v["baseline"], v["gxn"], v["gxn_minus_baseline"]
        o = v["oracle"]["by_type"][t]
        rows.append(f"| {t} | {_ms(b[t + '.i2t_r1'])} | {_ms(g[t + '.i2t_r1'])} | {_diff(d[t + '.i2t_r1'])} | "
                    f"{_ms(b[t + '.t2i_r1'])} | {_ms(g[t + '.t2i_r1'])} | {_diff(d[t + '.t2i_r1'])} | "
                    f"{o['image_to_text']['r1']:.0f} / {o['text_to_image']['r1']:.0f} |")
    return "\n".join(rows) + "\n"


def imagination_markdown(summary: dict) -> str:
    rows = ["| split | caption CIDEr-D | imagined images: judge R-precision@1 (chance 1.0) | judge on real images |",
            "|---|---|---|---|"]
    for split, v in summary["splits"].items():
        g = {**v["gxn"], **v.get("gxn_only", {})}
        cells = [_ms(g[k]) if k in g else "–" for k in ("caption_cider_d", "image_r_precision",
                                                          "judge_r_precision_real")]
        rows.append(f"| {SPLIT_TITLES.get(split, split)} | {' | '.join(cells)} |")
    return "\n".join(rows) + "\n"


def health_markdown(training: dict) -> str:
    """Stage-3 gradient shares on the shared encoders and the conditioning probe, mean over seeds."""
    shares: dict[str, list[float]] = {}
    cond: dict[str, list[float]] = {"stage2": [], "gxn": []}
    for row in training["per_seed"].values():
        for k, v in row.get("gxn", {}).get("health", {}).get("grad_share", {}).items():
            shares.setdefault(k, []).append(v)
        for stage in cond:
            c = row.get(stage, {}).get("health", {}).get("conditioning")
            if c is not None:
                cond[stage].append(c)
    share_text = ", ".join(f"{k} {100 * np.mean(v):.0f}%" for k, v in shares.items()) or "–"
    cond_text = "; ".join(f"after {'stage 2' if k == 'stage2' else 'stage 3'} {np.mean(v):.2f}"
                          for k, v in cond.items() if v) or "–"
    total = training["total_wall_seconds"]
    names = {"baseline_wall": "baseline at equal wall-clock"}
    times = ", ".join(f"{names.get(k, k)} {v['mean'] / 60:.1f} min" for k, v in total.items())
    return (f"- gradient share on the shared encoders in joint fine-tuning (last epoch, mean over seeds): "
            f"{share_text}\n- conditioning probe (share of the imagined images' pixel variance explained by "
            f"the text): {cond_text}\n- wall-clock per seed on one thread, all stages: {times}\n")


def verdict_sentence(summary: dict, dataset: str, against: str = "baseline") -> str:
    """One line per dataset, computed from the paired differences: where GXN is ahead, behind or level.
    ``against``: "baseline" (equal epochs) or "baseline_wall" (equal wall-clock). With the Holm-adjusted
    headline family (``summary["headline"]``, written by ``python -m lookimagine.report``), "ahead" and
    "behind" are said only of the cells that survive the adjustment; without it, of intervals that exclude 0."""
    family = summary.get("headline")
    basis = "equal wall-clock" if against == "baseline_wall" else "equal epochs"
    cells = {(c["split"], c["metric"]): c for c in (family or {}).get("cells", []) if c["basis"] == basis}
    bits = []
    for split, v in summary["splits"].items():
        d = v.get(f"gxn_minus_{against}")
        if d is None:
            continue
        words = []
        for key, name in (("i2t_r1", "image→text"), ("t2i_r1", "text→image")):
            stat, cell = d[key], cells.get((split, key))
            if cell is not None:
                state = cell["verdict"] + f" (Holm p = {cell['holm_p']:.3f})"
            else:
                lo, hi = stat["ci95"] if stat.get("ci95") else (stat["mean"], stat["mean"])
                state = ("ahead" if lo > 0 else "behind" if hi < 0 else "level (the interval includes 0)")
            words.append(f"{name} R@1 {stat['mean']:+.1f}, {state}")
        bits.append(f"{split}: " + "; ".join(words))
    held = (f" Holm-adjusted over the {family['examined']} headline cells of this recipe "
            f"({family['family']}).") if family else ""
    if against == "baseline_wall":
        return (f"**At equal wall-clock** (GXN − the baseline trained as long as GXN's stages 2 and 3 take, paired "
                f"over seeds): " + " · ".join(bits) + "." + held)
    return f"**Verdict on {dataset}** (GXN − baseline, paired over seeds): " + " · ".join(bits) + "." + held


def wall_clock_markdown(summary: dict) -> str:
    """GXN against both controls: equal epochs (the verdict's) and equal wall-clock; "" without the latter."""
    splits = {k: v for k, v in summary["splits"].items() if "baseline_wall" in v}
    if not splits:
        return ""
    rows = ["| split | model | i2t R@1 | t2i R@1 | rsum |", "|---|---|---|---|---|"]
    for split, v in splits.items():
        title = SPLIT_TITLES.get(split, split)
        for name, label in (("baseline", "baseline, equal epochs"), ("baseline_wall", "baseline, equal wall-clock"),
                            ("gxn", "GXN")):
            m = v[name]
            rows.append(f"| {title} | {label} | {_ms(m['i2t_r1'])} | {_ms(m['t2i_r1'])} | {_ms(m['rsum'])} |")
        d = v["gxn_minus_baseline_wall"]
        rows.append(f"| {title} | **GXN − baseline, equal wall-clock** | {_diff(d['i2t_r1'])} | {_diff(d['t2i_r1'])} | "
                    f"{_diff(d['rsum'])} |")
    return "\n".join(rows) + "\n"


def markdown(summary: dict, dataset: str) -> str:
    parts = [f"#### {dataset}: GXN against its baseline ({len(next(iter(summary['splits'].values()))['seeds'])} "
             f"seeds, paired; ✱ = the 95% interval excludes 0)\n", verdict_sentence(summary, dataset) + "\n",
             retrieval_markdown(summary)]
    for split in ("test", "test-heldout"):
        table = by_type_markdown(summary, split)
        if table:
            parts.append(f"\nRecall@1 by caption type, {SPLIT_TITLES.get(split, split)}:\n\n{table}")
    wall = wall_clock_markdown(summary)
    if wall:
        parts.append(f"\n{verdict_sentence(summary, dataset, 'baseline_wall')}\n\n{wall}")
    parts.append(f"\nImagination (GXN):\n\n{imagination_markdown(summary)}")
    parts.append(f"\nTraining health:\n\n{health_markdown(summary['training'])}")
    return "\n".join(parts)


def main(argv: list[str] | None = None) -> int:
    import argparse
    import shlex
    import sys

    parser = argparse.ArgumentParser(prog="python -m lookimagine.evaluation.verdict", description=__doc__)
    parser.add_argument("folder", help="folder of {baseline,gxn}-s{seed}-{split}.json")
    parser.add_argument("--runs", default="runs/staged")
    parser.add_argument("--dataset", required=True)
    parser.add_argument("--seeds", type=int, nargs="+", required=True)
    args = parser.parse_args(argv)
    used = sys.argv[1:] if argv is None else argv
    summary = {"command": "python -m lookimagine.evaluation.verdict " + shlex.join(used),
               "splits": verdict(load_results(Path(args.folder))),
               "training": training_summary(Path(args.runs), args.dataset, args.seeds)}
    path = Path(args.folder) / "verdict.json"
    if path.is_file():  # what ``report ship`` recorded of the pair shipped from these runs stays
        shipped = json.loads(path.read_text()).get("shipped")
        summary.update({"shipped": shipped} if shipped else {})
    path.write_text(json.dumps(summary, indent=1))
    for split, v in summary["splits"].items():
        d = v["gxn_minus_baseline"]
        print(f"{split}: GXN − baseline  i2t R@1 {d['i2t_r1']['mean']:+.1f}  t2i R@1 {d['t2i_r1']['mean']:+.1f}  "
              f"rsum {d['rsum']['mean']:+.1f}  (seeds {v['seeds']})")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
