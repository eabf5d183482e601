"""The latent diffusion branch (issue 21) on tiny models: the autoencoder, a UNet that follows its text,
guidance, determinism, and which stage lets the denoising loss reach the text encoder."""

import dataclasses

import pytest
import torch

from lookimagine import losses
from lookimagine.config import ModelConfig, get_preset
from lookimagine.data.images import images_to_float
from lookimagine.models.autoencoder import LatentAutoencoder, psnr
from lookimagine.models.t2i_diffusion import DiffusionT2I
from lookimagine.training.health import conditioning_probe

pytest.importorskip("diffusers")

TINY_LATENT = dict(image_size=32, text_hidden=16, t2i="diffusion", diffusion_space="latent",
                   autoencoder_channels=(8, 16), latent_channels=4, diffusion_channels=(16, 32),
                   diffusion_sample_steps=4, diffusion_train_steps=100)


def toy_images() -> torch.Tensor:
    """Two flat-coloured 32×32 pictures in [-1, 1] with a square in a different corner each: (2, 3, 32, 32)."""
    x = torch.full((2, 3, 32, 32), 1.0)
    x[0, :, 4:14, 4:14] = torch.tensor([1.0, -1.0, -1.0])[:, None, None]  # red, top left
    x[1, :, 18:28, 18:28] = torch.tensor([-1.0, -1.0, 1.0])[:, None, None]  # blue, bottom right
    return x


def test_autoencoder_round_trip_learns_and_save_load_is_exact(tmp_path):
    torch.manual_seed(0)
    ae = LatentAutoencoder((8, 16), 4)
    x = toy_images()
    assert ae.encode(x).shape == (2, 4, 8, 8) and ae.factor == 4
    before = psnr(ae(x), x)
    opt = torch.optim.Adam(ae.parameters(), lr=3e-3)
    for _ in range(150):
        loss = (ae(x) - x).abs().mean()
        opt.zero_grad()
        loss.backward()
        opt.step()
    after = psnr(ae(x).clamp(-1, 1), x)
    assert after > before + 10 and after > 20  # it learned to reproduce the two pictures
    ae.scale.fill_(0.5)
    ae.save(tmp_path / "ae", {"note": "test"})
    back = LatentAutoencoder.load(tmp_path / "ae")
    assert float(back.scale) == 0.5
    with torch.no_grad():
        assert torch.equal(back(x), ae(x))
        assert torch.equal(back.encode(x), ae.encode(x))


def toy_branch(drop: float, seed: int = 0, steps: int = 300) -> tuple[DiffusionT2I, torch.Tensor, torch.Tensor]:
    """A tiny latent branch (v-prediction) trained ``steps`` steps on two "texts" (fixed word states) → two
    pictures; ``drop``: the share of steps that see the null text (1.0: an unconditional model)."""
    torch.manual_seed(seed)
    branch = DiffusionT2I(ModelConfig(**TINY_LATENT, diffusion_cfg_drop=drop, diffusion_prediction="v_prediction"))
    states = torch.randn(2, 3, 16)  # (texts, words, hidden)
    mask = torch.ones(2, 3, dtype=torch.bool)
    x = toy_images()
    with torch.no_grad():  # unit-variance latents, as tools.train_autoencoder sets the scale
        branch.autoencoder.scale.fill_(1.0 / branch.autoencoder.encoder(x).std())
    opt = torch.optim.Adam([p for p in branch.parameters() if p.requires_grad], lr=3e-3)
    gen = torch.Generator().manual_seed(seed)
    for _ in range(steps):
        pred, target, w = branch.predict_noise(x.repeat(2, 1, 1, 1), states.repeat(2, 1, 1), mask.repeat(2, 1), gen)
        loss = losses.noise_prediction_loss(pred, target, w)
        opt.zero_grad()
        loss.backward()
        opt.step()
    return branch.eval(), states, mask


def test_the_latent_unet_follows_its_text_and_an_unconditional_one_does_not():
    """The probe on what the UNet draws (latents; the toy's decoder is untrained): most of the variance of
    the conditional toy's drawings is the text's; the unconditional toy (never shown a text, sampled from its
    null context: guidance 0) draws the same distribution whatever the text."""
    cond, states, mask = toy_branch(drop=0.1)
    uncond, _, _ = toy_branch(drop=1.0, steps=50)
    with torch.no_grad():
        p_cond = conditioning_probe(lambda g: cond.sample_latents(states, mask, generator=g, guidance=2.0), n_draws=4)
        p_uncond = conditioning_probe(lambda g: uncond.sample_latents(states, mask, generator=g, guidance=0.0),
                                      n_draws=4)
    assert p_cond > 0.35, p_cond
    assert abs(p_uncond) < 0.15, p_uncond


