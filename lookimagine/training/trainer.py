"""The GXN trainer: one recipe for GXN, its ablations, the baseline and every stage of the staged recipe.

Per batch (paper §3.4, simplified to one joint update — see docs/model.md, "update schedule"):
1. discriminator step (GAN branch only), on detached text and fakes;
2. one backward pass of
   L = w_rank·L_rank + w_caption·[(1−γ)·XE + γ·RL] + w_gan·(L_G + w_kl·KL) + w_l1·L1 + w_mse·MSE + w_match·L_match
       + w_diffusion·L_diff,
   then, for each module group (encoders, caption decoder, generator, diffusion UNet), its own gradient
   clip and its own Adam step. Clipping per group keeps one branch's large gradient (the GAN's) from
   shrinking every other branch's step.
Gradient paths follow the paper: the ranking loss trains the encoders; the captioner's loss reaches the
image encoder through v_l; the generator's losses reach the text encoder only through the generator's
input t_l (the discriminator and the matching critic see detached text).

The staged recipe is three runs of this trainer: the baseline (encoders); generators pretrained on the
frozen encoders (``init_from`` + ``freeze_encoders``, ``w_rank=0``); joint fine-tuning (``init_from``).

Each epoch ends with validation R@K (under the dataset's primary protocol) and the health records
(``health.py``): each loss's gradient share on the shared encoders and, for models that draw, the
conditioning probe. The best val rsum is kept in ``best/`` (inference checkpoint); ``last/`` holds
everything needed to resume.

Under ``accelerate launch`` (one CPU, GPUs, machines) the same loop runs with an ``accelerate.Accelerator``
(``make_accelerator``): everything that touches GXN's weights in a step is one forward call of
``TrainingPass`` and the discriminator's step one call of ``DiscriminatorPass``, the modules accelerate wraps
(DDP needs one forward per backward to sync gradients); batches are sharded by a prepared DataLoader, losses
go through ``accelerator.backward`` under its autocast (bf16), micro-batches accumulate (``grad_accum``),
and only the main process writes. Without an accelerator (pocket training, tests) nothing of it is imported.
"""

from __future__ import annotations

import contextlib
import dataclasses
import functools
import json
import math
import resource
import shutil
import sys
import time
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import torch
import torch.nn.functional as F
from torch import nn
from tqdm import tqdm

from .. import losses
from ..config import ModelConfig, TrainConfig, config_hash, to_dict
from ..data import load_dataset
from ..data.batching import EncodedSplit, encode_split, epoch_rows, iterate_batches, make_batch
from ..data.vocab import Vocabulary
from ..evaluation.captions import reference_sets
from ..evaluation.cider import CiderD
from ..evaluation.embedding import split_similarity
from ..evaluation.retrieval import caption_keys, evaluate_retrieval
from ..models.checkpoint import load_checkpoint, save_checkpoint, upgrade_state_dict
from ..models.gxn import GXN, ImageEmbedding, TextEmbedding
from ..models.t2i_gan import Discriminator
from .health import conditioning_probe, gradient_shares
from .state import load_state, optimizer_from_flat, optimizer_to_flat, save_state

# Module groups of GXN: each has its own optimiser and its own gradient clip.
GROUPS = {"encoders": ("image_encoder", "text_encoder"), "caption_decoder": ("caption_decoder",),
          "generator": ("cond_aug", "gan"), "diffusion": ("diffusion",)}
GENERATIVE_GROUPS = ("generator", "diffusion")
HEALTH_BATCHES = 2  # batches per epoch on which each loss's gradient share is measured
PROBE_TEXTS, PROBE_DRAWS = 16, 4


def group_parameters(model: GXN) -> dict[str, list[torch.nn.Parameter]]:
    """{group: its trainable parameters}, for the groups this model has (frozen open_clip blocks are left out)."""
    out = {}
    for group, names in GROUPS.items():
        params = [p for n in names if getattr(model, n, None) is not None for p in getattr(model, n).parameters()
                  if p.requires_grad]
        if params:
            out[group] = params
    return out


