"""Judge R-precision on val of a generator checkpoint, plus oracles. Scratch harness (exp10)."""
import argparse, json, sys, time
import numpy as np, torch
from lookimagine.data import load_dataset
from lookimagine.data.batching import encode_split
from lookimagine.models.checkpoint import load_checkpoint
from lookimagine.evaluation.embedding import embed_images, embed_texts
from lookimagine.evaluation.image_metrics import sample_r_precision_candidates

def judge_scores(judge, jvocab, split, images_u8):
    tokens = [jvocab.encode(c) for c in split.captions]
    w = max(len(t) for t in tokens)
    tt = torch.tensor([t + [0] * (w - len(t)) for t in tokens]); ll = torch.tensor([len(t) for t in tokens])
    txt = embed_texts(judge, tt, ll, "cpu")
    return judge.similarity(embed_images(judge, images_u8, "cpu"), txt).cpu().numpy()

def rprec(scores, first, owner, truth=None, seed=0):
    pools = sample_r_precision_candidates(first, scores.shape[1], 100, seed, owner)
    s = np.take_along_axis(scores, pools, axis=1)
    exact = float(np.mean(s[:, 0] > s[:, 1:].max(1))) * 100
    out = {"exact": exact}
    if truth is not None:
        t = truth[np.arange(len(first))[:, None], pools]  # (N,100) candidate true of source scene
        t[:, 0] = True
        best_true = np.where(t, s, -np.inf).max(1); best_false = np.where(~t, s, -np.inf).max(1)
        out["truth"] = float(np.mean(best_true > best_false)) * 100
    return out

def oracles(a, ds, kw, split, judge, jvocab, first, owner, truth, n, res):
    """The oracle images (a train image with the same caption, their mean; shapes: a scene the caption is
    true of) judged like the generated ones, into ``res``."""
    tr = load_dataset(a.dataset, "train", **({"n": 20000, "seed": 1} if a.dataset == "shapes" else kw))
    by_cap = {}
    for i in range(len(tr)):
        for c in tr.captions_of(i):
            by_cap.setdefault(c, []).append(i)
    rng = np.random.default_rng(0)
    caps = [split.captions[r] for r in first]
    found = [c in by_cap for c in caps]
    res["oracle_caption_found_in_train"] = float(np.mean(found))

    def load(i):
        return torch.from_numpy(np.array(tr.load_image(i).convert("RGB").resize((64, 64)))).permute(2, 0, 1)
    retr, mean = [], []
    for c in caps:
        idx = by_cap.get(c)
        if not idx:
            retr.append(torch.full((3, 64, 64), 255, dtype=torch.uint8)); mean.append(retr[-1]); continue
        retr.append(load(int(rng.choice(idx))))
        pick = rng.choice(idx, size=min(len(idx), 32), replace=False)
        mean.append(torch.stack([load(int(i)).float() for i in pick]).mean(0).round().to(torch.uint8))
    if a.dataset == "shapes":
        from lookimagine.data.shapes import caption_is_true
        scenes = [tr.scene_of(i) for i in range(len(tr))]
        samp = []
        for c in caps:
            for i in rng.permutation(len(tr)):
                if caption_is_true(c, scenes[i]):
                    samp.append(load(int(i))); break
            else:
                samp.append(torch.full((3, 64, 64), 255, dtype=torch.uint8))
        res["oracle_sample_scene_where_caption_true"] = rprec(judge_scores(judge, jvocab, split, torch.stack(samp)), first, owner, truth)
        if truth is not None:
            pools = sample_r_precision_candidates(first, truth.shape[1], 100, 0, owner)
            t = truth[np.arange(n)[:, None], pools]; t[:, 0] = True
            res["truth_chance"] = float(t.mean()) * 100
    res["oracle_retrieve_same_caption"] = rprec(judge_scores(judge, jvocab, split, torch.stack(retr)), first, owner, truth)
    res["oracle_mean_image_same_caption"] = rprec(judge_scores(judge, jvocab, split, torch.stack(mean)), first, owner, truth)


def main():
    p = argparse.ArgumentParser()
    p.add_argument("--ckpt"); p.add_argument("--judge", default="runs/staged/shapes-s1/stage1/best")
    p.add_argument("--dataset", default="shapes"); p.add_argument("--n", type=int, default=1000)
    p.add_argument("--oracles", action="store_true"); p.add_argument("--json")
    p.add_argument("--ceilings", action="store_true",
                   help="judge real images blurred to 4/8/16 px, and (emoji) another artist's drawing of the same emoji")
    a = p.parse_args()
    torch.set_num_threads(1)
    judge, jvocab, jcfg = load_checkpoint(a.judge)
    kw = {"styles": tuple(jcfg["train"]["styles"])} if a.dataset == "emoji" else {}
    ds = load_dataset(a.dataset, "val", **kw)
    split = encode_split(ds, jvocab, image_size=64, max_len=20)
    owner = split.image_of_caption.numpy(); n = min(a.n, split.images.shape[0])
    first = np.array([np.flatnonzero(owner == i)[0] for i in range(n)])
    truth = ds.truth_matrix()  # (N images, M captions) or None
    if truth is not None:
        truth = truth[:n]
    res = {"command": "python scripts/imagination/measure.py " + " ".join(sys.argv[1:]), "n": n, "judge": a.judge}
    res["real"] = rprec(judge_scores(judge, jvocab, split, split.images[:n]), first, owner, truth)
    if a.ckpt:
        model, vocab, cfg = load_checkpoint(a.ckpt)
        msplit = encode_split(ds, vocab, image_size=64, max_len=20)
        gen = torch.Generator().manual_seed(0); fakes = []
        with torch.no_grad():
            for s in range(0, n, 100):
                rows = first[s:s + 100]
                txt = model.encode_text(msplit.tokens[rows], msplit.lengths[rows])
                d = model.draw(txt, generator=gen, sample_condition=False) if model.gan is not None else model.draw(txt, generator=gen)
                fakes.append(((d.clamp(-1, 1) + 1) * 127.5).round().to(torch.uint8))
        res["generated"] = rprec(judge_scores(judge, jvocab, split, torch.cat(fakes)), first, owner, truth)
    if a.ceilings:
        import torch.nn.functional as F
        real = split.images[:n].float()
        res["blurred_real"] = {}
        for side in (4, 8, 16, 32):  # what a generator that gets only the coarse layout right could score
            small = F.interpolate(real, size=(side, side), mode="area")
            blurred = F.interpolate(small, size=real.shape[-2:], mode="bilinear", align_corners=False)
            res["blurred_real"][f"{side}px"] = rprec(judge_scores(judge, jvocab, split, blurred.round().clamp(0, 255).to(torch.uint8)),
                                                     first, owner, truth)
        if a.dataset == "emoji":  # the same emoji drawn by another of the training artists (same id, same captions)
            ids = [ds.code_of(i) for i in range(len(ds))]
            other = []
            for i in range(n):
                same = [j for j in range(len(ds)) if ids[j] == ids[i] and j != i]
                other.append(split.images[same[0]] if same else torch.full((3, 64, 64), 255, dtype=torch.uint8))
            res["another_artist"] = rprec(judge_scores(judge, jvocab, split, torch.stack(other)), first, owner, truth)
            res["another_artist"]["found"] = float(np.mean([ids.count(ids[i]) > 1 for i in range(n)]))
    if a.oracles:
        oracles(a, ds, kw, split, judge, jvocab, first, owner, truth, n, res)
    print(json.dumps(res, indent=1))
    if a.json:
        open(a.json, "w").write(json.dumps(res, indent=1))

if __name__ == "__main__":
    main()
