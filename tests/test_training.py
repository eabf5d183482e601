"""Training on tiny presets: every preset learns, runs resume exactly, checkpoints round-trip."""

import dataclasses
import json

import pytest
import torch
from safetensors.torch import load_file

from lookimagine import losses
from lookimagine.config import get_preset
from lookimagine.evaluation.evaluate import evaluate_checkpoint
from lookimagine.models.checkpoint import CheckpointError, load_checkpoint, save_checkpoint
from lookimagine.training.trainer import Trainer

VARIANTS = ("baseline", "i2t", "i2t-xe", "t2i", "gxn", "gxn-xe", "gxn-diffusion")


def deterministic_objective(trainer, batch) -> float:
    """Ranking (+ caption XE) loss on a fixed batch, eval mode: no dropout, no sampling."""
    model = trainer.model.eval()
    with torch.no_grad():
        img, txt = model.encode_image(batch.images), model.encode_text(batch.tokens, batch.lengths)
        value = losses.ranking_loss(model.similarity(img, txt), trainer.train_cfg.margin).item()
        if model.caption_decoder is not None:
            value += losses.caption_xe(model.caption_decoder(img.v_l, batch.tokens), batch.tokens[:, 1:]).item()
    return value


@pytest.mark.parametrize("variant", VARIANTS)
def test_every_preset_lowers_its_loss_on_a_fixed_batch(variant, tmp_path):
    preset = get_preset(f"tiny-{variant}")
    cfg = dataclasses.replace(preset.train, lr=3e-3)
    trainer = Trainer(preset.model, cfg, tmp_path, preset=preset.name, progress=False)
    from lookimagine.data.batching import iterate_batches

    fixed = next(iterate_batches(trainer.train_split, 16, torch.Generator().manual_seed(0)))
    before = deterministic_objective(trainer, fixed)
    for _ in range(5):
        logs = trainer.step(fixed, epoch=0)
    assert all(torch.isfinite(torch.tensor(v)) for v in logs.values())
    assert deterministic_objective(trainer, fixed) < before


def test_resume_continues_the_same_trajectory(tmp_path):
    preset = get_preset("tiny-gxn")  # GAN, caption decoder and RL (from epoch 1): every RNG consumer
    cfg = dataclasses.replace(preset.train, epochs=2)
    straight = Trainer(preset.model, cfg, tmp_path / "straight", progress=False)
    straight.fit()
    # the same run, stopped after one epoch and started again
    Trainer(preset.model, dataclasses.replace(cfg, epochs=1), tmp_path / "resumed", progress=False).fit()
    resumed = Trainer(preset.model, cfg, tmp_path / "resumed", progress=False)
    assert resumed.epoch == 1
    resumed.fit()
    a = load_file(str(tmp_path / "straight" / "last" / "model.safetensors"))
    b = load_file(str(tmp_path / "resumed" / "last" / "model.safetensors"))
    assert a.keys() == b.keys() and all(torch.equal(a[k], b[k]) for k in a)
    run = json.loads((tmp_path / "resumed" / "run.json").read_text())
    assert len(run["history"]) == 2 and run["wall_seconds"] > 0 and run["peak_memory_mb"] > 0


def test_save_load_gives_identical_outputs(tiny_runs, tmp_path):
    model, vocab, config = load_checkpoint(tiny_runs["gxn"] / "best")
    save_checkpoint(tmp_path / "copy", model, vocab)
    again, vocab2, _ = load_checkpoint(tmp_path / "copy")
    assert vocab2 == vocab
    tokens = torch.tensor([vocab.encode("a red circle left of a blue square")])
    lengths = torch.tensor([tokens.shape[1]])
    images = torch.rand(2, 3, model.cfg.image_size, model.cfg.image_size) * 2 - 1
    for m in (model, again):
        m.eval()
    with torch.no_grad():
        assert torch.equal(model.similarity(model.encode_image(images), model.encode_text(tokens, lengths)),
                           again.similarity(again.encode_image(images), again.encode_text(tokens, lengths)))
        assert torch.equal(model.generate_caption(model.encode_image(images)),
                           again.generate_caption(again.encode_image(images)))
        draw = lambda m: m.draw(m.encode_text(tokens, lengths), generator=torch.Generator().manual_seed(0))  # noqa
        assert torch.equal(draw(model), draw(again))


def test_bad_checkpoints_raise_errors_that_name_the_file(tiny_runs, tmp_path):
    import shutil

    def fresh(name):
        d = tmp_path / name
        shutil.copytree(tiny_runs["gxn"] / "best", d)
        return d

    with pytest.raises(CheckpointError, match="not found"):
        load_checkpoint(tmp_path / "nowhere")
    d = fresh("no-config"); (d / "config.json").unlink()
    with pytest.raises(CheckpointError, match="config.json: missing"):
        load_checkpoint(d)
    d = fresh("bad-json"); (d / "config.json").write_text("{not json")
    with pytest.raises(CheckpointError, match="config.json: not valid JSON"):
        load_checkpoint(d)
    d = fresh("no-weights"); (d / "model.safetensors").unlink()
    with pytest.raises(CheckpointError, match="model.safetensors: missing"):
        load_checkpoint(d)
    d = fresh("corrupt-weights"); (d / "model.safetensors").write_bytes(b"\x00" * 64)
    with pytest.raises(CheckpointError, match="model.safetensors: unreadable"):
        load_checkpoint(d)
    d = fresh("vocab-mismatch")
    vocab = json.loads((d / "vocab.json").read_text())
    vocab["tokens"] = vocab["tokens"][:-1] if "tokens" in vocab else vocab
    (d / "vocab.json").write_text(json.dumps(vocab))
    with pytest.raises(CheckpointError, match="vocab.json"):
        load_checkpoint(d)
    d = fresh("shape-mismatch")
    cfg = json.loads((d / "config.json").read_text())
    cfg["model"]["embed_dim"] += 1
    (d / "config.json").write_text(json.dumps(cfg))
    with pytest.raises(CheckpointError, match="model.safetensors"):
        load_checkpoint(d)


def test_evaluate_writes_every_metric(tiny_runs):
    result = evaluate_checkpoint(tiny_runs["gxn"], "test", judge=tiny_runs["baseline"], command="test")
    r = result["retrieval"]
    for direction in ("image_to_text", "text_to_image"):
        assert 0 <= r[direction]["r1"] <= r[direction]["r5"] <= r[direction]["r10"] <= 100
        assert r[direction]["median_rank"] >= 1
    assert result["n_images"] == 1000 and result["n_captions"] == 5000
    assert len(r["image_to_text"]["ranks"]) == 1000 and len(r["text_to_image"]["ranks"]) == 5000
    assert 0 <= result["captioning"]["cider_d"] and 0 <= result["captioning"]["bleu4"] <= 100
    ig = result["image_generation"]
    assert 0 <= ig["r_precision"] <= 100 and ig["n_candidates"] == 100 and "baseline" in ig["judge_preset"]
    # shapes has a checker: the truth-aware figures sit beside the exact ones, never below them
    assert ig["r_precision"] <= ig["r_precision_truth"] <= 100
    assert ig["r_precision_real_images"] <= ig["r_precision_truth_real_images"] <= 100
    assert 1 <= ig["r_precision_truth_chance"] <= 100
    assert result["config_hash"] and result["code_version"]
    baseline = evaluate_checkpoint(tiny_runs["baseline"], "test", judge=tiny_runs["gxn"])
    assert "captioning" not in baseline and "image_generation" not in baseline
