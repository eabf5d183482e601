"""Look, Imagine and Match — the interactive demo.

    python app.py                      # pocket emoji models from assets/checkpoints/emoji
    python app.py --dataset shapes     # the shapes models
    python app.py --fake               # the interface on synthetic data, no weights

Thin on purpose: ``build_demo`` wires Gradio components to a ``Pipeline``
(``lookimagine.pipeline.protocol``); what to show comes from
``lookimagine.pipeline.views``, input checks from ``validation``, shipped
results from ``showcase``. Importing this module loads no model and touches
no network; ``main`` does the loading.

API (``gradio_client``): ``/text_to_image`` (text, k, seed, n_images, model)
and ``/image_to_text`` (image, k, model) return ``QueryResult.to_json()``
plus ``"model"`` (the selector name).
"""

from __future__ import annotations

import argparse
import base64
import logging
import os
import sys
from collections.abc import Callable, Iterator, Mapping
from pathlib import Path

import gradio as gr

from lookimagine.pipeline import showcase, views
from lookimagine.pipeline.outputs import QueryError, QueryResult
from lookimagine.pipeline.protocol import Pipeline
from lookimagine.pipeline.validation import MAX_PIXELS, load_query_image

try:  # ZeroGPU on Hugging Face Spaces; a no-op everywhere else
    import spaces

    GPU = spaces.GPU
except ImportError:

    def GPU(fn=None, **_):  # noqa: N802 - mirrors spaces.GPU
        return fn if callable(fn) else (lambda f: f)


ROOT = Path(__file__).resolve().parent
ASSETS = ROOT / "assets"
DATASETS = ("emoji", "shapes")
log = logging.getLogger("lookimagine.app")

CSS = """
.li-header h1 {margin-bottom: 0 !important;}
.li-tagline p {color: var(--body-text-color-subdued); margin-top: 2px !important;}
.li-col {border-radius: 12px !important; padding: 10px 12px !important; gap: 8px !important;}
.li-baseline {background: var(--background-fill-secondary) !important; border: 1px solid var(--border-color-primary) !important;}
.li-baseline .li-col-title h3 {color: var(--body-text-color-subdued) !important;}
.li-gxn {border: 2px solid var(--color-accent-soft) !important; box-shadow: 0 1px 6px rgba(79, 70, 229, .10);}
.li-col-title h3 {margin: 0 !important; font-size: 1.1rem !important;}
.li-stage p {margin: 6px 0 0 !important; font-size: .78rem !important; font-weight: 700; letter-spacing: .07em;
             text-transform: uppercase; color: var(--body-text-color-subdued);}
.li-imagine {min-height: 150px;}
.li-note {min-height: 150px; display: flex; align-items: center;}
.li-note p, .li-caption p {font-size: 1rem !important;}
.li-caption blockquote {font-size: 1.15rem; margin: 8px 0 !important;}
.li-badge p {font-weight: 600; margin: 0 !important;}
.li-status {min-height: 2.2em;}
.li-status p {margin: 0 !important;}
#i2t-image img {min-height: 160px; object-fit: contain;}
/* Galleries sized by their content: no empty band below one row of thumbnails,
   and columns that shrink on a narrow screen instead of overflowing. */
.li-gallery .grid-wrap.fixed-height {min-height: 0 !important; max-height: none !important;}
.li-gallery .grid-container {grid-template-columns: repeat(var(--grid-cols), minmax(0, 1fr)) !important;
                             grid-template-rows: none !important; grid-auto-rows: auto !important;}
#i2t-examples .grid-container {grid-template-columns: repeat(auto-fill, minmax(76px, 1fr)) !important;}
#i2t-examples .grid-wrap {padding-top: 2.4rem !important;}  /* room for the label */
.li-match .grid-container {grid-template-columns: repeat(auto-fill, minmax(92px, 1fr)) !important;}
.li-gallery .caption-label {max-width: calc(100% - 6px) !important; padding: 1px 5px !important;
                            font-size: .78rem !important;}
"""

