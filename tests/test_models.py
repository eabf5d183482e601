"""GXN on tiny configs: shapes, the generative coupling (gradients), and decoding."""

import dataclasses

import pytest
import torch

from lookimagine import losses
from lookimagine.config import PRESETS, ModelConfig, get_preset
from lookimagine.models.gxn import GXN
from lookimagine.models.t2i_gan import ConditioningAugmentation, Discriminator, MinibatchStd

V = 30


def tiny(variant: str) -> ModelConfig:
    return dataclasses.replace(get_preset(f"tiny-{variant}").model, vocab_size=V)


def batch(b=6, t=7, size=32, seed=0):  # tiny presets work at 32×32
    g = torch.Generator().manual_seed(seed)
    images = torch.rand(b, 3, size, size, generator=g) * 2 - 1
    tokens = torch.randint(4, V, (b, t), generator=g)
    tokens[:, 0] = 1
    lengths = torch.tensor([t, t - 1, t - 2, t, 3, t][:b])
    for i, n in enumerate(lengths):
        tokens[i, n - 1] = 2
        tokens[i, n:] = 0
    return images, tokens, lengths


def grad_norm(module: torch.nn.Module) -> float:
    return sum(float(p.grad.abs().sum()) for p in module.parameters() if p.grad is not None)


def test_presets_cover_the_paper_ablations():
    for dataset in ("emoji", "shapes", "tiny"):
        for variant in ("baseline", "i2t", "i2t-xe", "t2i", "gxn", "gxn-xe", "gxn-diffusion"):
            assert f"{dataset}-{variant}" in PRESETS
    # the from-scratch ablation rows share the first recipe; {ds}-baseline is now stage 1 to convergence
    base, gxn = get_preset("emoji-baseline-first"), get_preset("emoji-gxn")
    assert not base.model.i2t and base.model.t2i == "none"
    assert gxn.model.i2t and gxn.model.t2i == "gan" and gxn.train.rl_start_epoch is not None
    # identical recipe apart from the generators: same data, epochs, batch, lr, margin
    same = ("dataset", "epochs", "batch_size", "lr", "margin", "ranking_loss", "max_len", "n_train")
    assert all(getattr(base.train, f) == getattr(gxn.train, f) for f in same)
    assert dataclasses.replace(gxn.model, i2t=False, t2i="none") == base.model
    for dataset in ("emoji", "shapes"):
        first, converged = get_preset(f"{dataset}-baseline-first").train, get_preset(f"{dataset}-baseline").train
        assert get_preset(f"{dataset}-baseline").model == base.model
        pairs = lambda t: t.epochs * (t.n_train or 1) * (5 if t.all_captions and dataset == "shapes" else 1)  # noqa: E731
        assert pairs(converged) > 2 * pairs(first) and converged.lr <= first.lr


def test_shapes_of_look_and_match():
    model = GXN(tiny("gxn")).eval()
    images, tokens, lengths = batch()
    img, txt = model.encode_image(images), model.encode_text(tokens, lengths)
    e = model.cfg.embed_dim
    assert img.v_h.shape == img.v_l.shape == txt.t_h.shape == txt.t_l.shape == (6, e)
    assert txt.states.shape[:2] == tokens.shape and txt.mask.sum(1).tolist() == lengths.tolist()
    sims = model.similarity(img, txt)
    assert sims.shape == (6, 6) and (sims.abs() <= 1 + 1e-6).all()  # cosine (the default) lies in [-1, 1]
    order = GXN(dataclasses.replace(tiny("gxn"), similarity="order")).eval()
    sims = order.similarity(order.encode_image(images), order.encode_text(tokens, lengths))
    assert sims.shape == (6, 6) and (sims <= 0).all()  # order violation is ≤ 0


def test_baseline_has_no_generators():
    model = GXN(tiny("baseline"))
    assert not model.can_caption and not model.can_draw
    with pytest.raises(RuntimeError):
        model.generate_caption(model.encode_image(batch()[0]))


def test_caption_loss_reaches_grounded_image_head_only():
    model = GXN(tiny("i2t")).train()
    images, tokens, lengths = batch()
    img = model.encode_image(images)
    losses.caption_xe(model.caption_decoder(img.v_l, tokens), tokens[:, 1:]).backward()
    assert grad_norm(model.image_encoder.head_l) > 0
    assert grad_norm(model.image_encoder.cnn) > 0
    assert grad_norm(model.image_encoder.head_h) == 0  # the abstract head is untouched


