"""The objective of a training step, term by term as the paper writes it (§3.1–§3.3):

    L = w_rank·L_rank                                          Look and Match, §3.1: ranking on s*
      + w_caption·[(1−γ)·L_xe + γ·L_rl]                        Imagine image → text, §3.2
      + w_gan·(L_G + w_kl·L_KL) + w_l1·L1 + w_mse·MSE + w_match·L_match + w_ms·L_ms    Imagine text → image, §3.3
        + w_match_swap·L_swap
      + w_diffusion·L_diff                                     the diffusion branch (not in the paper)

and the matching-aware discriminator's loss L_D, which its own optimiser minimises before L is formed.
The L1, MSE and matching terms are ours (docs/model.md): pix2pix's reconstruction and AttnGAN's DAMSM idea.

Gradient paths follow the paper: the ranking loss trains the encoders; the captioner's loss reaches the
image encoder through v_l; the generator's losses reach the text encoder only through the generator's input
t_l (the discriminator and the matching critic see detached text). Each stage of the staged recipe (§3.4)
is this objective with other weights: stage 1 has no generative terms, stage 2 no ranking term.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field

import numpy as np
import torch
import torch.nn.functional as F

from .. import losses
from ..config import TrainConfig
from ..models.gxn import GXN
from ..models.t2i_gan import Discriminator
from .passes import PassOutputs


@dataclass
class Judges:
    """What scores a step besides the data: the discriminator (after this step's D update, with that update's
    figures in ``d_logs``), the frozen matching critic (None: no matching term), and the CIDEr-D rewards of
    decoded captions (``rewards(token rows, image rows) -> scores``; None: no RL)."""

    disc: Discriminator | None = None
    critic: GXN | None = None
    rewards: Callable[[list[list[int]], list[int]], np.ndarray] | None = None
    d_logs: dict[str, float] = field(default_factory=dict)
    # the critic's hard negatives for this step's drawings (``training.data.swapped_captions``):
    # tokens (G, T), lengths (G,), valid (G,) bool; None: none
    swaps: tuple[torch.Tensor, torch.Tensor, torch.Tensor] | None = None


def gan_targets(images: torch.Tensor, fake: torch.Tensor) -> torch.Tensor:
    """The real images the GAN's drawings are judged against, at the size it draws (area-downsampled when
    it draws smaller than the encoders read)."""
    if images.shape[-1] != fake.shape[-1]:
        return F.interpolate(images, size=fake.shape[-2:], mode="area")
    return images


def discriminator_loss(disc_pass, real: torch.Tensor, fake: torch.Tensor, t_l: torch.Tensor):
    """L_D (§3.3, matching-aware): accept (real, true text); reject (fake, true text) and (real, wrong text),
    the wrong text being each image's neighbour's (one caption per image). Text and fakes are detached.
    Returns (L_D, {"d", "d_real", "d_fake"} as logged)."""
    t_det = t_l.detach()
    wrong = t_det.roll(1, dims=0)
    d_real, d_fake, d_wrong = disc_pass(real, fake.detach(), t_det, wrong)
    d_loss = losses.discriminator_loss(d_real, d_fake, d_wrong)
    return d_loss, {"d": d_loss.item(), "d_real": torch.sigmoid(d_real).mean().item(),
                    "d_fake": torch.sigmoid(d_fake).mean().item()}


def ranking_term(sims: torch.Tensor, cfg: TrainConfig, true_pairs: torch.Tensor | None) -> torch.Tensor:
    """w_rank·L_rank (§3.1): the bidirectional hinge on s* (B, B), summed over in-batch negatives (or the
    hardest, ``ranking_loss="max"``); pairs the checker says are true are no negatives."""
    return cfg.w_rank * losses.ranking_loss(sims, cfg.margin, cfg.ranking_loss, true_pairs)


def captioning_term(out: PassOutputs, tokens: torch.Tensor, image_index: torch.Tensor, gamma: float,
                    cfg: TrainConfig, rewards, logs: dict) -> torch.Tensor:
    """w_caption·[(1−γ)·L_xe + γ·L_rl] (§3.2): teacher-forced cross-entropy (with scheduled sampling), and
    once RL has started, self-critical REINFORCE with CIDEr-D rewards and the greedy decode as baseline."""
    xe = losses.caption_xe(out.caption_logits, tokens[:, 1:])
    logs["xe"] = xe.item()
    cap = xe
    if out.sampled is not None:
        index = image_index.tolist()
        to_t = lambda a: torch.as_tensor(np.asarray(a), dtype=torch.float32, device=out.logprobs.device)  # noqa: E731
        rl = losses.self_critical(out.logprobs, out.sampled, to_t(rewards(out.sampled.tolist(), index)),
                                  to_t(rewards(out.greedy.tolist(), index)))
        logs["rl"] = rl.item()
        cap = (1 - gamma) * xe + gamma * rl
    return cfg.w_caption * cap


def generator_term(fake: torch.Tensor, mu: torch.Tensor, logvar: torch.Tensor, real: torch.Tensor,
                   t_l: torch.Tensor, tokens: torch.Tensor, lengths: torch.Tensor, true_pairs: torch.Tensor | None,
                   cfg: TrainConfig, judges: Judges, logs: dict, fake2: torch.Tensor | None = None,
                   noise_gap: torch.Tensor | None = None, fake_rec: torch.Tensor | None = None,
                   kl_z: torch.Tensor | None = None) -> torch.Tensor:
    """w_gan·(L_G + w_kl·KL) + w_l1·L1 + w_mse·MSE + w_match·L_match + w_ms·L_ms (§3.3, and ours) for G drawings
    fake (G, 3, S, S) of t_l (G, E), real (G, 3, S, S) the images the captions describe.

    L_G: fool D on (fake, true text); KL: conditioning augmentation's N(μ, σ²) kept near N(0, I);
    L1 / MSE: pixel reconstruction of the described image; L_match: the frozen critic must retrieve each
    caption from its drawing (in-batch ranking); L_ms: MSGAN's mode seeking, 1 / (|fake − fake2| / |z1 − z2|),
    when fake2 (a second drawing of the same t_c from noise noise_gap (G,) away) is given. With the cVAE-GAN's
    fake_rec (the drawing from the real picture's own noise) the pixel losses compare fake_rec, not fake, it
    must fool D too, and w_kl_z·kl_z keeps its noise near N(0, I). D and the critic see detached text."""
    disc, t_det = judges.disc, t_l.detach()

    def fool(drawing: torch.Tensor) -> torch.Tensor:
        disc.requires_grad_(False)  # G's loss must not leave gradients in D
        g = losses.generator_loss(disc(drawing, t_det))
        disc.requires_grad_(True)
        return g

    g = fool(fake)
    kl = losses.kl_loss(mu, logvar)
    logs["g"], logs["kl"] = g.item(), kl.item()
    term = cfg.w_gan * (g + cfg.w_kl * kl)
    rec = fake
    if fake_rec is not None:
        g_rec = fool(fake_rec)
        logs["g_rec"], logs["kl_z"] = g_rec.item(), kl_z.item()
        term = term + cfg.w_gan * g_rec + cfg.w_kl_z * kl_z
        rec = fake_rec
    if cfg.w_l1 > 0:
        l1 = (rec - real).abs().mean()
        logs["l1"] = l1.item()
        term = term + cfg.w_l1 * l1
    if cfg.w_mse > 0:
        mse = (rec - real).pow(2).mean()
        logs["mse"] = mse.item()
        term = term + cfg.w_mse * mse
    if fake2 is not None and cfg.w_ms > 0:
        # MSGAN's ratio over the batch: how far the two drawings lie apart for how far their noises do
        ms = 1.0 / ((fake - fake2).abs().mean() / noise_gap.mean() + 1e-5)
        logs["ms"] = ms.item()
        term = term + cfg.w_ms * ms
    if judges.critic is not None:
        critic = judges.critic
        with torch.no_grad():
            c_txt = critic.encode_text(tokens, lengths)
        c_img = critic.encode_image(fake)
        sims = critic.similarity(c_img, c_txt)
        if cfg.w_match > 0:
            match = losses.ranking_loss(sims, cfg.margin, cfg.ranking_loss, true_pairs)
            logs["match"] = match.item()
            term = term + cfg.w_match * match
        if judges.swaps is not None and cfg.w_match_swap > 0:
            term = term + cfg.w_match_swap * swap_term(critic, c_img, sims.diagonal(), judges.swaps, cfg.margin, logs)
    return term


def swap_term(critic, c_img, s_true: torch.Tensor, swaps: tuple[torch.Tensor, torch.Tensor, torch.Tensor],
              margin: float, logs: dict) -> torch.Tensor:
    """mean over valid rows of max(0, margin − s(drawing i, caption i) + s(drawing i, caption i shape-swapped)):
    the critic must read drawing i's outlines, not only its colours and places. s_true (G,); swaps as in
    ``Judges.swaps``; c_img the critic's embedding of the G drawings."""
    tokens, lengths, valid = swaps
    if not bool(valid.any()):
        return s_true.new_zeros(())
    with torch.no_grad():
        c_swap = critic.encode_text(tokens, lengths)
    s_swap = critic.similarity(c_img, c_swap).diagonal()  # (G,): drawing i against its own swapped caption
    hinge = (margin - s_true + s_swap).clamp(min=0)[valid]
    logs["match_swap"] = hinge.mean().item()
    logs["swap_won"] = (s_swap >= s_true)[valid].float().mean().item()  # the critic read the wrong outline
    return hinge.mean()


def objective(out: PassOutputs, tokens: torch.Tensor, lengths: torch.Tensor, image_index: torch.Tensor,
              real: torch.Tensor | None, true_pairs: torch.Tensor | None, gamma: float, cfg: TrainConfig,
              judges: Judges, logs: dict) -> dict[str, torch.Tensor]:
    """L's weighted terms {"rank", "caption", "gan", "diffusion"} for the branches that ran in ``out``, in
    the order they are summed; their parts (xe, rl, D's figures, g, kl, ...) go into ``logs``.
    ``real``: the GAN's targets (``gan_targets``) when it drew."""
    terms: dict[str, torch.Tensor] = {}
    if cfg.w_rank > 0:
        terms["rank"] = ranking_term(out.sims, cfg, true_pairs)
    if out.caption_logits is not None:
        terms["caption"] = captioning_term(out, tokens, image_index, gamma, cfg, judges.rewards, logs)
    if out.fake is not None:
        gb = out.fake.shape[0]
        logs.update(judges.d_logs)
        pairs = true_pairs[:gb, :gb] if true_pairs is not None else None
        terms["gan"] = generator_term(out.fake, out.mu, out.logvar, real, out.txt.t_l[:gb], tokens[:gb],
                                      lengths[:gb], pairs, cfg, judges, logs, out.fake2, out.noise_gap,
                                      out.fake_rec, out.kl_z)
    if out.noise_pred is not None:
        terms["diffusion"] = cfg.w_diffusion * losses.noise_prediction_loss(
            out.noise_pred, out.noise, out.noise_weight)
    return terms
