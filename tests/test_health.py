"""Training health and decoupled optimisation: gradient shares, the conditioning probe,
per-group clipping, the paper's gradient paths, false-negative masking and staging."""

import dataclasses
import json

import pytest
import torch

from lookimagine import losses
from lookimagine.config import get_preset
from lookimagine.data.batching import iterate_batches
from lookimagine.training.data import true_pairs
from lookimagine.training.health import conditioning_probe, gradient_shares
from lookimagine.training.objectives import Judges, gan_targets, generator_term
from lookimagine.training.trainer import Trainer, group_parameters


# ---- the health report -----------------------------------------------------------------
def test_gradient_shares_match_hand_computed_norms():
    w = torch.nn.Parameter(torch.tensor([1.0, 2.0]))
    terms = {"a": (3 * w).sum(), "b": (w ** 2).sum()}  # grads (3, 3) and (2, 4)
    out = gradient_shares(terms, [w])
    na, nb = (18 ** 0.5), (20 ** 0.5)
    assert out["norm"]["a"] == pytest.approx(na) and out["norm"]["b"] == pytest.approx(nb)
    assert out["share"]["a"] == pytest.approx(na / (na + nb))
    assert sum(out["share"].values()) == pytest.approx(1.0)
    (terms["a"] + terms["b"]).backward()  # the graph survives the measurement
    assert torch.equal(w.grad, torch.tensor([5.0, 7.0]))


def test_gradient_shares_count_a_term_that_misses_the_parameters_as_zero():
    w, v = torch.nn.Parameter(torch.ones(2)), torch.nn.Parameter(torch.ones(2))
    out = gradient_shares({"on_w": w.sum(), "on_v": v.sum()}, [w])
    assert out["share"] == {"on_w": 1.0, "on_v": 0.0}


def test_conditioning_probe_tells_a_conditional_generator_from_an_unconditional_one():
    texts = torch.randn(16, 8)
    proj = torch.randn(8, 3 * 4 * 4)

    def conditional(gen):  # the image is mostly a function of the text, plus a little noise
        return (texts @ proj).view(16, 3, 4, 4) + 0.05 * torch.randn(16, 3, 4, 4, generator=gen)

    def unconditional(gen):  # the text is ignored
        return torch.randn(16, 3, 4, 4, generator=gen)

    assert conditioning_probe(conditional, n_draws=4) > 0.95
    assert abs(conditioning_probe(unconditional, n_draws=4)) < 0.15
    with pytest.raises(ValueError):
        conditioning_probe(conditional, n_draws=1)


# ---- decoupled optimisation --------------------------------------------------------------
def _trainer(tmp_path, variant="gxn-xe", **train):
    preset = get_preset(f"tiny-{variant}")
    cfg = dataclasses.replace(preset.train, **train)
    return Trainer(preset.model, cfg, tmp_path, preset=preset.name, progress=False)


def _batch(trainer):
    return next(iterate_batches(trainer.train_split, 16, torch.Generator().manual_seed(0)))


def test_each_module_group_is_clipped_on_its_own(tmp_path):
    """A huge gradient in the generator group leaves the encoders' (clipped) gradient exactly as it was.

    Compared on the gradient, not the Adam step: Adam's first step barely depends on the gradient's scale,
    so a joint clip would hide there."""
    def encoder_step(scale_gan: float) -> dict:
        trainer = _trainer(tmp_path / str(scale_gan), w_gan=scale_gan, w_kl=0.0, gen_lr=0.0)
        torch.manual_seed(0)
        # No caption decoder term, and no GAN gradient into the encoders: only the generator group sees w_gan.
        trainer.train_cfg = dataclasses.replace(trainer.train_cfg, w_caption=0.0)
        trainer.model.cond_aug.register_forward_pre_hook(lambda m, a: (a[0].detach(),))
        trainer.gen.manual_seed(0)
        logs = trainer.step(_batch(trainer), epoch=0)
        grads = {n: p.grad.clone() for n, p in trainer.model.image_encoder.named_parameters() if p.grad is not None}
        return {"delta": grads, "clip_gen": logs["clip.generator"]}

    small, huge = encoder_step(1.0), encoder_step(1e6)
    assert huge["clip_gen"] > 1e3 * small["clip_gen"]  # the generator's gradient really was huge
    assert small["delta"]
    for k in small["delta"]:
        assert torch.allclose(small["delta"][k], huge["delta"][k], rtol=1e-5, atol=1e-9), k


