"""RESULTS.md's imagination block, from ``assets/results/imagination.json`` (``tools.imagination``).

    python -m lookimagine.tools.imagination_report [--json assets/results/imagination.json] [--results-md RESULTS.md]

Writes the part between ``<!-- imagination:start -->`` and ``<!-- imagination:end -->``: per dataset, the
branch and its sampler, the judge, every figure against issue 21's bars (mean ± std over the seeds, each seed's
value; on shapes also the bars restated against a faithful sampler) and the sheet of samples. A dataset whose
seeds were measured by several runs of ``tools.imagination`` is shown pooled over all of them (``--pooled``,
``scripts/imagination/pool_seeds.py``'s output), its inputs named.
"""

from __future__ import annotations

import argparse
import json
import shlex
import sys
from pathlib import Path

from ..report import splice

MARK_START, MARK_END = "<!-- imagination:start -->", "<!-- imagination:end -->"
RESTATED = ("Shapes' bars are given as issue 21 wrote them and, marked *restated*, against what a faithful sampler "
            "scores under the same judge: no sampler whose pictures are true of their captions reaches the written "
            "truth-aware bar, and none on the diversity bar reaches the written probe bar "
            "(`assets/results/imagination/bar_feasibility.json`; \"Why, measured\", point 4, below).\n")


def on_the_diversity_bar(feasibility: dict) -> float | None:
    """The conditioning probe of a faithful shapes sampler whose samples lie exactly on the diversity bar
    (``scripts/imagination/bar_feasibility.py``), or None when it was not measured at that spread."""
    for sampler in feasibility.get("shapes", {}).get("samplers", []):
        if abs(sampler["diversity_ratio"] - feasibility["diversity_bar"]) < 1e-9:
            return sampler["probe_mean"]
    return None


def bars(dataset: str, e: dict, feasibility: dict | None = None) -> list[tuple[str, float, float, bool]]:
    """Issue 21's bars: (what, the figure, the bar, met). On shapes, with ``feasibility`` (bar_feasibility.json),
    also the two bars restated against what a faithful sampler can score under the same judge: the bars as
    written ask more than a perfect sampler scores (truth-aware) or than any sampler on the diversity bar can
    (the probe)."""
    rows = []
    if dataset == "shapes":
        bar = 0.85 * e["r_precision_truth_real"]
        rows.append(("truth-aware R-precision ≥ 0.85 × real pictures'", e["r_precision_truth"]["mean"], bar,
                     e["r_precision_truth"]["mean"] >= bar))
        ps = e["perfect_sampler"]["r_precision"]
        rows.append(("exact R-precision ≥ a perfect sampler's", e["r_precision"]["mean"], ps,
                     e["r_precision"]["mean"] >= ps))
    else:
        bar = max(10.0, 0.2 * e["r_precision_real"])
        rows.append(("R-precision ≥ 10% and ≥ 0.2 × real pictures'", e["r_precision"]["mean"], bar,
                     e["r_precision"]["mean"] >= bar))
    rows.append(("diversity ratio ≥ 0.5", e["diversity_ratio"]["mean"], 0.5, e["diversity_ratio"]["mean"] >= 0.5))
    rows.append(("conditioning probe ≥ 0.5", e["probe"]["mean"], 0.5, e["probe"]["mean"] >= 0.5))
    if dataset == "shapes" and "perfect_sampler" in e:
        bar = 0.85 * e["perfect_sampler"]["r_precision_truth"]
        rows.append(("restated: truth-aware R-precision ≥ 0.85 × a perfect sampler's", e["r_precision_truth"]["mean"],
                     bar, e["r_precision_truth"]["mean"] >= bar))
        faithful = on_the_diversity_bar(feasibility) if feasibility else None
        if faithful is not None:
            rows.append(("restated: conditioning probe ≥ a faithful sampler's on the diversity bar",
                         e["probe"]["mean"], faithful, e["probe"]["mean"] >= faithful))
    return rows


FIGURES = ("r_precision", "r_precision_truth", "probe", "diversity_ratio")  # per seed, pooled over seeds
COMPARED = ("split", "n_queries", "n_candidates", "sampler", "branch")
_JUDGE = ("path", "seed", "val_rsum")