ABOUT = """
### The paper
Jiuxiang Gu, Jianfei Cai, Shafiq Joty, Li Niu, Gang Wang.
**Look, Imagine and Match: Improving Textual-Visual Cross-Modal Retrieval with Generative Models.**
CVPR 2018. [arXiv:1711.06420](https://arxiv.org/abs/1711.06420)

GXN embeds images and sentences in a joint space (*look*), and during training
also learns to turn an image into a caption and a sentence into a picture
(*imagine*). The generators are a training signal that makes the embeddings
more grounded; retrieval itself ranks by similarity in the joint space (*match*).

The pocket models here are small and trained in minutes on a CPU. At this scale the
generators learn little (the drawings are colour blobs), and GXN does **not** beat its
baseline: the Benchmark tab has the measured numbers and the analysis is in the README.

### How to read the page
- **Left column: the baseline** — the same embedding model trained the same way,
  with the generators switched off. It looks and matches, and imagines nothing.
- **Right column: GXN** — looks, imagines, matches.
- **Look**: the gallery projected to 2-D (PCA of that model's joint space). Grey dots are
  gallery entries, the star is your query, numbered dots are the top-k matches, a green
  diamond marks the ground truth.
- **Imagine**: GXN's generated caption (image query) or pictures (text query).
- **Match**: the top-k with their scores s* (half abstract, half grounded cosine
  similarity); ✓ marks the ground truth when the query
  comes from the gallery, and the line below says at which rank each model found it.
- **Where they differ** lists test queries on which the two models disagree; click one to run it.

### Licences
The code is Apache-2.0.
"""


# --------------------------------------------------------------------------- components


def _upload_path(payload):
    """Preprocessing for the query image: the uploaded file's path (or pasted bytes), not decoded.

    ``gr.Image`` would open the file itself, so a non-image or an image over
    Pillow's bomb limit would fail there with a generic error. Handing the
    path to ``validation.load_query_image`` instead gives every upload the
    pipeline's checks and messages. (Set on the instance: a ``gr.Image``
    subclass would make Gradio write a ``.pyi`` next to this file on import.)
    """
    if payload is None:
        return None
    if payload.url and payload.url.startswith("data:"):  # pasted as a data URL
        try:
            return base64.b64decode(payload.url.split(",", 1)[1], validate=False)
        except (IndexError, ValueError):
            raise gr.Error("The pasted image could not be read.", print_exception=False) from None
    if payload.path is None:
        raise gr.Error("No image received: upload it again.", print_exception=False)
    return payload.path


def _query_image(**kwargs) -> gr.Image:
    image = gr.Image(**kwargs)
    image.preprocess = _upload_path  # this instance only
    return image


# --------------------------------------------------------------------------- building the page


