"""The GXN trainer: one recipe for GXN, its ablations and the baseline.

Per batch (paper §3.4, simplified to one joint update — see README "Training"):
1. discriminator step (GAN branch only), on detached text and fakes;
2. one update of encoders + generators on
   L = L_rank + w_caption·[(1−γ)·XE + γ·RL] + w_gan·(L_G + w_kl·KL) + w_diffusion·L_diffusion.
The baseline runs the same loop with every generative term absent.

Each epoch ends with validation R@K; the best val rsum is kept in ``best/``
(inference checkpoint) and ``last/`` holds everything needed to resume.
"""

from __future__ import annotations

import dataclasses
import json
import math
import resource
import shutil
import sys
import time
from pathlib import Path

import numpy as np
import torch
from tqdm import tqdm

from .. import losses
from ..config import ModelConfig, TrainConfig, config_hash, to_dict
from ..data import load_dataset
from ..data.batching import EncodedSplit, encode_split, iterate_batches
from ..data.vocab import Vocabulary
from ..evaluation.captions import reference_sets
from ..evaluation.cider import CiderD
from ..evaluation.embedding import split_similarity
from ..evaluation.retrieval import caption_keys, evaluate_retrieval
from ..models.checkpoint import save_checkpoint
from ..models.gxn import GXN
from ..models.t2i_gan import Discriminator
from .state import load_state, optimizer_from_flat, optimizer_to_flat, save_state


def validate(model: GXN, split: EncodedSplit, device) -> dict:
    """Retrieval scores of the model on an encoded split (model selection uses val rsum)."""
    return evaluate_retrieval(split_similarity(model, split, device).numpy(), split.image_of_caption.numpy(),
                              caption_keys=caption_keys(split.captions))


def load_splits(cfg: TrainConfig, vocab: Vocabulary | None, image_size: int):
    """Train and val splits of the configured dataset, encoded; the vocabulary comes from train only."""
    kwargs = {"n": cfg.n_train} if cfg.dataset == "shapes" and cfg.n_train else {}
    train_ds = load_dataset(cfg.dataset, "train", **kwargs)
    val_ds = load_dataset(cfg.dataset, "val")
    if vocab is None:
        vocab = Vocabulary.build(train_ds.all_captions())
    train = encode_split(train_ds, vocab, image_size=image_size, max_len=cfg.max_len)
    val = encode_split(val_ds, vocab, image_size=image_size, max_len=cfg.max_len)
    return vocab, train, val


