"""Where a GAN GXN's spread of samples comes from: its noise z, its conditioning-augmentation sample t_c, or both.

The diversity bar asks that samples of a caption true of many scenes differ. The GAN draws G(t_c, z) with
t_c ~ N(μ(t_l), σ(t_l)²) and z ~ N(0, I). For each run, on the diversity captions of val (captions true of ≥ 1%
of the perfect sampler's training scenes, 4 true scenes each, tools/imagination.py), 4 samples per caption are
drawn three ways: z varied with t_c held at μ; t_c sampled with z held fixed; both varied (as the app and the
figures draw). Each figure is the samples' mean pairwise RMS distance over the true scenes'.

    python scripts/imagination/noise_use.py runs/final/shapes-s{1..5}/gxn   (-> assets/results/imagination/noise_use_shapes.json)
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
from lookimagine.evaluation.imagination import mean_pairwise_distance, to_u8, tokens_of  # noqa: E402
from lookimagine.models.checkpoint import load_checkpoint  # noqa: E402
from lookimagine.tools.imagination import diversity_captions  # noqa: E402


@torch.no_grad()
def spreads(run: str, captions: list[str], true_distance: float, n_samples: int = 4) -> dict:
    model, vocab, _ = load_checkpoint(resolve_checkpoint(run))
    model.eval()
    tokens, lengths = tokens_of(vocab, captions)
    t_l = model.encode_text(tokens, lengths).t_l
    mu, _, logvar = model.cond_aug(t_l, sample=False)
    noise_dim = model.cfg.noise_dim

    def sampled_tc(seed: int) -> torch.Tensor:
        return model.cond_aug(t_l, generator=torch.Generator().manual_seed(seed))[0]

    def z_of(seed: int) -> torch.Tensor:
        return torch.randn((len(captions), noise_dim), generator=torch.Generator().manual_seed(1000 + seed))

    ways = {"z_only": lambda s: model.gan(mu, z_of(s)),
            "t_c_only": lambda s: model.gan(sampled_tc(s), z_of(0)),
            "both": lambda s: model.gan(sampled_tc(s), z_of(s))}
    out = {"run": run}
    for name, draw in ways.items():
        samples = torch.stack([to_u8(draw(s)) for s in range(n_samples)], 1)  # (K, n, 3, S, S)
        distance = float(np.mean([mean_pairwise_distance(x) for x in samples]))
        out[name] = {"samples_distance": distance, "diversity_ratio": distance / true_distance}
    out["t_c_sigma_mean"] = float(logvar.mul(0.5).exp().mean())
    out["t_c_mu_norm_mean"] = float(mu.norm(dim=1).mean())
    return out


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("runs", nargs="+")
    p.add_argument("--split", default="val")
    p.add_argument("--out", default=str(ROOT / "assets/results/imagination/noise_use_shapes.json"))
    a = p.parse_args()
    torch.set_num_threads(1)
    ds = load_dataset("shapes", a.split)
    _, vocab, _ = load_checkpoint(resolve_checkpoint(a.runs[0]))
    split = encode_split(ds, vocab, image_size=64, max_len=20)
    captions, true_stacks = diversity_captions("shapes", ds, split, rng=np.random.default_rng(0))
    true_distance = float(np.mean([mean_pairwise_distance(t) for t in true_stacks]))
    rows = [spreads(r, captions, true_distance) for r in a.runs]
    result = {"what": __doc__.split("\n\n")[0].replace("\n", " "),
              "command": "python scripts/imagination/noise_use.py " + " ".join(sys.argv[1:]),
              "split": a.split, "captions": captions, "true_distance": true_distance,
              "runs": rows}
    Path(a.out).write_text(json.dumps(result, indent=1) + "\n")
    for r in rows:
        print(r["run"], {w: round(r[w]["diversity_ratio"], 3) for w in ("z_only", "t_c_only", "both")})


if __name__ == "__main__":
    main()