def test_gan_loss_reaches_grounded_text_encoder_only():
    cfg = tiny("t2i")
    model = GXN(cfg).train()
    disc = Discriminator(cfg.embed_dim, cfg.cond_dim, cfg.disc_channels, cfg.image_size)
    images, tokens, lengths = batch()
    txt = model.encode_text(tokens, lengths)
    fake = model.draw(txt, generator=torch.Generator().manual_seed(0))
    assert fake.shape == images.shape and fake.min() >= -1 and fake.max() <= 1
    losses.generator_loss(disc(fake, txt.t_l)).backward()
    assert grad_norm(model.text_encoder.gru_l) > 0 and grad_norm(model.text_encoder.head_l) > 0
    assert grad_norm(model.text_encoder.embed) > 0
    assert grad_norm(model.text_encoder.gru_h) == 0 and grad_norm(model.text_encoder.head_h) == 0


def test_diffusion_loss_reaches_grounded_text_states():
    model = GXN(tiny("gxn-diffusion")).train()
    images, tokens, lengths = batch()
    txt = model.encode_text(tokens, lengths)
    pred, noise, weights = model.diffusion.predict_noise(images, txt.states, txt.mask,
                                                         torch.Generator().manual_seed(0), drop_prob=0.0)
    losses.noise_prediction_loss(pred, noise, weights).backward()
    assert grad_norm(model.text_encoder.gru_l) > 0
    assert grad_norm(model.text_encoder.gru_h) == 0
    model.eval()
    out = model.draw(txt, generator=torch.Generator().manual_seed(0))
    assert out.shape == images.shape and torch.isfinite(out).all()


def test_drawing_is_deterministic_given_a_generator():
    model = GXN(tiny("t2i")).eval()
    _, tokens, lengths = batch()
    txt = model.encode_text(tokens, lengths)
    a = model.draw(txt, generator=torch.Generator().manual_seed(3))
    b = model.draw(txt, generator=torch.Generator().manual_seed(3))
    c = model.draw(txt, generator=torch.Generator().manual_seed(4))
    assert torch.equal(a, b) and not torch.equal(a, c)


def test_best_of_k_shows_each_texts_nearest_drawing_by_gxns_own_match():
    model = GXN(tiny("t2i")).eval()
    _, tokens, lengths = batch()
    txt = model.encode_text(tokens, lengths)
    k = 5
    chosen = model.draw_best_of(txt, k, generator=torch.Generator().manual_seed(3))
    # the same k drawings per text, drawn as draw_best_of draws them (text r's are rows r·k … r·k + k − 1)
    many = type(txt)(*(x.repeat_interleave(k, 0) for x in (txt.t_h, txt.t_l, txt.states, txt.mask)))
    with torch.no_grad():
        all_k = model.draw(many, generator=torch.Generator().manual_seed(3)).view(6, k, *chosen.shape[1:])
        own = torch.stack([model.similarity(model.encode_image(all_k[r]), txt)[:, r] for r in range(6)])  # (6, k)
        shown = model.similarity(model.encode_image(chosen), txt).diagonal()
    assert torch.allclose(shown, own.max(dim=1).values, atol=1e-5)  # no other of the k scores higher
    picked = own.argmax(dim=1)
    assert torch.equal(chosen, all_k[torch.arange(6), picked])
    assert len(set(picked.tolist())) > 1  # the choice depends on the text, not a fixed slot
    assert torch.equal(model.draw_best_of(txt, 1, torch.Generator().manual_seed(3)),
                       model.draw(txt, generator=torch.Generator().manual_seed(3)))


def test_the_sampler_setting_best_of_applies_outside_training_only():
    model = GXN(tiny("t2i")).eval()
    _, tokens, lengths = batch()
    txt = model.encode_text(tokens, lengths)
    model.set_sampler({"imagine_best_of": 4, "diffusion_guidance": 6.0})  # a GAN: the diffusion field is ignored
    assert model.cfg.imagine_best_of == 4 and model.cfg.diffusion_guidance == ModelConfig().diffusion_guidance
    drawn = model.draw(txt, generator=torch.Generator().manual_seed(1))
    assert torch.equal(drawn, model.draw_best_of(txt, 4, torch.Generator().manual_seed(1)))
    model.train()  # training draws once and stays differentiable
    fake = model.draw(txt, generator=torch.Generator().manual_seed(1))
    assert fake.requires_grad and fake.shape == drawn.shape
    with pytest.raises(ValueError, match="imagine_best_of"):
        dataclasses.replace(model.cfg, imagine_best_of=0)