def test_guidance_changes_the_sample_and_sampling_is_deterministic():
    branch = DiffusionT2I(ModelConfig(**TINY_LATENT)).eval()
    with torch.no_grad():
        branch.null.normal_()  # an untrained null context equals nothing the text says; make it differ
    states, mask = torch.randn(2, 3, 16), torch.ones(2, 3, dtype=torch.bool)
    draw = lambda seed, guidance: branch.sample(states, mask, torch.Generator().manual_seed(seed),  # noqa: E731
                                                guidance=guidance)
    with torch.no_grad():
        a, b, c = draw(0, 2.0), draw(0, 2.0), draw(1, 2.0)
        unguided = draw(0, 1.0)
    assert a.shape == (2, 3, 32, 32) and a.min() >= -1 and a.max() <= 1
    assert torch.equal(a, b) and not torch.equal(a, c)
    assert (a - unguided).abs().max() > 1e-3


def test_the_autoencoder_never_trains_and_the_loss_reaches_the_text_states():
    branch = DiffusionT2I(ModelConfig(**TINY_LATENT))
    assert not any(p.requires_grad for p in branch.autoencoder.parameters())
    states = torch.randn(4, 3, 16, requires_grad=True)
    pred, target, w = branch.predict_noise(toy_images().repeat(2, 1, 1, 1), states,
                                           torch.ones(4, 3, dtype=torch.bool), torch.Generator().manual_seed(0),
                                           drop_prob=0.0)
    assert pred.shape == target.shape == (4, 4, 8, 8)
    losses.noise_prediction_loss(pred, target, w).backward()
    assert states.grad.abs().sum() > 0


def test_min_snr_weights_follow_the_paper():
    branch = DiffusionT2I(ModelConfig(**TINY_LATENT, diffusion_min_snr=5.0, diffusion_prediction="epsilon"))
    t = torch.tensor([0, 50, 99])
    a = branch.train_scheduler.alphas_cumprod[t]
    snr = a / (1 - a)
    torch.testing.assert_close(branch.loss_weights(t), snr.clamp(max=5.0) / snr)
    v = DiffusionT2I(ModelConfig(**TINY_LATENT, diffusion_min_snr=5.0, diffusion_prediction="v_prediction"))
    torch.testing.assert_close(v.loss_weights(t), snr.clamp(max=5.0) / (snr + 1))
    assert DiffusionT2I(ModelConfig(**TINY_LATENT)).loss_weights(t) is None


def _latent_trainer(tmp_path, stage: int, init_from=None, **changes):
    """A tiny latent-diffusion GXN trainer: stage 2 (frozen encoders, a fresh autoencoder from a folder) or
    stage 3 (joint, everything from ``init_from``)."""
    from lookimagine.training.trainer import Trainer

    preset = get_preset("tiny-gxn-diffusion")
    model = dataclasses.replace(preset.model, **{k: v for k, v in TINY_LATENT.items() if k != "text_hidden"})
    ae = LatentAutoencoder(model.autoencoder_channels, model.latent_channels)
    if stage == 2:
        ae.save(tmp_path / "ae")
    train = dataclasses.replace(preset.train, rl_start_epoch=None, epochs=1, init_from=init_from,
                                autoencoder_from=str(tmp_path / "ae") if stage == 2 else None,
                                freeze_encoders=stage == 2, w_rank=0.0 if stage == 2 else 1.0, **changes)
    return Trainer(model, train, tmp_path / f"stage{stage}", progress=False), ae


def test_the_denoising_loss_reaches_the_text_encoder_in_stage_3_and_not_in_stage_2(tmp_path):
    from lookimagine.data.batching import iterate_batches

    stage2, ae = _latent_trainer(tmp_path, 2)
    torch.testing.assert_close(stage2.model.diffusion.autoencoder.encoder[0].weight, ae.encoder[0].weight)
    batch = next(iterate_batches(stage2.train_split, 16, torch.Generator().manual_seed(0)))
    text_before = {k: v.clone() for k, v in stage2.model.text_encoder.state_dict().items()}
    ae_before = {k: v.clone() for k, v in stage2.model.diffusion.autoencoder.state_dict().items()}
    logs = stage2.step(batch, epoch=0, measure=True)
    assert "diffusion" in logs and not any(k.startswith("share.") for k in logs)  # no encoder gradient at all
    for k, v in stage2.model.text_encoder.state_dict().items():
        assert torch.equal(v, text_before[k]), k
    for k, v in stage2.model.diffusion.autoencoder.state_dict().items():
        assert torch.equal(v, ae_before[k]), k
    with pytest.raises(ValueError, match="autoencoder"):  # a latent branch without its autoencoder is refused
        from lookimagine.training.trainer import Trainer

        Trainer(stage2.model_cfg, dataclasses.replace(stage2.train_cfg, autoencoder_from=None), tmp_path / "none",
                progress=False)
    stage2.fit()
    stage3, _ = _latent_trainer(tmp_path, 3, init_from=str(tmp_path / "stage2" / "best"))
    logs = stage3.step(batch, epoch=0, measure=True)
    assert logs["share.diffusion"] > 0  # the health record: the denoising loss's share of the encoder gradient
    for k, v in stage3.model.diffusion.autoencoder.state_dict().items():
        assert torch.equal(v, ae_before[k]), k  # the autoencoder came with the stage-2 checkpoint, still frozen


