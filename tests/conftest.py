"""Shared test setup: a private cache folder, and slow tests skipped unless --runslow."""

import os

import pytest


def pytest_addoption(parser):
    parser.addoption("--runslow", action="store_true", default=False, help="also run tests marked slow")


def pytest_configure(config):
    # Tests never touch the user's cache, and never reach a model hub.
    os.environ.setdefault("HF_HUB_OFFLINE", "1")
    os.environ.setdefault("GRADIO_ANALYTICS_ENABLED", "False")


def pytest_collection_modifyitems(config, items):
    if config.getoption("--runslow"):
        return
    skip = pytest.mark.skip(reason="slow: run with --runslow")
    for item in items:
        if "slow" in item.keywords:
            item.add_marker(skip)


def build_tiny_checkpoint(folder, variant: str, seed: int):
    """A tiny preset's model with a seeded random init, saved where a run keeps its best checkpoint
    (``folder/best``), as diffusers' ``get_dummy_components`` builds its test models: what loading,
    the pipeline, the app and evaluation need, without the seconds a training run takes.

    The vocabulary is the one training would build (the preset's training captions); the config records
    the preset and seed. Tests of what training does train their own runs (test_training, test_health).
    """
    import dataclasses

    import torch

    from lookimagine.config import get_preset
    from lookimagine.data.vocab import Vocabulary
    from lookimagine.models.checkpoint import save_checkpoint
    from lookimagine.models.gxn import GXN
    from lookimagine.training.data import train_dataset

    preset = get_preset(f"tiny-{variant}")
    train_cfg = dataclasses.replace(preset.train, epochs=1, seed=seed)
    vocab = Vocabulary.build(train_dataset(train_cfg).all_captions())
    torch.manual_seed(seed)
    model = GXN(dataclasses.replace(preset.model, vocab_size=len(vocab))).eval()
    meta = {"preset": preset.name, "seed": seed, "epoch": 0, "command": "tests/conftest.py: built in code"}
    return save_checkpoint(folder / "best", model, vocab, train_cfg, meta)


@pytest.fixture(scope="session")
def tiny_models(tmp_path_factory):
    """Tiny GXN and baseline checkpoints built in code (``build_tiny_checkpoint``), once per session.

    Returns {"gxn": folder, "baseline": folder}, each laid out as a run folder with ``best/``.
    """
    root = tmp_path_factory.mktemp("tiny-models")
    return {variant: build_tiny_checkpoint(root / variant, variant, seed).parent
            for variant, seed in (("gxn", 0), ("baseline", 1))}


@pytest.fixture(scope="session")
def tiny_pipeline_dir(tiny_models, tmp_path_factory):
    """A pipeline folder (<root>/gxn + <root>/baseline) from the tiny models' checkpoints."""
    import shutil

    root = tmp_path_factory.mktemp("tiny-pipeline")
    for name in ("gxn", "baseline"):
        shutil.copytree(tiny_models[name] / "best", root / name)
    return root
