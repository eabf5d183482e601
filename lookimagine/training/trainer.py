"""The GXN trainer: one recipe for GXN, its ablations, the baseline and every stage of the staged recipe.

Per batch (paper §3.4, simplified to one joint update — see docs/model.md, "update schedule"):
1. the forward pass through GXN (``passes.TrainingPass``);
2. the discriminator's step (GAN branch only), on detached text and fakes;
3. one backward pass of the objective L (``objectives``: w_rank·L_rank + captioning + GAN + ...), then each
   module group's own gradient clip and Adam step (``optimisers``).

The staged recipe is three runs of this trainer: the baseline (encoders); generators pretrained on the
frozen encoders (``init_from`` + ``freeze_encoders``, ``w_rank=0``); joint fine-tuning (``init_from``).

Each epoch ends with validation R@K (under the dataset's primary protocol) and the health records
(``health.py``): each loss's gradient share on the shared encoders and, for models that draw, the
conditioning probe (``records``). The best val rsum is kept in ``best/`` (inference checkpoint); ``last/``
holds everything needed to resume (``persistence``).

Under ``accelerate launch`` (one CPU, GPUs, machines) the same loop runs with an ``accelerate.Accelerator``
(``make_accelerator``): batches are sharded by a prepared DataLoader (``data.epoch_batches``), losses go
through ``accelerator.backward`` under its autocast (bf16), micro-batches accumulate (``grad_accum``), and
only the main process writes (``passes.StepRunner``).
"""

from __future__ import annotations

import contextlib
import dataclasses
import functools
import random
import sys
import time
from pathlib import Path

import numpy as np
import torch
from tqdm import tqdm

from ..config import ModelConfig, TrainConfig
from ..data.batching import Batch
from ..data.vocab import Vocabulary
from ..evaluation.captions import reference_sets
from ..evaluation.cider import CiderD
from ..models.checkpoint import load_checkpoint
from ..models.gxn import GXN
from .data import (epoch_batches, framed_images, framing_drawings, fresh_training_set, load_splits,
                   swapped_captions, true_pairs)
from .ema import Ema
from .health import conditioning_probe, gradient_shares
from .latents import LatentCache
from .objectives import Judges, discriminator_loss, gan_targets, objective
from .optimisers import clip_and_step, group_parameters, make_discriminator, make_optimisers
from .passes import DiscriminatorPass, StepRunner, TrainingPass, make_accelerator
from .persistence import (TrainingState, load_init_weights, restore, run_identity, run_meta, save_best,
                          save_last, write_run_meta)
from .records import epoch_line, epoch_record, is_best, stops_early, validate
from .schedules import rl_weight, scheduled_sampling, set_learning_rates
from .state import load_state

HEALTH_BATCHES = 2  # batches per epoch on which each loss's gradient share is measured
PROBE_TEXTS, PROBE_DRAWS = 16, 4

__all__ = ["Trainer", "make_accelerator", "group_parameters", "validate"]


def check_config(cfg: TrainConfig, accelerator) -> None:
    if cfg.grad_accum > 1 and accelerator is None:
        raise ValueError("grad_accum needs an accelerator (python -m lookimagine.train under accelerate launch)")
    if (cfg.w_match > 0 or cfg.w_match_swap > 0) and not cfg.init_from:
        raise ValueError("w_match needs init_from: the matching critic is a frozen copy of a trained model")
    if cfg.w_match_swap > 0 and cfg.dataset != "shapes":
        raise ValueError("w_match_swap swaps the shape and colour words of shapes captions; only shapes has them")
    if cfg.framing_augment > 0 and cfg.dataset == "shapes":
        raise ValueError("framing_augment moves drawings in the frame; on shapes the place is the meaning")


