"""Results, shipped checkpoints and figures, all made from files that commands wrote.

    python -m lookimagine.report ship --dataset emoji     # best-on-val staged GXN seed + its baseline → assets/checkpoints/
    python -m lookimagine.report grid --dataset emoji     # imagined images and captions → assets/figures/
    python -m lookimagine.report sampler --dataset shapes --best-of 8   # a sampler chosen on val → the shipped GXN
    python -m lookimagine.report                          # RESULTS.md's tables, the verdict figure, differences

The order of the whole reproduction is in RESULTS.md ("Reproduce the results").
"""

from __future__ import annotations

import argparse
import dataclasses
import json
import shlex
import shutil
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
ASSETS = ROOT / "assets"


UNET_INT8 = ("diffusion.unet.",)  # what ships in int8 (models/checkpoint.py's quantize)
SHIP_RULES = {
    "gxn-val": "the seed whose GXN has the best val rsum",
    "stage1-val": "the seed whose stage 1 (the encoders both models start from) has the best val rsum, chosen "
                  "before any GXN was trained, so the choice cannot favour GXN",
    "median-val-diff": "the seed whose paired val difference (GXN's best val rsum − its equal-epoch baseline's) is "
                       "the median of the seeds', so the shipped pair shows a typical difference, not the best",
}


def val_rsums(runs_root: Path, dataset: str, stage: str) -> dict[int, float]:
    """{seed: best val rsum} of ``<runs_root>/<dataset>-s<seed>/<stage>/run.json`` where it exists."""
    out = {}
    for run in sorted(runs_root.glob(f"{dataset}-s*")):
        meta = run / stage / "run.json"
        if meta.is_file():
            out[int(run.name.rsplit("-s", 1)[1])] = json.loads(meta.read_text())["best_val_rsum"]
    return out


def choose_seed(runs_root: Path, dataset: str, rule: str) -> tuple[int, dict[int, float], dict[int, float]]:
    """(the seed to ship by ``rule``, GXN's val rsum per seed, stage 1's val rsum per seed)."""
    candidates, stage1 = val_rsums(runs_root, dataset, "gxn"), val_rsums(runs_root, dataset, "stage1")
    if not candidates:
        raise SystemExit(f"no finished staged {dataset} GXN runs in {runs_root}")
    if rule == "gxn-val":
        return max(candidates, key=candidates.get), candidates, stage1
    if rule == "median-val-diff":
        return median_seed(candidates, val_rsums(runs_root, dataset, "baseline")), candidates, stage1
    seed = max(stage1, key=stage1.get)
    if seed not in candidates:
        raise SystemExit(f"seed {seed} has the best stage 1 but no finished GXN in {runs_root}")
    return seed, candidates, stage1


