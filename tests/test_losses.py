"""Losses on hand-made inputs: values checked by hand, not by re-running the formula."""

import math

import pytest
import torch

from lookimagine import losses
from lookimagine.models.similarity import combined_similarity, pairwise_similarity, to_joint_space

SIMS = torch.tensor([[0.9, 0.5, 0.1],
                     [0.2, 0.8, 0.85],
                     [0.3, 0.1, 0.4]])


def test_sum_over_negatives_by_hand():
    m = 0.05
    # image→text, row i: Σ_j≠i [m − s_ii + s_ij]+
    row0 = max(0, m - 0.9 + 0.5) + max(0, m - 0.9 + 0.1)            # 0 + 0
    row1 = max(0, m - 0.8 + 0.2) + max(0, m - 0.8 + 0.85)           # 0 + 0.10
    row2 = max(0, m - 0.4 + 0.3) + max(0, m - 0.4 + 0.1)            # 0 + 0
    # text→image, column j: Σ_i≠j [m − s_jj + s_ij]+
    col0 = max(0, m - 0.9 + 0.2) + max(0, m - 0.9 + 0.3)            # 0
    col1 = max(0, m - 0.8 + 0.5) + max(0, m - 0.8 + 0.1)            # 0
    col2 = max(0, m - 0.4 + 0.1) + max(0, m - 0.4 + 0.85)           # 0 + 0.5
    expected = (row0 + row1 + row2 + col0 + col1 + col2) / 3
    assert losses.ranking_loss(SIMS, m, "sum").item() == pytest.approx(expected, abs=1e-6)
    assert expected == pytest.approx(0.2, abs=1e-6)


def test_hardest_negative_is_chosen():
    m = 0.2
    # row 1's hardest text is column 2 (0.85); column 2's hardest image is row 1 (0.85).
    row = [max(0, m - 0.9 + 0.5), max(0, m - 0.8 + 0.85), max(0, m - 0.4 + 0.3)]
    col = [max(0, m - 0.9 + 0.3), max(0, m - 0.8 + 0.5), max(0, m - 0.4 + 0.85)]
    expected = sum(r + c for r, c in zip(row, col)) / 3
    assert losses.ranking_loss(SIMS, m, "max").item() == pytest.approx(expected, abs=1e-6)
    # hardest < sum as soon as one query has two negatives inside the margin
    two = torch.tensor([[0.5, 0.45, 0.4], [0.0, 1.0, 0.0], [0.0, 0.0, 1.0]])
    assert losses.ranking_loss(two, m, "max") < losses.ranking_loss(two, m, "sum")


def test_ranking_loss_is_zero_when_well_separated_and_rejects_bad_shapes():
    assert losses.ranking_loss(torch.eye(4), 0.5, "sum").item() == 0.0
    with pytest.raises(ValueError):
        losses.ranking_loss(torch.zeros(2, 3), 0.1)
    with pytest.raises(ValueError):
        losses.ranking_loss(torch.zeros(2, 2), 0.1, "mean")


def test_order_violation_sign_and_value():
    v = torch.tensor([[0.5, 0.2]])
    t = torch.tensor([[0.3, 0.4], [0.6, 0.6]])
    s = pairwise_similarity(v, t, "order")
    # s(t, v) = −‖max(0, v − t)‖²: (0.2, 0) → −0.04; t dominates v everywhere → 0 (no violation: best)
    assert s[0, 0].item() == pytest.approx(-0.04)
    assert s[0, 1].item() == pytest.approx(0.0)
    assert (s <= 0).all()


def test_order_violation_chunking_matches_direct():
    g = torch.Generator().manual_seed(0)
    v, t = torch.rand(37, 8, generator=g), torch.rand(11, 8, generator=g)
    direct = -((v[:, None] - t[None]).clamp(min=0) ** 2).sum(-1)
    assert torch.allclose(pairwise_similarity(v, t, "order", chunk=5), direct)


def test_combination_uses_lambda():
    g = torch.Generator().manual_seed(1)
    vh, vl, th, tl = (to_joint_space(torch.randn(3, 4, generator=g), "order") for _ in range(4))
    s_h, s_l = pairwise_similarity(vh, th, "order"), pairwise_similarity(vl, tl, "order")
    assert torch.allclose(combined_similarity(vh, vl, th, tl, "order", 0.5), 0.5 * s_h + 0.5 * s_l)
    assert torch.allclose(combined_similarity(vh, vl, th, tl, "order", 1.0), s_h)
    assert torch.allclose(combined_similarity(vh, vl, th, tl, "cosine", 0.0), vl @ tl.T)


def test_joint_space_is_unit_norm_and_nonnegative_for_order():
    x = to_joint_space(torch.randn(5, 6), "order")
    assert (x >= 0).all() and torch.allclose(x.norm(dim=-1), torch.ones(5))


def test_caption_xe_ignores_padding():
    logits = torch.zeros(1, 3, 5)
    logits[0, 0, 2] = 10.0
    targets = torch.tensor([[2, 0, 0]])  # only the first position counts
    assert losses.caption_xe(logits, targets).item() == pytest.approx(-math.log(math.exp(10) / (math.exp(10) + 4)),
                                                                      abs=1e-5)


def test_self_critical_pushes_up_better_than_greedy_samples():
    logprobs = torch.tensor([[-1.0, -2.0], [-0.5, 0.0]], requires_grad=True)
    tokens = torch.tensor([[5, 2], [2, 0]])
    loss = losses.self_critical(logprobs, tokens, reward=torch.tensor([1.0, 0.0]), baseline=torch.tensor([0.5, 0.5]))
    loss.backward()
    # sample 0 beat its baseline: gradient descent raises its log-probs; sample 1 lost: lowers them
    assert (logprobs.grad[0] < 0).all()
    assert logprobs.grad[1, 0] > 0 and logprobs.grad[1, 1] == 0  # padding gets no gradient


def test_gan_losses_by_hand():
    big = torch.tensor([20.0])
    # a perfect discriminator: real+true → +∞, both rejections → −∞
    assert losses.discriminator_loss(big, -big, -big).item() == pytest.approx(0.0, abs=1e-6)
    # all logits 0: log 2 for the real term, 0.5·log 2 for each rejection
    zero = torch.zeros(1)
    assert losses.discriminator_loss(zero, zero, zero).item() == pytest.approx(2 * math.log(2))
    assert losses.generator_loss(zero).item() == pytest.approx(math.log(2))
    assert losses.kl_loss(torch.zeros(2, 3), torch.zeros(2, 3)).item() == 0.0
    assert losses.kl_loss(torch.ones(1, 2), torch.zeros(1, 2)).item() == pytest.approx(1.0)  # ½·Σ μ²
