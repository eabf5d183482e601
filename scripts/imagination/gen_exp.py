"""Stage-2-like generator experiments on frozen stage-1 encoders: the harness behind
assets/results/analysis/imagination_shapes.json (issue 10's imagination analysis).

A scratch harness, kept so that every figure in that JSON can be re-run: a generator-only loop on cached,
frozen text embeddings (the staged recipe's stage 2, minus the captioner), judged by another seed's
stage-1 model on the first --n_eval val images. Outputs go to runs/exp10/<name>/ (result.json, grid.png).

    python scripts/imagination/gen_exp.py --name e5 --w_l1 0 --w_l2 20 --cond_scale 16 --logvar_init -6 --steps 600
"""
import argparse, json, os, sys, time
import numpy as np, torch, torch.nn.functional as F
from safetensors.torch import load_file, save_file
from torch import nn
sys.path.insert(0, os.getcwd())
from lookimagine import losses
from lookimagine.data import load_dataset
from lookimagine.data.batching import encode_split
from lookimagine.data.images import images_to_float, from_tensor
from lookimagine.models.checkpoint import load_checkpoint
from lookimagine.models.t2i_gan import ConditioningAugmentation, Generator, Discriminator, NoiseEncoder
from lookimagine.data.shapes import SHAPES, COLOURS
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))  # measure.py

p = argparse.ArgumentParser()
p.add_argument("--name"); p.add_argument("--dataset", default="shapes")
p.add_argument("--init", default="runs/staged/shapes-s0/stage1/best")
p.add_argument("--judge", default="runs/staged/shapes-s1/stage1/best")
p.add_argument("--steps", type=int, default=1000); p.add_argument("--batch", type=int, default=64)
p.add_argument("--lr", type=float, default=2e-3); p.add_argument("--w_gan", type=float, default=1.0)
p.add_argument("--w_kl", type=float, default=0.001); p.add_argument("--w_l1", type=float, default=20.0)
p.add_argument("--w_match", type=float, default=1.0); p.add_argument("--w_l2", type=float, default=0.0); p.add_argument("--cond", default="tl")  # tl | tlth | scene
p.add_argument("--eval_every", type=int, default=500); p.add_argument("--n_eval", type=int, default=500)
p.add_argument("--gen_channels", type=int, default=16); p.add_argument("--noise_dim", type=int, default=64)
p.add_argument("--cond_dim", type=int, default=64); p.add_argument("--arch", default="fc")  # fc | coord
p.add_argument("--w_ms", type=float, default=0.0)  # mode seeking (MSGAN): 1 / (|G(c,z1)-G(c,z2)| / |z1-z2|)
# cVAE-GAN (BicycleGAN's first half, Zhu et al. 2017): an encoder gives the noise of the very picture the caption
# describes, and the pixel loss is taken on that drawing only; the drawing from prior noise meets D and the critic.
# The pixel loss then no longer pulls every drawing of a caption to its mean: what the caption leaves open goes
# into z. --w_kl_z weighs KL(q(z|x) || N(0, I)) (summed over z's dims, mean over the batch).
p.add_argument("--z_encoder", action="store_true"); p.add_argument("--w_kl_z", type=float, default=0.01)
p.add_argument("--no_d", action="store_true"); p.add_argument("--cond_scale", type=float, default=1.0); p.add_argument("--logvar_init", type=float, default=0.0)
a = p.parse_args()
torch.set_num_threads(1); torch.manual_seed(0)
out = f"runs/exp21/{a.name}"; os.makedirs(out, exist_ok=True)
enc, vocab, cfg = load_checkpoint(a.init); enc.eval().requires_grad_(False)
judge, jvocab, _ = load_checkpoint(a.judge)
kw = {"styles": tuple(cfg["train"]["styles"])} if a.dataset == "emoji" else {}
cache = f"runs/exp10/cache_{a.dataset}_{os.path.basename(os.path.dirname(os.path.dirname(a.init)))}.safetensors"
if os.path.exists(cache):
    C = load_file(cache)  # safetensors: nothing is unpickled
else:
    tr = load_dataset(a.dataset, "train", **({"n": 20000, "seed": 1} if a.dataset == "shapes" else kw))
    sp = encode_split(tr, vocab, image_size=64, max_len=20)
    C = {"images": sp.images, "tokens": sp.tokens, "lengths": sp.lengths, "owner": sp.image_of_caption}
    if a.dataset == "shapes":
        sc = torch.zeros(len(tr), 3, 18)
        for i in range(len(tr)):
            objs = sorted(tr.scene_of(i).objects, key=lambda o: o.x)
            for k, o in enumerate(objs):
                sc[i, k, SHAPES.index(o.shape)] = 1; sc[i, k, 6 + list(COLOURS).index(o.colour)] = 1
                sc[i, k, 13 + (o.size == "large")] = 1; sc[i, k, 15] = o.x; sc[i, k, 16] = o.y; sc[i, k, 17] = 1
        C["scene"] = sc.flatten(1)
    os.makedirs(os.path.dirname(cache), exist_ok=True); save_file({k: v.contiguous() for k, v in C.items()}, cache)