def build_demo(pipelines: Mapping[str, Pipeline], *, assets_dir: str | Path = ASSETS) -> gr.Blocks:
    """The whole app for ``pipelines`` (display name → pipeline; the first is selected).

    Items are only accessed when selected (the first at build time), so the
    mapping may load models lazily. Launch with ``demo.launch(**launch_options())``.
    """
    names = list(pipelines.keys())
    if not names:
        raise ValueError("build_demo needs at least one pipeline")
    default = names[0]

    def get(name: str) -> Pipeline:
        if name not in pipelines:
            raise gr.Error(f"Unknown model {name!r}. Choose one of: {', '.join(names)}.", print_exception=False)
        try:
            return pipelines[name]
        except Exception as err:
            log.exception("loading pipeline %r failed", name)
            raise gr.Error(f"Could not load the model {name!r}: {err}") from None

    first = get(default)

    @GPU
    def run_query(name: str, query, k, seed=0, n_images=1, *, image: bool = False) -> QueryResult:
        """Both models on one query; every failure becomes a ``gr.Error`` with a message for a person."""
        pipeline = get(name)
        try:
            k, seed, n_images = _whole(k, "k"), _whole(seed, "seed"), _whole(n_images, "samples")
            if image:  # a file path, bytes or a PIL image: checked before any decoding
                query = load_query_image(query, getattr(pipeline, "max_pixels", MAX_PIXELS))
            elif not isinstance(query, str):
                raise QueryError("A text query must be a string.")
            return pipeline.run(query, k, seed=seed, n_images=n_images)
        except QueryError as err:
            raise gr.Error(str(err), title="Cannot run this query", print_exception=False) from None
        except gr.Error:
            raise
        except Exception as err:
            log.exception("query failed on %r", name)
            raise gr.Error(
                f"Something went wrong while running the query ({type(err).__name__}). "
                "The app is still running: try again or another query.",
                title="Internal error",
                print_exception=False,
            ) from None

    # Named API endpoints: JSON in, JSON out. The UI handlers below share run_query.
    def text_to_image(text: str, k: int = 5, seed: int = 0, n_images: int = 1, model: str = default) -> dict:
        """Text → image for both models; returns QueryResult.to_json() plus "model"."""
        return _json(run_query(model, text or "", k, seed, n_images), model)

    def image_to_text(image, k: int = 5, model: str = default) -> dict:
        """Image → text for both models; returns QueryResult.to_json() plus "model"."""
        return _json(run_query(model, image, k, image=True), model)

    def show(result: QueryResult, model: str) -> list:
        for notice in result.notices:
            gr.Warning(notice)
        panels = views.result_panels(result)
        return [*(panels[name] for name in views.PANELS), _json(result, model)]  # + what the API returns

    def ui_text(text, k, seed, n_images, model):
        return show(run_query(model, text or "", k, seed, n_images), model)

    def ui_image(image, k, model):
        if image is None:
            raise gr.Error("Upload a picture first (PNG, JPEG, GIF, WebP), or click an example.")
        return show(run_query(model, image, k, image=True), model)

    def ui_text_example(sample, k, seed, n_images, model):
        text = sample[0] if isinstance(sample, (list, tuple)) else sample
        return [text, *ui_text(text, k, seed, n_images, model)]

    def ui_image_example(k, model, evt: gr.SelectData):
        image = get(model).examples("image_to_text")[evt.index]
        return [image, *ui_image(image, k, model)]

    def ui_difference(t2i_k, seed, n_images, i2t_k, model, evt: gr.SelectData):
        row = evt.row_value
        if not row:
            raise gr.Error("Click a row of the table to run that query.")
        direction, query_id = views.direction_of_label(str(row[0])), str(row[-1])
        pipeline = get(model)
        try:
            query = pipeline.query_of(direction, query_id)
        except QueryError as err:
            raise gr.Error(str(err)) from None
        n_t, n_i = len(t2i_outputs), len(i2t_outputs)
        if direction == "text_to_image":
            return [gr.Tabs(selected="t2i"), query, gr.skip(), *ui_text(query, t2i_k, seed, n_images, model),
                    *[gr.skip()] * n_i]
        return [gr.Tabs(selected="i2t"), gr.skip(), query, *[gr.skip()] * n_t, *ui_image(query, i2t_k, model)]

    def ui_select_model(model):
        pipeline = get(model)
        return [
            _gallery_line(pipeline),
            gr.Dataset(samples=[[t] for t in pipeline.examples("text_to_image")]),
            pipeline.examples("image_to_text"),
            views.differences_table(pipeline.differences()),
            _attribution(pipeline),
        ]

    with gr.Blocks(title="Look, Imagine and Match", delete_cache=(3600, 3600)) as demo:
        # ---- header
        with gr.Row(equal_height=True):
            with gr.Column(scale=3):
                gr.Markdown("# Look, Imagine and Match", elem_classes="li-header")
                gr.Markdown(
                    "Cross-modal retrieval with and without imagination: the **baseline** only *looks* "
                    "and *matches*; **GXN** (CVPR 2018) also *imagines* — a caption for a picture, a "
                    "picture for a sentence — and learns better embeddings from it.",
                    elem_classes="li-tagline",
                )
            with gr.Column(scale=2, min_width=280):
                model = gr.Dropdown(names, value=default, label="Model and gallery", elem_id="model")
                gallery_line = gr.Markdown(_gallery_line(first), elem_id="gallery-line")

        with gr.Tabs(selected="t2i") as tabs:
            # ---- text → image
            with gr.Tab("Text → Image", id="t2i"):
                with gr.Row(equal_height=False):
                    with gr.Column(scale=3):
                        t2i_text = gr.Textbox(label="Describe a picture", lines=1, max_lines=3,
                                              placeholder="e.g. " + _first(first.examples("text_to_image", 1), ""),
                                              elem_id="t2i-text")
                        t2i_examples = gr.Dataset(components=[gr.Textbox(visible=False)],
                                                  samples=[[t] for t in first.examples("text_to_image")],
                                                  label="Examples (click to run)", samples_per_page=8,
                                                  elem_id="t2i-examples")
                    with gr.Column(scale=2, min_width=260):
                        t2i_k = gr.Slider(1, 10, value=5, step=1, label="Top k")
                        with gr.Row():
                            t2i_seed = gr.Number(0, precision=0, label="Seed", minimum=0, min_width=80)
                            t2i_n = gr.Slider(1, 4, value=2, step=1, label="Samples", min_width=120)
                        t2i_run = gr.Button("Look, imagine, match", variant="primary", elem_id="t2i-run")
                t2i_status = gr.Markdown("", elem_classes="li-status", elem_id="t2i-status")
                with gr.Row(equal_height=False):
                    with gr.Column(elem_classes=["li-col", "li-baseline"], elem_id="baseline-t2i"):
                        _column_title("Baseline", "Look → Match")
                        b_look = _look_plot("baseline-t2i-look")
                        _stage("Imagine")
                        b_imagine = gr.Markdown(_NO_GENERATOR, elem_classes="li-note", elem_id="baseline-t2i-imagine")
                        _stage("Match")
                        b_match = _match_gallery("baseline-t2i-match")
                        b_badge = gr.Markdown("", elem_classes="li-badge", elem_id="baseline-t2i-badge")
                    with gr.Column(elem_classes=["li-col", "li-gxn"], elem_id="gxn-t2i"):
                        _column_title("GXN", "Look → Imagine → Match")
                        g_look = _look_plot("gxn-t2i-look")
                        _stage("Imagine")
                        g_imagine = gr.Gallery(label="Imagined pictures", show_label=False, columns=4,
                                               fit_columns=False, height="auto", object_fit="contain", format="png",
                                               interactive=False, buttons=["fullscreen"],
                                               elem_classes=["li-imagine", "li-gallery"], elem_id="gxn-t2i-imagine")
                        _stage("Match")
                        g_match = _match_gallery("gxn-t2i-match")
                        g_badge = gr.Markdown("", elem_classes="li-badge", elem_id="gxn-t2i-badge")
                with gr.Accordion("Result as JSON (what the /text_to_image API returns)", open=False):
                    t2i_json = gr.JSON(label="result", elem_id="t2i-json")

            # ---- image → text
            with gr.Tab("Image → Text", id="i2t"):
                with gr.Row(equal_height=False):
                    with gr.Column(scale=2, min_width=240):
                        i2t_image = _query_image(label="A picture", type="filepath", format="png",
                                             sources=["upload", "clipboard"], height=220, elem_id="i2t-image")
                    with gr.Column(scale=3):
                        i2t_examples = gr.Gallery(first.examples("image_to_text"), label="Examples (click to run)",
                                                  columns=8, fit_columns=False, height="auto", object_fit="contain",
                                                  allow_preview=False, format="png", interactive=False, buttons=[],
                                                  elem_classes="li-gallery", elem_id="i2t-examples")
                        i2t_k = gr.Slider(1, 10, value=5, step=1, label="Top k")
                        i2t_run = gr.Button("Look, imagine, match", variant="primary", elem_id="i2t-run")
                i2t_status = gr.Markdown("", elem_classes="li-status", elem_id="i2t-status")
                with gr.Row(equal_height=False):
                    with gr.Column(elem_classes=["li-col", "li-baseline"], elem_id="baseline-i2t"):
                        _column_title("Baseline", "Look → Match")
                        bi_look = _look_plot("baseline-i2t-look")
                        _stage("Imagine")
                        bi_imagine = gr.Markdown(_NO_GENERATOR, elem_classes="li-note", elem_id="baseline-i2t-imagine")
                        _stage("Match")
                        bi_match = _match_table("baseline-i2t-match")
                        bi_badge = gr.Markdown("", elem_classes="li-badge", elem_id="baseline-i2t-badge")
                    with gr.Column(elem_classes=["li-col", "li-gxn"], elem_id="gxn-i2t"):
                        _column_title("GXN", "Look → Imagine → Match")
                        gi_look = _look_plot("gxn-i2t-look")
                        _stage("Imagine")
                        gi_imagine = gr.Markdown("*The generated caption appears here.*",
                                                 elem_classes=["li-note", "li-caption"], elem_id="gxn-i2t-imagine")
                        _stage("Match")
                        gi_match = _match_table("gxn-i2t-match")
                        gi_badge = gr.Markdown("", elem_classes="li-badge", elem_id="gxn-i2t-badge")
                with gr.Accordion("Result as JSON (what the /image_to_text API returns)", open=False):
                    i2t_json = gr.JSON(label="result", elem_id="i2t-json")

            # ---- where they differ
            with gr.Tab("Where they differ", id="diff"):
                gr.Markdown("Test queries on which the baseline and GXN rank the ground truth differently. "
                            "**Click a row** to run that query.")
                diff_table = gr.Dataframe(views.differences_table(first.differences()),
                                          headers=views.DIFFERENCE_HEADERS, interactive=False, wrap=True,
                                          max_height=560, column_widths=["13%", "42%", "12%", "12%", "10%", "11%"],
                                          elem_id="diff-table")

            # ---- benchmark
            with gr.Tab("Benchmark", id="bench"):
                gr.Markdown(showcase.benchmark_markdown(assets_dir), elem_id="bench-md")
                figures = showcase.benchmark_figures(assets_dir)
                if figures:
                    gr.Gallery([(str(p), p.stem.replace("_", " ")) for p in figures], label="Figures",
                               columns=2, height="auto", object_fit="contain", interactive=False,
                               elem_id="bench-figures")

            # ---- about
            with gr.Tab("About", id="about"):
                gr.Markdown(ABOUT)
                attribution = gr.Markdown(_attribution(first), elem_id="attribution")

        # Output order: views.PANELS, then the JSON panel.
        t2i_outputs = [t2i_status, b_look, b_imagine, b_match, b_badge, g_look, g_imagine, g_match, g_badge, t2i_json]
        i2t_outputs = [i2t_status, bi_look, bi_imagine, bi_match, bi_badge, gi_look, gi_imagine, gi_match, gi_badge,
                       i2t_json]
        busy = dict(concurrency_id="pipeline", concurrency_limit=1)
        private = dict(api_visibility="private", **busy)

        # Progress and errors show on the status line only (the message itself is a toast),
        # so a refused query leaves the previous result in place instead of six "Error" badges.
        t2i_busy, i2t_busy = dict(show_progress_on=t2i_status, **private), dict(show_progress_on=i2t_status, **private)
        gr.on([t2i_run.click, t2i_text.submit], ui_text, [t2i_text, t2i_k, t2i_seed, t2i_n, model], t2i_outputs,
              **t2i_busy)
        t2i_examples.click(ui_text_example, [t2i_examples, t2i_k, t2i_seed, t2i_n, model], [t2i_text, *t2i_outputs],
                           **t2i_busy)
        gr.on([i2t_run.click, i2t_image.upload], ui_image, [i2t_image, i2t_k, model], i2t_outputs, **i2t_busy)
        i2t_examples.select(ui_image_example, [i2t_k, model], [i2t_image, *i2t_outputs], **i2t_busy)
        diff_table.select(ui_difference, [t2i_k, t2i_seed, t2i_n, i2t_k, model],
                          [tabs, t2i_text, i2t_image, *t2i_outputs, *i2t_outputs], show_progress="minimal", **private)
        model.change(ui_select_model, [model], [gallery_line, t2i_examples, i2t_examples, diff_table, attribution],
                     show_progress="minimal", **private)

        # The two public endpoints: hidden triggers over the same input components.
        api_t2i = gr.Button(visible=False)
        api_t2i.click(text_to_image, [t2i_text, t2i_k, t2i_seed, t2i_n, model], t2i_json,
                      api_name="text_to_image", **busy)
        api_i2t = gr.Button(visible=False)
        api_i2t.click(image_to_text, [i2t_image, i2t_k, model], i2t_json, api_name="image_to_text", **busy)

    demo.queue(default_concurrency_limit=2, max_size=32)
    return demo


