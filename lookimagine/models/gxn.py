"""GXN: Look (two-headed encoders), Imagine (caption decoder, text→image branch), Match (s*).

The baseline is this same class with ``i2t=False`` and ``t2i="none"``: the
paper's "no generators" row. The GAN discriminator is not part of the model
(inference never needs it); the trainer owns it.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass

import torch
import torch.nn.functional as F
from torch import nn

from ..config import ModelConfig
from .caption_decoder import CaptionDecoder
from .image_encoder import ImageEncoder
from .similarity import combined_similarity, to_joint_space
from .t2i_gan import ConditioningAugmentation, Generator, NoiseEncoder
from .text_encoder import TextEncoder


@dataclass
class ImageEmbedding:
    """Joint-space image vectors: v_h (abstract), v_l (grounded), each (B, E)."""

    v_h: torch.Tensor
    v_l: torch.Tensor


@dataclass
class TextEmbedding:
    """Joint-space text vectors t_h, t_l (B, E), and the grounded per-word states (B, T, H) with mask (B, T)."""

    t_h: torch.Tensor
    t_l: torch.Tensor
    states: torch.Tensor
    mask: torch.Tensor


class GXN(nn.Module):
    def __init__(self, cfg: ModelConfig) -> None:
        super().__init__()
        if cfg.vocab_size <= 4:
            raise ValueError("ModelConfig.vocab_size must be set from the vocabulary before building GXN")
        self.cfg = cfg
        if cfg.backbone == "open_clip":  # pretrained towers under the same heads (the full tier)
            from .clip_encoders import build_encoders  # imports open_clip only when needed

            self.image_encoder, self.text_encoder = build_encoders(cfg)
        else:
            self.image_encoder = ImageEncoder(cfg.cnn_channels, cfg.embed_dim, pool=cfg.pool,
                                              image_size=cfg.image_size)
            self.text_encoder = TextEncoder(cfg.vocab_size, cfg.word_dim, cfg.text_hidden, cfg.embed_dim)
        self.caption_decoder = (CaptionDecoder(cfg.vocab_size, cfg.word_dim, cfg.decoder_hidden, cfg.embed_dim)
                                if cfg.i2t else None)
        # ``gan`` is the GAN's generator network; ``generator=`` arguments are random-number generators (diffusers)
        self.cond_aug = self.gan = self.diffusion = self.z_encoder = None
        if cfg.t2i == "gan":
            self.cond_aug = ConditioningAugmentation(cfg.embed_dim, cfg.cond_dim, cfg.cond_scale, cfg.cond_init_logvar)
            self.gan = Generator(cfg.cond_dim, cfg.noise_dim, cfg.gen_channels, cfg.draw_size or cfg.image_size)
            self._fit_gan_to_sampler()
            if cfg.z_encoder:  # training only (cVAE-GAN): sampling draws z from N(0, I)
                self.z_encoder = NoiseEncoder(cfg.noise_dim, cfg.draw_size or cfg.image_size,
                                              text_dim=cfg.embed_dim if cfg.z_encoder_text else 0)
        elif cfg.t2i == "diffusion":
            from .t2i_diffusion import DiffusionT2I  # imports diffusers only when needed

            self.diffusion = DiffusionT2I(cfg)

    # ---- Look -------------------------------------------------------------------------
    def encode_image(self, images: torch.Tensor) -> ImageEmbedding:
        """images (B, 3, H, W) in [-1, 1] → joint-space v_h, v_l."""
        v_h, v_l = self.image_encoder(images)
        return ImageEmbedding(to_joint_space(v_h, self.cfg.similarity), to_joint_space(v_l, self.cfg.similarity))

    def encode_text(self, tokens: torch.Tensor, lengths: torch.Tensor) -> TextEmbedding:
        """tokens (B, T) with <bos>/<eos>, lengths (B,) → joint-space t_h, t_l and grounded states."""
        t_h, t_l, states, mask = self.text_encoder(tokens, lengths)
        return TextEmbedding(to_joint_space(t_h, self.cfg.similarity), to_joint_space(t_l, self.cfg.similarity),
                             states, mask)

    # ---- Match ------------------------------------------------------------------------
    def similarity(self, img: ImageEmbedding, txt: TextEmbedding) -> torch.Tensor:
        """s* for every image against every text, (N, M); higher is better."""
        return combined_similarity(img.v_h, img.v_l, txt.t_h, txt.t_l, self.cfg.similarity, self.cfg.lam)

    # ---- Imagine ----------------------------------------------------------------------
    @property
    def can_caption(self) -> bool:
        return self.caption_decoder is not None

    @property
    def can_draw(self) -> bool:
        return self.gan is not None or self.diffusion is not None

    @torch.no_grad()
    def generate_caption(self, img: ImageEmbedding, beam: int = 1) -> torch.Tensor:
        """Caption tokens (B, L) from v_l (greedy when beam == 1)."""
        if self.caption_decoder is None:
            raise RuntimeError("this model has no image→text branch")
        if beam > 1:
            return self.caption_decoder.beam_search(img.v_l, self.cfg.max_caption_len, beam)
        return self.caption_decoder.sample(img.v_l, self.cfg.max_caption_len, greedy=True)[0]

    def set_sampler(self, sampler: dict | None) -> dict:
        """Set the sampler from ModelConfig fields (``diffusion_sample_steps``, ``diffusion_guidance``,
        ``imagine_best_of``), as chosen on val, in both ``cfg`` (what a saved checkpoint records) and the
        diffusion branch. A no-op for models without a text→image branch or an empty ``sampler``; the diffusion
        fields are ignored without a diffusion branch. Returns the fields it set."""
        if not self.can_draw or not sampler:
            return {}
        if self.diffusion is None:
            sampler = {k: v for k, v in sampler.items() if not k.startswith("diffusion_")}
        self.cfg = dataclasses.replace(self.cfg, **sampler)
        if self.diffusion is None:
            self._fit_gan_to_sampler()
            return sampler
        self.diffusion.sample_steps = self.cfg.diffusion_sample_steps
        self.diffusion.guidance = self.cfg.diffusion_guidance
        return sampler

    def _fit_gan_to_sampler(self) -> None:
        """The generator's convs in NHWC (channels_last), as the trainer's are, when it draws k > 1 pictures for
        each one shown: a batch of k drawings runs several times faster so on a CPU. Weights and pictures are the
        same up to float rounding; k = 1 keeps the plain layout (and every figure measured with it)."""
        if self.gan is not None and self.cfg.imagine_best_of > 1:
            self.gan.to(memory_format=torch.channels_last)

    def draw(self, txt: TextEmbedding, generator: torch.Generator | None = None,
             sample_condition: bool = True) -> torch.Tensor:
        """Images (B, 3, H, W) in [-1, 1] from the grounded text (differentiable for the GAN). Outside training,
        each is the best of ``cfg.imagine_best_of`` drawings (``draw_best_of``)."""
        if not self.training and self.cfg.imagine_best_of > 1:
            return self.draw_best_of(txt, self.cfg.imagine_best_of, generator, sample_condition)
        return self._draw_once(txt, generator, sample_condition)

    def _draw_once(self, txt: TextEmbedding, generator: torch.Generator | None, sample_condition: bool) -> torch.Tensor:
        if self.gan is not None:
            return self.draw_gan(txt.t_l, generator, sample_condition)[0]
        if self.diffusion is not None:
            return self.diffusion.sample(txt.states, txt.mask, generator=generator)
        raise RuntimeError("this model has no text→image branch")

    @torch.no_grad()
    def draw_best_of(self, txt: TextEmbedding, k: int, generator: torch.Generator | None = None,
                     sample_condition: bool = True) -> torch.Tensor:
        """Images (B, 3, H, W): for each of the B texts, the one of k drawings that GXN's own s* ranks nearest
        that text (DALL·E's reranking, with GXN's joint space as the reader: Match choosing what Imagine
        shows). k = 1 is ``draw``. The k drawings of text r are rows r·k … r·k + k − 1 of one batch."""
        if k <= 1:
            return self._draw_once(txt, generator, sample_condition)
        b = txt.t_l.shape[0]
        many = TextEmbedding(*(x.repeat_interleave(k, dim=0) for x in (txt.t_h, txt.t_l, txt.states, txt.mask)))
        drawn = self._draw_once(many, generator, sample_condition)  # (B·k, 3, H, W)
        seen = drawn if drawn.shape[-1] == self.cfg.image_size else F.interpolate(
            drawn, size=(self.cfg.image_size,) * 2, mode="bilinear", align_corners=False)  # a GAN drawing small
        sims = self.similarity(self.encode_image(seen), txt).view(b, k, b)  # [r, j, c]: drawing j of r vs text c
        rows = torch.arange(b, device=drawn.device)
        best = sims[rows, :, rows].argmax(dim=1)  # (B,): each text's own column
        return drawn.view(b, k, *drawn.shape[1:])[rows, best]

    def draw_gan(self, t_l: torch.Tensor, generator: torch.Generator | None = None,
                 sample_condition: bool = True) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
        """The GAN's drawing of t_l (B, E) (paper §3.3): conditioning augmentation t_c ~ N(μ, σ²), then
        G(t_c, z) with z ~ N(0, I), in that order from ``generator``. Returns (images (B, 3, S, S) in [-1, 1],
        μ (B, C), logvar (B, C)); the trainer's KL term needs μ and logvar."""
        t_c, mu, logvar = self.cond_aug(t_l, generator=generator, sample=sample_condition)
        z = self._noise(t_c, generator)
        return self.gan(t_c, z), mu, logvar

    def _noise(self, t_c: torch.Tensor, generator: torch.Generator | None) -> torch.Tensor:
        """z ~ N(0, I), (B, noise_dim), for the B conditioning samples t_c."""
        return torch.randn((t_c.shape[0], self.cfg.noise_dim), generator=generator, device=t_c.device)

    def draw_gan_posterior(self, t_l: torch.Tensor, real: torch.Tensor, generator: torch.Generator | None = None):
        """The cVAE-GAN's two drawings of each t_l (B, E) from one conditioning sample t_c: G(t_c, z) with
        z ~ N(0, I), and G(t_c, z_x) with z_x ~ q(z | x) the noise encoder's reading of ``real`` (B, 3, S, S), the
        picture the caption came with. Returns (prior drawing, posterior drawing, μ, logvar, KL(q(z | x) ||
        N(0, I)) summed over z's dims and averaged over the batch)."""
        t_c, mu, logvar = self.cond_aug(t_l, generator=generator)
        z = self._noise(t_c, generator)
        fake = self.gan(t_c, z)
        if real.shape[-1] != fake.shape[-1]:
            real = F.interpolate(real, size=fake.shape[-2:], mode="area")
        # the caption (detached: the encoder must not train the text encoder) scaled as conditioning augmentation's
        mu_z, logvar_z = self.z_encoder(real, t_l.detach() * self.cond_aug.input_scale)
        eps = torch.randn(mu_z.shape, generator=generator, device=mu_z.device, dtype=mu_z.dtype)
        rec = self.gan(t_c, mu_z + eps * (0.5 * logvar_z).exp())
        kl_z = (-0.5 * (1 + logvar_z - mu_z.pow(2) - logvar_z.exp()).sum(dim=1)).mean()
        return fake, rec, mu, logvar, kl_z

    def draw_gan_twice(self, t_l: torch.Tensor, generator: torch.Generator | None = None):
        """Two drawings of each t_l (B, E) from one conditioning sample t_c and two noises z1, z2, for the
        mode-seeking term (MSGAN, Mao et al. 2019). Returns (fake1, fake2 (B, 3, S, S), μ, logvar,
        |z1 − z2| (B,), the mean absolute noise difference per row)."""
        t_c, mu, logvar = self.cond_aug(t_l, generator=generator)
        z1 = self._noise(t_c, generator)
        z2 = self._noise(t_c, generator)
        # two calls, not one of twice the batch: G's BatchNorm sees the batches it sees without the term
        return self.gan(t_c, z1), self.gan(t_c, z2), mu, logvar, (z1 - z2).abs().mean(dim=1)