def test_generator_loss_reaches_text_only_through_the_generator(tmp_path):
    """D and the matching critic see detached text: the G step leaves no gradient in D, and the text
    encoder's gradient from the GAN term vanishes when the generator's input is cut."""
    trainer = _trainer(tmp_path, variant="t2i", w_kl=0.0)
    batch = _batch(trainer)
    model = trainer.model
    img = model.encode_image(batch.images)

    def gan_term(t_l):  # D's step, then the generator's weighted loss on a drawing of t_l
        fake, mu, logvar = model.draw_gan(t_l, trainer.gen)
        real = gan_targets(batch.images, fake)
        judges = Judges(trainer.disc, d_logs=trainer.discriminator_step(real, fake, t_l))
        return generator_term(fake, mu, logvar, real, t_l, batch.tokens, batch.lengths, None, trainer.train_cfg,
                              judges, {})

    txt = model.encode_text(batch.tokens, batch.lengths)
    gan = gan_term(txt.t_l)
    trainer.disc.zero_grad(set_to_none=True)
    enc = [p for p in model.text_encoder.parameters()]
    grads = torch.autograd.grad(gan, enc, retain_graph=True, allow_unused=True)
    assert any(g is not None and g.abs().sum() > 0 for g in grads)  # the paper's path: G → t_l
    gan.backward()
    assert all(p.grad is None for p in trainer.disc.parameters())  # G's loss left nothing in D
    # cut the generator's input: nothing reaches the text encoder any more
    model.zero_grad(set_to_none=True)
    model.cond_aug.register_forward_pre_hook(lambda m, a: (a[0].detach(),))
    gan_term(model.encode_text(batch.tokens, batch.lengths).t_l).backward()
    assert all(p.grad is None or p.grad.abs().sum() == 0 for p in model.text_encoder.parameters())
    del img


def test_health_is_recorded_every_epoch(tmp_path):
    trainer = _trainer(tmp_path, variant="gxn-xe", epochs=1)
    meta = trainer.fit()
    health = meta["history"][0]["health"]
    assert set(health["grad_share"]) == {"rank", "caption", "gan"}
    assert sum(health["grad_share"].values()) == pytest.approx(1.0, abs=1e-6)
    assert health["conditioning"] is not None and -1.0 <= health["conditioning"] <= 1.0
    on_disk = json.loads((tmp_path / "run.json").read_text())
    assert on_disk["history"][0]["health"]["grad_share"] == pytest.approx(health["grad_share"])


# ---- false-negative masking --------------------------------------------------------------
def test_masked_true_pairs_are_not_negatives():
    sims = torch.tensor([[0.9, 0.8, 0.1], [0.85, 0.7, 0.2], [0.0, 0.1, 0.9]])
    true_pairs = torch.zeros(3, 3, dtype=torch.bool)
    true_pairs[0, 1] = true_pairs[1, 0] = True  # captions 0 and 1 are each true of both images 0 and 1
    masked = losses.ranking_loss(sims, 0.2, "sum", true_pairs)
    lowered = sims.clone()
    lowered[0, 1] = lowered[1, 0] = -10.0  # a pair that can never violate the margin
    assert masked.item() == pytest.approx(losses.ranking_loss(lowered, 0.2, "sum").item())
    assert masked < losses.ranking_loss(sims, 0.2, "sum")