def validate(model: GXN, split: EncodedSplit, device, truth: np.ndarray | None = None) -> dict:
    """Retrieval scores on an encoded split (model selection uses val rsum), under the dataset's primary
    protocol: the checker's truth where there is one (``truth``), identical caption texts otherwise."""
    sims = split_similarity(model, split, device).numpy()
    if truth is not None:
        return evaluate_retrieval(sims, split.image_of_caption.numpy(), ground_truth=truth)
    return evaluate_retrieval(sims, split.image_of_caption.numpy(), caption_keys=caption_keys(split.captions))


def train_dataset(cfg: TrainConfig, epoch: int = 0):
    """The training set of an epoch: shapes with ``fresh_data`` draws a new one each epoch (dataset seed
    1 + epoch; val and test are other seed streams, so they never overlap)."""
    if cfg.dataset == "shapes":
        kwargs = {"n": cfg.n_train} if cfg.n_train else {}
        return load_dataset("shapes", "train", seed=1 + epoch if cfg.fresh_data else 0, **kwargs)
    return load_dataset(cfg.dataset, "train", **cfg.dataset_kwargs())


def load_splits(cfg: TrainConfig, vocab: Vocabulary | None, image_size: int, epoch: int = 0):
    """(vocab, train dataset, encoded train, val dataset, encoded val); the vocabulary comes from train only."""
    train_ds = train_dataset(cfg, epoch)
    val_ds = load_dataset(cfg.dataset, "val", **cfg.dataset_kwargs())
    if vocab is None:
        vocab = Vocabulary.build(train_ds.all_captions())
    train = encode_split(train_ds, vocab, image_size=image_size, max_len=cfg.max_len)
    val = encode_split(val_ds, vocab, image_size=image_size, max_len=cfg.max_len)
    return vocab, train_ds, train, val_ds, val


@dataclass
class PassOutputs:
    """What one step's forward through GXN produced; a branch that did not run leaves its fields None.

    sims (B, B): s* of the batch; caption_logits (B, T−1, V); sampled/logprobs/greedy: the RL decodes (B, L); mu/logvar (G, C) and
    fake (G, 3, S, S): the GAN's drawing of the first G captions; noise_pred/noise: the diffusion branch's.
    """

    img: ImageEmbedding
    txt: TextEmbedding
    sims: torch.Tensor | None = None
    caption_logits: torch.Tensor | None = None
    sampled: torch.Tensor | None = None
    logprobs: torch.Tensor | None = None
    greedy: torch.Tensor | None = None
    mu: torch.Tensor | None = None
    logvar: torch.Tensor | None = None
    fake: torch.Tensor | None = None
    noise_pred: torch.Tensor | None = None
    noise: torch.Tensor | None = None


class TrainingPass(nn.Module):
    """Everything of a training step that runs through GXN's weights, as one forward call, in the order the
    trainer always built it (encoders, s*, captioner, RL decodes, GAN, diffusion): the same random numbers
    and the same gradient summation order, so a run is bit-identical to one before accelerate support."""

    def __init__(self, model: GXN) -> None:
        super().__init__()
        self.model = model

    def forward(self, images: torch.Tensor, tokens: torch.Tensor, lengths: torch.Tensor, generator: torch.Generator,
                freeze_encoders: bool = False, rank: bool = True, ss_prob: float | None = None, rl: bool = False,
                gen_batch: int = 0) -> PassOutputs:
        """rank: compute s*; ss_prob None: no captioner step; rl: also the sampled and greedy decodes;
        gen_batch: how many of the batch's captions the text→image branch learns from (0: none)."""
        model = self.model
        with torch.set_grad_enabled(not freeze_encoders and torch.is_grad_enabled()):
            out = PassOutputs(model.encode_image(images), model.encode_text(tokens, lengths))
        if rank:
            out.sims = model.similarity(out.img, out.txt)
        v_l = out.img.v_l
        if model.caption_decoder is not None and ss_prob is not None:
            out.caption_logits = model.caption_decoder(v_l, tokens, ss_prob, generator)
            if rl:
                max_len = model.cfg.max_caption_len
                out.sampled, out.logprobs = model.caption_decoder.sample(v_l, max_len, greedy=False,
                                                                         generator=generator)
                with torch.no_grad():
                    out.greedy, _ = model.caption_decoder.sample(v_l.detach(), max_len, greedy=True)
        if model.gan is not None and gen_batch:
            t_c, out.mu, out.logvar = model.cond_aug(out.txt.t_l[:gen_batch], generator=generator)
            z = torch.randn((t_c.shape[0], model.cfg.noise_dim), generator=generator, device=t_c.device)
            out.fake = model.gan(t_c, z)
        if model.diffusion is not None and gen_batch:
            txt = out.txt
            out.noise_pred, out.noise = model.diffusion.predict_noise(images[:gen_batch], txt.states[:gen_batch],
                                                                      txt.mask[:gen_batch], generator)
        return out


