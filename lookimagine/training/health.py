"""Training health: the two measurements that would have caught a GXN that never imagined.

- ``gradient_shares``: how much of the gradient on the shared encoders each loss
  contributes. A generative loss with a 0.2% share cannot teach the encoders
  anything, whatever its weight says.
- ``conditioning_probe``: how much of a text→image generator's output variance
  the text explains. A GAN whose conditioning augmentation collapsed scores ~0
  (every sentence drawn as the same blur); one that draws what it is told, ~1.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence

import torch


def gradient_shares(terms: dict[str, torch.Tensor], params: Sequence[torch.nn.Parameter]) -> dict[str, dict]:
    """Per loss term: the L2 norm of its gradient on ``params`` and its share of the sum of those norms.

    terms: {name: scalar loss, already weighted as it enters the total}. The graph is kept
    (``retain_graph``) so the caller can still backpropagate the total afterwards.
    Returns ``{"norm": {name: float}, "share": {name: float}}``; shares add up to 1 (0 when all are 0).
    """
    params = [p for p in params if p.requires_grad]
    norms: dict[str, float] = {}
    for name, loss in terms.items():
        if not loss.requires_grad:
            norms[name] = 0.0
            continue
        grads = torch.autograd.grad(loss, params, retain_graph=True, allow_unused=True)
        norms[name] = float(torch.sqrt(sum((g.float() ** 2).sum() for g in grads if g is not None)
                                       or torch.tensor(0.0)))
    total = sum(norms.values())
    return {"norm": norms, "share": {k: (v / total if total > 0 else 0.0) for k, v in norms.items()}}


@torch.no_grad()
def conditioning_probe(draw: Callable[[torch.Generator], torch.Tensor], n_draws: int = 4, seed: int = 0) -> float:
    """Fraction of the generator's output variance that the text explains, in [0, 1] (up to noise).

    draw(generator) -> (K, C, H, W): one image for each of K fixed texts, with fresh noise from
    ``generator`` (z and, for the GAN, the conditioning-augmentation sample). Drawn ``n_draws`` times:
    explained = 1 − E_k[Var_r x_kr] / Var_kr x_kr, summed over pixels. An unconditional generator's
    within-text variance equals its total variance (→ 0); a deterministic function of the text has none (→ 1).
    """
    if n_draws < 2:
        raise ValueError("the probe needs at least 2 draws per text")
    gen = torch.Generator().manual_seed(seed)
    x = torch.stack([draw(gen).float().cpu() for _ in range(n_draws)])  # (R, K, C, H, W)
    # unbiased estimates on both sides: with few draws the plain within-text variance is (R−1)/R too small,
    # which would credit an unconditional generator with 1/R of "explained" variance
    total = x.flatten(0, 1).var(dim=0, unbiased=True).sum()
    within = x.var(dim=0, unbiased=True).mean(dim=0).sum()
    if total <= 0:
        return 0.0
    return float(1.0 - within / total)


def probe_checkpoint(checkpoint: str, split: str = "val", n_texts: int = 16, n_draws: int = 4, seed: int = 0) -> dict:
    """The conditioning probe on a saved checkpoint: its first ``n_texts`` distinct captions of ``split``."""
    from ..data import load_dataset
    from ..models.checkpoint import load_model

    loaded = load_model(checkpoint)
    model = loaded.model
    if not model.can_draw:
        raise ValueError(f"{checkpoint}: this model has no text→image branch")
    captions = list(dict.fromkeys(load_dataset(loaded.train_config.dataset, split).all_captions()))[:n_texts]
    txt = model.eval().encode_text(*loaded.tokenize(captions))
    score = conditioning_probe(lambda gen: model.draw(txt, generator=gen), n_draws=n_draws, seed=seed)
    return {"checkpoint": str(checkpoint), "split": split, "n_texts": len(captions), "n_draws": n_draws,
            "conditioning": score}


def main(argv: list[str] | None = None) -> int:
    """``python -m lookimagine.training.health CHECKPOINT``: the conditioning probe of a checkpoint, as JSON."""
    import argparse
    import json
    import shlex
    import sys

    parser = argparse.ArgumentParser(prog="python -m lookimagine.training.health",
                                     description="Conditioning probe of a checkpoint's text→image branch.")
    parser.add_argument("checkpoint")
    parser.add_argument("--split", default="val")
    parser.add_argument("--json", help="write the result here")
    args = parser.parse_args(argv)
    with torch.no_grad():
        command = "python -m lookimagine.training.health " + shlex.join(sys.argv[1:] if argv is None else argv)
        result = {"command": command, **probe_checkpoint(args.checkpoint, args.split)}
    print(json.dumps(result, indent=1))
    if args.json:
        with open(args.json, "w") as f:
            json.dump(result, f, indent=1)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