_NO_GENERATOR = "*The baseline has no generator: it only looks and matches.*"


def _column_title(name: str, stages: str) -> None:
    gr.Markdown(f"### {name} <small>· {stages}</small>", elem_classes="li-col-title")


def _stage(name: str) -> None:
    gr.Markdown(name, elem_classes="li-stage")


def _look_plot(elem_id: str) -> gr.Plot:
    return gr.Plot(label="Look: the gallery in this model's joint space", show_label=False, elem_id=elem_id)


def _match_gallery(elem_id: str) -> gr.Gallery:
    return gr.Gallery(label="Top k", show_label=False, columns=5, fit_columns=False, height="auto",
                      object_fit="contain", format="png", interactive=False, buttons=["fullscreen"],
                      elem_classes=["li-gallery", "li-match"], elem_id=elem_id)


def _match_table(elem_id: str) -> gr.Dataframe:
    return gr.Dataframe(headers=views.RANKING_HEADERS, interactive=False, wrap=True, show_label=False,
                        column_widths=["8%", "64%", "15%", "13%"], max_height=420, elem_id=elem_id)


def _json(result: QueryResult, model: str) -> dict:
    return {"model": model, **result.to_json()}


def _gallery_line(pipeline: Pipeline) -> str:
    return f"Gallery: {pipeline.gallery_description}"


