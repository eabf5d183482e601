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


@pytest.fixture(scope="session")
def tiny_runs(tmp_path_factory):
    """Tiny GXN and baseline runs (1 epoch each on 64 shapes scenes), trained once per session.

    Returns {"gxn": run folder, "baseline": run folder}; each holds best/ and last/.
    """
    import dataclasses

    from lookimagine.config import get_preset
    from lookimagine.training.trainer import Trainer

    root = tmp_path_factory.mktemp("tiny-runs")
    runs = {}
    for variant, seed in (("gxn", 0), ("baseline", 1)):
        preset = get_preset(f"tiny-{variant}")
        train_cfg = dataclasses.replace(preset.train, epochs=1, seed=seed)
        Trainer(preset.model, train_cfg, root / variant, preset=preset.name, progress=False).fit()
        runs[variant] = root / variant
    return runs


@pytest.fixture(scope="session")
def tiny_pipeline_dir(tiny_runs, tmp_path_factory):
    """A pipeline folder (<root>/gxn + <root>/baseline) from the tiny runs' best checkpoints."""
    import shutil

    root = tmp_path_factory.mktemp("tiny-pipeline")
    for name in ("gxn", "baseline"):
        shutil.copytree(tiny_runs[name] / "best", root / name)
    return root
