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
                                                judge_figures)
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
    a = p.parse_args()
    torch.set_num_threads(1)
    if a.sheet:
        sheets(a.runs[0], [1.0, 3.0], a.sheet)
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