class DiscriminatorPass(nn.Module):
    """The matching-aware discriminator's three judgements of a step as one forward call:
    (real, true text), (fake, true text), (real, wrong text) → three logit vectors (B,)."""

    def __init__(self, disc: Discriminator) -> None:
        super().__init__()
        self.disc = disc

    def forward(self, real: torch.Tensor, fake: torch.Tensor, text: torch.Tensor, wrong: torch.Tensor):
        return self.disc(real, text), self.disc(fake, text), self.disc(real, wrong)


def make_accelerator(train_cfg: TrainConfig, cpu: bool = False):
    """The ``accelerate.Accelerator`` for a run: mixed precision from ``accelerate launch --mixed_precision``
    (bf16; fp16 is refused: its loss scaler cannot serve per-group optimisers and the GAN's separate D step),
    ``grad_accum`` micro-batches per step, and DDP allowed to skip branches that sit out a step."""
    from accelerate import Accelerator, DistributedDataParallelKwargs

    accelerator = Accelerator(cpu=cpu, gradient_accumulation_steps=train_cfg.grad_accum,
                              kwargs_handlers=[DistributedDataParallelKwargs(find_unused_parameters=True)])
    if accelerator.mixed_precision == "fp16":
        raise ValueError("mixed precision fp16 is not supported (one loss scaler cannot serve the per-group "
                         "optimisers and the GAN's D step); use --mixed_precision bf16")
    return accelerator


