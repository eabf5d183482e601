"""Can the shapes GAN's samples be widened at sampling time alone? Its noise, scaled.

The GAN draws G(t_c, z), t_c = μ + σ·ε, ε and z ~ N(0, I) (the R-precision figures' pictures use t_c = μ).
Scaling both z and ε by a temperature T > 1 only when sampling (the opposite of BigGAN's truncation) widens the
samples; this measures what that costs the text. Each run is judged on val by stage 1 of another seed, as the
imagination figures are (tools/imagination.py: R-precision exact and truth-aware over 1,000 queries, the
conditioning probe, the diversity ratio); the trained weights are not touched.

    python scripts/imagination/noise_temperature.py --runs runs/final/shapes-s1/gxn --judges runs/stage1/shapes-s2 \\
        --out assets/results/imagination/noise_temperature_shapes_s1.json   (and seed 2, judged by seed 3's stage 1)
    python scripts/imagination/noise_temperature.py --runs runs/final/shapes-s2/gxn \\
        --sheet assets/figures/imagination_temperature.png   (test captions: temperature 1 left, 3 right)
    python scripts/imagination/noise_temperature.py --runs runs/final/shapes-s1/gxn runs/final/shapes-s2/gxn \\
        --decompose --out assets/results/imagination/noise_temperature_layout_colour.json   (where the spread lies)
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

import numpy as np
import torch

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT))

from lookimagine.data import load_dataset  # noqa: E402
from lookimagine.data.batching import encode_split  # noqa: E402
from lookimagine.evaluation.evaluate_checkpoint import resolve_checkpoint  # noqa: E402
from lookimagine.evaluation.imagination import (diversity_ratio, first_captions, imagine,  # noqa: E402
                                                judge_figures, to_u8, tokens_of)
from lookimagine.models.checkpoint import load_checkpoint  # noqa: E402
from lookimagine.tools.imagination import diversity_captions, probe, sheet  # noqa: E402

TEMPERATURES = [1.0, 1.5, 2.0, 3.0]


def tempered(model, temperature: float):
    """model.draw with z and the conditioning sample's ε scaled by ``temperature`` (same random numbers, order)."""
    def draw(txt, generator=None, sample_condition=True):
        mu, logvar = model.cond_aug.phi(txt.t_l * model.cond_aug.input_scale).chunk(2, dim=-1)
        t_c = mu
        if sample_condition:
            eps = torch.randn(mu.shape, generator=generator, dtype=mu.dtype)
            t_c = mu + temperature * eps * (0.5 * logvar).exp()
        return model.gan(t_c, temperature * model._noise(t_c, generator))
    return draw


def figures(run: str, judge_run: str, split_name: str, n: int) -> list[dict]:
    judge, judge_vocab, _ = load_checkpoint(resolve_checkpoint(judge_run))
    model, vocab, _ = load_checkpoint(resolve_checkpoint(run))
    model.eval()
    ds = load_dataset("shapes", split_name)
    truth = ds.truth_matrix()
    judged = encode_split(ds, judge_vocab, image_size=64, max_len=20)
    own = encode_split(ds, vocab, image_size=64, max_len=20)
    first, _ = first_captions(own, n)
    div_captions, div_true = diversity_captions("shapes", ds, own, rng=np.random.default_rng(0))
    distinct = list(dict.fromkeys(own.captions))[:16]
    rows = []
    plain = model.draw
    for temperature in TEMPERATURES:
        model.draw = tempered(model, temperature)  # an instance attribute: the class's draw is untouched
        try:
            with torch.no_grad():
                fakes = imagine(model, own, first, seed=0)
                row = {"temperature": temperature,
                       **judge_figures(judge, judge_vocab, judged, {"imagined": fakes}, n, truth)["imagined"],
                       "probe": probe(model, vocab, distinct),
                       **diversity_ratio(model, vocab, div_captions, div_true)}
        finally:
            model.draw = plain
        print(run, {k: round(v, 3) for k, v in row.items() if isinstance(v, float)}, flush=True)
        rows.append(row)
    return rows


def layout_and_colour(images: torch.Tensor) -> tuple[np.ndarray, np.ndarray]:
    """Pictures (K, 3, S, S) uint8 → (foreground centroids (K, 2) in [0, 1], mean foreground colours (K, 3) in
    [0, 1]); NaN rows where nothing stands out. Foreground: pixels further than 0.25 (RGB distance) from the
    picture's background, the median of its border pixels."""
    x = images.float().div(255)
    border = torch.cat([x[:, :, 0], x[:, :, -1], x[:, :, :, 0], x[:, :, :, -1]], dim=2)  # (K, 3, 4S)
    background = border.median(dim=2).values[:, :, None, None]
    mask = (x - background).pow(2).sum(1).sqrt() > 0.25  # (K, S, S)
    side = x.shape[-1]
    ys, xs = torch.meshgrid(torch.arange(side), torch.arange(side), indexing="ij")
    area = mask.sum(dim=(1, 2)).float()
    centroid = torch.stack([(mask * xs).sum(dim=(1, 2)), (mask * ys).sum(dim=(1, 2))], 1) / area[:, None] / side
    colour = (x * mask[:, None]).sum(dim=(2, 3)) / area[:, None]
    return centroid.numpy(), colour.numpy()  # area 0 → NaN


