"""Query-time fusion of imagination into Match (``evaluation/fusion.py``), weights chosen on val, reported on
test, over the GXN checkpoints given (one per seed), into ``assets/results/fusion.json``.

    python -m lookimagine.tools.fusion shapes --checkpoints assets/checkpoints/shapes/gxn \\
        --test-splits test test-heldout --out assets/results/fusion.json
    python -m lookimagine.tools.fusion --report     # RESULTS.md's fusion block from the JSON

For each direction the weight with the best mean val R@1 over the checkpoints is chosen (w = 0, GXN's own
ranking, is a candidate), then each test split is ranked with w = 0 and with that weight, and the paired
difference over checkpoints is reported. The dataset's entry of ``--out`` is replaced; others are kept.
"""

from __future__ import annotations

import argparse
import json
import shlex
import sys
import time
from pathlib import Path

import numpy as np
import torch

from ..config import TrainConfig, from_dict
from ..data import load_dataset
from ..data.batching import encode_split
from ..evaluation.embedding import split_similarity
from ..evaluation.evaluate_checkpoint import resolve_checkpoint
from ..evaluation.retrieval import caption_keys, evaluate_retrieval
from ..evaluation.fusion import fuse, imagined_scores, rerank_top_k, top_k_likelihood
from ..evaluation.verdict import mean_ci, paired
from ..models.checkpoint import load_checkpoint

WEIGHTS = (0.0, 0.1, 0.25, 0.5, 1.0, 2.0)


def split_scores(model, vocab, config: dict, split: str, k: int, device: str = "cpu", seed: int = 0,
                 n: int | None = None) -> dict:
    """Everything a weight needs on one split: s*, the imagined pictures' scores, the top-k likelihoods.
    ``n``: shapes only, that many scenes of the split (a quick run; the reported figures use whole splits)."""
    train_cfg = from_dict(TrainConfig, config["train"])
    size = {"n": n} if n and train_cfg.dataset == "shapes" else {}
    dataset = load_dataset(train_cfg.dataset, split, **train_cfg.dataset_kwargs(), **size)
    data = encode_split(dataset, vocab, image_size=config["model"]["image_size"], max_len=train_cfg.max_len)
    sims = split_similarity(model, data, device).numpy()  # (N images, M captions)
    # the split's primary protocol, as evaluate_checkpoint's: by meaning where a checker exists, else by text
    truth = dataset.truth_matrix()
    out = {"owner": data.image_of_caption.numpy(), "sims": sims,
           "protocol": {"ground_truth": truth} if truth is not None else {"caption_keys": caption_keys(data.captions)}}
    if model.can_draw:
        out["imagined"] = imagined_scores(model, data, device, seed=seed)  # (M, N)
    if model.can_caption:
        out["top"], out["likelihood"] = top_k_likelihood(model, data, sims, k, device)
    return out


def _retrieval(sims: np.ndarray, scores: dict) -> dict:
    return evaluate_retrieval(sims, scores["owner"], **scores["protocol"])


def r1_at(scores: dict, w: float) -> dict[str, float]:
    """R@1 of the two fused rankings at weight ``w`` (under the split's primary protocol)."""
    out = {}
    if "likelihood" in scores:
        ranked = rerank_top_k(scores["sims"], scores["top"], scores["likelihood"], w)
        out["i2t_r1"] = _retrieval(ranked, scores)["image_to_text"]["r1"]
    if "imagined" in scores:
        fused = fuse(scores["sims"].T, scores["imagined"], w).T
        out["t2i_r1"] = _retrieval(fused, scores)["text_to_image"]["r1"]
    return out


def run(dataset: str, checkpoints: list[str], val_split: str, test_splits: list[str], weights: tuple[float, ...],
        k: int, seed: int = 0, n: int | None = None, sampler: dict | None = None) -> dict:
    """``sampler``: a diffusion branch's ModelConfig sampler fields (``diffusion_sample_steps``,
    ``diffusion_guidance``) instead of each checkpoint's, as chosen on val for the imagined pictures."""
    models = []
    for c in checkpoints:
        model, vocab, config = load_checkpoint(resolve_checkpoint(c))
        model.set_sampler(sampler)
        model.eval()
        models.append((str(resolve_checkpoint(c)), model, vocab, config))
    val = {}
    for path, model, vocab, config in models:
        scores = split_scores(model, vocab, config, val_split, k, seed=seed, n=n)
        val[path] = {str(w): r1_at(scores, w) for w in weights}
    directions = sorted({d for per_w in val.values() for r in per_w.values() for d in r})
    chosen = {}
    for d in directions:
        mean = {w: float(np.mean([val[p][str(w)][d] for p in val])) for w in weights}
        chosen[d] = {"weight": max(weights, key=lambda w: (mean[w], -w)), "val_r1_by_weight": mean}
    test = {}
    for split in test_splits:
        per = {d: {"w0": [], "fused": []} for d in directions}
        for path, model, vocab, config in models:
            scores = split_scores(model, vocab, config, split, k, seed=seed, n=n)
            own = r1_at(scores, 0.0)  # both directions at once; each chosen weight once
            fused = {w: r1_at(scores, w) for w in {chosen[d]["weight"] for d in directions}}
            for d in directions:
                per[d]["w0"].append(own[d])
                per[d]["fused"].append(fused[chosen[d]["weight"]][d])
        test[split] = {d: {"weight": chosen[d]["weight"], "gxn": mean_ci(v["w0"]), "fused": mean_ci(v["fused"]),
                           "fused_minus_gxn": paired(v["w0"], v["fused"])} for d, v in per.items()}
    return {"checkpoints": [p for p, *_ in models], "val_split": val_split, "weights": list(weights),
            "top_k": k, "imagine_seed": seed, "sampler": sampler or None, "n_scenes": n, "val": val, "chosen": chosen, "test": test,
            "what": {"i2t_r1": "image→text: the top-k captions by s* re-ranked by z(s*) + w·z(caption log-likelihood)",
                     "t2i_r1": "text→image: z(s*) + w·z(similarity of the query's imagined picture to each image)"}}