def test_trainer_masks_what_the_checker_says_is_true(tmp_path):
    trainer = _trainer(tmp_path, variant="baseline", mask_true_negatives=True)
    batch = _batch(trainer)
    pairs = true_pairs(trainer.train_cfg, trainer.train_split, trainer.train_ds, batch)
    from lookimagine.data.shapes import caption_is_true

    for i in range(4):
        for j in range(4):
            caption = trainer.train_split.captions[int(batch.caption_index[j])]
            assert bool(pairs[i, j]) == caption_is_true(caption, trainer.train_ds.scene_of(int(batch.image_index[i])))
    assert pairs.diagonal().all()


# ---- staging ---------------------------------------------------------------------------
def test_stage_two_trains_the_generators_and_leaves_the_encoders_alone(tmp_path):
    base = _trainer(tmp_path / "base", variant="baseline", epochs=1)
    base.fit()
    stage2 = _trainer(tmp_path / "stage2", variant="gxn-xe", epochs=1, init_from=str(tmp_path / "base" / "best"),
                      freeze_encoders=True, w_rank=0.0, w_match=1.0)
    enc_before = {k: v.clone() for k, v in stage2.model.text_encoder.state_dict().items()}
    gen_before = {k: v.clone() for k, v in stage2.model.gan.state_dict().items()}
    assert "encoders" not in group_parameters(stage2.model) or "encoders" not in stage2.opts
    stage2.fit()
    assert all(torch.equal(enc_before[k], v) for k, v in stage2.model.text_encoder.state_dict().items())
    assert any(not torch.equal(gen_before[k], v) for k, v in stage2.model.gan.state_dict().items())
    assert all(not p.requires_grad for p in stage2.critic.parameters())


def test_match_loss_needs_a_starting_checkpoint(tmp_path):
    with pytest.raises(ValueError, match="init_from"):
        _trainer(tmp_path, variant="t2i", w_match=1.0)


def test_swap_a_word_changes_one_outline_and_keeps_the_rest():
    """One shape noun changes, to another shape in the same number; a caption naming no shape has no swap."""
    import random
    import re

    from lookimagine.data.shapes import PLURALS, SHAPES, swap_a_word

    rng = random.Random(0)
    nouns = {*SHAPES, *(PLURALS[s] for s in SHAPES)}
    for caption in ("a small red circle left of two blue stars", "the green cross is above the gray square",
                    "there are three crosses", "a yellow diamond"):
        for _ in range(20):
            swapped = swap_a_word(caption, rng)
            a, b = caption.split(), swapped.split()
            changed = [(x, y) for x, y in zip(a, b) if x != y]
            assert len(a) == len(b) and len(changed) == 1
            (old, new), = changed
            assert old in nouns and new in nouns and (old in SHAPES) == (new in SHAPES)
    assert swap_a_word("there are two shapes", rng) is None
    assert re.fullmatch(r"a red (circle|triangle|star|diamond|cross)", swap_a_word("a red square", rng))
    # colours: one colour word changes to another colour; either kind: one word of either
    from lookimagine.config import MATCH_SWAP_KINDS
    from lookimagine.data.shapes import _SWAP_WORDS, COLOURS

    assert tuple(_SWAP_WORDS) == MATCH_SWAP_KINDS
    caption = "a small red circle left of two blue stars"
    for kinds, allowed in (("colours", set(COLOURS)), ("shapes+colours", set(COLOURS) | nouns)):
        seen = set()
        for _ in range(40):
            (old, new), = [(x, y) for x, y in zip(caption.split(), swap_a_word(caption, rng, kinds).split()) if x != y]
            assert old in allowed and new in allowed and (old in COLOURS) == (new in COLOURS)
            seen.add(old in COLOURS)
        assert seen == ({True} if kinds == "colours" else {True, False})
    assert swap_a_word("there are two shapes", rng, "colours") is None