def median_seed(gxn: dict[int, float], baseline: dict[int, float]) -> int:
    """The seed whose GXN − baseline val difference is the median (with an even count, the lower of the two
    middle ones; ties to the smaller seed)."""
    # rounded: rsums are sums of recalls over a fixed query set, so equal differences are equal up to float
    # noise (1e-13), which must not decide a tie
    diffs = {s: round(gxn[s] - baseline[s], 6) for s in sorted(gxn) if s in baseline}
    if not diffs:
        raise SystemExit("no seed has both a finished GXN and a finished baseline")
    ranked = sorted(diffs, key=lambda s: (diffs[s], s))
    return ranked[(len(ranked) - 1) // 2]


def ship(dataset: str, runs_root: Path, assets: Path, command: str, rule: str = "gxn-val",
         results: Path | None = None, sampler: dict | None = None) -> dict:
    """Ship GXN and the control baseline of one staged seed, chosen on val (never test) by ``rule``
    (``SHIP_RULES``). ``results``: the folder of the pair's test evaluations for the model cards (default
    ``assets/results/staged/<dataset>``). ``sampler``: the text→image sampler as chosen on val
    (``diffusion_sample_steps``, ``diffusion_guidance``, ``imagine_best_of``), written into the shipped GXN's
    config."""
    from .config import TrainConfig, from_dict
    from .models.checkpoint import load_checkpoint, save_checkpoint
    from .pipeline.layout import PipelineFolder

    seed, candidates, stage1 = choose_seed(runs_root, dataset, rule)
    results = results or assets / "results" / "staged" / dataset
    shipped = {}
    for variant in ("gxn", "baseline"):
        run = runs_root / f"{dataset}-s{seed}" / variant
        model, vocab, config = load_checkpoint(run / "best")
        applied = model.set_sampler(sampler)  # what applies to this model: a GAN has no DDIM steps or guidance
        out = PipelineFolder.shipped(dataset, assets).checkpoint(variant)
        shutil.rmtree(out, ignore_errors=True)
        meta = {**config["meta"], "shipped_by": command, "seed_rule": SHIP_RULES[rule],
                "val_rsum_of_gxn_seeds": candidates,
                **({"val_rsum_of_stage1_seeds": stage1} if rule == "stage1-val" else {}),
                **({"sampler": applied} if applied else {}),
                **({"val_rsum_of_baseline_seeds": val_rsums(runs_root, dataset, "baseline")}
                   if rule == "median-val-diff" else {})}
        # a diffusion UNet ships in int8 (weight-only, per output channel): the checkpoint's ≤ 8 MB budget, at a
        # cost measured by tools/quantization.py (assets/results/imagination/quantization_emoji.json)
        save_checkpoint(out, model, vocab, from_dict(TrainConfig, config["train"]), meta, half=True,
                        quantize=UNET_INT8 if model.diffusion is not None else ())
        run_meta = json.loads((run / "run.json").read_text())
        result_path = results / f"{variant}-s{seed}-test.json"
        result = json.loads(result_path.read_text()) if result_path.is_file() else None
        verdict_path = results / "verdict.json"
        spread = seed_against_mean(json.loads(verdict_path.read_text()), seed) if verdict_path.is_file() else ""
        (out / "README.md").write_text(model_card(dataset, variant, seed, {**config, "model": dataclasses.asdict(
            model.cfg)}, run_meta, result, rule, spread))
        shipped[variant] = {"path": str(out.relative_to(ROOT) if out.is_relative_to(ROOT) else out), "seed": seed,
                            "bytes": (out / "model.safetensors").stat().st_size}
    verdict_path = results / "verdict.json"
    if verdict_path.is_file():  # the verdict says which of its seeds ships, and by what rule
        v = json.loads(verdict_path.read_text())
        v["shipped"] = {"seed": seed, "rule": rule, "rule_text": SHIP_RULES[rule], "command": command,
                        "val_rsum_of_gxn_seeds": candidates,
                        **({"val_rsum_of_baseline_seeds": val_rsums(runs_root, dataset, "baseline")}
                           if rule == "median-val-diff" else {})}
        verdict_path.write_text(json.dumps(v, indent=1))
    return shipped


SAMPLER_CARD = "\n## Sampler\n"


def set_sampler(dataset: str, assets: Path, sampler: dict, command: str, chosen_on: str | None = None) -> dict:
    """Write a sampler chosen on val (``imagine_best_of``; a diffusion branch's steps and guidance) into the
    shipped GXN's config.json, and say so in its model card. No weight changes: what a sampler changes is how
    pictures are drawn from the same network. Returns the shipped GXN's new model config."""
    from .config import ModelConfig, from_dict
    from .pipeline.layout import PipelineFolder

    folder = PipelineFolder.shipped(dataset, assets).checkpoint("gxn")
    config = json.loads((folder / "config.json").read_text())
    model_cfg = from_dict(ModelConfig, {**config["model"], **sampler})  # validated: a bad value fails here
    if model_cfg.t2i == "none":
        raise SystemExit(f"the shipped {dataset} GXN has no text→image branch")
    config["model"] = dataclasses.asdict(model_cfg)
    config["meta"] = {**config["meta"], "sampler": {**config["meta"].get("sampler", {}), **sampler},
                      "sampler_set_by": command, **({"sampler_chosen_on": chosen_on} if chosen_on else {})}
    (folder / "config.json").write_text(json.dumps(config, indent=2))
    card = (folder / "README.md").read_text().split(SAMPLER_CARD)[0].rstrip("\n") + "\n"
    k = model_cfg.imagine_best_of
    how = (f"each imagined picture is the best of {k} drawings, as GXN's own Match (s*) ranks them against the "
           "sentence (DALL·E's reranking; the weights are the same)" if k > 1 else "each picture as drawn")
    card += (f"{SAMPLER_CARD}\nText→image: {how}; set by `{command}`"
             + (f", chosen on val in `{chosen_on}`" if chosen_on else "") + ".\n")
    (folder / "README.md").write_text(card)
    return config["model"]


def seed_against_mean(verdict: dict, seed: int) -> str:
    """One sentence: the shipped seed's test GXN − baseline R@1 beside the mean over all the verdict's seeds."""
    test = verdict["splits"].get("test")
    if not test or seed not in test["seeds"]:
        return ""
    i = test["seeds"].index(seed)
    d = test["gxn_minus_baseline"]
    n = d["i2t_r1"]["n"]
    return (f"On test, this seed's GXN − baseline R@1 is {d['i2t_r1']['values'][i]:+.1f} image→text and "
            f"{d['t2i_r1']['values'][i]:+.1f} text→image; over all {n} seeds the mean is {d['i2t_r1']['mean']:+.1f} "
            f"and {d['t2i_r1']['mean']:+.1f}.")


WEIGHTS_LINE = "fp16 weights in `model.safetensors`"
WEIGHTS_LINE_INT8 = ("fp16 weights in `model.safetensors`, the diffusion UNet's matrices and kernels in int8 with "
                     "one scale per output channel (`python -m lookimagine.tools.quantization`)")


def model_card(dataset: str, variant: str, seed: int, config: dict, run_meta: dict, result: dict | None,
               rule: str = "gxn-val", spread: str = "") -> str:
    from .data.licences import from_train_config

    lic = from_train_config({**(config.get("train") or {}), "dataset": dataset})  # the art's licence carries over
    licence = lic.licence
    styles = (config.get("train") or {}).get("styles") or ["openmoji"]
    if dataset == "emoji":
        data_line = ("emoji in " + ", ".join(styles) + " art, named by their Unicode CLDR names; the weights derive "
                     f"from that artwork: {lic.name} (credits below).")
    else:
        data_line = "procedurally generated shapes scenes (`lookimagine.data.shapes`)."
    staged = run_meta.get("preset", "").endswith(("-gxn-ft", "-baseline-ft", "-gxn-latent-ft"))
    model_cfg = config.get("model") or {}
    latent = model_cfg.get("t2i") == "diffusion" and model_cfg.get("diffusion_space") == "latent"
    what = ("GXN, staged (paper §3.4), with a latent diffusion text→image branch: encoders trained alone, then a "
            "caption decoder (XE) and a text-conditioned `UNet2DConditionModel` that denoises the 16×16×4 latents "
            "of a per-dataset autoencoder (trained once on the training images), cross-attending to GXN's grounded "
            "word states, pretrained on the frozen encoders; then everything fine-tuned jointly, the denoising "
            f"loss reaching the text encoder. Sampler: DDIM, {model_cfg.get('diffusion_sample_steps')} steps, "
            f"classifier-free guidance {model_cfg.get('diffusion_guidance')}" if variant == "gxn" and latent else
            "GXN, staged (paper §3.4): encoders trained alone, then a caption decoder (XE) and a text→image GAN "
            "pretrained on the frozen encoders, then everything fine-tuned jointly" if variant == "gxn" and staged
            else "the baseline: the same stage-1 encoders fine-tuned for the same epochs at the same lr, with no "
            "generators" if staged else
            "GXN: the embedding model trained jointly with a caption decoder (XE, then XE+RL with CIDEr-D) and a "
            "text→image GAN" if variant == "gxn" else
            "the baseline: the same embedding model trained with the identical recipe, generators switched off")
    command = run_meta.get("command", "")
    if command.split(" ", 1)[0].endswith("lookimagine/train.py"):  # recorded as sys.argv by older runs
        command = "python -m lookimagine.train " + command.split(" ", 1)[1]
    drawings = "its 64×64 drawings"
    metrics = ""
    if result:
        r = result["retrieval"]
        metrics = "\n".join(f"- {d.replace('_', ' ')}: R@1 {r[d]['r1']:.1f}, R@5 {r[d]['r5']:.1f}, "
                            f"R@10 {r[d]['r10']:.1f}, median rank {r[d]['median_rank']:.0f}"
                            for d in ("image_to_text", "text_to_image"))
        metrics += f"\n- rsum {r['rsum']:.1f} ({result['split']} split; `{result['command']}`)"
        if "captioning" in result:
            metrics += (f"\n- generated captions: BLEU-4 {result['captioning']['bleu4']:.1f}, "
                        f"CIDEr-D {result['captioning']['cider_d']:.1f}")
        if "image_generation" in result:
            rp = result["image_generation"]["r_precision"]
            metrics += (f"\n- generated images: R-precision@1 {rp:.1f} (chance: 1.0; the judge scores "
                        f"{result['image_generation']['r_precision_real_images']:.1f} on the real test images)")
            if rp < 2.0:
                drawings = "its 64×64 drawings (R-precision at chance: they carry no recognisable content yet)"
    return f"""---
library_name: lookimagine
license: {licence}
tags: [image-text-retrieval, cross-modal-retrieval, gxn, pocket]
pipeline_tag: feature-extraction
---
# lookimagine pocket {variant} · {dataset}

{what}. Pocket tier: a small CNN and GRUs trained from scratch on a CPU
({WEIGHTS_LINE_INT8 if variant == "gxn" and latent else WEIGHTS_LINE}; config and vocabulary in JSON).

- **Data**: {data_line}
- **Training command**: `{command}` (preset `{run_meta.get('preset')}`, seed {seed});
  best epoch on val {run_meta.get('best_epoch')} of {config['train']['epochs']}; {run_meta.get('wall_seconds')} s
  on {run_meta.get('threads')} CPU thread(s), {run_meta.get('samples_per_second')} images/s,
  peak memory {run_meta.get('peak_memory_mb')} MB.
- **Selection**: best validation rsum over epochs; the seed shipped is {SHIP_RULES[rule]}, with the baseline of
  the same seed.{(" " + spread) if spread else ""}

## Test metrics
{metrics or '(evaluation JSON not found when this card was written)'}

## Limitations
A 64×64 toy-scale model trained in minutes on a CPU: it knows only the vocabulary of its training
captions, {drawings if variant != "baseline" else "it has no generator"}, and it says nothing about real
photographs. Numbers are not comparable with the paper's MSCOCO results.

{licence_section(lic)}"""


def licence_section(lic) -> str:
    """A card's "Licence and attribution" section for a ``data.licences.DataLicence``."""
    return (f"## Licence and attribution\n\nWeights: **{lic.name}**. {lic.markdown()}\n\n"
            "The lookimagine code is Apache-2.0.\n")


RESULTS_INTRO = """# Results and analysis

What GXN's imagining is worth on the pocket datasets, against a baseline that cannot imagine: the
verdicts over five paired seeds, the tables behind them, what the runs say and how to reproduce every
number. The demo and how to run it are in the [README](README.md); the other pages in [docs/](docs/README.md).

The part between the `results:start` and `results:end` markers is written by `python -m lookimagine.report`
from the JSONs in `assets/results/` (do not edit it by hand); the rest is written by hand from the same JSONs.

"""
FOREST_PNG = "verdict_forest.png"
FOREST_ALT = "GXN − baseline, R@1, per dataset, split and direction, with 95% intervals: at equal epochs and at equal wall-clock"
MARK_FIGURE_START, MARK_FIGURE_END = "<!-- figure:start -->", "<!-- figure:end -->"
MARK_HEADLINE_START, MARK_HEADLINE_END = "<!-- headline:start -->", "<!-- headline:end -->"


def tables(assets: Path, readme: Path, command: str, results_md: Path | None = None) -> dict:
    """The results: ``RESULTS.md`` (its generated block), the forest figure, the README's figure block,
    ``assets/results/tables.md`` (the tables the app's Benchmark tab folds) and ``summary.json``."""
    from .evaluation import results as rep

    # The results of the staged recipe (issues 9 and 10). The earlier one-joint-step runs stay in
    # assets/results/{emoji,shapes}/ with the commands that made them; they no longer drive this section.
    # Shapes first, as the demo opens on it; each dataset's longer-trained-encoder verdict after its staged one.
    staged = sorted((assets / "results" / "staged").glob("*/verdict.json"),
                    key=lambda p: (p.parent.name != "shapes", p.parent.name))
    if not staged:
        raise SystemExit("no assets/results/staged/*/verdict.json: run scripts/evaluate_staged.sh first")
    converged = sorted((assets / "results" / "converged").glob("*/verdict.json"))
    # The final seeds of the shipped recipe (issue 23: converged stage 1, the latent imagine branch), first.
    final = sorted((assets / "results" / "final").glob("*/verdict.json"))
    families = {recipe: holm_family(paths, command)
                for recipe, paths in (("final", final), ("staged", staged), ("converged", converged)) if paths}
    forest = forest_figure(staged, converged, assets / "figures" / FOREST_PNG)
    parts, summary = final_sections(final), {"datasets": {}}
    for path in staged:
        more, of_dataset = staged_sections([path], assets)
        parts += more + converged_sections([p for p in converged if p.parent.name == path.parent.name])
        summary["datasets"].update(of_dataset["datasets"])
    summary["command"] = command
    summary["headline"] = families
    summary["figure"] = str(forest.relative_to(assets.parent)) if forest.is_relative_to(assets.parent) else str(forest)
    bench = benchmark_section(assets / "results")
    if bench:
        parts.append(bench)
    training = training_speed_section(assets / "results" / "benchmarks")
    if training:
        parts.append(training)
    paper = "\n".join(f"| {m} | {a} | {b} |" for m, a, b in rep.PAPER)
    parts.append("### The paper's MSCOCO 1K table, for orientation (R@1 / R@10 / median rank)\n\n"
                 "| model | image→text | text→image |\n|---|---|---|\n" + paper + "\n")
    body = "\n".join(parts)
    text = (f"<!-- generated by `{command}` from assets/results/*/*.json; do not edit by hand -->\n\n{body}")
    (assets / "results" / "tables.md").write_text(text)
    (assets / "results" / "summary.json").write_text(json.dumps(summary, indent=1))
    results_md = results_md or readme.parent / "RESULTS.md"
    figure = f"![{FOREST_ALT}](assets/figures/{forest.name})"
    src = results_md.read_text() if results_md.is_file() else (
        f"{RESULTS_INTRO}{figure}\n\n## Results\n\n{rep.MARK_START}\n{rep.MARK_END}\n")
    results_md.write_text(splice(src, rep.MARK_START, rep.MARK_END, text))
    if readme.is_file():
        block = (f"<!-- generated by `{command}` from assets/results/{{staged,converged}}/*/verdict.json -->\n"
                 f"{figure}\n\n"
                 f"*GXN − baseline, R@1, five paired seeds with 95% intervals: at equal epochs (GXN's fine-tuning "
                 f"against the same epochs without generators), at equal wall-clock (against the baseline trained "
                 f"as long as GXN's extra stages take) and, on shapes, with both started from that longer-trained "
                 f"encoder.*")
        text = splice(readme.read_text(), MARK_FIGURE_START, MARK_FIGURE_END, block)
        readme.write_text(splice(text, MARK_HEADLINE_START, MARK_HEADLINE_END, headline_markdown(families, command)))
    return summary


def holm_family(verdicts: list[Path], command: str) -> dict:
    """The pre-registered headline family of one recipe's verdicts (``evaluation/multiple.py``), Holm-adjusted
    over all its datasets; each ``verdict.json`` gets its own cells as ``headline`` (read by its tables)."""
    from .evaluation.multiple import headline, load_plan

    loaded = {p.parent.name: json.loads(p.read_text()) for p in verdicts}
    family = {**headline(loaded, load_plan()), "command": command}
    for path in verdicts:
        v = loaded[path.parent.name]
        v["headline"] = {**{k: family[k] for k in ("alpha", "family", "examined", "survive", "command")},
                         "cells": [c for c in family["cells"] if c["dataset"] == path.parent.name]}
        path.write_text(json.dumps(v, indent=1))
    return family


def headline_markdown(families: dict, command: str) -> str:
    """The README's headline: what survives Holm correction in each recipe, in plain words."""
    from .evaluation.multiple import headline_sentence

    final = {c["dataset"] for c in families.get("final", {}).get("cells", [])}
    names = {"final": "**Five paired seeds of the shipped recipe** (converged stage 1; emoji: the latent diffusion "
                      "imagine branch" + ("; shapes: the GAN)" if "shapes" in final else ")"),
             "staged": "**Five paired seeds of the staged recipe** (shapes and emoji)",
             "converged": "**Both started from the longer-trained encoder** (shapes)"}
    lines = [f"<!-- generated by `{command}` from assets/results/{{final,staged,converged}}/*/verdict.json and "
             f"assets/results/preregistered.json -->"]
    for recipe, family in families.items():
        lines.append(f"- {names.get(recipe, recipe)}, {family['family']}: {headline_sentence(family)}")
    return "\n".join(lines)


def splice(src: str, start: str, end: str, text: str) -> str:
    """``src`` with what lies between the ``start`` and ``end`` markers replaced by ``text`` (unchanged without them)."""
    if start not in src or end not in src:
        return src
    head, rest = src.split(start, 1)
    _, tail = rest.split(end, 1)
    return f"{head}{start}\n{text}\n{end}{tail}"


def forest_figure(staged: list[Path], converged: list[Path], out: Path) -> Path:
    """GXN − baseline per dataset × split × direction (``evaluation/forest.py``), datasets in the order given."""
    from .evaluation.forest import forest_figure as figure, forest_rows, save_forest

    rows = forest_rows({p.parent.name: json.loads(p.read_text()) for p in staged},
                       {p.parent.name: json.loads(p.read_text()) for p in converged})
    return save_forest(figure(rows), out)


def recipe_sections(verdicts: list[Path], title: str, what: str | dict[str, str],
                    source: str | dict[str, str] = "") -> list[str]:
    """Each verdict's tables under ``"<dataset>, <title>"``, then ``what`` the recipe is and where the numbers
    come from (``source``: the script that made them, before the evaluation folder); either may be given per
    dataset, as a dict."""
    from .evaluation import verdict as vd

    parts = []
    for path in verdicts:
        dataset, recipe = path.parent.name, path.parent.parent.name
        v = json.loads(path.read_text())
        text = what[dataset] if isinstance(what, dict) else what
        src = (source.get(dataset, "") if isinstance(source, dict) else source).format(dataset=dataset)
        parts.append(vd.markdown(v, f"{dataset}, {title}") + "\n")
        parts.append(f"{text}\n\n<sub>`{v['command']}`; {src}evaluation JSONs in "
                     f"`assets/results/{recipe}/{dataset}/`.</sub>\n")
    return parts


# The shipped recipe's imagine branch per dataset: the latent diffusion won on emoji val, the GAN kept on shapes.
FINAL_BRANCH = {"emoji": "the latent diffusion branch's stages 2 and 3", "shapes": "the GAN branch's stages 2 and 3"}
FINAL_SCRIPT = {"emoji": "`bash scripts/final_latent.sh emoji`; ", "shapes": "`bash scripts/final_shapes.sh 1 2 3 4 5`; "}


def final_sections(verdicts: list[Path]) -> list[str]:
    """The verdicts of the shipped recipe's final seeds (scripts/final_latent.sh, scripts/final_shapes.sh)."""
    what = {ds: f"Stage 1 to convergence, then {branch} (GXN) against the same stage 1 fine-tuned for stage 3's "
                "epochs without generators (equal epochs) and for up to as long as GXN's stages 2 and 3 take, "
                "stopped early once its val rsum has not improved for 3 epochs (equal wall-clock; how long it "
                "actually trained is in the training health above)." for ds, branch in FINAL_BRANCH.items()}
    return recipe_sections(verdicts, "the shipped recipe (final seeds)", what, FINAL_SCRIPT)


def converged_sections(verdicts: list[Path]) -> list[str]:
    """The verdicts of GXN and its control both started from the longer-trained encoder (scripts/staged_converged.sh)."""
    return recipe_sections(
        verdicts, "both from the longer-trained encoder",
        "Stages 2 and 3 and the 3-epoch control, all started from each seed's equal-wall-clock control instead of "
        "stage 1. The judge of imagined images here is a longer-trained model, so these R-precision figures are not "
        "comparable with the staged ones above.")


def staged_sections(verdicts: list[Path], assets: Path) -> tuple[list[str], dict]:
    """The results of the staged runs' verdicts (assets/results/staged/<dataset>/verdict.json)."""
    from .evaluation import verdict as vd
    from .evaluation.differences import differences_report, write_differences
    from .pipeline.layout import PipelineFolder

    parts, summary = [], {"datasets": {}}
    for path in verdicts:
        dataset = path.parent.name
        v = json.loads(path.read_text())
        parts.append(vd.markdown(v, dataset) + "\n")
        parts.append(f"<sub>`{v['command']}`; evaluation JSONs in `assets/results/staged/{dataset}/`.</sub>\n")
        grid = assets / "figures" / f"{dataset}_imagined.png"
        if grid.is_file():
            parts.append(f"![imagined, {dataset}](assets/figures/{grid.name})\n")
        folder = PipelineFolder.shipped(dataset, assets)
        # the shipped pair's own test evaluations (report ship --results), else the staged runs'
        pair = assets / "results" / "pair" / dataset
        test = vd.load_results(pair if pair.is_dir() else path.parent).get("test", {})
        diff = None
        if (folder.checkpoint("gxn") / "config.json").is_file() and "gxn" in test and "baseline" in test:
            seed = json.loads((folder.checkpoint("gxn") / "config.json").read_text())["train"]["seed"]
            if seed in test["gxn"] and seed in test["baseline"]:
                diff = differences_report(test, seed)
                write_differences(folder.differences, diff)
                c, n = diff["counts"], diff["n_queries"]
                parts.append(
                    f"Where they differ (the shipped pair, seed {seed}, test): GXN ranks a ground truth first and the baseline "
                    f"does not for {c['image_to_text:gxn']} of {n['image_to_text']} image queries and "
                    f"{c['text_to_image:gxn']} of {n['text_to_image']} text queries; the reverse holds for "
                    f"{c['image_to_text:baseline']} and {c['text_to_image:baseline']}.\n")
        summary["datasets"][dataset] = {
            "gxn_minus_baseline": {split: {k: s["gxn_minus_baseline"][k] for k in ("i2t_r1", "t2i_r1", "rsum")}
                                   for split, s in v["splits"].items()},
            "gxn_minus_baseline_wall": {split: {k: s["gxn_minus_baseline_wall"][k] for k in ("i2t_r1", "t2i_r1", "rsum")}
                                        for split, s in v["splits"].items() if "gxn_minus_baseline_wall" in s},
            "differences": diff["counts"] if diff else None}
    return parts, summary


def benchmark_section(results: Path) -> str:
    """Speed and memory of the shipped pipelines, from ``python -m lookimagine.tools.benchmark --json`` files."""
    rows = []
    for path in sorted(results.glob("benchmark_*.json")):
        b = json.loads(path.read_text())
        q, load, app = b["queries"], b["load"], b.get("app") or {}
        app_cell = (f"{app['seconds']:.1f} s, app peak RSS {app.get('app_peak_rss_mib', '?')} MiB"
                    if "seconds" in app else "–")
        rows.append(f"| {b['pipeline']} | {load['cold']['seconds']:.1f} / {load['warm']['seconds']:.1f} | "
                    f"{q['text_to_image']['run']['median_ms']:.0f} / {q['text_to_image']['run']['p90_ms']:.0f} | "
                    f"{q['image_to_text']['run']['median_ms']:.0f} / {q['image_to_text']['run']['p90_ms']:.0f} | "
                    f"{b['memory']['after_queries']['peak_rss_mib']:.0f} | {app_cell} | {b['torch']['threads']} | "
                    f"`{b['command']}` |")
    if not rows:
        return ""
    return ("### Speed and memory (2-core CPU)\n\n"
            "| pipeline | load, cold / warm cache (s) | text→image query, median / p90 (ms) | image→text query, "
            "median / p90 (ms) | peak RSS of the pipeline (MiB) | app: start → first answer, memory | torch threads "
            "| command |\n"
            "|---|---|---|---|---|---|---|---|\n" + "\n".join(rows) + "\n\n"
            "A query is Look + Imagine + Match for *both* models (GAN branch). Budgets: ≤ 100 ms per query, "
            "≤ 20 s from start to first answer, ≤ 1.5 GB RSS.\n")


STAGE_NAMES = {"stage1": "stage 1: encoders", "baseline": "control: fine-tuning, no generators",
               "stage2": "stage 2: generators on frozen encoders", "gxn": "stage 3: GXN, joint"}


def training_speed_section(benchmarks: Path) -> str:
    """Training throughput per stage and memory format, from ``python -m lookimagine.tools.training_speed --json``."""
    rows, notes = [], []
    for path in sorted(benchmarks.glob("training_speed_*.json")):
        b = json.loads(path.read_text())
        name = b["dataset"] + (", latent diffusion branch" if b.get("recipe") == "latent" else "")
        cached = [f"{STAGE_NAMES.get(k, k)} ×{r['latent_cache_speedup']:.3f}" for k, r in b["stages"].items()
                  if "latent_cache_speedup" in r]
        if cached:  # measured after the latent cache (and stage 2's validation every 5 epochs) landed
            name += ", latent cache"
        stage2_epochs = b["stages"].get("stage2", {}).get("epochs", 3)
        if b.get("recipe", "gan") == "gan" and stage2_epochs != 3:  # shapes' GAN stage 2 grew from 3 epochs
            name += f", stage 2 of {stage2_epochs} epochs"
        for stage, r in b["stages"].items():
            rows.append(f"| {name} | {STAGE_NAMES.get(stage, stage)} | {r['nchw']['samples_per_second']:.0f} | "
                        f"{r['nhwc']['samples_per_second']:.0f} | ×{r['nhwc_speedup']:.2f} | "
                        f"{r['nchw']['epoch_seconds']:.0f} / {r['nhwc']['epoch_seconds']:.0f} |")
        wall = b["equal_wall_clock"]["nchw"]
        c = b.get("compile_gxn")
        compiled = (f"; `torch.compile` of the image encoder and GAN in stage 3: {c['compiled']['samples_per_second']:.0f} "
                    f"against {c['eager']['samples_per_second']:.0f} images/s eager" if c else "")
        nhwc = b["equal_wall_clock"]["nhwc"]
        notes.append(f"- {name}: GXN's stages 2 and 3 take {wall['gxn_after_stage1_seconds']:.0f} s (NCHW), "
                     f"{wall['control_epochs']:.1f} epochs of the control ({nhwc['gxn_after_stage1_seconds']:.0f} s "
                     f"and {nhwc['control_epochs']:.1f} in NHWC) — the equal-wall-clock baseline"
                     f"{compiled}" + (f"; the latent cache's speed-up (NHWC, against encoding every batch): "
                                      f"{', '.join(cached)}" if cached else "") + f". `{b['command']}`")
    if not rows:
        return ""
    return ("### Training speed (one CPU thread; the other core ran one single-thread training job)\n\n"
            "| dataset | stage | images/s, NCHW | images/s, NHWC (channels_last, the default) | speed-up | "
            "seconds per epoch, NCHW / NHWC |\n|---|---|---|---|---|---|\n" + "\n".join(rows) + "\n\n"
            + "\n".join(notes) + "\n")


def grid(dataset: str, assets: Path, n: int = 8, seed: int = 0, checkpoint: Path | None = None,
         out: Path | None = None) -> Path:
    """A sheet of test items: each row shows the real image, GXN's three drawings of its caption
    (seeds seed..seed+2) and the caption GXN writes for the real image."""
    import torch
    from PIL import Image, ImageDraw

    from .data import load_dataset
    from .data.images import fit_square, from_tensor
    from .data.preview import _font, wrap
    from .models.checkpoint import load_model
    from .pipeline.layout import PipelineFolder

    loaded = load_model(checkpoint or PipelineFolder.shipped(dataset, assets).checkpoint("gxn"))
    model = loaded.model
    test = load_dataset(dataset, "test")
    picks = [int(i) for i in torch.linspace(0, len(test) - 1, n).round().tolist()]
    cell, pad, text_w, row_h = 96, 8, 230, 96 + 36
    font, bold = _font(12), _font(13)
    width = pad + 4 * (cell + pad) + text_w
    sheet = Image.new("RGB", (width, 52 + n * row_h), "white")
    draw = ImageDraw.Draw(sheet)
    which = "shipped checkpoint" if checkpoint is None else Path(checkpoint).name
    draw.text((pad, 8), f"GXN imagines · {dataset} test ({which}, seeds {seed}-{seed + 2})", fill="black",
              font=bold)
    draw.text((pad, 28), "real image  |  three drawings of its caption  |  the caption GXN writes for the image",
              fill=(110, 110, 110), font=font)
    gen = torch.Generator().manual_seed(seed)
    y = 52
    for idx in picks:
        item = test[idx]
        caption = item.captions[0]
        with torch.no_grad():
            txt = model.encode_text(*loaded.tokenize([caption] * 3))
            drawn = model.draw(txt, generator=gen)
            image = loaded.preprocess([item.image])
            written = loaded.vocab.decode(model.generate_caption(model.encode_image(image), beam=3)[0].tolist())
        tiles = [fit_square(item.image, cell)] + [from_tensor(x).resize((cell, cell), Image.NEAREST) for x in drawn]
        for j, tile in enumerate(tiles):
            sheet.paste(tile, (pad + j * (cell + pad), y))
        tx = pad + 4 * (cell + pad)
        draw.text((tx, y + 2), "GXN writes:", fill=(110, 110, 110), font=font)
        draw.text((tx, y + 18), "\n".join(wrap(written, font, text_w - pad)[:4]), fill="#4f46e5", font=font)
        draw.text((pad, y + cell + 4), "\n".join(wrap(f"caption: {caption}", font, 4 * (cell + pad))[:2]),
                  fill="black", font=font)
        y += row_h
    out = out or assets / "figures" / f"{dataset}_imagined.png"
    out.parent.mkdir(parents=True, exist_ok=True)
    sheet.save(out)
    return out


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m lookimagine.report", description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("action", nargs="?", default="tables", choices=("tables", "ship", "grid", "sampler"))
    parser.add_argument("--dataset", default="emoji")
    parser.add_argument("--runs", default="runs/staged", help="ship: the staged runs (scripts/staged.sh)")
    parser.add_argument("--rule", default="gxn-val", choices=sorted(SHIP_RULES), help="ship: how the seed is chosen")
    parser.add_argument("--results", help="ship: the pair's test evaluations (default assets/results/staged/<dataset>)")
    parser.add_argument("--assets", default=str(ASSETS))
    parser.add_argument("--readme", default=str(ROOT / "README.md"), help="its figure block is rewritten")
    parser.add_argument("--results-md", default=str(ROOT / "RESULTS.md"), help="its results block is rewritten")
    parser.add_argument("--steps", type=int, help="ship: a diffusion branch's sampler steps, as chosen on val")
    parser.add_argument("--guidance", type=float, help="ship: a diffusion branch's guidance, as chosen on val")
    parser.add_argument("--best-of", type=int, help="ship, sampler: show the best of k drawings by GXN's own s* "
                                                    "(imagine_best_of), as chosen on val")
    parser.add_argument("--chosen-on", help="sampler: the val measurement the choice rests on (a JSON path)")
    parser.add_argument("--checkpoint", help="grid: draw with this checkpoint instead of the shipped GXN")
    parser.add_argument("--out", help="grid: write the sheet here")
    args = parser.parse_args(argv)
    command = " ".join(["python -m lookimagine.report", *map(shlex.quote, sys.argv[1:] if argv is None else argv)])
    sampler = {k: v for k, v in (("diffusion_sample_steps", args.steps), ("diffusion_guidance", args.guidance),
                                 ("imagine_best_of", args.best_of)) if v is not None}
    if args.action == "sampler":
        if not sampler:
            parser.error("sampler: say what to set (--best-of, --steps, --guidance)")
        print(json.dumps(set_sampler(args.dataset, Path(args.assets), sampler, command, args.chosen_on), indent=1))
    elif args.action == "ship":
        print(json.dumps(ship(args.dataset, Path(args.runs), Path(args.assets), command, args.rule,
                              args.results and Path(args.results), sampler or None), indent=1))
    elif args.action == "grid":
        print(grid(args.dataset, Path(args.assets), checkpoint=args.checkpoint and Path(args.checkpoint),
                   out=args.out and Path(args.out)))
    else:
        print(json.dumps(tables(Path(args.assets), Path(args.readme), command, Path(args.results_md)), indent=1))
    return 0


if __name__ == "__main__":
    sys.exit(main())