class Trainer:
    def __init__(self, model_cfg: ModelConfig, train_cfg: TrainConfig, out_dir: str | Path,
                 device: str = "cpu", preset: str = "", progress: bool = True, command: str | None = None) -> None:
        self.out = Path(out_dir)
        self.device = torch.device(device)
        self.train_cfg = train_cfg
        self.preset = preset
        self.progress = progress
        self.command = command or " ".join(sys.argv)
        if train_cfg.num_threads:
            torch.set_num_threads(train_cfg.num_threads)
        torch.manual_seed(train_cfg.seed)
        resume = load_state(self.out / "last")
        vocab = Vocabulary.load(self.out / "last" / "vocab.json") if resume else None
        self.vocab, self.train_split, self.val_split = load_splits(train_cfg, vocab, model_cfg.image_size)
        self.model_cfg = dataclasses.replace(model_cfg, vocab_size=len(self.vocab))
        self.model = GXN(self.model_cfg).to(self.device)
        self.opt = torch.optim.Adam(self.model.parameters(), lr=train_cfg.lr)
        self.disc = self.opt_d = None
        if self.model_cfg.t2i == "gan":
            c = self.model_cfg
            self.disc = Discriminator(c.embed_dim, c.cond_dim, c.disc_channels, c.image_size).to(self.device)
            self.opt_d = torch.optim.Adam(self.disc.parameters(), lr=train_cfg.lr, betas=(0.5, 0.999))
        self.cider = None
        if self.model_cfg.i2t and train_cfg.rl_start_epoch is not None:
            self.cider = CiderD(reference_sets(self.train_split))
        self.gen = torch.Generator().manual_seed(train_cfg.seed)
        self.epoch, self.best_rsum, self.history, self.seconds = 0, -math.inf, [], 0.0
        if resume:
            self._restore(*resume)

    # ---- helpers --------------------------------------------------------------------
    def _gamma(self, epoch: int) -> float:
        """Weight of RL in the caption loss: 0 before rl_start, then rising gamma_start → gamma_end."""
        cfg = self.train_cfg
        if cfg.rl_start_epoch is None or epoch < cfg.rl_start_epoch:
            return 0.0
        span = max(cfg.epochs - 1 - cfg.rl_start_epoch, 1)
        return cfg.gamma_start + (cfg.gamma_end - cfg.gamma_start) * min((epoch - cfg.rl_start_epoch) / span, 1.0)

    def _ss_prob(self, epoch: int) -> float:
        """Scheduled sampling probability, rising linearly to its maximum over the XE epochs."""
        cfg = self.train_cfg
        xe_epochs = cfg.rl_start_epoch if cfg.rl_start_epoch is not None else cfg.epochs
        return cfg.scheduled_sampling_max * min(epoch / max(xe_epochs - 1, 1), 1.0)

    def _lr(self, epoch: int) -> float:
        cfg = self.train_cfg
        return cfg.lr * (0.1 if cfg.lr_decay_epoch is not None and epoch >= cfg.lr_decay_epoch else 1.0)

    # ---- one step -------------------------------------------------------------------
    def step(self, batch, epoch: int) -> dict[str, float]:
        """One optimisation step on a batch; returns the loss terms."""
        cfg, model = self.train_cfg, self.model
        model.train()
        images = batch.images.to(self.device)
        tokens, lengths = batch.tokens.to(self.device), batch.lengths.to(self.device)
        logs: dict[str, float] = {}
        gen_on = epoch >= cfg.gen_start_epoch
        gb = min(cfg.gen_batch, images.shape[0])

        img = model.encode_image(images)
        txt = model.encode_text(tokens, lengths)
        loss = losses.ranking_loss(model.similarity(img, txt), cfg.margin, cfg.ranking_loss)
        logs["rank"] = loss.item()

        if model.caption_decoder is not None and gen_on:
            logits = model.caption_decoder(img.v_l, tokens, self._ss_prob(epoch), self.gen)
            xe = losses.caption_xe(logits, tokens[:, 1:])
            logs["xe"] = xe.item()
            gamma = self._gamma(epoch)
            cap = xe
            if gamma > 0:
                rl = self._self_critical(img.v_l, batch.image_index)
                logs["rl"] = rl.item()
                cap = (1 - gamma) * xe + gamma * rl
            loss = loss + cfg.w_caption * cap

        if self.disc is not None and gen_on:
            loss = loss + cfg.w_gan * self._gan_terms(images[:gb], txt.t_l[:gb], logs)

        if model.diffusion is not None and gen_on:
            pred, noise = model.diffusion.predict_noise(images[:gb], txt.states[:gb], txt.mask[:gb], self.gen)
            diff = losses.noise_prediction_loss(pred, noise)
            logs["diffusion"] = diff.item()
            loss = loss + cfg.w_diffusion * diff

        self.opt.zero_grad(set_to_none=True)
        loss.backward()
        torch.nn.utils.clip_grad_norm_(model.parameters(), cfg.grad_clip)
        self.opt.step()
        logs["loss"] = loss.item()
        return logs

    def _self_critical(self, v_l: torch.Tensor, image_index: torch.Tensor) -> torch.Tensor:
        decoder, max_len = self.model.caption_decoder, self.model_cfg.max_caption_len
        sampled, logprobs = decoder.sample(v_l, max_len, greedy=False, generator=self.gen)
        with torch.no_grad():
            greedy, _ = decoder.sample(v_l.detach(), max_len, greedy=True)
        index = image_index.tolist()
        reward = self.cider.score([self.vocab.decode(s) for s in sampled.tolist()], index)
        base = self.cider.score([self.vocab.decode(s) for s in greedy.tolist()], index)
        to_t = lambda a: torch.as_tensor(np.asarray(a), dtype=torch.float32, device=v_l.device)  # noqa: E731
        return losses.self_critical(logprobs, sampled, to_t(reward), to_t(base))

    def _gan_terms(self, real: torch.Tensor, t_l: torch.Tensor, logs: dict) -> torch.Tensor:
        """Discriminator step, then the generator's loss (which reaches t_l and the text encoder)."""
        model, disc = self.model, self.disc
        t_c, mu, logvar = model.cond_aug(t_l, generator=self.gen)
        z = torch.randn((t_c.shape[0], self.model_cfg.noise_dim), generator=self.gen, device=t_c.device)
        fake = model.generator(t_c, z)
        # 1. D: accept (real, true text); reject (fake, true text) and (real, wrong text).
        t_det = t_l.detach()
        wrong = t_det.roll(1, dims=0)  # each image paired with its neighbour's text (one caption per image)
        d_loss = losses.discriminator_loss(disc(real, t_det), disc(fake.detach(), t_det), disc(real, wrong))
        self.opt_d.zero_grad(set_to_none=True)
        d_loss.backward()
        self.opt_d.step()
        logs["d"] = d_loss.item()
        # 2. G: fool D on (fake, true text); conditioning augmentation's KL keeps t_c smooth.
        g = losses.generator_loss(disc(fake, t_l))
        kl = losses.kl_loss(mu, logvar)
        logs["g"], logs["kl"] = g.item(), kl.item()
        return g + self.train_cfg.w_kl * kl

    # ---- loop -----------------------------------------------------------------------
    def fit(self) -> dict:
        cfg = self.train_cfg
        n_images = self.train_split.images.shape[0]
        start = time.time() - self.seconds
        while self.epoch < cfg.epochs:
            epoch = self.epoch
            for group in self.opt.param_groups:
                group["lr"] = self._lr(epoch)
            batches = iterate_batches(self.train_split, cfg.batch_size, self.gen)
            n_batches = math.ceil(n_images / cfg.batch_size)
            bar = tqdm(batches, total=n_batches, desc=f"epoch {epoch + 1}/{cfg.epochs}", disable=not self.progress,
                       leave=False, file=sys.stderr)
            sums: dict[str, float] = {}
            t0 = time.time()
            for i, batch in enumerate(bar):
                if batch.images.shape[0] < 2:
                    continue
                logs = self.step(batch, epoch)
                for k, v in logs.items():
                    sums[k] = sums.get(k, 0.0) + v
                bar.set_postfix({k: f"{v / (i + 1):.3f}" for k, v in sums.items()})
            train_seconds = time.time() - t0
            val = validate(self.model, self.val_split, self.device)
            record = {"epoch": epoch + 1, **{k: v / max(n_batches, 1) for k, v in sums.items()},
                      "val_rsum": val["rsum"], "val_i2t_r1": val["image_to_text"]["r1"],
                      "val_t2i_r1": val["text_to_image"]["r1"], "epoch_seconds": train_seconds,
                      "samples_per_second": n_images / max(train_seconds, 1e-9)}
            self.history.append(record)
            improved = val["rsum"] > self.best_rsum
            if improved:
                self.best_rsum = val["rsum"]
                self._save_best(val, record)
            self.epoch += 1
            self.seconds = time.time() - start
            self._save_last()
            if self.progress:
                print(f"epoch {epoch + 1}: loss {record.get('loss', 0):.3f}  val rsum {val['rsum']:.1f} "
                      f"(i2t R@1 {record['val_i2t_r1']:.1f}, t2i R@1 {record['val_t2i_r1']:.1f})"
                      f"{'  *best*' if improved else ''}  {train_seconds:.0f}s", file=sys.stderr)
        return self._write_run_meta()

    # ---- persistence ----------------------------------------------------------------
    def _meta(self) -> dict:
        return {"preset": self.preset, "seed": self.train_cfg.seed, "config_hash":
                config_hash(self.model_cfg, self.train_cfg), "command": self.command}

    def _save_best(self, val: dict, record: dict) -> None:
        meta = {**self._meta(), "epoch": record["epoch"], "val": val}
        tmp = self.out / "best.tmp"
        shutil.rmtree(tmp, ignore_errors=True)
        save_checkpoint(tmp, self.model, self.vocab, self.train_cfg, meta)
        shutil.rmtree(self.out / "best", ignore_errors=True)
        tmp.replace(self.out / "best")

    def _save_last(self) -> None:
        last = self.out / "last"
        save_checkpoint(last, self.model, self.vocab, self.train_cfg, self._meta())
        tensors, info = {}, {"epoch": self.epoch, "best_rsum": self.best_rsum, "history": self.history,
                             "seconds": self.seconds}
        for name, opt in (("opt", self.opt), ("opt_d", self.opt_d)):
            if opt is not None:
                t, rest = optimizer_to_flat(name, opt)
                tensors.update(t)
                info[name] = rest
        if self.disc is not None:
            tensors.update({f"disc.{k}": v.detach().cpu().contiguous() for k, v in self.disc.state_dict().items()})
        tensors["rng.torch"] = torch.get_rng_state()
        tensors["rng.gen"] = self.gen.get_state()
        save_state(last, tensors, info)

    def _restore(self, tensors: dict, info: dict) -> None:
        from safetensors.torch import load_file

        self.model.load_state_dict(load_file(str(self.out / "last" / "model.safetensors")), strict=True)
        optimizer_from_flat("opt", self.opt, tensors, info["opt"])
        if self.disc is not None:
            self.disc.load_state_dict({k[5:]: v for k, v in tensors.items() if k.startswith("disc.")}, strict=True)
            optimizer_from_flat("opt_d", self.opt_d, tensors, info["opt_d"])
        torch.set_rng_state(tensors["rng.torch"])
        self.gen.set_state(tensors["rng.gen"])
        self.epoch, self.best_rsum = info["epoch"], info["best_rsum"]
        self.history, self.seconds = info["history"], info["seconds"]
        if self.progress:
            print(f"resuming {self.out} after epoch {self.epoch} (best val rsum {self.best_rsum:.1f})", file=sys.stderr)

    def _write_run_meta(self) -> dict:
        best = max(self.history, key=lambda r: r["val_rsum"]) if self.history else {}
        peak_mb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
        meta = {**self._meta(), "model": to_dict(self.model_cfg), "train": to_dict(self.train_cfg),
                "best_epoch": best.get("epoch"), "best_val_rsum": self.best_rsum,
                "wall_seconds": round(self.seconds, 1),
                "samples_per_second": round(float(np.mean([r["samples_per_second"] for r in self.history])), 1),
                "peak_memory_mb": round(peak_mb, 1), "device": str(self.device),
                "threads": torch.get_num_threads(), "history": self.history}
        (self.out / "run.json").write_text(json.dumps(meta, indent=2))
        return meta