def test_swapped_captions_are_false_of_their_scene_or_masked(tmp_path):
    """training.data.swapped_captions: a valid row encodes a swapped caption the checker finds false of the pair's
    scene; an invalid row (no shape named, or the swap is still true) is masked."""
    import random

    from lookimagine.data.shapes import caption_is_true
    from lookimagine.training.data import swapped_captions

    trainer = _trainer(tmp_path, variant="t2i")
    batch = _batch(trainer)
    tokens, lengths, valid = swapped_captions(trainer.train_split, trainer.train_ds, trainer.vocab, batch, 12,
                                         random.Random(0), trainer.train_cfg.max_len)
    assert tokens.shape[0] == lengths.shape[0] == valid.shape[0] == 12 and valid.any()
    for j in range(12):
        text = trainer.vocab.decode(tokens[j, :lengths[j]].tolist())
        caption = trainer.train_split.captions[int(batch.caption_index[j])]
        true_now = caption_is_true(text, trainer.train_ds.scene_of(int(batch.image_index[j])))
        assert (not true_now and text != caption) if valid[j] else text == caption


def test_the_swap_term_needs_the_critic_and_shapes_and_teaches_the_generator(tmp_path):
    """w_match_swap: refused without init_from or off shapes; in a stage 2 it is logged, and minimising it
    alone lowers it (the generator learns what tells the critic its caption from the swapped one)."""
    with pytest.raises(ValueError, match="init_from"):
        _trainer(tmp_path / "no-init", variant="t2i", w_match_swap=1.0)
    with pytest.raises(ValueError, match="only shapes"):
        _trainer(tmp_path / "emoji", variant="t2i", dataset="emoji", init_from="x", w_match_swap=1.0)
    base = _trainer(tmp_path / "base", variant="baseline", epochs=1)
    base.fit()
    stage2 = _trainer(tmp_path / "stage2", variant="t2i", epochs=1, init_from=str(tmp_path / "base" / "best"),
                      freeze_encoders=True, w_rank=0.0, w_match_swap=1.0)
    assert stage2.critic is not None
    logs = stage2.step(_batch(stage2), epoch=0)
    assert logs["match_swap"] >= 0 and 0 <= logs["swap_won"] <= 1 and "match" not in logs

    import random

    from lookimagine.training.data import swapped_captions
    from lookimagine.training.objectives import swap_term

    batch = _batch(stage2)
    swaps = swapped_captions(stage2.train_split, stage2.train_ds, stage2.vocab, batch, 8, random.Random(1),
                        stage2.train_cfg.max_len)
    critic, model = stage2.critic, stage2.model
    c_txt = critic.encode_text(batch.tokens[:8], batch.lengths[:8])
    t_l = model.encode_text(batch.tokens[:8], batch.lengths[:8]).t_l.detach()

    def term() -> torch.Tensor:
        fake = model.draw_gan(t_l, torch.Generator().manual_seed(3))[0]
        c_img = critic.encode_image(fake)
        return swap_term(critic, c_img, critic.similarity(c_img, c_txt).diagonal(), swaps, 0.2, {})

    before = float(term().detach())
    opt = torch.optim.Adam(model.gan.parameters(), lr=1e-2)
    for _ in range(10):
        opt.zero_grad()
        term().backward()
        opt.step()
    assert float(term().detach()) < before


def test_squared_error_reconstruction_is_logged_and_weighted(tmp_path):
    """w_mse adds mean((fake − real)²) to the generator's loss, logged as "mse"; w_l1 off leaves no "l1"."""
    epoch = _trainer(tmp_path, variant="t2i", epochs=1, w_mse=3.0, w_l1=0.0).fit()["history"][0]
    assert epoch["mse"] > 0 and "l1" not in epoch


def test_the_shapes_recipe_lets_the_gan_hear_the_text():
    """Second shapes recipe: t_l scaled into conditioning augmentation, squared error instead of L1 (emoji: unchanged)."""
    for stage in ("imagine", "gxn-ft"):
        shapes, emoji = get_preset(f"shapes-{stage}"), get_preset(f"emoji-{stage}")
        assert shapes.model.cond_scale == 16.0 and shapes.model.cond_init_logvar == -6.0
        assert shapes.train.w_l1 == 0.0 and shapes.train.w_mse > 0
        assert emoji.model.cond_scale == 1.0 and emoji.train.w_mse == 0.0 and emoji.train.w_l1 > 0
    assert get_preset("shapes-baseline-ft").model.t2i == "none"