print("data", C["images"].shape, C["tokens"].shape, flush=True)
# frozen text embeddings of every training caption
with torch.no_grad():
    parts = [enc.encode_text(C["tokens"][s:s + 1024], C["lengths"][s:s + 1024]) for s in range(0, len(C["tokens"]), 1024)]
    TL = torch.cat([q.t_l for q in parts]); TH = torch.cat([q.t_h for q in parts])
E = TL.shape[1]
cdim_in = {"tl": E, "tlth": 2 * E, "scene": 54}[a.cond]
def condition(rows):
    if a.cond == "tl": return TL[rows]
    if a.cond == "tlth": return torch.cat([TL[rows], TH[rows]], -1)
    return C["scene"][C["owner"][rows]]
ca = ConditioningAugmentation(cdim_in, a.cond_dim)
with torch.no_grad():
    ca.phi[0].bias[a.cond_dim:] += a.logvar_init
_ca_fwd = ca.forward
ca.forward = lambda c, generator=None, sample=True: _ca_fwd(c * a.cond_scale, generator=generator, sample=sample)
if a.arch == "coord":
    from coord_generator import CoordGenerator
    G = CoordGenerator(a.cond_dim, a.noise_dim, a.gen_channels, 64)
else:
    G = Generator(a.cond_dim, a.noise_dim, a.gen_channels, 64)
D = Discriminator(cdim_in, a.cond_dim, 16, 64)
E = NoiseEncoder(a.noise_dim) if a.z_encoder else None  # q(z | x), log-variance clamped to [-8, 2]
optG = torch.optim.Adam(list(ca.parameters()) + list(G.parameters()) + (list(E.parameters()) if E else []),
                        lr=a.lr, betas=(0.5, 0.999))
optD = torch.optim.Adam(D.parameters(), lr=a.lr, betas=(0.5, 0.999))
gen = torch.Generator().manual_seed(0)
n_cap = len(C["tokens"])

# val
val = load_dataset(a.dataset, "val", **kw); vsp = encode_split(val, vocab, image_size=64, max_len=20)
jsp = encode_split(val, jvocab, image_size=64, max_len=20)
owner = vsp.image_of_caption.numpy(); nv = a.n_eval
first = np.array([np.flatnonzero(owner == i)[0] for i in range(nv)])
truth = val.truth_matrix(); truth = truth[:nv] if truth is not None else None
from measure import rprec  # noqa
from lookimagine.evaluation.embedding import embed_images, embed_texts
from lookimagine.training.health import conditioning_probe
jtxt = embed_texts(judge, jsp.tokens, jsp.lengths, "cpu")
real_sc = judge.similarity(embed_images(judge, jsp.images[:nv], "cpu"), jtxt).numpy()
print("real", rprec(real_sc, first, owner, truth), flush=True)
with torch.no_grad():
    vt = enc.encode_text(vsp.tokens, vsp.lengths)
vscene = None
if a.cond == "scene":
    vscene = torch.zeros(len(val), 3, 18)
    for i in range(len(val)):
        for k, o in enumerate(sorted(val.scene_of(i).objects, key=lambda o: o.x)):
            vscene[i, k, SHAPES.index(o.shape)] = 1; vscene[i, k, 6 + list(COLOURS).index(o.colour)] = 1
            vscene[i, k, 13 + (o.size == "large")] = 1; vscene[i, k, 15] = o.x; vscene[i, k, 16] = o.y; vscene[i, k, 17] = 1
    vscene = vscene.flatten(1)
def vcond(rows):
    rows = torch.as_tensor(rows)
    if a.cond == "tl": return vt.t_l[rows]
    if a.cond == "tlth": return torch.cat([vt.t_l[rows], vt.t_h[rows]], -1)
    return vscene[vsp.image_of_caption[rows]]
@torch.no_grad()
def draw(c, g, sample=True):
    t_c, _, _ = ca(c, generator=g, sample=sample)
    return G(t_c, torch.randn((c.shape[0], a.noise_dim), generator=g))
@torch.no_grad()
def evaluate(step):
    G.eval(); ca.eval(); g = torch.Generator().manual_seed(0); fakes = []
    for s in range(0, nv, 100):
        d = draw(vcond(first[s:s + 100]), g, sample=False)
        fakes.append(((d.clamp(-1, 1) + 1) * 127.5).round().to(torch.uint8))
    sc = judge.similarity(embed_images(judge, torch.cat(fakes), "cpu"), jtxt).numpy()
    r = rprec(sc, first, owner, truth)
    seen = list(dict.fromkeys(first[:16].tolist()))
    r["probe"] = conditioning_probe(lambda gg: draw(vcond(seen), gg), n_draws=4, seed=0)
    from lookimagine.evaluation.imagination import mean_pairwise_distance
    u8 = lambda x: ((x.clamp(-1, 1) + 1) * 127.5).round().to(torch.uint8)  # noqa: E731
    stacks = torch.stack([u8(draw(vcond(seen), torch.Generator().manual_seed(k))) for k in range(4)], 1)
    r["samples_distance"] = float(np.mean([mean_pairwise_distance(x) for x in stacks]))
    r["step"] = step
    G.train(); ca.train()
    return r, torch.cat(fakes)