class Trainer:
    def __init__(self, model_cfg: ModelConfig, train_cfg: TrainConfig, out_dir: str | Path,
                 device: str = "cpu", preset: str = "", progress: bool = True, command: str | None = None,
                 accelerator=None) -> None:
        """``accelerator``: an ``accelerate.Accelerator`` (``make_accelerator``) to train under; it sets the
        device. None: plain single-device training on ``device``. A run folder with ``last/`` resumes."""
        check_config(train_cfg, accelerator)
        self.out, self.train_cfg, self.preset, self.progress = Path(out_dir), train_cfg, preset, progress
        self.command = command or " ".join(sys.argv)
        self.runner = StepRunner(accelerator, device)
        self.accelerator, self.device, self.is_main = accelerator, self.runner.device, self.runner.is_main
        if train_cfg.num_threads:
            torch.set_num_threads(train_cfg.num_threads)
        torch.manual_seed(train_cfg.seed)
        resume = load_state(self.out / "last")
        init = load_checkpoint(train_cfg.init_from) if train_cfg.init_from else None
        vocab = Vocabulary.load(self.out / "last" / "vocab.json") if resume else init[1] if init else None
        self.vocab, self.train_ds, self.train_split, self._val_ds, self.val_split = load_splits(
            train_cfg, vocab, model_cfg.image_size)
        self.model_cfg = dataclasses.replace(model_cfg, vocab_size=len(self.vocab))
        # emoji framing augmentation: the drawings are cut out once; each epoch frames a fresh share of them
        self.drawings = framing_drawings(self.train_split) if train_cfg.framing_augment > 0 else None
        self.memory_format = torch.channels_last if train_cfg.channels_last else torch.contiguous_format
        self.model = self._build_model(pretrained_towers=not resume and init is None)
        self.critic = self._start_from(init[0]) if init is not None else None
        if not resume:
            self._load_autoencoder(init_has_it=init is not None and any(
                k.startswith("diffusion.autoencoder.") for k in init[0].state_dict()))
        self.opts, self.group_params = make_optimisers(self.model, train_cfg)
        self.disc = self.opt_d = None
        if self.model_cfg.t2i == "gan":
            self.disc, self.opt_d = make_discriminator(self.model_cfg, train_cfg, self.device, self.memory_format)
        self.cider = None
        if self.model_cfg.i2t and train_cfg.rl_start_epoch is not None:
            self.cider = CiderD(reference_sets(self.train_split))
        self.gen = torch.Generator().manual_seed(train_cfg.seed)
        self.ema = (Ema(self.model.diffusion.unet, train_cfg.ema_decay)
                    if train_cfg.ema_decay and self.model.diffusion is not None else None)
        diffusion = self.model.diffusion
        self.latent_cache = (LatentCache(diffusion.autoencoder, self.device, self.memory_format)
                             if train_cfg.cache_latents and diffusion is not None and diffusion.autoencoder is not None
                             else None)
        self.epoch_images = self.train_split.images  # the pictures the epoch's batches index (framed or not)
        self.state = TrainingState()
        if resume:
            self._restore(*resume)
        self.training_pass = TrainingPass(self.model)
        self.disc_pass = DiscriminatorPass(self.disc) if self.disc is not None else None
        if accelerator is not None:
            self._prepare()

    # ---- set-up ---------------------------------------------------------------------
    def _build_model(self, pretrained_towers: bool) -> GXN:
        """GXN on the device (conv weights NHWC with ``channels_last``); open_clip towers get the vocabulary,
        and their pretrained weights when the run starts from nothing."""
        model = GXN(self.model_cfg)
        if self.model_cfg.backbone == "open_clip":
            from ..models.clip_encoders import load_pretrained_towers

            model.text_encoder.set_vocabulary(self.vocab.tokens)
            if pretrained_towers:
                load_pretrained_towers(model)
        model.to(self.device)
        if self.train_cfg.channels_last and self.model_cfg.backbone == "pocket":
            model.to(memory_format=torch.channels_last)  # conv weights NHWC; the rest is unaffected
        return model

    def _start_from(self, init: GXN) -> GXN | None:
        """Load the ``init_from`` checkpoint; with ``w_match`` or ``w_match_swap``, keep it as the frozen critic
        that judges imagined images."""
        load_init_weights(self.model, init, self.train_cfg.init_from)
        if self.train_cfg.w_match <= 0 and self.train_cfg.w_match_swap <= 0:
            return None
        fmt = self.memory_format if self.model_cfg.backbone == "pocket" else torch.contiguous_format
        return init.to(self.device, memory_format=fmt).eval().requires_grad_(False)

    def _load_autoencoder(self, init_has_it: bool) -> None:
        """The latent diffusion branch's frozen autoencoder: from ``autoencoder_from``, or else from the
        ``init_from`` checkpoint (a later stage); a run that has neither cannot draw anything sensible."""
        diffusion = self.model.diffusion
        if diffusion is None or diffusion.autoencoder is None:
            return
        if self.train_cfg.autoencoder_from:
            from ..models.autoencoder import LatentAutoencoder

            trained = LatentAutoencoder.load(self.train_cfg.autoencoder_from)
            diffusion.autoencoder.load_state_dict(trained.state_dict())
            diffusion.autoencoder.to(self.device)
        elif not init_has_it:
            raise ValueError("the latent diffusion branch needs its autoencoder: set autoencoder_from to a folder of "
                             "python -m lookimagine.tools.train_autoencoder, or init_from a checkpoint that has one")

    def _optimizers(self) -> dict[str, torch.optim.Optimizer]:
        """Every optimiser under its name in the resumable state."""
        opts = {f"opt.{g}": o for g, o in self.opts.items()}
        if self.opt_d is not None:
            opts["opt_d"] = self.opt_d
        return opts

    def _restore(self, tensors: dict, info: dict) -> None:
        self.state = restore(self.out, tensors, info, self.model, self._optimizers(), self.disc, self.gen)
        if self.ema is not None:
            self.ema.load(tensors)
        if self.progress:
            print(f"resuming {self.out} after epoch {self.state.epoch} (best val rsum {self.state.best_rsum:.1f})",
                  file=sys.stderr)

    def _step_modules(self) -> list[torch.nn.Module]:
        return [self.training_pass] + ([self.disc_pass] if self.disc_pass is not None else [])

    def _prepare(self) -> None:
        """Hand the step's modules and every optimiser to accelerate (after a resume has restored them)."""
        names = list(self.opts)
        opts = list(self.opts.values()) + ([self.opt_d] if self.opt_d is not None else [])
        modules, opts = self.runner.prepare(self._step_modules(), opts)
        self.training_pass = modules[0]
        if self.disc_pass is not None:
            self.disc_pass = modules[1]
        self.opts = dict(zip(names, opts[:len(names)]))
        if self.opt_d is not None:
            self.opt_d = opts[-1]

    @functools.cached_property
    def val_truth(self) -> np.ndarray | None:
        """The val split's ground truth by the dataset's checker (None without one), computed at the first
        validation: shapes' checker takes seconds, which a trainer timed for its steps alone does not need."""
        return self._val_ds.truth_matrix()

    # ---- one step -------------------------------------------------------------------
    def step(self, batch: Batch, epoch: int, measure: bool = False) -> dict[str, float]:
        """One optimisation step on a batch; returns the loss terms (and, if ``measure``, the gradient
        shares of each term on the shared encoders under ``share.<term>``)."""
        with self.runner.step_context(self._step_modules()):
            return self._step(batch, epoch, measure)

    def _step(self, batch: Batch, epoch: int, measure: bool) -> dict[str, float]:
        cfg, model = self.train_cfg, self.model
        model.train()
        if cfg.freeze_encoders:  # frozen encoders: eval mode too, so BatchNorm statistics stay put
            model.image_encoder.eval()
            model.text_encoder.eval()
        images = batch.images.to(self.device, memory_format=self.memory_format)
        tokens, lengths = batch.tokens.to(self.device), batch.lengths.to(self.device)
        gen_on, gamma = epoch >= cfg.gen_start_epoch, rl_weight(cfg, epoch)
        pairs = true_pairs(cfg, self.train_split, self.train_ds, batch)
        gen_batch = min(cfg.gen_batch, images.shape[0]) if gen_on else 0
        latents = (self.latent_cache.latents(self.epoch_images, batch.image_index[:gen_batch])
                   if self.latent_cache is not None and gen_batch else None)
        # 1. the forward pass
        out = self.training_pass(images, tokens, lengths, self.gen, freeze_encoders=cfg.freeze_encoders,
                                 rank=cfg.w_rank > 0, ss_prob=scheduled_sampling(cfg, epoch) if gen_on else None,
                                 rl=gen_on and gamma > 0, gen_batch=gen_batch, latents=latents,
                                 mode_seeking=cfg.w_ms > 0)
        # 2. the discriminator's step
        judges = Judges(self.disc, self.critic, self._rewards if self.cider is not None else None)
        real = gan_targets(images[:out.fake.shape[0]], out.fake) if out.fake is not None else None
        if out.fake is not None:
            judges.d_logs = self.discriminator_step(real, out.fake, out.txt.t_l[:out.fake.shape[0]])
        # 3. the objective, its health, one backward, each group's clip and step
        logs: dict[str, float] = {}
        if out.fake is not None and cfg.w_match_swap > 0:
            rng = random.Random(int(torch.randint(2**62, (1,), generator=self.gen)))
            judges.swaps = tuple(t.to(self.device) for t in swapped_captions(
                self.train_split, self.train_ds, self.vocab, batch, out.fake.shape[0], rng, cfg.max_len,
                cfg.match_swap_kinds))
        terms = objective(out, tokens, lengths, batch.image_index, real, pairs, gamma, cfg, judges, logs)
        if measure and "encoders" in self.group_params:
            health = gradient_shares(terms, self.group_params["encoders"])
            logs.update({f"share.{k}": v for k, v in health["share"].items()})
            logs.update({f"gradnorm.{k}": v for k, v in health["norm"].items()})
        loss = sum(terms.values())
        self.runner.zero_grad(self.opts.values())
        self.runner.backward(loss)
        logs.update(clip_and_step(self.opts, self.group_params, cfg.grad_clip, self.runner.sync))
        if self.ema is not None and self.runner.sync:
            self.ema.update()
        self.runner.zero_grad(self.opts.values(), after_step=True)
        logs.update({k: v.item() for k, v in terms.items()})
        logs["loss"] = loss.item()
        return logs

    def discriminator_step(self, real: torch.Tensor, fake: torch.Tensor, t_l: torch.Tensor) -> dict[str, float]:
        """One clipped Adam step of the discriminator on L_D (``objectives.discriminator_loss``); its figures."""
        d_loss, logs = discriminator_loss(self.disc_pass, real, fake, t_l)
        self.runner.zero_grad([self.opt_d])
        self.runner.backward(d_loss)
        if self.runner.sync:
            torch.nn.utils.clip_grad_norm_(self.disc.parameters(), self.train_cfg.grad_clip)
        self.opt_d.step()
        self.runner.zero_grad([self.opt_d], after_step=True)
        return logs

    def _rewards(self, rows: list[list[int]], image_index: list[int]) -> np.ndarray:
        """CIDEr-D of decoded token rows against the references of their images (self-critical RL's reward)."""
        return self.cider.score([self.vocab.decode(s) for s in rows], image_index)

    # ---- health ---------------------------------------------------------------------
    @torch.no_grad()
    def probe(self) -> float | None:
        """Conditioning probe on the first PROBE_TEXTS distinct val captions (None for models that cannot draw)."""
        if not self.model.can_draw:
            return None
        model = self.model.eval()
        seen: dict[str, int] = {}
        for row, caption in enumerate(self.val_split.captions):
            seen.setdefault(caption, row)
            if len(seen) == PROBE_TEXTS:
                break
        rows = torch.tensor(list(seen.values()))
        txt = model.encode_text(self.val_split.tokens[rows].to(self.device), self.val_split.lengths[rows].to(self.device))
        return conditioning_probe(lambda gen: model.draw(txt, generator=gen), n_draws=PROBE_DRAWS,
                                  seed=self.train_cfg.seed)

    # ---- epochs ---------------------------------------------------------------------
    def next_training_set(self, epoch: int) -> None:
        """Shapes with ``fresh_data``: a new training set for ``epoch`` (after the first)."""
        fresh = fresh_training_set(self.train_cfg, self.vocab, self.model_cfg.image_size, epoch)
        if fresh is not None:
            self.train_ds, self.train_split = fresh

    def _run_epoch(self, epoch: int) -> tuple[dict[str, float], float, int]:
        """Train one epoch: (the mean of each step log, seconds, training images)."""
        cfg = self.train_cfg
        set_learning_rates(self.opts, self.opt_d, cfg, epoch)
        self.next_training_set(epoch)
        split = self.train_split
        if self.drawings is not None:
            split = dataclasses.replace(split, images=framed_images(split, self.drawings, cfg.framing_augment,
                                                                    cfg.seed, epoch))
        self.epoch_images = split.images  # a new set (fresh scenes, framed pictures): the latent cache re-encodes
        batches, n_batches = epoch_batches(split, cfg.batch_size, self.gen, self.accelerator,
                                           all_captions=cfg.all_captions)
        bar = tqdm(batches, total=n_batches, desc=f"epoch {epoch + 1}/{cfg.epochs}", disable=not self.progress,
                   leave=False, file=sys.stderr)
        sums: dict[str, float] = {}
        counts: dict[str, int] = {}
        pairs = 0
        t0 = time.time()
        for i, batch in enumerate(bar):
            if batch.images.shape[0] < 2:
                continue
            pairs += batch.images.shape[0]
            logs = self.step(batch, epoch, measure=i < HEALTH_BATCHES)
            for k, v in logs.items():
                sums[k] = sums.get(k, 0.0) + v
                counts[k] = counts.get(k, 0) + 1
            bar.set_postfix({k: f"{sums[k] / counts[k]:.3f}" for k in ("loss", "rank") if k in sums})
        return {k: v / counts[k] for k, v in sums.items()}, time.time() - t0, pairs

    def fit(self) -> dict:
        """Train until ``epochs`` (or early stop); returns the run's record, also written to ``run.json``."""
        start = time.time() - self.state.seconds
        while self.state.epoch < self.train_cfg.epochs and not self.state.stopped_early:
            self._fit_epoch(start)
        meta = run_meta(self._identity(), self.model_cfg, self.train_cfg, self.state, self.device, self.accelerator)
        if self.is_main:
            write_run_meta(self.out, meta)
        return meta

    def _fit_epoch(self, start: float) -> None:
        """One epoch, then validate, record, keep the best, decide on an early stop, save ``last/``, print."""
        cfg, state = self.train_cfg, self.state
        means, seconds, pairs = self._run_epoch(state.epoch)
        validating = (state.epoch + 1) % cfg.val_every == 0 or state.epoch + 1 >= cfg.epochs
        with self.ema.applied() if self.ema is not None else contextlib.nullcontext():  # validate, keep the average
            val = validate(self.model, self.val_split, self.device, self.val_truth) if validating else None
            record = epoch_record(state.epoch, means, val, self.probe() if validating else None, seconds, pairs)
            state.history.append(record)
            best = validating and is_best(val["rsum"], state.best_rsum, cfg)
            if best:
                state.best_rsum = max(val["rsum"], state.best_rsum)
                if self.is_main:
                    save_best(self.out, self.model, self.vocab, cfg, {**self._identity(), "epoch": record["epoch"],
                                                                       "val": val})
        state.epoch += 1
        state.stopped_early = stops_early(state.history, state.epoch, cfg)
        state.seconds = time.time() - start
        if self.is_main:
            save_last(self.out, self.model, self.vocab, cfg, self._identity(), state, self._optimizers(), self.disc,
                      self.gen, self.ema.tensors() if self.ema is not None else None)
        self.runner.wait_for_everyone()
        if self.progress and self.is_main:
            print(epoch_line(record, best), file=sys.stderr)

    def _identity(self) -> dict:
        return run_identity(self.preset, self.model_cfg, self.train_cfg, self.command)
