"""Training speed: NHWC convolutions train the same model, and the speed benchmark measures every stage."""

import json
import dataclasses

import pytest
import torch

from lookimagine.config import get_preset
from lookimagine.data.batching import iterate_batches
from lookimagine.models.checkpoint import load_checkpoint
from lookimagine.tools import training_speed as speed
from lookimagine.training.persistence import save_best
from lookimagine.training.trainer import Trainer


def _steps(tmp_path, channels_last: bool, n: int = 3) -> tuple[Trainer, list[dict]]:
    preset = get_preset("tiny-gxn-xe")  # encoders, captioner, GAN and discriminator: every conv net
    cfg = dataclasses.replace(preset.train, channels_last=channels_last)
    trainer = Trainer(preset.model, cfg, tmp_path, preset=preset.name, progress=False)
    batches = iterate_batches(trainer.train_split, cfg.batch_size, torch.Generator().manual_seed(0))
    return trainer, [trainer.step(next(batches), epoch=0) for _ in range(n)]


def test_channels_last_trains_the_same_model(tmp_path):
    nchw, a = _steps(tmp_path / "nchw", channels_last=False)
    nhwc, b = _steps(tmp_path / "nhwc", channels_last=True)
    convs = [m.weight for m in nhwc.model.modules() if isinstance(m, torch.nn.Conv2d)]
    convs += [m.weight for m in nhwc.disc.modules() if isinstance(m, torch.nn.Conv2d)]
    assert convs and all(w.is_contiguous(memory_format=torch.channels_last) for w in convs)
    assert not any(m.weight.is_contiguous(memory_format=torch.channels_last) and not m.weight.is_contiguous()
                   for m in nchw.model.modules() if isinstance(m, torch.nn.Conv2d))
    # the same losses, step by step, up to float rounding
    for x, y in zip(a, b):
        for k in ("rank", "caption", "gan", "d"):
            assert x[k] == pytest.approx(y[k], rel=1e-3, abs=1e-4), k
    # a checkpoint written from NHWC weights loads into a plain model and gives the same embeddings
    save_best(nhwc.out, nhwc.model, nhwc.vocab, nhwc.train_cfg, {"epoch": 1})
    loaded, _, _ = load_checkpoint(tmp_path / "nhwc" / "best")
    images = nhwc.val_split.images[:4].float() / 127.5 - 1
    with torch.no_grad():
        assert torch.allclose(loaded.eval().encode_image(images).v_h, nhwc.model.eval().encode_image(images).v_h,
                              atol=1e-5)


def test_speed_benchmark_times_every_stage_in_both_formats(tiny_models, tmp_path):
    runs = tmp_path / "runs"
    runs.mkdir()
    (runs / "stage1").symlink_to(tiny_models["baseline"])
    (runs / "stage2").symlink_to(tiny_models["gxn"])
    base, gxn = get_preset("tiny-baseline"), get_preset("tiny-gxn")
    presets = {"stage1": base, "baseline": base,
               "stage2": dataclasses.replace(gxn, train=dataclasses.replace(gxn.train, freeze_encoders=True,
                                                                             w_rank=0.0)),
               "gxn": gxn}
    result = speed.measure("tiny", runs, warmup=1, steps=2, repeats=1, presets=presets)
    assert list(result["stages"]) == list(speed.STAGES)
    for stage, row in result["stages"].items():
        assert row["images_per_epoch"] == 64 and row["epoch_overhead_seconds"] > 0
        for fmt in speed.FORMATS:
            r = row[fmt]
            assert r["samples_per_second"] > 0
            assert r["epoch_seconds"] == pytest.approx(64 / r["samples_per_second"] + row["epoch_overhead_seconds"],
                                                       abs=0.1)
    for fmt, wall in result["equal_wall_clock"].items():
        stages = result["stages"]
        assert wall["gxn_after_stage1_seconds"] == pytest.approx(
            stages["stage2"][fmt]["stage_seconds"] + stages["gxn"][fmt]["stage_seconds"], abs=0.2)
        assert wall["control_epochs"] == pytest.approx(
            wall["gxn_after_stage1_seconds"] / stages["baseline"][fmt]["epoch_seconds"], abs=0.1)


def test_the_equal_wall_clock_control_differs_from_the_control_in_epochs_alone():
    for dataset in ("shapes", "emoji"):
        wall, ft = get_preset(f"{dataset}-baseline-wall"), get_preset(f"{dataset}-baseline-ft")
        assert wall.model == ft.model and wall.train.epochs > ft.train.epochs
        assert dataclasses.replace(wall.train, epochs=ft.train.epochs) == ft.train


def test_the_latent_recipe_times_its_own_stages_2_and_3():
    presets = speed.stage_presets("emoji", "latent")
    assert presets["stage2"].name == "emoji-imagine-latent" and presets["gxn"].name == "emoji-gxn-latent-ft"
    assert presets["stage1"].name == "emoji-baseline" and presets["baseline"].name == "emoji-baseline-ft"
    assert speed.stage_presets("emoji")["gxn"].name == "emoji-gxn-ft"  # the GAN recipe stays the default


def test_the_report_names_a_benchmark_of_a_longer_stage_2(tmp_path):
    from lookimagine.report import training_speed_section
    row = {"nchw": {"samples_per_second": 100.0, "epoch_seconds": 60.0},
           "nhwc": {"samples_per_second": 130.0, "epoch_seconds": 46.0}, "nhwc_speedup": 1.3}
    wall = {"gxn_after_stage1_seconds": 1500.0, "control_epochs": 60.0}
    for name, dataset, recipe, epochs in (("training_speed_shapes.json", "shapes", "gan", 3),
                                          ("training_speed_shapes_long.json", "shapes", "gan", 30),
                                          ("training_speed_emoji_latent.json", "emoji", "latent", 20)):
        (tmp_path / name).write_text(json.dumps({
            "dataset": dataset, "recipe": recipe, "command": "python -m lookimagine.tools.training_speed",
            "stages": {"stage2": dict(row, preset=f"{dataset}-imagine", epochs=epochs)},
            "equal_wall_clock": {"nchw": wall, "nhwc": wall}}))
    section = training_speed_section(tmp_path)
    assert section.count("| shapes | ") == 1  # the staged recipe's 3 epochs keep the plain name
    assert "| shapes, stage 2 of 30 epochs | " in section
    assert "| emoji, latent diffusion branch | " in section  # the latent stage 2 is not the GAN's