def check_comparable(entry: dict, other: dict) -> None:
    """Two measurements of one dataset's imagination can be pooled only with the same split, queries, sampler,
    branch and judge; ``ValueError`` saying what differs otherwise (``scripts/imagination/pool_seeds.py`` too)."""
    for key in COMPARED:
        if entry[key] != other[key]:
            raise ValueError(f"{key} differs: {entry[key]!r} against {other[key]!r}")
    if any(entry["judge"][k] != other["judge"][k] for k in _JUDGE):
        raise ValueError(f"the judge differs: {entry['judge']} against {other['judge']}")


def with_pooled(results: dict, pooled: list[dict]) -> dict:
    """``results`` with each pooled dataset's seeds and figures taken from its pooled file (the sheet, the real
    pictures' figures and the reconstructions stay). A pool measured on another split, judge or sampler is refused."""
    out = dict(results)
    for p in pooled:
        e = results.get(p["dataset"])
        if e is None:
            continue
        check_comparable(p, e)
        merged = {**e, "seeds": p["seeds"], **{k: p[k] for k in FIGURES if k in p}}
        merged["command"] = p["command"]
        merged["pooled_from"] = [f"`{i['command']}` (seeds {', '.join(map(str, i['seeds']))})" for i in p["inputs"]]
        out[p["dataset"]] = merged
    return out


def _ms(d: dict, digits: int = 1) -> str:
    values = ", ".join(f"{v:.{digits}f}" for v in d["values"])
    return f"{d['mean']:.{digits}f} ± {d['std']:.{digits}f} ({values})"


def section(dataset: str, e: dict, title: str = "", feasibility: dict | None = None) -> str:
    j, s = e["judge"], e["sampler"]
    sampler = f"DDIM, {s['steps']} steps, guidance {s['guidance']}" if s.get("name") == "DDIM" else s.get("name", "")
    if s.get("best_of", 1) > 1:
        sampler += f", best of {s['best_of']} by GXN's own match"
    lines = [f"#### {title}{dataset}: {e['branch']} ({sampler}); {e['split']}, {e['n_queries']} queries, "
             f"{e['n_candidates']} candidates; seeds {', '.join(map(str, e['seeds']))}\n",
             f"Judge: `{j['path']}` (seed {j['seed']}, best val epoch {j['best_epoch']}, val rsum {j['val_rsum']:.1f}); "
             f"it finds the right caption from the real picture {e['r_precision_real']:.1f}% of the time"
             + (f", {e['r_precision_truth_real']:.1f}% truth-aware (chance {e['r_precision_truth_chance']:.1f}%)"
                if "r_precision_truth_real" in e else "") + ".\n",
             "| figure | imagined (mean ± std, per seed) | real pictures |", "|---|---|---|",
             f"| R-precision@1, % | {_ms(e['r_precision'])} | {e['r_precision_real']:.1f} |"]
    if "r_precision_truth" in e:
        lines.append(f"| truth-aware R-precision@1, % | {_ms(e['r_precision_truth'])} | {e['r_precision_truth_real']:.1f} |")
    if "perfect_sampler" in e:
        p = e["perfect_sampler"]
        lines.append(f"| a perfect sampler (a training scene the caption is true of), % | exact {p['r_precision']:.1f}, "
                     f"truth-aware {p['r_precision_truth']:.1f} (found for {p['captions_found'] * 100:.0f}% of captions)"
                     + (f"; its conditioning probe {p['probe']:.2f}" if "probe" in p else "") + " | |")
    lines.append(f"| diversity ratio (4 samples vs 4 true pictures, pixel distance) | {_ms(e['diversity_ratio'], 2)} | 1 |")
    lines.append(f"| conditioning probe | {_ms(e['probe'], 2)} | |")
    if "reconstruction" in e:
        r = e["reconstruction"]
        lines.append(f"| the autoencoder's reconstructions of the real pictures | R-precision {r['r_precision']:.1f}"
                     + (f", truth-aware {r['r_precision_truth']:.1f}" if "r_precision_truth" in r else "")
                     + f"; PSNR {r['psnr_db']:.1f} dB | |")
    lines += ["", "| bar (issue 21) | figure | bar | met |", "|---|---|---|---|"]
    lines += [f"| {what} | {fig:.2f} | {bar:.2f} | {'yes' if ok else '**no**'} |" for what, fig, bar, ok in bars(dataset, e, feasibility)]
    lines.append(f"\n`{e['command']}`\n")
    if e.get("pooled_from"):
        lines.append("Pooling the seeds measured by " + " and ".join(e["pooled_from"]) + "\n")
    if e.get("sheet"):
        lines.append(f"![what GXN imagines, {dataset}]({e['sheet']})\n")
    return "\n".join(lines)