def sheet(step):
    from PIL import Image
    g = torch.Generator().manual_seed(1); G.eval(); ca.eval()
    rows = first[:10]
    tiles = []
    for r in rows:
        x = draw(vcond([r] * 4), g)
        tiles.append([from_tensor(images_to_float(vsp.images[vsp.image_of_caption[r]][None])[0])] + [from_tensor(t) for t in x])
    G.train(); ca.train()
    im = Image.new("RGB", (5 * 66, 10 * 66), "black")
    for i, row in enumerate(tiles):
        for j, t in enumerate(row):
            im.paste(t, (j * 66, i * 66))
    im.save(f"{out}/grid_{step}.png")
    with open(f"{out}/grid_captions.txt", "w") as f:
        f.write("\n".join(vsp.captions[r] for r in rows))
hist = []; t0 = time.time(); logs = {}
for step in range(1, a.steps + 1):
    rows = torch.randint(0, n_cap, (a.batch,), generator=gen)
    img_rows = C["owner"][rows]
    # one caption per image in the batch (dedupe images) -- fine with 100k captions
    real = images_to_float(C["images"][img_rows]); c = condition(rows)
    t_c, mu, logvar = ca(c, generator=gen)
    z_used = torch.randn((a.batch, a.noise_dim), generator=gen)
    fake = G(t_c, z_used)
    rec = fake  # the drawing the pixel loss compares with the real picture
    loss = 0
    if E is not None:
        mu_z, lv_z = E(real)
        z_enc = mu_z + (0.5 * lv_z).exp() * torch.randn(mu_z.shape, generator=gen)
        rec = G(t_c, z_enc)
        kl_z = (-0.5 * (1 + lv_z - mu_z.pow(2) - lv_z.exp()).sum(1)).mean()
        loss = loss + a.w_kl_z * kl_z; logs["kl_z"] = kl_z.item()
    if not a.no_d and a.w_gan > 0:
        d_real, d_fake = D(real, c), D(fake.detach(), c)
        d_loss = losses.discriminator_loss(d_real, d_fake, D(real, c.roll(1, 0)))
        optD.zero_grad(); d_loss.backward(); torch.nn.utils.clip_grad_norm_(D.parameters(), 2.0); optD.step()
        D.requires_grad_(False); gl = losses.generator_loss(D(fake, c)); D.requires_grad_(True)
        loss = loss + a.w_gan * gl; logs["g"] = gl.item(); logs["dfake"] = torch.sigmoid(d_fake).mean().item()
        if E is not None:  # the encoded drawing must look real too (cVAE-GAN)
            D.requires_grad_(False); gl_rec = losses.generator_loss(D(rec, c)); D.requires_grad_(True)
            loss = loss + a.w_gan * gl_rec; logs["g_rec"] = gl_rec.item()
    kl = losses.kl_loss(mu, logvar); loss = loss + a.w_kl * kl
    if a.w_ms > 0:  # a second drawing of the same codes from other noise: make them differ
        z1, z2 = z_used, torch.randn((a.batch, a.noise_dim), generator=gen)
        fake2 = G(t_c, z2)
        lz = (fake - fake2).abs().mean() / (z1 - z2).abs().mean()
        ms = 1 / (lz + 1e-5); loss = loss + a.w_ms * ms; logs["ms"] = ms.item()
    if a.w_l1 > 0:
        l1 = (rec - real).abs().mean(); loss = loss + a.w_l1 * l1; logs["l1"] = l1.item()
    if a.w_l2 > 0:
        l2 = (rec - real).pow(2).mean(); loss = loss + a.w_l2 * l2; logs["l2"] = l2.item()
    if a.w_match > 0:
        tp = None
        if a.dataset == "shapes":
            pass
        sims = enc.similarity(enc.encode_image(fake), type(vt)(TH[rows], TL[rows], None, None))
        m = losses.ranking_loss(sims, 0.05, "sum", tp); loss = loss + a.w_match * m; logs["match"] = m.item()
    optG.zero_grad(); loss.backward()
    logs["gnorm"] = float(torch.nn.utils.clip_grad_norm_(list(ca.parameters()) + list(G.parameters()), 2.0)); optG.step()
    if step % 100 == 0:
        print(step, f"{time.time() - t0:.0f}s", {k: round(v, 3) for k, v in logs.items()}, flush=True)
    if step % a.eval_every == 0 or step == a.steps:
        r, _ = evaluate(step); r["seconds"] = time.time() - t0; hist.append(r); print("EVAL", r, flush=True)
sheet(a.steps)
json.dump({"command": "python scripts/imagination/gen_exp.py " + " ".join(sys.argv[1:]), "args": vars(a), "history": hist},
          open(f"{out}/result.json", "w"), indent=1)
save_file({**{f"ca.{k}": v.contiguous() for k, v in ca.state_dict().items()}, **{f"G.{k}": v.contiguous() for k, v in G.state_dict().items()},
           **({f"E.{k}": v.contiguous() for k, v in E.state_dict().items()} if E else {})}, f"{out}/gen.safetensors")
