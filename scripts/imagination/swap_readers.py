"""Shapes: how often a reader prefers a shape-swapped caption over the true one, for real pictures and for GAN
drawings (issue 21, the shape-swap matching term ``TrainConfig.w_match_swap``).

For each val pair, one shape noun of the caption is swapped, and separately one colour word
(``data.shapes.swap_a_word``; pairs where the swap is still true of the scene, or the caption names no such
word, are left out), and each reader scores the picture against both captions. Two readers: the frozen critic
the GAN trained against (stage 1 of the run's own seed) and the judge (stage 1 of another seed). If a term
makes the critic read the right outline but not the judge, the generator learned what this one critic reads,
not outlines. The GAN draws as in training (the conditioning sampled, float pictures), since that is what the
term trained on; ``tools.imagination`` draws from the conditioning's mean.

    python scripts/imagination/swap_readers.py --runs runs/final/shapes-s1/stage2 runs/swap/shapes-s1/stage2 \\
        --critic runs/stage1/shapes-s1 --judge runs/stage1/shapes-s2 \\
        --out assets/results/imagination/val_swap/readers_s1.json
"""

from __future__ import annotations

import argparse
import json
import random
import sys
from pathlib import Path

import torch

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT))

from lookimagine.data import load_dataset  # noqa: E402
from lookimagine.data.batching import encode_split, make_batch  # noqa: E402
from lookimagine.evaluation.evaluate_checkpoint import resolve_checkpoint  # noqa: E402
from lookimagine.evaluation.imagination import first_captions  # noqa: E402
from lookimagine.models.checkpoint import load_checkpoint  # noqa: E402
from lookimagine.training.data import swapped_captions  # noqa: E402


@torch.no_grad()
def swap_preference(reader, images: torch.Tensor, tokens, lengths, swaps) -> torch.Tensor:
    """(n,) bool over the valid rows: the reader scores the swapped caption at least as high as the true one."""
    s_tokens, s_lengths, valid = swaps
    img = reader.encode_image(images)
    s_true = reader.similarity(img, reader.encode_text(tokens, lengths)).diagonal()
    s_swap = reader.similarity(img, reader.encode_text(s_tokens, s_lengths)).diagonal()
    return (s_swap >= s_true)[valid]


def percent(hits: torch.Tensor) -> float:
    return round(float(hits.float().mean()) * 100, 1)


def main(argv: list[str] | None = None) -> None:
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("--runs", nargs="+", required=True, help="GAN run folders (their best checkpoints draw)")
    p.add_argument("--critic", required=True, help="the stage-1 checkpoint the runs trained against")
    p.add_argument("--judge", required=True, help="a stage-1 checkpoint of another seed")
    p.add_argument("--n", type=int, default=1000, help="val pairs (the first caption of the first n pictures)")
    p.add_argument("--threads", type=int, default=1)
    p.add_argument("--out", required=True)
    args = p.parse_args(argv)
    torch.set_num_threads(args.threads)
    readers = {name: load_checkpoint(resolve_checkpoint(path))[0].eval()
               for name, path in (("critic", args.critic), ("judge", args.judge))}
    vocab = load_checkpoint(resolve_checkpoint(args.runs[0]))[1]
    ds = load_dataset("shapes", "val", n=args.n)
    split = encode_split(ds, vocab, 64, 20)
    batch = make_batch(split, torch.as_tensor(first_captions(split, args.n)[0]))  # each picture's first caption
    swaps = {kinds: swapped_captions(split, ds, vocab, batch, args.n, random.Random(0), 20, kinds)
             for kinds in ("shapes", "colours")}
    pictures = {"real": batch.images}
    for run in args.runs:
        gxn = load_checkpoint(resolve_checkpoint(run))[0].eval()
        with torch.no_grad():
            t_l = gxn.encode_text(batch.tokens, batch.lengths).t_l
            pictures[run] = gxn.draw_gan(t_l, torch.Generator().manual_seed(0))[0]
    command = "python scripts/imagination/swap_readers.py " + " ".join(sys.argv[1:] if argv is None else argv)
    result = {"command": command,
              "n_pairs": {kinds: int(s[2].sum()) for kinds, s in swaps.items()}, "swap_preferred_percent": {}}
    for name, images in pictures.items():
        result["swap_preferred_percent"][name] = {
            kinds: {r: percent(swap_preference(reader, images, batch.tokens, batch.lengths, s))
                    for r, reader in readers.items()}
            for kinds, s in swaps.items()}
        print(name, result["swap_preferred_percent"][name])
    Path(args.out).parent.mkdir(parents=True, exist_ok=True)
    Path(args.out).write_text(json.dumps(result, indent=1) + "\n")


if __name__ == "__main__":
    main()