def mean_pair_distance(points: np.ndarray) -> float:
    """Mean Euclidean distance over the pairs of rows that are not NaN (NaN when fewer than 2)."""
    ok = points[~np.isnan(points).any(axis=1)]
    pairs = [np.linalg.norm(ok[i] - ok[j]) for i in range(len(ok)) for j in range(i + 1, len(ok))]
    return float(np.mean(pairs)) if pairs else float("nan")


def decompose(runs: list[str], split_name: str) -> dict:
    """Where the samples' spread lies, per temperature: the spread of their foreground centroids (where things
    are) and of their mean foreground colour (what colour), over val's diversity captions, against 4 true
    scenes of each caption."""
    ds = load_dataset("shapes", split_name)
    out = {}
    for run in runs:
        model, vocab, _ = load_checkpoint(resolve_checkpoint(run))
        model.eval()
        own = encode_split(ds, vocab, image_size=64, max_len=20)
        captions, true_stacks = diversity_captions("shapes", ds, own, rng=np.random.default_rng(0))
        tokens, lengths = tokens_of(vocab, captions)
        rows = {"true scenes": _spreads(true_stacks)}
        plain = model.draw
        for temperature in TEMPERATURES:
            model.draw = tempered(model, temperature)
            with torch.no_grad():
                txt = model.encode_text(tokens, lengths)
                samples = torch.stack([to_u8(model.draw(txt, generator=torch.Generator().manual_seed(seed)))
                                       for seed in range(4)], 1)  # (K, 4, 3, S, S), as diversity_ratio draws
            model.draw = plain
            rows[f"T={temperature:g}"] = _spreads(list(samples))
        out[run] = rows
        print(run, json.dumps(rows), flush=True)
    return out


def _spreads(stacks: list[torch.Tensor]) -> dict:
    where, what = zip(*(layout_and_colour(s) for s in stacks))
    return {"centroid_spread": float(np.nanmean([mean_pair_distance(c) for c in where])),
            "colour_spread": float(np.nanmean([mean_pair_distance(c) for c in what])),
            "empty_share": float(np.mean([np.isnan(c).any(axis=1).mean() for c in where]))}


def sheets(run: str, temperatures: list[float], out: str) -> None:
    """``run``'s imagination sheets (test and held-out captions, 4 samples each) at two temperatures, side by side."""
    import tempfile

    from PIL import Image

    model, vocab, config = load_checkpoint(resolve_checkpoint(run))
    plain = model.draw
    with tempfile.TemporaryDirectory() as tmp:
        pictures = []
        for temperature in temperatures:
            model.draw = tempered(model, temperature)
            pictures.append(Image.open(sheet(run, "shapes", Path(tmp) / f"{temperature}.png",
                                             loaded=(model, vocab, config), label=f", temperature {temperature:g}")))
            model.draw = plain
        both = Image.new("RGB", (sum(p.width for p in pictures) + 12, max(p.height for p in pictures)), "white")
        both.paste(pictures[0], (0, 0))
        both.paste(pictures[1], (pictures[0].width + 12, 0))
    both.quantize(256).save(out, optimize=True)


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("--runs", nargs="+", required=True)
    p.add_argument("--judges", nargs="+", default=[], help="one per run, never the run's own seed")
    p.add_argument("--split", default="val")
    p.add_argument("--n", type=int, default=1000)
    p.add_argument("--out", default=str(ROOT / "assets/results/imagination/noise_temperature_shapes.json"))
    p.add_argument("--sheet", help="write the first run's sheets at temperatures 1 and 3 side by side here (PNG), "
                                   "and measure nothing")
    p.add_argument("--decompose", action="store_true",
                   help="measure where the spread lies (layout or colour) instead, no judge needed")
    a = p.parse_args()
    torch.set_num_threads(1)
    if a.sheet:
        sheets(a.runs[0], [1.0, 3.0], a.sheet)
        return
    if a.decompose:
        result = {"what": decompose.__doc__.replace("\n   ", "").replace("\n", " "),
                  "command": "python scripts/imagination/noise_temperature.py " + " ".join(sys.argv[1:]),
                  "split": a.split, "runs": decompose(a.runs, a.split)}
        Path(a.out).write_text(json.dumps(result, indent=1) + "\n")
        return
    if len(a.judges) != len(a.runs):
        p.error("give one judge per run")
    runs = [{"run": r, "judge": j, "rows": figures(r, j, a.split, a.n)} for r, j in zip(a.runs, a.judges)]
    result = {"what": __doc__.split("\n\n")[0].replace("\n", " "),
              "command": "python scripts/imagination/noise_temperature.py " + " ".join(sys.argv[1:]),
              "split": a.split, "n_queries": a.n, "runs": runs}
    Path(a.out).write_text(json.dumps(result, indent=1) + "\n")


if __name__ == "__main__":
    main()