def _attribution(pipeline: Pipeline) -> str:
    return f"**Gallery ({pipeline.name}):** {pipeline.attribution}"


def _first(items, default):
    return next(iter(items), default)


def _whole(value, what: str) -> int:
    try:
        number = float(value)
    except (TypeError, ValueError):
        raise QueryError(f"{what} must be a number.") from None
    if number != int(number):
        raise QueryError(f"{what} must be a whole number.")
    return int(number)


def launch_options(assets_dir: str | Path = ASSETS) -> dict:
    """Keyword arguments for ``demo.launch``: look (theme, css) and limits (Gradio 6 puts them here)."""
    theme = gr.themes.Soft(
        primary_hue="indigo",
        neutral_hue="slate",
        font=["ui-sans-serif", "system-ui", "Segoe UI", "Helvetica", "Arial", "sans-serif"],  # no web fonts: offline
        font_mono=["ui-monospace", "SFMono-Regular", "Menlo", "monospace"],
    )
    return {"theme": theme, "css": CSS, "max_file_size": "10mb", "allowed_paths": [str(Path(assets_dir).resolve())]}


# --------------------------------------------------------------------------- command line


class LazyPipelines(Mapping):
    """Display name → pipeline, each loaded on first access and then kept."""

    def __init__(self, loaders: Mapping[str, Callable[[], Pipeline]]):
        self._loaders = dict(loaders)
        self._loaded: dict[str, Pipeline] = {}

    def __getitem__(self, name: str) -> Pipeline:
        if name not in self._loaded:
            log.info("loading %s", name)
            self._loaded[name] = self._loaders[name]()
        return self._loaded[name]

    def __iter__(self) -> Iterator[str]:
        return iter(self._loaders)

    def __len__(self) -> int:
        return len(self._loaders)


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description="Look, Imagine and Match — the interactive demo.")
    parser.add_argument("--dataset", choices=DATASETS, default="emoji", help="shipped pocket models to start with")
    parser.add_argument("--checkpoint", metavar="DIR", help="a checkpoint folder (with gxn/ and baseline/) instead")
    parser.add_argument("--gallery-folder", metavar="DIR", help="search this folder of images + captions.jsonl")
    parser.add_argument("--device", choices=("auto", "cpu", "cuda", "mps"), default="auto")
    parser.add_argument("--host", default=os.environ.get("GRADIO_SERVER_NAME"),
                        help="default: $GRADIO_SERVER_NAME or 127.0.0.1")
    parser.add_argument("--port", type=int, default=_env_int("GRADIO_SERVER_PORT"),
                        help="default: $GRADIO_SERVER_PORT or 7860")
    parser.add_argument("--share", action="store_true", help="make a public gradio.live link")
    parser.add_argument("--warmup", action=argparse.BooleanOptionalAction, default=True,
                        help="run one query per direction before serving (default: on)")
    parser.add_argument("--fake", action="store_true", help="synthetic shapes and fake models: the UI without weights")
    return parser.parse_args(argv)


