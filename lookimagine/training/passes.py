"""A training step's forward calls, and how a step runs: plain, or under an ``accelerate.Accelerator``.

Everything of a step that touches GXN's weights is one forward call of ``TrainingPass``, and the
discriminator's three judgements one call of ``DiscriminatorPass``: the modules accelerate wraps (DDP needs
one forward per backward to sync gradients). ``StepRunner`` is the one place that knows whether an
accelerator is there: autocast (bf16), gradient accumulation, backward, when to zero gradients. Without an
accelerator (pocket training, tests) nothing of accelerate is imported.
"""

from __future__ import annotations

import contextlib
from dataclasses import dataclass

import torch
from torch import nn

from ..config import TrainConfig
from ..models.gxn import GXN, ImageEmbedding, TextEmbedding
from ..models.t2i_gan import Discriminator


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
    fake2: torch.Tensor | None = None  # (G, 3, S, S): a second drawing of the same t_c from other noise (mode seeking)
    noise_gap: torch.Tensor | None = None  # (G,): |z1 − z2| of fake and fake2
    fake_rec: torch.Tensor | None = None  # (G, 3, S, S): the cVAE-GAN's drawing from the real picture's own noise
    kl_z: torch.Tensor | None = None  # (): its KL(q(z | x) || N(0, I))
    noise_pred: torch.Tensor | None = None
    noise: torch.Tensor | None = None
    noise_weight: torch.Tensor | None = None  # (G,) per-sample weights of the denoising loss, or None


class TrainingPass(nn.Module):
    """Everything of a training step that runs through GXN's weights, as one forward call, in a fixed order
    (encoders, s*, captioner, RL decodes, GAN, diffusion): the same random numbers and the same gradient
    summation order on every device and under accelerate."""

    def __init__(self, model: GXN) -> None:
        super().__init__()
        self.model = model

    def forward(self, images: torch.Tensor, tokens: torch.Tensor, lengths: torch.Tensor, generator: torch.Generator,
                freeze_encoders: bool = False, rank: bool = True, ss_prob: float | None = None, rl: bool = False,
                gen_batch: int = 0, latents: torch.Tensor | None = None, mode_seeking: bool = False) -> PassOutputs:
        """rank: compute s*; ss_prob None: no captioner step; rl: also the sampled and greedy decodes;
        gen_batch: how many of the batch's captions the text→image branch learns from (0: none);
        latents: the first gen_batch images already encoded by the diffusion branch's autoencoder (or None);
        mode_seeking: the GAN draws each caption twice, from one t_c and two noises (fake2, noise_gap). A GAN
        with a noise encoder (cVAE-GAN) also draws each caption from its picture's own noise (fake_rec, kl_z)."""
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
        if model.gan is not None and gen_batch and model.z_encoder is not None:
            if mode_seeking:
                raise ValueError("the mode-seeking term and the noise encoder are not built to train together")
            out.fake, out.fake_rec, out.mu, out.logvar, out.kl_z = model.draw_gan_posterior(
                out.txt.t_l[:gen_batch], images[:gen_batch], generator)
        elif model.gan is not None and gen_batch and mode_seeking:
            out.fake, out.fake2, out.mu, out.logvar, out.noise_gap = model.draw_gan_twice(
                out.txt.t_l[:gen_batch], generator)
        elif model.gan is not None and gen_batch:
            out.fake, out.mu, out.logvar = model.draw_gan(out.txt.t_l[:gen_batch], generator)
        if model.diffusion is not None and gen_batch:
            txt = out.txt
            out.noise_pred, out.noise, out.noise_weight = model.diffusion.predict_noise(
                images[:gen_batch], txt.states[:gen_batch], txt.mask[:gen_batch], generator, x0=latents)
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


class StepRunner:
    """How a step runs: plainly on one device (``accelerator`` None), or under an accelerate.Accelerator
    (its device, autocast, accumulation and backward; only its main process writes)."""

    def __init__(self, accelerator=None, device: str | torch.device = "cpu") -> None:
        self.accelerator = accelerator
        self.device = accelerator.device if accelerator is not None else torch.device(device)
        self.is_main = accelerator is None or accelerator.is_main_process

    def step_context(self, modules: list[nn.Module]):
        """Accumulation over ``modules`` and autocast under accelerate; nothing in plain training."""
        if self.accelerator is None:
            return contextlib.nullcontext()
        stack = contextlib.ExitStack()
        stack.enter_context(self.accelerator.accumulate(*modules))
        stack.enter_context(self.accelerator.autocast())
        return stack

    def backward(self, loss: torch.Tensor) -> None:
        if self.accelerator is not None:
            self.accelerator.backward(loss)
        else:
            loss.backward()

    def zero_grad(self, opts, after_step: bool = False) -> None:
        """Plain training zeroes before the backward (the gradients stay readable after a step); under
        accelerate after the step, which it skips until the last micro-batch of an accumulation."""
        if after_step == (self.accelerator is not None):
            for opt in opts:
                opt.zero_grad(set_to_none=True)

    @property
    def sync(self) -> bool:
        """False on the micro-batches of a gradient accumulation that only add up gradients."""
        return self.accelerator is None or self.accelerator.sync_gradients

    def prepare(self, modules: list[nn.Module], opts: list[torch.optim.Optimizer]) -> tuple[list, list]:
        """(modules, optimisers) handed to accelerate, in the order given."""
        prepared = self.accelerator.prepare(*modules, *opts)
        prepared = list(prepared) if isinstance(prepared, (list, tuple)) else [prepared]
        return prepared[:len(modules)], prepared[len(modules):]

    def wait_for_everyone(self) -> None:
        if self.accelerator is not None:
            self.accelerator.wait_for_everyone()