def test_set_sampler_changes_the_branch_and_what_a_checkpoint_records():
    from lookimagine.models.gxn import GXN

    model = GXN(ModelConfig(**TINY_LATENT, vocab_size=20))
    model.set_sampler({"diffusion_sample_steps": 2, "diffusion_guidance": 6.0})
    assert (model.diffusion.sample_steps, model.diffusion.guidance) == (2, 6.0)
    assert (model.cfg.diffusion_sample_steps, model.cfg.diffusion_guidance) == (2, 6.0)
    model.set_sampler(None)  # nothing chosen: unchanged
    assert model.cfg.diffusion_sample_steps == 2
    baseline = GXN(ModelConfig(image_size=32, text_hidden=16, vocab_size=20))
    baseline.set_sampler({"diffusion_sample_steps": 2})  # no diffusion branch: a no-op
    assert baseline.cfg == ModelConfig(image_size=32, text_hidden=16, vocab_size=20)


def test_the_emoji_denoising_weight_is_the_one_chosen_on_val():
    """config.py's comment cites assets/results/imagination/val_weight/: the chosen weight must be one measured."""
    import json
    from pathlib import Path

    folder = Path(__file__).parents[1] / "assets/results/imagination/val_weight"
    measured = {json.loads(p.read_text())["train"]["w_diffusion"] for p in folder.glob("latent_emoji-*-stage3.json")}
    assert get_preset("emoji-gxn-latent-ft").train.w_diffusion in measured


def test_ema_averages_warms_up_and_swaps_back():
    from lookimagine.training.ema import Ema

    layer = torch.nn.Linear(2, 2)
    start = layer.weight.detach().clone()
    ema = Ema(layer, decay=0.9)
    assert ema.current_decay() == pytest.approx(0.1)  # (1 + 0) / (10 + 0): the first steps follow the weights
    with torch.no_grad():
        layer.weight.add_(1.0)
    ema.update()
    torch.testing.assert_close(ema.shadow["weight"], start + 0.9)  # 0.1 · start + 0.9 · (start + 1)
    with ema.applied():
        torch.testing.assert_close(layer.weight, start + 0.9)
    torch.testing.assert_close(layer.weight, start + 1.0)  # its own weights back after the block
    fresh = Ema(layer, decay=0.9)
    fresh.load(ema.tensors())
    assert fresh.steps == 1 and torch.equal(fresh.shadow["weight"], ema.shadow["weight"])
    with pytest.raises(ValueError):
        Ema(layer, decay=1.0)


def test_a_run_with_ema_saves_the_average_as_best_and_resumes_it(tmp_path):
    from lookimagine.models.checkpoint import load_checkpoint
    from lookimagine.training.state import load_state

    trainer, _ = _latent_trainer(tmp_path, 2, ema_decay=0.99)
    trainer.fit()
    unet = "diffusion.unet.conv_out.weight"
    best, _, _ = load_checkpoint(tmp_path / "stage2" / "best")
    last, _, _ = load_checkpoint(tmp_path / "stage2" / "last")
    shadow = trainer.ema.shadow["conv_out.weight"]
    torch.testing.assert_close(best.state_dict()[unet], shadow)  # best/: the average
    torch.testing.assert_close(last.state_dict()[unet], trainer.model.state_dict()[unet])  # last/: the raw weights
    assert not torch.equal(shadow, trainer.model.state_dict()[unet])
    tensors, _ = load_state(tmp_path / "stage2" / "last")
    resumed, _ = _latent_trainer(tmp_path, 2, ema_decay=0.99)  # the same folder: resumes after its epoch
    assert resumed.state.epoch == 1 and resumed.ema.steps == trainer.ema.steps > 0
    torch.testing.assert_close(resumed.ema.shadow["conv_out.weight"], shadow)
    assert int(tensors["ema.steps"]) == trainer.ema.steps