def _env_int(name: str) -> int | None:
    value = os.environ.get(name)
    return int(value) if value and value.isdigit() else None


def load_pipelines(args: argparse.Namespace) -> Mapping[str, Pipeline]:
    """Display name → pipeline for ``args``; the first is selected and loaded at start."""
    if args.fake:
        from lookimagine.pipeline.fake import FakePipeline

        log.warning("--fake: synthetic shapes and fake models, no trained weights")
        fake = FakePipeline()
        return {fake.name: fake}
    try:
        from lookimagine.pipeline import LookImagineMatch
    except ImportError as err:
        raise SystemExit(
            f"The trained pipeline is not available ({err}).\n"
            "Run `python app.py --fake` to try the interface with synthetic data."
        ) from None
    device = None if args.device == "auto" else args.device

    def loader(path: Path) -> Callable[[], Pipeline]:
        return lambda: LookImagineMatch.from_pretrained(str(path), device=device, gallery_folder=args.gallery_folder)

    if args.checkpoint:  # a folder, or a Hub id that from_pretrained downloads
        return LazyPipelines({f"checkpoint · {Path(args.checkpoint).name}": loader(Path(args.checkpoint))})
    order = [args.dataset, *(d for d in DATASETS if d != args.dataset)]
    folders = {d: ASSETS / "checkpoints" / d for d in order}
    if not folders[args.dataset].is_dir():
        raise SystemExit(
            f"No shipped {args.dataset} checkpoints at {folders[args.dataset]}.\n"
            "Train them (see the README), pass --checkpoint DIR, or run `python app.py --fake`."
        )
    loaders = {f"pocket · {d}": loader(folders[d]) for d in order if d == args.dataset or folders[d].is_dir()}
    suffix = " · own gallery" if args.gallery_folder else ""
    return LazyPipelines({name + suffix: fn for name, fn in loaders.items()})


def warm_up(pipeline: Pipeline) -> None:
    """One query per direction, so the first visitor does not wait for lazy setup."""
    for direction in ("text_to_image", "image_to_text"):
        try:
            example = _first(pipeline.examples(direction, 1), None)
            if example is not None:
                pipeline.run(example, 5)
        except Exception:
            log.warning("warm-up (%s) failed; the app will start anyway", direction, exc_info=True)


def main(argv: list[str] | None = None) -> None:
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    logging.getLogger("httpx").setLevel(logging.WARNING)  # one line per Gradio self-check otherwise
    args = parse_args(argv)
    pipelines = load_pipelines(args)
    try:
        first = pipelines[next(iter(pipelines))]
    except SystemExit:
        raise
    except Exception as err:  # missing or corrupt checkpoint: a message, not a stack trace
        log.debug("loading failed", exc_info=True)
        raise SystemExit(f"Could not load the model: {err}\nTry `python app.py --fake` to check the interface.") from None
    if args.warmup:
        warm_up(first)
    demo = build_demo(pipelines)
    demo.launch(server_name=args.host, server_port=args.port, share=args.share, **launch_options())


if __name__ == "__main__":
    sys.exit(main())