MARK_START, MARK_END = "<!-- fusion:start -->", "<!-- fusion:end -->"
NAMES = {"i2t_r1": "image→text R@1, top-k re-ranked by the caption's likelihood",
         "t2i_r1": "text→image R@1, fused with the imagined picture's similarity"}


def _run_folder(checkpoint: Path) -> Path:
    """A run's folder from its checkpoint's (``runs/final/emoji-s1/gxn/best`` → ``runs/final/emoji-s1/gxn``)."""
    return checkpoint.parent if checkpoint.name in ("best", "last") else checkpoint


def markdown(everything: dict) -> str:
    """RESULTS.md's fusion block from ``fusion.json``: per dataset and test split, GXN's own R@1, the fused one
    at the weight chosen on val, and the paired difference over the checkpoints."""
    lines = ["<!-- generated by `python -m lookimagine.tools.fusion --report` from assets/results/fusion.json; "
             "do not edit by hand -->", ""]
    for dataset, r in everything.items():
        names = ", ".join("/".join(_run_folder(Path(c)).parts[-2:]) for c in r["checkpoints"])
        sampler = r.get("sampler") or {}
        drawn = (f"; pictures drawn with {sampler['diffusion_sample_steps']} DDIM steps, guidance "
                 f"{sampler['diffusion_guidance']:g}" if {"diffusion_sample_steps", "diffusion_guidance"} <= set(sampler)
                 else "")
        lines += [f"**{dataset}** ({len(r['checkpoints'])} checkpoint{'s' if len(r['checkpoints']) > 1 else ''}: "
                  f"{names}; weights {', '.join(str(w) for w in r['weights'])} tried on {r['val_split']}{drawn}):", "",
                  "| split | ranking | weight (val) | GXN | fused | fused − GXN |", "|---|---|---|---|---|---|"]
        for split, by in r["test"].items():
            for d, c in by.items():
                diff = c["fused_minus_gxn"]
                ci = f" [{diff['ci95'][0]:+.1f}, {diff['ci95'][1]:+.1f}]" if diff.get("ci95") else ""
                lines.append(f"| {split} | {NAMES[d]} | {c['weight']} | {c['gxn']['mean']:.1f} | "
                             f"{c['fused']['mean']:.1f} | {diff['mean']:+.1f}{ci} |")
        lines += ["", f"<sub>`{r['command']}`</sub>", ""]
    return "\n".join(lines).rstrip() + "\n"


def report(results: Path, results_md: Path) -> None:
    from ..report import splice

    text = results_md.read_text()
    if MARK_START not in text:
        raise SystemExit(f"{results_md} has no {MARK_START} … {MARK_END} block")
    results_md.write_text(splice(text, MARK_START, MARK_END, markdown(json.loads(results.read_text()))))


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(prog="python -m lookimagine.tools.fusion", description=__doc__,
                                formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("dataset", nargs="?")
    p.add_argument("--checkpoints", nargs="+", help="GXN checkpoints, one per seed")
    p.add_argument("--report", action="store_true", help="only write RESULTS.md's fusion block from --out")
    p.add_argument("--results-md", default="RESULTS.md")
    p.add_argument("--val-split", default="val")
    p.add_argument("--test-splits", nargs="+", default=["test"])
    p.add_argument("--weights", type=float, nargs="+", default=list(WEIGHTS))
    p.add_argument("--k", type=int, default=20, help="image→text: how many top captions are re-ranked")
    p.add_argument("--seed", type=int, default=0, help="the seed of the imagined pictures")
    p.add_argument("--n", type=int, help="shapes only: the first N scenes of each split (a quick check)")
    p.add_argument("--threads", type=int, default=1)
    p.add_argument("--steps", type=int, help="a diffusion branch's DDIM steps instead of the checkpoint's")
    p.add_argument("--guidance", type=float, help="a diffusion branch's guidance instead of the checkpoint's")
    p.add_argument("--out", default="assets/results/fusion.json")
    a = p.parse_args(argv)
    sampler = {k: v for k, v in (("diffusion_sample_steps", a.steps), ("diffusion_guidance", a.guidance))
               if v is not None}
    if a.report:
        report(Path(a.out), Path(a.results_md))
        return 0
    if not a.dataset or not a.checkpoints:
        p.error("a dataset and --checkpoints are needed (or --report)")
    torch.set_num_threads(a.threads)
    start = time.time()
    result = run(a.dataset, a.checkpoints, a.val_split, a.test_splits, tuple(a.weights), a.k, a.seed, a.n,
                 sampler)
    used = sys.argv[1:] if argv is None else argv
    result = {"command": "python -m lookimagine.tools.fusion " + shlex.join(used), **result,
              "seconds": round(time.time() - start, 1)}
    out = Path(a.out)
    everything = json.loads(out.read_text()) if out.is_file() else {}
    everything[a.dataset] = result
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(json.dumps(everything, indent=1))
    for split, by in result["test"].items():
        for d, r in by.items():
            diff = r["fused_minus_gxn"]
            print(f"{a.dataset} {split} {d}: w = {r['weight']}: {r['gxn']['mean']:.1f} → {r['fused']['mean']:.1f} "
                  f"({diff['mean']:+.1f})")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
