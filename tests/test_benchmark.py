"""``python -m lookimagine.tools.benchmark`` runs on a tiny pipeline folder and writes every figure.

No timing is asserted: the benchmark reports, it does not judge.
"""

import json
import os

import pytest
import torch

from lookimagine.tools import benchmark


@pytest.fixture(scope="module")
def pipeline_dir(tiny_pipeline_dir):
    return tiny_pipeline_dir


def test_benchmark_writes_its_figures(pipeline_dir, tmp_path, capsys, monkeypatch):
    monkeypatch.setenv("LOOKIMAGINE_CACHE", str(tmp_path / "user-cache"))
    out = tmp_path / "bench.json"
    argv = ["--checkpoint", str(pipeline_dir), "--queries", "3", "--device", "cpu", "--threads", "1",
            "--json", str(out)]
    threads = torch.get_num_threads()
    try:
        assert benchmark.main(argv) == 0
    finally:
        torch.set_num_threads(threads)

    result = json.loads(out.read_text())
    assert result["command"] == "python -m lookimagine.tools.benchmark " + " ".join(argv)
    assert {"pipeline", "gallery", "load", "queries", "memory", "torch", "budgets", "app"} <= set(result)
    for kind in ("cold", "warm"):
        load = result["load"][kind]
        assert {"seconds", "interpreter_start_s", "imports_s", "from_pretrained_s", "peak_rss_mib"} <= set(load)
        assert load["seconds"] > 0 and load["device"] == "cpu"
    assert result["load"]["in_process_s"] > 0
    queries = result["queries"]
    assert queries["t2i_branch"] == "gan" and queries["warmup_per_direction"] == 3
    for direction in ("text_to_image", "image_to_text"):
        for part in ("run", "baseline", "gxn"):
            stats = queries[direction][part]
            assert stats["n"] == 3 and stats["median_ms"] > 0 and stats["p90_ms"] >= stats["median_ms"]
    for when in ("after_load", "after_queries"):
        assert result["memory"][when]["peak_rss_mib"] > 0
    assert result["torch"]["threads"] == 1 and result["torch"]["device"] == "cpu"
    assert result["app"] is None  # only with --app

    printed = capsys.readouterr().out
    assert "load (cold cache)" in printed and "query text_to_image" in printed and "memory after load" in printed
    # the user's cache (here: LOOKIMAGINE_CACHE) is neither used nor changed; the temporary one is gone
    assert os.environ["LOOKIMAGINE_CACHE"] == str(tmp_path / "user-cache")
    assert not (tmp_path / "user-cache" / "galleries").exists()


def test_a_missing_checkpoint_is_a_message_not_a_trace(tmp_path, capsys):
    assert benchmark.main(["--checkpoint", str(tmp_path / "nothing"), "--queries", "1"]) == 1
    err = capsys.readouterr().err
    assert "benchmark failed" in err and "not found" in err


def test_summarise_nearest_rank():
    stats = benchmark.summarise([0.001 * i for i in range(1, 11)])
    assert (stats["median_ms"], stats["p90_ms"], stats["min_ms"], stats["max_ms"]) == (5.5, 9.0, 1.0, 10.0)


@pytest.mark.slow
def test_app_start_to_first_answer(pipeline_dir, tmp_path):
    """Launches app.py on a free port; slow (Gradio start-up)."""
    cache = tmp_path / "cache"
    cache.mkdir()
    result = benchmark.measure_app(str(pipeline_dir), "cpu", cache, "a red circle")
    assert result.get("answered") is True, result
    assert result["seconds"] >= result["listening_s"] > 0
