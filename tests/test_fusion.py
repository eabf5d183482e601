"""Imagination used in Match (``evaluation/fusion.py``, ``tools/fusion.py``): the fusions' arithmetic, the
caption likelihood, and the tool end to end on a tiny model."""

from __future__ import annotations

import json

import numpy as np
import pytest
import torch

from lookimagine.evaluation.fusion import caption_log_likelihood, fuse, rerank_top_k, zscore_rows


def test_zscore_rows_and_fuse():
    s = np.array([[1.0, 2.0, 3.0], [5.0, 5.0, 5.0]])
    z = zscore_rows(s)
    assert np.allclose(z[0].mean(), 0) and np.allclose(z[0].std(), 1) and np.all(z[1] == 0)
    assert np.allclose(fuse(s, s, 0.0), z)  # w = 0 is the model's own ranking
    flipped = fuse(s, -s, 2.0)  # the extra score, weighted more, reverses the order
    assert list(np.argsort(-flipped[0])) == [0, 1, 2]


def test_rerank_touches_only_the_top_k_and_keeps_the_rest_below_in_order():
    sims = np.array([[0.9, 0.8, 0.7, 0.1, 0.2]])
    top = np.array([[0, 1, 2]])
    ll = np.array([[-3.0, -2.0, -1.0]])  # the likelihood prefers caption 2, then 1, then 0
    assert list(np.argsort(-rerank_top_k(sims, top, ll, 0.0)[0])) == [0, 1, 2, 4, 3]
    assert list(np.argsort(-rerank_top_k(sims, top, ll, 10.0)[0])) == [2, 1, 0, 4, 3]


def test_caption_log_likelihood_is_the_teacher_forced_mean_over_words(tiny_models):
    from lookimagine.models.checkpoint import load_checkpoint

    model, vocab, _ = load_checkpoint(tiny_models["gxn"] / "best")
    tokens = torch.tensor([[1, 5, 6, 2, 0], [1, 7, 2, 0, 0]])
    lengths = torch.tensor([4, 3])
    v_l = torch.nn.functional.normalize(torch.randn(2, model.cfg.embed_dim, generator=torch.Generator().manual_seed(0)), dim=-1)
    ll = caption_log_likelihood(model, v_l, tokens, lengths)
    logits = model.caption_decoder(v_l[:1], tokens[:1, :4])
    by_hand = logits.log_softmax(-1)[0, torch.arange(3), tokens[0, 1:4]].mean()
    assert ll.shape == (2,) and ll[0].item() == pytest.approx(by_hand.item(), abs=1e-5)
    assert torch.all(ll < 0)


def test_the_tool_chooses_on_val_and_reports_test(tiny_models, tmp_path):
    from lookimagine.tools.fusion import main

    out = tmp_path / "fusion.json"
    assert main(["shapes", "--checkpoints", str(tiny_models["gxn"]), "--weights", "0", "0.5", "--k", "3",
                 "--test-splits", "test", "--n", "60", "--steps", "2", "--guidance", "1.5", "--out", str(out)]) == 0
    r = json.loads(out.read_text())["shapes"]
    assert r["sampler"] == {"diffusion_sample_steps": 2, "diffusion_guidance": 1.5}  # what the pictures used
    assert r["command"].startswith("python -m lookimagine.tools.fusion shapes")
    assert set(r["chosen"]) == {"i2t_r1", "t2i_r1"} and r["n_scenes"] == 60
    for d, c in r["chosen"].items():
        best = max(c["val_r1_by_weight"].values())
        assert c["val_r1_by_weight"][str(c["weight"])] == best  # chosen on val, never on test
        cell = r["test"]["test"][d]
        assert cell["weight"] == c["weight"]
        assert cell["fused_minus_gxn"]["mean"] == pytest.approx(cell["fused"]["mean"] - cell["gxn"]["mean"])


def test_results_md_fusion_block_is_generated_from_the_json():
    from pathlib import Path

    from lookimagine.tools.fusion import MARK_END, MARK_START, markdown

    root = Path(__file__).resolve().parents[1]
    results = json.loads((root / "assets" / "results" / "fusion.json").read_text())
    block = (root / "RESULTS.md").read_text().split(MARK_START, 1)[1].split(MARK_END, 1)[0]
    assert block.strip() == markdown(results).strip()
    for r in results.values():
        assert r["command"].startswith("python -m lookimagine.tools.fusion ")
        assert all(r["test"][s][d]["weight"] == r["chosen"][d]["weight"] for s in r["test"] for d in r["test"][s])


def test_readme_states_the_emoji_fusion_figures_of_the_json():
    """The README's query-time fusion sentence quotes fusion.json's emoji test cells (five final seeds)."""
    from pathlib import Path

    root = Path(__file__).resolve().parents[1]
    emoji = json.loads((root / "assets" / "results" / "fusion.json").read_text())["emoji"]
    readme = " ".join((root / "README.md").read_text().split())
    pictures, captions = emoji["test"]["test"]["t2i_r1"]["fused_minus_gxn"], emoji["test"]["test"]["i2t_r1"]["fused_minus_gxn"]
    fmt = lambda x: f"{x:+.1f}".replace("-", "−")  # noqa: E731
    assert f"costs {-pictures['mean']:.1f} points of R@1 on emoji test [{fmt(pictures['ci95'][0])}, " \
           f"{fmt(pictures['ci95'][1])}] ({len(emoji['checkpoints'])} final seeds".replace("5 final", "five final") in readme
    assert f"moves image→text by {fmt(captions['mean'])} [{fmt(captions['ci95'][0])}, {fmt(captions['ci95'][1])}]" in readme