def test_int8_storage_of_the_unet_round_trips_within_its_scale_and_loads(tmp_path):
    """save_checkpoint(quantize=...): the UNet's matrices and kernels go to int8 with per-channel scales
    (a smaller file), load back as floats within half a step of the scale, other weights untouched; a
    quantized value without its scale is refused."""
    from safetensors.torch import load_file, save_file

    from lookimagine.data.vocab import Vocabulary
    from lookimagine.errors import CheckpointError
    from lookimagine.models.checkpoint import (Q8, Q8_SCALE, WEIGHTS, dequantize_state, load_checkpoint,
                                               quantize_int8, save_checkpoint)
    from lookimagine.models.gxn import GXN

    w = torch.randn(6, 5, 3, 3) * torch.arange(1, 7).view(6, 1, 1, 1)  # channels of different ranges
    q, scale = quantize_int8(w)
    assert q.dtype == torch.int8 and scale.shape == (6, 1, 1, 1) and int(q.abs().max()) == 127
    assert ((q.float() * scale.float() - w).abs() <= scale.float() / 2 + 1e-6).all()

    vocab = Vocabulary.build(["a red square", "a blue square"], min_count=1)
    torch.manual_seed(0)
    model = GXN(ModelConfig(**TINY_LATENT, vocab_size=len(vocab), i2t=True)).eval()
    plain = save_checkpoint(tmp_path / "fp16", model, vocab, half=True)
    small = save_checkpoint(tmp_path / "int8", model, vocab, half=True, quantize=("diffusion.unet.",))
    stored = load_file(str(small / WEIGHTS))
    quantized = [k for k in stored if k.endswith(Q8)]
    assert quantized and all(k.startswith("diffusion.unet.") for k in quantized)
    assert all(stored[k].dtype == torch.int8 and stored[k[: -len(Q8)] + Q8_SCALE].dtype == torch.float16
               for k in quantized)
    saved = (plain / WEIGHTS).stat().st_size - (small / WEIGHTS).stat().st_size
    assert saved >= 0.45 * sum(stored[k].numel() * 2 for k in quantized)  # about half of those fp16 bytes
    back, _, _ = load_checkpoint(small)
    ref, _, _ = load_checkpoint(plain)
    for key, value in ref.state_dict().items():
        if key + Q8 in stored:
            step = stored[key + Q8_SCALE].float()
            assert ((back.state_dict()[key] - model.state_dict()[key]).abs() <= step / 2 + 1e-3).all(), key
        else:
            assert torch.equal(back.state_dict()[key], value), key  # everything else is the fp16 checkpoint
    broken = {k: v for k, v in stored.items() if not k.endswith(Q8_SCALE)}
    with pytest.raises(ValueError, match="q8scale"):
        dequantize_state(broken)
    save_file(broken, str(small / WEIGHTS))
    with pytest.raises(CheckpointError, match="unreadable"):
        load_checkpoint(small)


def test_cached_latents_train_as_the_per_step_encode_does_and_a_new_picture_set_is_encoded_anew(tmp_path):
    from lookimagine.data.batching import iterate_batches

    logs = {}
    for cache in (True, False):
        torch.manual_seed(0)  # the same tiny model and autoencoder for both
        trainer, _ = _latent_trainer(tmp_path / str(cache), 2, cache_latents=cache)
        assert (trainer.latent_cache is not None) == cache
        batch = next(iterate_batches(trainer.train_split, 16, torch.Generator().manual_seed(0)))
        logs[cache] = trainer.step(batch, epoch=0)
    assert logs[True]["diffusion"] == pytest.approx(logs[False]["diffusion"], rel=1e-4)

    cache = _latent_trainer(tmp_path / "fill", 2)[0].latent_cache
    images = torch.randint(0, 256, (5, 3, 32, 32), dtype=torch.uint8)
    calls = []
    encode = cache.autoencoder.encode
    cache.autoencoder.encode = lambda x: calls.append(len(x)) or encode(x)
    first = cache.latents(images, torch.tensor([3, 1]))
    again = cache.latents(images, torch.tensor([1]))
    assert calls == [5]  # the whole set once, then served from the cache
    torch.testing.assert_close(again[0], first[1])
    torch.testing.assert_close(first, encode(images_to_float(images[[3, 1]])), rtol=1e-4, atol=1e-5)
    cache.latents(images.clone(), torch.tensor([0]))  # another set (an epoch's framed pictures): encoded anew
    assert calls == [5, 5]
