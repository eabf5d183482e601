"""Where a query's time goes in the app: the Look map figure, and the client library (asserts nothing).

    python -m lookimagine.tools.serving_profile --json assets/results/benchmarks/serving_profile.json

* figure: ``views.look_figure`` built as plain JSON (what the app sends) against the same figure through
  ``plotly.graph_objects`` (what it sent before), per figure, with the JSON payload of each;
* client: one text query's latency through ``gradio_client`` and over plain HTTP (Gradio's REST protocol,
  ``lookimagine.tools.stress.call``), against the app launched on the shipped emoji models.
"""

from __future__ import annotations

import argparse
import json
import shlex
import statistics
import sys
import time
from pathlib import Path

from ..demo import views
from ..pipeline import LookImagineMatch
from .processes import REPO, launch_app
from .stress import call

QUERY, N = "grinning face", 20


def median_ms(fn, n=N) -> float:
    times = []
    for _ in range(n):
        start = time.perf_counter()
        fn()
        times.append(time.perf_counter() - start)
    return round(1000 * statistics.median(times), 2)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m lookimagine.tools.serving_profile",
                                     description=__doc__.split("\n\n")[0])
    parser.add_argument("--json", help="also write the figures here")
    args = parser.parse_args(argv)
    pipe = LookImagineMatch.from_pretrained(REPO / "assets" / "checkpoints" / "emoji", progress=False)
    gxn = pipe.run(QUERY, 5).gxn
    fig = views.look_figure(gxn.look, gxn.ranking, model="gxn")
    argv_used = sys.argv[1:] if argv is None else argv
    command = shlex.join(["python", "-m", "lookimagine.tools.serving_profile", *argv_used])
    report = {"command": command, "query": QUERY,
              "pipeline_run_ms": median_ms(lambda: pipe.run(QUERY, 5)),
              "figure_as_json_ms": median_ms(lambda: views.look_figure(gxn.look, gxn.ranking, model="gxn").to_json()),
              "figure_as_json_kib": round(len(fig.to_json()) / 1024, 1),
              "figure_through_plotly_ms": median_ms(lambda: fig.to_plotly().to_json()),
              "figure_through_plotly_kib": round(len(fig.to_plotly().to_json()) / 1024, 1)}
    app = launch_app([])
    try:
        app.wait(300)
        import httpx
        from gradio_client import Client

        client, http = Client(app.url, verbose=False), httpx.Client(timeout=60)
        data = [QUERY, 5, 0, 1, "pocket · emoji"]
        for _ in range(3):
            client.predict(*data, api_name="/text_to_image")
        report["gradio_client_ms"] = median_ms(lambda: client.predict(*data, api_name="/text_to_image"))
        report["plain_http_ms"] = median_ms(lambda: call(http, app.url, "text_to_image", data))
    finally:
        app.stop()
    print(json.dumps(report, indent=1))
    if args.json:
        Path(args.json).write_text(json.dumps(report, indent=1) + "\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
