"""Where a query's time goes in the app: the Look map figure, and the client library (asserts nothing).

    python scripts/serving_profile.py --json assets/results/benchmarks/serving_profile.json

* figure: ``views.look_figure`` built as plain JSON (what the app sends) against the same figure through
  ``plotly.graph_objects`` (what it sent before), per figure, with the JSON payload of each;
* client: one text query's latency through ``gradio_client`` and over plain HTTP (Gradio's REST protocol,
  ``lookimagine.stress.call``), against the app launched on the shipped emoji models.
"""

import argparse
import json
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from lookimagine.benchmark import REPO, _stop, _wait_for_port, free_port  # noqa: E402
from lookimagine.demo import views  # noqa: E402
from lookimagine.pipeline import LookImagineMatch  # noqa: E402
from lookimagine.stress import call  # noqa: E402

QUERY, N = "grinning face", 20


def median_ms(fn, n=N) -> float:
    times = []
    for _ in range(n):
        start = time.perf_counter()
        fn()
        times.append(time.perf_counter() - start)
    return round(1000 * statistics.median(times), 2)


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--json")
    args = parser.parse_args()
    pipe = LookImagineMatch.from_pretrained("assets/checkpoints/emoji", progress=False)
    gxn = pipe.run(QUERY, 5).gxn
    fig = views.look_figure(gxn.look, gxn.ranking, model="gxn")
    report = {"command": "python scripts/serving_profile.py " + " ".join(sys.argv[1:]), "query": QUERY,
              "pipeline_run_ms": median_ms(lambda: pipe.run(QUERY, 5)),
              "figure_as_json_ms": median_ms(lambda: views.look_figure(gxn.look, gxn.ranking, model="gxn").to_json()),
              "figure_as_json_kib": round(len(fig.to_json()) / 1024, 1),
              "figure_through_plotly_ms": median_ms(lambda: fig.to_plotly().to_json()),
              "figure_through_plotly_kib": round(len(fig.to_plotly().to_json()) / 1024, 1)}
    port = free_port()
    log = tempfile.TemporaryFile(mode="w+")
    proc = subprocess.Popen([sys.executable, str(REPO / "app.py"), "--port", str(port), "--host", "127.0.0.1"],
                            cwd=REPO, stdout=log, stderr=subprocess.STDOUT, start_new_session=True)
    try:
        _wait_for_port(proc, port, time.time() + 300)
        import httpx
        from gradio_client import Client

        url = f"http://127.0.0.1:{port}/"
        client, http = Client(url, verbose=False), httpx.Client(timeout=60)
        data = [QUERY, 5, 0, 1, "pocket · emoji"]
        for _ in range(3):
            client.predict(*data, api_name="/text_to_image")
        report["gradio_client_ms"] = median_ms(lambda: client.predict(*data, api_name="/text_to_image"))
        report["plain_http_ms"] = median_ms(lambda: call(http, url, "text_to_image", data))
    finally:
        _stop(proc)
    print(json.dumps(report, indent=1))
    if args.json:
        Path(args.json).write_text(json.dumps(report, indent=1) + "\n")


if __name__ == "__main__":
    main()