def markdown(results: dict, command: str, source: str, before: dict | None = None,
             feasibility: dict | None = None, drawn_as_shipped: dict | None = None) -> str:
    """The block: each dataset's section, then (``before``) the same figures of the branch it replaces, then
    (``drawn_as_shipped``) the shipped checkpoints drawn with their shipped sampler where it differs (shapes:
    the best of k drawings by GXN's own s*)."""
    parts = [f"<!-- generated by `{command}` from {source}; do not edit by hand -->\n"]
    if feasibility:
        parts.append(RESTATED)
    parts += [section(ds, results[ds], feasibility=feasibility) for ds in ("shapes", "emoji") if ds in results]
    if before:
        # shapes still ships the GAN (its latent branch lost on val); on emoji it is what the latent branch replaced
        titles = {"shapes": "The shipped GAN GXN · ", "emoji": "Before, the shipped GAN GXN · "}
        parts += [section(ds, before[ds], titles[ds], feasibility) for ds in ("shapes", "emoji") if ds in before]
    for ds, e in (drawn_as_shipped or {}).items():
        parts.append(section(ds, e, "The shipped GXN as the demo draws (one seed: the shipped one) · ", feasibility))
    return "\n".join(parts)


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("--json", default="assets/results/imagination.json")
    p.add_argument("--results-md", default="RESULTS.md")
    p.add_argument("--before", default="assets/results/imagination/gan_shipped.json",
                   help="the same figures of the branch it replaces (skipped when the file is missing)")
    p.add_argument("--drawn-as-shipped", default="assets/results/imagination/best_of/test_k8.json",
                   help="tools.imagination's figures of the shipped checkpoint with its shipped sampler "
                        "(skipped when the file is missing)")
    p.add_argument("--feasibility", default="assets/results/imagination/bar_feasibility.json",
                   help="scripts/imagination/bar_feasibility.py's figures, for the restated shapes bars "
                        "(skipped when the file is missing)")
    p.add_argument("--pooled", nargs="*", default=["assets/results/imagination/emoji_all_seeds.json"],
                   help="scripts/imagination/pool_seeds.py outputs: their datasets are shown over all the pooled "
                        "seeds (a missing file is skipped)")
    a = p.parse_args(argv)
    command = "python -m lookimagine.tools.imagination_report " + shlex.join(sys.argv[1:] if argv is None else argv)
    before = json.loads(Path(a.before).read_text()) if a.before and Path(a.before).is_file() else None
    feasibility = (json.loads(Path(a.feasibility).read_text())
                   if a.feasibility and Path(a.feasibility).is_file() else None)
    pooled_files = [f for f in a.pooled if Path(f).is_file()]
    results = with_pooled(json.loads(Path(a.json).read_text()), [json.loads(Path(f).read_text()) for f in pooled_files])
    source = a.json + "".join(f" and {f}" for f in pooled_files)
    shipped = (json.loads(Path(a.drawn_as_shipped).read_text())
               if a.drawn_as_shipped and Path(a.drawn_as_shipped).is_file() else None)
    source += f" and {a.drawn_as_shipped}" if shipped else ""
    text = markdown(results, command.strip(), source, before, feasibility, shipped)
    md = Path(a.results_md)
    src = md.read_text()
    if MARK_START not in src:
        raise SystemExit(f"{md} has no {MARK_START} … {MARK_END} block")
    md.write_text(splice(src, MARK_START, MARK_END, text))
    print(text)
    return 0


if __name__ == "__main__":
    sys.exit(main())