class Trainer:
    def __init__(self, model_cfg: ModelConfig, train_cfg: TrainConfig, out_dir: str | Path,
                 device: str = "cpu", preset: str = "", progress: bool = True, command: str | None = None,
                 accelerator=None) -> None:
        """``accelerator``: an ``accelerate.Accelerator`` (``make_accelerator``) to train under; it sets the
        device. None: plain single-device training on ``device``."""
        self.out = Path(out_dir)
        self.accelerator = accelerator
        self.device = accelerator.device if accelerator is not None else torch.device(device)
        self.is_main = accelerator is None or accelerator.is_main_process
        if train_cfg.grad_accum > 1 and accelerator is None:
            raise ValueError("grad_accum needs an accelerator (python -m lookimagine.train under accelerate launch)")
        self.train_cfg = train_cfg
        self.preset = preset
        self.progress = progress
        self.command = command or " ".join(sys.argv)
        if train_cfg.num_threads:
            torch.set_num_threads(train_cfg.num_threads)
        torch.manual_seed(train_cfg.seed)
        if train_cfg.w_match > 0 and not train_cfg.init_from:
            raise ValueError("w_match needs init_from: the matching critic is a frozen copy of a trained model")
        resume = load_state(self.out / "last")
        init = load_checkpoint(train_cfg.init_from) if train_cfg.init_from else None
        vocab = Vocabulary.load(self.out / "last" / "vocab.json") if resume else init[1] if init else None
        self.vocab, self.train_ds, self.train_split, val_ds, self.val_split = load_splits(
            train_cfg, vocab, model_cfg.image_size)
        self._val_ds = val_ds
        self.model_cfg = dataclasses.replace(model_cfg, vocab_size=len(self.vocab))
        self.model = GXN(self.model_cfg)
        if self.model_cfg.backbone == "open_clip":
            from ..models.clip_encoders import load_pretrained_towers

            self.model.text_encoder.set_vocabulary(self.vocab.tokens)
            if not resume and init is None:
                load_pretrained_towers(self.model)
        self.model.to(self.device)
        self.memory_format = torch.channels_last if train_cfg.channels_last else torch.contiguous_format
        if train_cfg.channels_last and self.model_cfg.backbone == "pocket":
            self.model.to(memory_format=torch.channels_last)  # conv weights NHWC; the rest is unaffected
        self.critic = None
        if init is not None:
            self._load_init(init[0])
            if train_cfg.w_match > 0:  # the frozen copy of the starting model that judges imagined images
                fmt = self.memory_format if self.model_cfg.backbone == "pocket" else torch.contiguous_format
                self.critic = init[0].to(self.device, memory_format=fmt).eval().requires_grad_(False)
        groups = group_parameters(self.model)
        if train_cfg.freeze_encoders:
            self.model.image_encoder.requires_grad_(False)
            self.model.text_encoder.requires_grad_(False)
            groups.pop("encoders")
        self.opts = {g: torch.optim.Adam(ps, lr=self._base_lr(g), betas=self._betas(g)) for g, ps in groups.items()}
        self.group_params = groups
        self.disc = self.opt_d = None
        if self.model_cfg.t2i == "gan":
            c = self.model_cfg
            self.disc = Discriminator(c.embed_dim, c.cond_dim, c.disc_channels, c.draw_size or c.image_size
                                      ).to(self.device, memory_format=self.memory_format)
            self.opt_d = torch.optim.Adam(self.disc.parameters(), lr=self._base_lr("generator"), betas=(0.5, 0.999))
        self.cider = None
        if self.model_cfg.i2t and train_cfg.rl_start_epoch is not None:
            self.cider = CiderD(reference_sets(self.train_split))
        self.gen = torch.Generator().manual_seed(train_cfg.seed)
        self.epoch, self.best_rsum, self.history, self.seconds = 0, -math.inf, [], 0.0
        self.stopped_early = False
        if resume:
            self._restore(*resume)
        self.training_pass = TrainingPass(self.model)
        self.disc_pass = DiscriminatorPass(self.disc) if self.disc is not None else None
        if accelerator is not None:
            self._prepare()

    @functools.cached_property
    def val_truth(self) -> np.ndarray | None:
        """The val split's ground truth by the dataset's checker (None without one), computed at the first
        validation: shapes' checker takes seconds, which a trainer timed for its steps alone does not need."""
        return self._val_ds.truth_matrix()

    def _prepare(self) -> None:
        """Hand the step's modules and every optimiser to accelerate (after a resume has restored them)."""
        acc, names = self.accelerator, list(self.opts)
        modules = [self.training_pass] + ([self.disc_pass] if self.disc_pass is not None else [])
        opts = list(self.opts.values()) + ([self.opt_d] if self.opt_d is not None else [])
        prepared = acc.prepare(*modules, *opts)
        prepared = list(prepared) if isinstance(prepared, (list, tuple)) else [prepared]
        self.training_pass = prepared[0]
        if self.disc_pass is not None:
            self.disc_pass = prepared[1]
        rest = prepared[len(modules):]
        self.opts = dict(zip(names, rest[:len(names)]))
        if self.opt_d is not None:
            self.opt_d = rest[-1]

    # ---- helpers --------------------------------------------------------------------
    def _load_init(self, init: GXN) -> None:
        """Start from a trained checkpoint: every module it has (the encoders at least) must fit exactly."""
        state = init.state_dict()
        own = self.model.state_dict()
        bad = [k for k, v in state.items() if k in own and own[k].shape != v.shape]
        missing_encoders = [k for k in own if k.startswith(("image_encoder.", "text_encoder.")) and k not in state]
        if bad or missing_encoders or init.cfg.vocab_size != self.model_cfg.vocab_size:
            raise ValueError(f"init_from {self.train_cfg.init_from}: does not fit this model "
                             f"(shape mismatches: {bad[:3]}, missing encoder weights: {missing_encoders[:3]})")
        self.model.load_state_dict({k: v for k, v in state.items() if k in own}, strict=False)

    def _base_lr(self, group: str) -> float:
        cfg = self.train_cfg
        return cfg.gen_lr if group in GENERATIVE_GROUPS and cfg.gen_lr is not None else cfg.lr

    @staticmethod
    def _betas(group: str) -> tuple[float, float]:
        return (0.5, 0.999) if group == "generator" else (0.9, 0.999)  # GANs train with β1 = 0.5 (DCGAN)

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

    def _lr_factor(self, epoch: int) -> float:
        cfg = self.train_cfg
        if cfg.lr_schedule == "cosine":
            return 0.5 * (1 + math.cos(math.pi * epoch / cfg.epochs))
        return 0.1 if cfg.lr_decay_epoch is not None and epoch >= cfg.lr_decay_epoch else 1.0

    def _true_pairs(self, batch) -> torch.Tensor | None:
        """(B, B) bool: caption j of the batch is true of image i (by the dataset's checker), or None."""
        if not self.train_cfg.mask_true_negatives:
            return None
        captions = [self.train_split.captions[r] for r in batch.caption_index.tolist()]
        truth = self.train_ds.truth_of(captions, batch.image_index.tolist())
        return None if truth is None else torch.from_numpy(truth)

    # ---- one step -------------------------------------------------------------------
    def _autocast(self):
        return self.accelerator.autocast() if self.accelerator is not None else contextlib.nullcontext()

    def _accumulate(self):
        if self.accelerator is None:
            return contextlib.nullcontext()
        modules = [self.training_pass] + ([self.disc_pass] if self.disc_pass is not None else [])
        return self.accelerator.accumulate(*modules)

    def _backward(self, loss: torch.Tensor) -> None:
        if self.accelerator is not None:
            self.accelerator.backward(loss)
        else:
            loss.backward()

    def _zero_grad(self, opts, after_step: bool = False) -> None:
        """Plain training zeroes before the backward (the gradients stay readable after a step); under
        accelerate after the step, which it skips until the last micro-batch of an accumulation."""
        if after_step == (self.accelerator is not None):
            for opt in opts:
                opt.zero_grad(set_to_none=True)

    @property
    def _sync(self) -> bool:
        """False on the micro-batches of a gradient accumulation that only add up gradients."""
        return self.accelerator is None or self.accelerator.sync_gradients

    def step(self, batch, epoch: int, measure: bool = False) -> dict[str, float]:
        """One optimisation step on a batch; returns the loss terms (and, if ``measure``, the gradient
        shares of each term on the shared encoders under ``share.<term>``)."""
        with self._accumulate(), self._autocast():
            return self._step(batch, epoch, measure)

    def _step(self, batch, epoch: int, measure: bool) -> dict[str, float]:
        cfg, model = self.train_cfg, self.model
        model.train()
        if cfg.freeze_encoders:  # frozen encoders: eval mode too, so BatchNorm statistics stay put
            model.image_encoder.eval()
            model.text_encoder.eval()
        images = batch.images.to(self.device, memory_format=self.memory_format)
        tokens, lengths = batch.tokens.to(self.device), batch.lengths.to(self.device)
        gen_on = epoch >= cfg.gen_start_epoch
        gb = min(cfg.gen_batch, images.shape[0])
        true_pairs = self._true_pairs(batch)
        gamma = self._gamma(epoch)

        out = self.training_pass(images, tokens, lengths, self.gen, freeze_encoders=cfg.freeze_encoders,
                                 rank=cfg.w_rank > 0, ss_prob=self._ss_prob(epoch) if gen_on else None, rl=gen_on and gamma > 0,
                                 gen_batch=gb if gen_on else 0)
        terms: dict[str, torch.Tensor] = {}
        logs: dict[str, float] = {}
        if cfg.w_rank > 0:
            terms["rank"] = cfg.w_rank * losses.ranking_loss(out.sims, cfg.margin, cfg.ranking_loss, true_pairs)
        if out.caption_logits is not None:
            xe = losses.caption_xe(out.caption_logits, tokens[:, 1:])
            logs["xe"] = xe.item()
            cap = xe
            if out.sampled is not None:
                rl = self._self_critical(out, batch.image_index)
                logs["rl"] = rl.item()
                cap = (1 - gamma) * xe + gamma * rl
            terms["caption"] = cfg.w_caption * cap
        if out.fake is not None:
            pairs = true_pairs[:gb, :gb] if true_pairs is not None else None
            real = images[:gb]
            if real.shape[-1] != out.fake.shape[-1]:  # the GAN draws smaller than the encoders read
                real = F.interpolate(real, size=out.fake.shape[-2:], mode="area")
            terms["gan"] = self._gan_terms(real, out.txt.t_l[:gb], tokens[:gb], lengths[:gb], pairs, logs,
                                           drawn=(out.fake, out.mu, out.logvar))
        if out.noise_pred is not None:
            terms["diffusion"] = cfg.w_diffusion * losses.noise_prediction_loss(out.noise_pred, out.noise)

        if measure and "encoders" in self.group_params:
            health = gradient_shares(terms, self.group_params["encoders"])
            logs.update({f"share.{k}": v for k, v in health["share"].items()})
            logs.update({f"gradnorm.{k}": v for k, v in health["norm"].items()})
        loss = sum(terms.values())
        self._zero_grad(self.opts.values())
        self._backward(loss)
        for group, opt in self.opts.items():
            if self._sync:  # per-group clipping, on the summed gradient of an accumulation
                logs[f"clip.{group}"] = float(torch.nn.utils.clip_grad_norm_(self.group_params[group], cfg.grad_clip))
            opt.step()
        self._zero_grad(self.opts.values(), after_step=True)
        logs.update({k: v.item() for k, v in terms.items()})
        logs["loss"] = loss.item()
        return logs

    def _self_critical(self, out: PassOutputs, image_index: torch.Tensor) -> torch.Tensor:
        """Self-critical REINFORCE on the pass's sampled decode, with its greedy decode as the baseline."""
        index = image_index.tolist()
        reward = self.cider.score([self.vocab.decode(s) for s in out.sampled.tolist()], index)
        base = self.cider.score([self.vocab.decode(s) for s in out.greedy.tolist()], index)
        device = out.logprobs.device
        to_t = lambda a: torch.as_tensor(np.asarray(a), dtype=torch.float32, device=device)  # noqa: E731
        return losses.self_critical(out.logprobs, out.sampled, to_t(reward), to_t(base))

    def _gan_terms(self, real: torch.Tensor, t_l: torch.Tensor, tokens: torch.Tensor, lengths: torch.Tensor,
                   true_pairs: torch.Tensor | None, logs: dict, drawn: tuple | None = None) -> torch.Tensor:
        """Discriminator step, then the generator's weighted loss.

        ``drawn``: (fake, μ, logvar) the training pass drew from ``t_l``; None: draw them here.
        The generator's loss reaches t_l (and so the text encoder) only through the generator's input:
        D and the matching critic are given detached text, so the text encoder cannot learn to fool them.
        """
        cfg, model, disc = self.train_cfg, self.model, self.disc
        if drawn is None:
            t_c, mu, logvar = model.cond_aug(t_l, generator=self.gen)
            z = torch.randn((t_c.shape[0], self.model_cfg.noise_dim), generator=self.gen, device=t_c.device)
            fake = model.gan(t_c, z)
        else:
            fake, mu, logvar = drawn
        # 1. D: accept (real, true text); reject (fake, true text) and (real, wrong text).
        t_det = t_l.detach()
        wrong = t_det.roll(1, dims=0)  # each image paired with its neighbour's text (one caption per image)
        d_real, d_fake, d_wrong = self.disc_pass(real, fake.detach(), t_det, wrong)
        d_loss = losses.discriminator_loss(d_real, d_fake, d_wrong)
        self._zero_grad([self.opt_d])
        self._backward(d_loss)
        if self._sync:
            torch.nn.utils.clip_grad_norm_(disc.parameters(), cfg.grad_clip)
        self.opt_d.step()
        self._zero_grad([self.opt_d], after_step=True)
        logs["d"] = d_loss.item()
        logs["d_real"] = torch.sigmoid(d_real).mean().item()
        logs["d_fake"] = torch.sigmoid(d_fake).mean().item()
        # 2. G: fool D on (fake, true text); conditioning augmentation's KL keeps t_c smooth.
        disc.requires_grad_(False)  # G's loss must not leave gradients in D
        g = losses.generator_loss(disc(fake, t_det))
        disc.requires_grad_(True)
        kl = losses.kl_loss(mu, logvar)
        logs["g"], logs["kl"] = g.item(), kl.item()
        out_loss = cfg.w_gan * (g + cfg.w_kl * kl)
        if cfg.w_l1 > 0:
            l1 = (fake - real).abs().mean()
            logs["l1"] = l1.item()
            out_loss = out_loss + cfg.w_l1 * l1
        if cfg.w_mse > 0:
            mse = (fake - real).pow(2).mean()
            logs["mse"] = mse.item()
            out_loss = out_loss + cfg.w_mse * mse
        if self.critic is not None:
            # Matching: the frozen critic must retrieve each caption from its imagined image (in-batch).
            with torch.no_grad():
                c_txt = self.critic.encode_text(tokens, lengths)
            sims = self.critic.similarity(self.critic.encode_image(fake), c_txt)
            match = losses.ranking_loss(sims, cfg.margin, cfg.ranking_loss, true_pairs)
            logs["match"] = match.item()
            out_loss = out_loss + cfg.w_match * match
        return out_loss

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

    # ---- loop -----------------------------------------------------------------------
    def _epoch_data(self, epoch: int) -> None:
        cfg = self.train_cfg
        if cfg.fresh_data and epoch > 0:
            self.train_ds = train_dataset(cfg, epoch)
            self.train_split = encode_split(self.train_ds, self.vocab, image_size=self.model_cfg.image_size,
                                            max_len=cfg.max_len)

    def _run_epoch(self, epoch: int) -> tuple[dict[str, float], float, int]:
        cfg = self.train_cfg
        for group, opt in self.opts.items():
            for pg in opt.param_groups:
                pg["lr"] = self._base_lr(group) * self._lr_factor(epoch)
        if self.opt_d is not None:
            for pg in self.opt_d.param_groups:
                pg["lr"] = self._base_lr("generator") * self._lr_factor(epoch)
        self._epoch_data(epoch)
        n_images = self.train_split.images.shape[0]
        if self.accelerator is None:
            batches = iterate_batches(self.train_split, cfg.batch_size, self.gen)
            n_batches = math.ceil(n_images / cfg.batch_size)
        else:
            batches = self._sharded_batches()
            n_batches = len(batches)
        bar = tqdm(batches, total=n_batches, desc=f"epoch {epoch + 1}/{cfg.epochs}", disable=not self.progress,
                   leave=False, file=sys.stderr)
        sums: dict[str, float] = {}
        counts: dict[str, int] = {}
        t0 = time.time()
        for i, batch in enumerate(bar):
            if batch.images.shape[0] < 2:
                continue
            logs = self.step(batch, epoch, measure=i < HEALTH_BATCHES)
            for k, v in logs.items():
                sums[k] = sums.get(k, 0.0) + v
                counts[k] = counts.get(k, 0) + 1
            bar.set_postfix({k: f"{sums[k] / counts[k]:.3f}" for k in ("loss", "rank") if k in sums})
        return {k: v / counts[k] for k, v in sums.items()}, time.time() - t0, n_images

    def _sharded_batches(self) -> torch.utils.data.DataLoader:
        """The epoch's batches (the same rows as ``iterate_batches``) as a DataLoader that accelerate shards
        over the processes: each takes every n-th batch, so ``batch_size`` is per process."""
        rows = epoch_rows(self.train_split, self.gen).tolist()
        split = self.train_split
        loader = torch.utils.data.DataLoader(rows, batch_size=self.train_cfg.batch_size, shuffle=False,
                                             collate_fn=lambda r: make_batch(split, torch.tensor(r)))
        return self.accelerator.prepare_data_loader(loader, device_placement=False)

    def fit(self) -> dict:
        cfg = self.train_cfg
        start = time.time() - self.seconds
        while self.epoch < cfg.epochs and not self.stopped_early:
            epoch = self.epoch
            means, train_seconds, n_images = self._run_epoch(epoch)
            val = validate(self.model, self.val_split, self.device, self.val_truth)
            health = {"grad_share": {k[6:]: v for k, v in means.items() if k.startswith("share.")},
                      "grad_norm": {k[9:]: v for k, v in means.items() if k.startswith("gradnorm.")},
                      "conditioning": self.probe()}
            record = {"epoch": epoch + 1, **{k: v for k, v in means.items() if not k.startswith(("share.", "gradnorm."))},
                      "val_rsum": val["rsum"], "val_i2t_r1": val["image_to_text"]["r1"],
                      "val_t2i_r1": val["text_to_image"]["r1"], "health": health, "epoch_seconds": train_seconds,
                      "samples_per_second": n_images / max(train_seconds, 1e-9)}
            self.history.append(record)
            # stage 2 (frozen encoders) cannot change val rsum: its latest epoch is its best
            improved = val["rsum"] > self.best_rsum or cfg.freeze_encoders
            if improved:
                self.best_rsum = max(val["rsum"], self.best_rsum)
                if self.is_main:
                    self._save_best(val, record)
            self.epoch += 1
            best_epoch = max(self.history, key=lambda r: r["val_rsum"])["epoch"]
            if cfg.early_stop_patience is not None and not cfg.freeze_encoders:
                self.stopped_early = self.epoch - best_epoch >= cfg.early_stop_patience
            self.seconds = time.time() - start
            if self.is_main:
                self._save_last()
            if self.accelerator is not None:
                self.accelerator.wait_for_everyone()
            if self.progress and self.is_main:
                shares = " ".join(f"{k} {v:.0%}" for k, v in health["grad_share"].items())
                cond = f"  cond {health['conditioning']:.2f}" if health["conditioning"] is not None else ""
                print(f"epoch {epoch + 1}: loss {record.get('loss', 0):.3f}  val rsum {val['rsum']:.1f} "
                      f"(i2t R@1 {record['val_i2t_r1']:.1f}, t2i R@1 {record['val_t2i_r1']:.1f})"
                      f"{'  *best*' if improved else ''}  {train_seconds:.0f}s  [{shares}]{cond}", file=sys.stderr)
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

    def _optimizers(self) -> dict[str, torch.optim.Optimizer]:
        opts = {f"opt.{g}": o for g, o in self.opts.items()}
        if self.opt_d is not None:
            opts["opt_d"] = self.opt_d
        return opts

    def _save_last(self) -> None:
        last = self.out / "last"
        save_checkpoint(last, self.model, self.vocab, self.train_cfg, self._meta())
        tensors, info = {}, {"epoch": self.epoch, "best_rsum": self.best_rsum, "history": self.history,
                             "seconds": self.seconds, "stopped_early": self.stopped_early}
        for name, opt in self._optimizers().items():
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

        state = upgrade_state_dict(load_file(str(self.out / "last" / "model.safetensors")))
        self.model.load_state_dict(state, strict=True)
        for name, opt in self._optimizers().items():
            optimizer_from_flat(name, opt, tensors, info[name])
        if self.disc is not None:
            self.disc.load_state_dict({k[5:]: v for k, v in tensors.items() if k.startswith("disc.")}, strict=True)
        torch.set_rng_state(tensors["rng.torch"])
        self.gen.set_state(tensors["rng.gen"])
        self.epoch, self.best_rsum = info["epoch"], info["best_rsum"]
        self.history, self.seconds = info["history"], info["seconds"]
        self.stopped_early = info.get("stopped_early", False)
        if self.progress:
            print(f"resuming {self.out} after epoch {self.epoch} (best val rsum {self.best_rsum:.1f})", file=sys.stderr)

    def _write_run_meta(self) -> dict:
        best = max(self.history, key=lambda r: r["val_rsum"]) if self.history else {}
        peak_mb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
        meta = {**self._meta(), "model": to_dict(self.model_cfg), "train": to_dict(self.train_cfg),
                "best_epoch": best.get("epoch"), "best_val_rsum": self.best_rsum,
                "stopped_early": self.stopped_early, "wall_seconds": round(self.seconds, 1),
                "samples_per_second": round(float(np.mean([r["samples_per_second"] for r in self.history])), 1),
                "peak_memory_mb": round(peak_mb, 1), "device": str(self.device),
                "threads": torch.get_num_threads(), "history": self.history}
        if self.accelerator is not None:
            meta.update(processes=self.accelerator.num_processes, mixed_precision=self.accelerator.mixed_precision,
                        grad_accum=self.train_cfg.grad_accum)
        if self.is_main:
            (self.out / "run.json").write_text(json.dumps(meta, indent=2))
        return meta
