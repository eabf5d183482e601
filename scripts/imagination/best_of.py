"""Issue 21: imagine k pictures and show the one GXN's own s* ranks nearest the sentence (``GXN.draw_best_of``),
read by an independent judge, for several k.

    python scripts/imagination/best_of.py --run assets/checkpoints/shapes/gxn --judge runs/stage1/shapes-s5 \\
        --split val --k 1 4 16 --out assets/results/imagination/best_of/val_s4.json

For each k: the judge's R-precision (exact and truth-aware on shapes) of one picture per query (the first
1,000 images' first captions, drawn as ``evaluation.imagination.imagine`` draws: the conditioning's mean, seed
0), the conditioning probe and the diversity ratio (4 samples, seeds 0–3, each the best of k), and the time
one text query's 2 pictures take (median of 20, one thread). k = 1 is the plain sampler, so each row is
measured against the same checkpoint without reranking.
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT))

import numpy as np  # noqa: E402
import torch  # noqa: E402

from lookimagine.config import TrainConfig, from_dict  # noqa: E402
from lookimagine.data.batching import encode_split  # noqa: E402
from lookimagine.evaluation.evaluate_checkpoint import resolve_checkpoint  # noqa: E402
from lookimagine.evaluation.imagination import (diversity_ratio, first_captions, imagine, judge_figures,  # noqa: E402
                                                tokens_of)
from lookimagine.models.checkpoint import load_checkpoint  # noqa: E402
from lookimagine.tools.imagination import _split, diversity_captions, probe  # noqa: E402


def query_ms(model, vocab, caption: str, repeats: int = 20) -> float:
    """Median ms to encode one sentence and imagine 2 pictures, each the best of the model's imagine_best_of."""
    tokens, lengths = tokens_of(vocab, [caption])
    times = []
    for r in range(repeats + 2):
        t0 = time.perf_counter()
        with torch.no_grad():
            txt = model.encode_text(tokens, lengths)
            two = type(txt)(*(x.expand(2, *x.shape[1:]) for x in (txt.t_h, txt.t_l, txt.states, txt.mask)))
            model.draw(two, torch.Generator().manual_seed(r))  # the best of model.cfg.imagine_best_of
        times.append((time.perf_counter() - t0) * 1000)
    return float(np.median(times[2:]))


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("--run", required=True)
    p.add_argument("--judge", required=True)
    p.add_argument("--split", default="val")
    p.add_argument("--k", type=int, nargs="+", default=[1, 4, 16])
    p.add_argument("--n", type=int, default=1000)
    p.add_argument("--out", required=True)
    a = p.parse_args()
    torch.set_num_threads(1)
    judge, judge_vocab, judge_config = load_checkpoint(resolve_checkpoint(a.judge))
    model, vocab, config = load_checkpoint(resolve_checkpoint(a.run))
    model.eval()
    dataset = config["train"]["dataset"]
    ds = _split(dataset, from_dict(TrainConfig, judge_config["train"]), a.split)
    jsplit = encode_split(ds, judge_vocab, image_size=64, max_len=20)
    msplit = encode_split(ds, vocab, image_size=model.cfg.image_size, max_len=20)
    n = min(a.n, len(ds))
    truth = ds.truth_matrix()
    first, _ = first_captions(msplit, n)
    diversity = diversity_captions(dataset, ds, jsplit, rng=np.random.default_rng(0))
    distinct = list(dict.fromkeys(msplit.captions))[:16]
    real = judge_figures(judge, judge_vocab, jsplit, {"real": jsplit.images[:n]}, n, truth)["real"]
    rows = []
    for k in a.k:
        model.set_sampler({"imagine_best_of": k})
        t0 = time.perf_counter()
        fakes = imagine(model, msplit, first, seed=0)
        seconds = time.perf_counter() - t0
        figures = judge_figures(judge, judge_vocab, jsplit, {"imagined": fakes}, n, truth)["imagined"]
        rows.append({"k": k, **figures, "probe": probe(model, vocab, distinct),
                     **diversity_ratio(model, vocab, *diversity), "imagine_seconds": seconds,
                     "query_ms_2_pictures": query_ms(model, vocab, msplit.captions[first[0]])})
        print(json.dumps(rows[-1]), flush=True)
    out = {"command": "python scripts/imagination/best_of.py " + " ".join(sys.argv[1:]),
           "run": str(resolve_checkpoint(a.run)), "seed": config["train"]["seed"], "split": a.split,
           "n_queries": n, "judge": {"path": str(resolve_checkpoint(a.judge)), "seed": judge_config["train"]["seed"],
                                     "best_epoch": judge_config["meta"].get("epoch"),
                                     "val_rsum": (judge_config["meta"].get("val") or {}).get("rsum")},
           "real": real, "rows": rows}
    Path(a.out).parent.mkdir(parents=True, exist_ok=True)
    Path(a.out).write_text(json.dumps(out, indent=1))


if __name__ == "__main__":
    main()
