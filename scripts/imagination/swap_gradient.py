"""How strong the critic's hard-negative term is against the matching term, on a trained GAN (issue 21; sets
the weight of ``TrainConfig.w_match_swap``): the norm of each term's gradient on G's weights, at weight 1, over
training batches of 64 drawn by the run's best checkpoint and read by its frozen critic (stage 1), at the
trainer's margin and with its true in-batch pairs masked.

    python scripts/imagination/swap_gradient.py --run runs/final/shapes-s1/stage2 --critic runs/stage1/shapes-s1 \\
        --out assets/results/imagination/val_swap/gradient_s1.json
"""

from __future__ import annotations

import argparse
import json
import random
import sys
from pathlib import Path

import numpy as np
import torch

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT))

from lookimagine import losses  # noqa: E402
from lookimagine.config import TrainConfig  # noqa: E402
from lookimagine.data import load_dataset  # noqa: E402
from lookimagine.data.batching import encode_split, iterate_batches  # noqa: E402
from lookimagine.evaluation.evaluate_checkpoint import resolve_checkpoint  # noqa: E402
from lookimagine.models.checkpoint import load_checkpoint  # noqa: E402
from lookimagine.training.data import swapped_captions, true_pairs  # noqa: E402
from lookimagine.training.objectives import swap_term  # noqa: E402


def grad_norm(term: torch.Tensor, params: list[torch.Tensor]) -> float:
    grads = torch.autograd.grad(term, params, retain_graph=True, allow_unused=True)
    return float(torch.sqrt(sum((g ** 2).sum() for g in grads if g is not None)))


def main(argv: list[str] | None = None) -> None:
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("--run", required=True)
    p.add_argument("--critic", required=True)
    p.add_argument("--batches", type=int, default=8)
    p.add_argument("--margin", type=float, default=TrainConfig().margin, help="the ranking margin the run trained at")
    p.add_argument("--out", required=True)
    args = p.parse_args(argv)
    torch.set_num_threads(1)
    critic, vocab = load_checkpoint(resolve_checkpoint(args.critic))[:2]
    gxn = load_checkpoint(resolve_checkpoint(args.run))[0]
    critic.eval().requires_grad_(False)
    gxn.eval()
    ds = load_dataset("shapes", "train", n=64 * args.batches)
    split = encode_split(ds, vocab, 64, 20)
    params = list(gxn.gan.parameters())
    norms: dict[str, list[float]] = {"match": [], "swap": []}
    for b, batch in enumerate(iterate_batches(split, 64, torch.Generator().manual_seed(0))):
        swaps = swapped_captions(split, ds, vocab, batch, 64, random.Random(b), 20)
        t_l = gxn.encode_text(batch.tokens, batch.lengths).t_l.detach()
        fake = gxn.draw_gan(t_l, torch.Generator().manual_seed(b))[0]
        c_img = critic.encode_image(fake)
        sims = critic.similarity(c_img, critic.encode_text(batch.tokens, batch.lengths))
        pairs = true_pairs(TrainConfig(mask_true_negatives=True), split, ds, batch)  # as the trainer masks them
        norms["match"].append(grad_norm(losses.ranking_loss(sims, args.margin, "sum", pairs), params))
        norms["swap"].append(grad_norm(swap_term(critic, c_img, sims.diagonal(), swaps, args.margin, {}), params))
    command = "python scripts/imagination/swap_gradient.py " + " ".join(sys.argv[1:] if argv is None else argv)
    result = {"command": command, "batches": len(norms["match"]), **{f"{k}_grad_norm": float(np.mean(v)) for k, v in norms.items()}}
    result["match_over_swap"] = result["match_grad_norm"] / result["swap_grad_norm"]
    print(json.dumps(result, indent=1))
    Path(args.out).parent.mkdir(parents=True, exist_ok=True)
    Path(args.out).write_text(json.dumps(result, indent=1) + "\n")


if __name__ == "__main__":
    main()
