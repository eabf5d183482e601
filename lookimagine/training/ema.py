"""An exponential moving average of the diffusion UNet's weights (``TrainConfig.ema_decay``), as Stable
Diffusion and diffusers' ``EMAModel`` train a UNet: the trainer updates it after every optimiser step, validates
and saves ``best/`` with the average swapped in, and keeps both the raw weights (in ``last/``'s checkpoint, where
training resumes from) and the average (in ``last/``'s resumable state).

    ema = Ema(model.diffusion.unet, decay=0.999)
    ...; optimiser.step(); ema.update()
    with ema.applied():          # the UNet holds the average inside the block, its own weights after
        save_checkpoint(...)
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

import torch

PREFIX = "ema."


class Ema:
    def __init__(self, module: torch.nn.Module, decay: float):
        if not 0.0 < decay < 1.0:
            raise ValueError(f"ema_decay must lie in (0, 1), got {decay}")
        self.module, self.decay, self.steps = module, decay, 0
        self.shadow = {n: p.detach().clone() for n, p in module.named_parameters()}

    def current_decay(self) -> float:
        """``decay``, warmed up as diffusers' EMAModel does ((1 + t) / (10 + t)), so that the first steps' average
        is not stuck near the initial weights."""
        return min(self.decay, (1 + self.steps) / (10 + self.steps))

    @torch.no_grad()
    def update(self) -> None:
        """shadow ← d · shadow + (1 − d) · weights, after an optimiser step."""
        d = self.current_decay()
        for name, p in self.module.named_parameters():
            self.shadow[name].lerp_(p.detach(), 1.0 - d)
        self.steps += 1

    @contextmanager
    def applied(self) -> Iterator[None]:
        """The module holds the average inside the block and gets its own weights back after it."""
        params = dict(self.module.named_parameters())
        own = {n: p.detach().clone() for n, p in params.items()}
        with torch.no_grad():
            for n, p in params.items():
                p.copy_(self.shadow[n])
        try:
            yield
        finally:
            with torch.no_grad():
                for n, p in params.items():
                    p.copy_(own[n])

    def tensors(self) -> dict[str, torch.Tensor]:
        """The resumable state, as flat tensors for ``last/trainer_state.safetensors``."""
        out = {PREFIX + n: t.detach().cpu().contiguous() for n, t in self.shadow.items()}
        out[PREFIX + "steps"] = torch.tensor(self.steps)
        return out

    def load(self, tensors: dict[str, torch.Tensor]) -> None:
        """Back to where ``tensors`` left it (a resumed run); a state without an average keeps the fresh one."""
        if PREFIX + "steps" not in tensors:
            return
        for name in self.shadow:
            self.shadow[name].copy_(tensors[PREFIX + name])
        self.steps = int(tensors[PREFIX + "steps"])