def test_greedy_and_beam_decoding_end_and_pad():
    model = GXN(tiny("i2t")).eval()
    img = model.encode_image(batch()[0])
    for beam in (1, 3):
        out = model.generate_caption(img, beam=beam)
        assert out.shape[0] == 6 and out.shape[1] <= model.cfg.max_caption_len
        for row in out.tolist():  # nothing but padding after <eos>
            if 2 in row:
                assert all(t == 0 for t in row[row.index(2) + 1:])


def test_minibatch_std_sees_how_varied_each_group_is():
    """MinibatchStd appends one map: 0 for a group of copies, larger for a varied group, the same value for every
    member of a group; a batch that is not a multiple of the group uses smaller groups; D takes it at any size."""
    torch.manual_seed(0)
    one = torch.randn(1, 8, 4, 4)
    varied = torch.randn(8, 8, 4, 4)
    copies = MinibatchStd(4)(one.expand(8, -1, -1, -1).contiguous())
    assert copies.shape == (8, 9, 4, 4) and torch.allclose(copies[:, 8], torch.full((8, 4, 4), 1e-4), atol=1e-4)
    spread = MinibatchStd(4)(varied)[:, 8, 0, 0]
    assert (spread > 0.5).all()
    groups = [[i for i in range(8) if i % 2 == k] for k in range(2)]  # B/g = 2 groups: members i % 2
    assert all(torch.allclose(spread[g], spread[g[0]].expand(len(g))) for g in groups)
    assert MinibatchStd(4)(varied[:6]).shape == (6, 9, 4, 4)  # groups of 3
    cfg = get_preset("tiny-gxn").model
    disc = Discriminator(cfg.embed_dim, cfg.cond_dim, cfg.disc_channels, cfg.image_size, mbstd_group=4)
    assert disc(torch.randn(6, 3, cfg.image_size, cfg.image_size), torch.randn(6, cfg.embed_dim)).shape == (6,)


def test_conditioning_augmentation_scale_and_initial_variance():
    gen = torch.Generator().manual_seed(0)  # its own stream: the test must not depend on what ran before
    t_l = torch.nn.functional.normalize(torch.randn(4, 16, generator=gen), dim=-1)  # unit vectors, as in the joint space
    torch.manual_seed(0)
    plain = ConditioningAugmentation(16, 8)
    torch.manual_seed(0)
    loud = ConditioningAugmentation(16, 8, input_scale=4.0, init_logvar=-6.0)
    _, mu, logvar = loud(t_l, sample=False)
    mu_plain, _ = plain.phi(4.0 * t_l).chunk(2, dim=-1)
    torch.testing.assert_close(mu, mu_plain)  # same weights: μ is φ(scale · t_l)
    assert logvar.max() < -0.5  # −6 through the LeakyReLU (×0.2): logvar ≈ −1.2, σ ≈ 0.55, well below 1
    assert mu.abs().mean() > plain(t_l, sample=False)[1].abs().mean()  # the text is louder than by default
    assert ModelConfig().cond_scale == 1.0 and ModelConfig().cond_init_logvar == 0.0  # shipped checkpoints as they were


def test_attention_pooling_keeps_where_things_are():
    """Swapping two positions of the CNN map leaves mean pooling unchanged; attention pooling, whose positions
    carry learned embeddings, tells the two maps apart."""
    from lookimagine.models.image_encoder import AttentionPool, ImageEncoder

    torch.manual_seed(0)
    pool = AttentionPool(channels=8, positions=4).eval()
    fmap = torch.randn(1, 8, 2, 2)
    swapped = fmap.flip(-1)  # left and right exchanged
    assert torch.allclose(fmap.mean(dim=(2, 3)), swapped.mean(dim=(2, 3)))
    assert not torch.allclose(pool(fmap), pool(swapped), atol=1e-4)
    encoder = ImageEncoder((8, 16), embed_dim=12, pool="attention", image_size=32).eval()
    v_h, v_l = encoder(torch.randn(3, 3, 32, 32))
    assert v_h.shape == v_l.shape == (3, 12)
