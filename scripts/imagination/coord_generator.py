"""A generator with a spatial bias, tried against the shipped GAN's on shapes (issue 21; scratch harness:
gen_exp.py --arch coord). It did not draw shapes where the shipped one draws blobs, at 2.5x the cost per step
(assets/results/analysis/imagination_shapes_generators.json), so it stays here, outside the package.
"""
import torch
from torch import nn


def coordinates(x: torch.Tensor) -> torch.Tensor:
    """(B, C, H, W) → (B, 2, H, W): each pixel's centre (x, y) in [-1, 1], as CoordConv adds them."""
    b, _, h, w = x.shape
    ys = torch.linspace(-1 + 1 / h, 1 - 1 / h, h, device=x.device, dtype=x.dtype)
    xs = torch.linspace(-1 + 1 / w, 1 - 1 / w, w, device=x.device, dtype=x.dtype)
    grid = torch.stack(torch.meshgrid(xs, ys, indexing="xy"))  # (2, H, W)
    return grid.expand(b, -1, -1, -1)


class FiLMBlock(nn.Module):
    """×2 upsampling, then two 3×3 convs that see the pixel coordinates, each normalised and modulated
    (FiLM: γ·x + β) by the code (t_c, z): (B, c_in, s, s), (B, K) → (B, c_out, 2s, 2s)."""

    def __init__(self, c_in: int, c_out: int, code_dim: int) -> None:
        super().__init__()
        self.conv1 = nn.Conv2d(c_in + 2, c_out, 3, padding=1)
        self.conv2 = nn.Conv2d(c_out + 2, c_out, 3, padding=1)
        self.norm1, self.norm2 = nn.BatchNorm2d(c_out, affine=False), nn.BatchNorm2d(c_out, affine=False)
        self.film = nn.Linear(code_dim, 4 * c_out)

    def forward(self, x: torch.Tensor, code: torch.Tensor) -> torch.Tensor:
        x = nn.functional.interpolate(x, scale_factor=2, mode="nearest")
        g1, b1, g2, b2 = self.film(code)[:, :, None, None].chunk(4, dim=1)
        x = torch.relu(self.norm1(self.conv1(torch.cat([x, coordinates(x)], 1))) * (1 + g1) + b1)
        return torch.relu(self.norm2(self.conv2(torch.cat([x, coordinates(x)], 1))) * (1 + g2) + b2)


class CoordGenerator(nn.Module):
    """(t_c (B, C), z (B, Z)) → images (B, 3, 64, 64) in [-1, 1], with a spatial bias for flat shapes.

    The plain generator must learn to turn a code into a place through a linear layer to a 4×4 map, which
    CoordConv (Liu et al., 2018) showed deconvolution stacks learn slowly; here every conv also sees the
    pixel's coordinates and every block is modulated by the code (FiLM), so a layer can compute half-planes
    (a·x + b·y + c, placed by the code) whose intersections are the straight-edged shapes of the scenes.
    """

    def __init__(self, cond_dim: int, noise_dim: int, channels: int, image_size: int = 64) -> None:
        super().__init__()
        n_up = (image_size // 8).bit_length() - 1  # 8 → image_size by doublings
        widths = [channels * 2 ** max(3 - i, 0) for i in range(n_up + 1)]  # e.g. 128, 64, 32, 16
        code = cond_dim + noise_dim
        self.fc = nn.Linear(code, widths[0] * 64)
        self.blocks = nn.ModuleList(FiLMBlock(widths[i], widths[i + 1], code) for i in range(n_up))
        self.to_rgb = nn.Conv2d(widths[-1] + 2, 3, 3, padding=1)
        self.width0 = widths[0]
        self.noise_dim = noise_dim

    def forward(self, t_c: torch.Tensor, z: torch.Tensor) -> torch.Tensor:
        code = torch.cat([t_c, z], dim=-1)
        x = torch.relu(self.fc(code)).view(-1, self.width0, 8, 8)
        for block in self.blocks:
            x = block(x, code)
        return torch.tanh(self.to_rgb(torch.cat([x, coordinates(x)], 1)))
