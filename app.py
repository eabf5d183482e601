"""Look, Imagine and Match — the interactive demo.

    python app.py                      # pocket shapes models from assets/checkpoints/shapes (emoji in the selector)
    python app.py --dataset emoji      # start on the emoji models
    python app.py --fake               # the interface on synthetic data, no weights

Thin on purpose: ``build_demo`` lays out the page (one ``_model_column`` per
model and direction, filled in the order ``OUTPUTS`` declares) and wires it to
``Handlers``, which call a ``Pipeline`` (``lookimagine.demo.protocol``).
What to show comes from ``lookimagine.demo.views``, input checks from the
pipeline (``validation``), sentences from ``messages``, shipped results from
``showcase``, the folder layout from ``layout``. Importing this module loads no model and touches
no network; ``main`` does the loading.

API (``gradio_client``): ``/text_to_image`` (text, k, seed, n_images, model)
and ``/image_to_text`` (image, k, model) return ``QueryResult.to_json()``
plus ``"model"`` (the selector name).
"""

from __future__ import annotations

import argparse
import base64
import inspect
import json
import logging
import os
import sys
from collections.abc import Callable, Iterator, Mapping
from pathlib import Path

import gradio as gr

from lookimagine import serving
from lookimagine.demo import showcase, views
from lookimagine.demo.protocol import Pipeline, column_titles
from lookimagine.pipeline import messages, validation
from lookimagine.pipeline.layout import PipelineFolder
from lookimagine.pipeline.outputs import QueryError, QueryResult

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
/* "Where they differ": wide cards (query | baseline's first | GXN's first), their captions in full */
#diff-cards .thumbnail-item {aspect-ratio: 392 / 174 !important;}
#diff-cards .caption-label {white-space: normal !important; position: static !important; max-width: none !important;}
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

The pocket models here are small and trained in minutes on a CPU. On **emoji** GXN imagines with a
pocket latent diffusion model (a UNet over a small autoencoder's latents, as Stable Diffusion does):
people, couples, hearts and skin tones you can recognise. On **shapes** it still draws with a GAN:
the right colours, counts and places in rough outlines (a cross or a star now and then), not clean
shapes. On emoji, over five paired seeds of the shipped recipe, GXN is about one point of R@1 ahead
of its baseline at equal epochs (test +1.4 / +1.2),
but no cell survives correction for the 16 compared, and a baseline given GXN's training time is level
with it; the shipped emoji pair is seed 2, the one with the median val difference (test +1.6 / +2.3).
On shapes, over five paired seeds of its shipped recipe (the GAN on the same converged stage 1), GXN −
baseline is −0.3 / −0.8 R@1 on test at equal epochs and −1.1 / −0.1 at equal training time, level;
the shipped shapes pair is seed 4, the median val difference (test +1.2 / +0.1). The Benchmark tab has the measured
numbers and RESULTS.md the analysis.

### How to read the page
- **Left column: the baseline** — the same embedding model trained the same way,
  with the generators switched off. It looks and matches, and imagines nothing.
- **Right column: GXN** — looks, imagines, matches.
- **Look**: your query (the star) among the gallery, in that model's joint space. Each entry
  sits at *1 − its score* from the star, in the direction where it lies in the joint space:
  the nearer, the better it matches, so the numbered top-k are the dots nearest the star.
  Grey dots are what the query is ranked against (images for a sentence, captions for a
  picture), pale triangles the gallery's other modality; a green diamond marks the ground truth.
- **Imagine**: GXN's generated caption (image query) or pictures (text query).
- **Your own picture** (emoji): reframed as the training drawings are before it is matched — background made
  white, the drawing centred — since an emoji cropped to its edges or on a colour is matched far worse
  otherwise; the page says when it did.
- **Match**: the top-k with their scores s* (half abstract, half grounded cosine
  similarity), and the line below says at which rank each model found the ground truth. On
  **shapes** the ground truth is by meaning: a checker reads any sentence in its grammar (colours,
  sizes, shapes, counts, left/right/above/below), marks every shown picture ✓ true or ✗ false of it,
  and the status line says of how many gallery images it is true and each model's precision at k —
  so a sentence you make up is a test too. On emoji the ground truth is the drawing of that name (✓),
  and an image query lists each caption text once.
- **Where they differ** shows test queries on which one model ranks the ground truth first and the
  other does not: the query and each model's first choice. Click a card to run it.

### Licences and attribution
- **Code**: Apache-2.0.
- **Shapes models and gallery**: Apache-2.0. The scenes are drawn by lookimagine itself (no third-party content).
- **Emoji models**: CC BY-SA 4.0. They are trained on OpenMoji, Twemoji and Fluent drawings, so the weights
  derive from that art and carry OpenMoji's share-alike licence.
- **Emoji gallery**: the test split, 1,543 drawings in the same three styles, each rendered by lookimagine as a
  64×64 picture on white:
  - [OpenMoji](https://openmoji.org) 17: All emojis designed by OpenMoji – the open-source emoji and icon
    project. License: [CC BY-SA 4.0](https://creativecommons.org/licenses/by-sa/4.0/).
  - [Twemoji](https://github.com/jdecked/twemoji) 15: Copyright 2020 Twitter, Inc and other contributors,
    graphics licensed under [CC-BY 4.0](https://creativecommons.org/licenses/by/4.0/).
  - [Fluent Emoji](https://github.com/microsoft/fluentui-emoji) (flat): Copyright (c) Microsoft Corporation,
    MIT licence.
  - Names: Unicode CLDR short names (Unicode License v3), via the `emoji` package.

The credits of the selected model's own training data follow.
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


def _raw(component):
    """Hand the component's payload to the handler as sent: the pipeline's ``validation`` is the one policy.

    Gradio's own preprocessing would round a seed of 2.5, stringify a list sent
    as text and fail on a string for k with a message nobody can act on.
    """
    component.preprocess = lambda payload: payload  # this instance only
    return component


# --------------------------------------------------------------------------- handlers

#: the public API: endpoint → its parameters, in order (``Handlers.endpoints``; checked in ``build_demo``)
API = {"text_to_image": ("text", "k", "seed", "n_images", "model"), "image_to_text": ("image", "k", "model")}

#: what one query fills on the page, in order: the panels of ``views.result_panels``, then the JSON
OUTPUTS = (*views.PANELS, "json")
TAB_OF = {"text_to_image": "t2i", "image_to_text": "i2t"}


@GPU
def _run(pipeline: Pipeline, query, k, seed, n_images) -> QueryResult:
    return pipeline.run(query, k, seed=seed, n_images=n_images)


class Handlers:
    """What the page does: every query goes through ``run_query``, which turns failures into messages."""

    def __init__(self, pipelines: Mapping[str, Pipeline]):
        self.pipelines, self.names = pipelines, list(pipelines)
        if not self.names:
            raise ValueError("build_demo needs at least one pipeline")
        self._cards: dict[str, tuple[list, list]] = {}  # model → ("Where they differ" cards, their rows)

    def get(self, name: str) -> Pipeline:
        if not isinstance(name, str) or name not in self.pipelines:
            raise gr.Error(messages.UNKNOWN_MODEL.format(name=name, names=", ".join(self.names)),
                           print_exception=False)
        try:
            return self.pipelines[name]
        except Exception as err:
            log.exception("loading pipeline %r failed", name)
            raise gr.Error(messages.CANNOT_LOAD.format(name=name, error=err)) from None

    def run_query(self, name: str, query, k, seed=0, n_images=1, *, image: bool = False) -> QueryResult:
        """Both models on one query; every failure becomes a ``gr.Error`` with a message for a person."""
        pipeline = self.get(name)
        try:
            if image:  # a file path (not text), bytes or a PIL image; the pipeline checks and decodes it
                if query is None:
                    raise QueryError(messages.NO_IMAGE)
                query = Path(query) if isinstance(query, str) else query
            elif not isinstance(query, str):  # the API can send anything as "text"
                raise QueryError(messages.NOT_TEXT.format(kind=type(query).__name__))
            return _run(pipeline, query, k, seed, n_images)
        except QueryError as err:
            raise gr.Error(str(err), title="Cannot run this query", print_exception=False) from None
        except Exception as err:
            log.exception("query failed on %r", name)
            raise gr.Error(messages.INTERNAL_ERROR.format(error=type(err).__name__), title="Internal error",
                           print_exception=False) from None

    def show(self, result: QueryResult, model: str) -> list:
        """The values of ``OUTPUTS`` for one result."""
        for notice in result.notices:
            gr.Warning(notice)
        panels = views.result_panels(result, column_titles(self.pipelines[model]))
        return [*(panels[name] for name in views.PANELS), _json(result, model)]

    def ui_text(self, text, k, seed, n_images, model):
        return self.show(self.run_query(model, text or "", k, seed, n_images), model)

    def ui_image(self, image, k, model):
        return self.show(self.run_query(model, image, k, image=True), model)

    def ui_text_example(self, sample, k, seed, n_images, model):
        text = sample[0] if isinstance(sample, (list, tuple)) else sample
        return [text, *self.ui_text(text, k, seed, n_images, model)]

    def ui_image_example(self, k, model, evt: gr.SelectData):
        image = self.get(model).examples("image_to_text")[evt.index]
        return [image, *self.ui_image(image, k, model)]

    def difference_cards(self, model: str) -> tuple[list, list]:
        """The "Where they differ" cards of a model (built once: each shown query matched by both models)
        and the ``Difference`` rows behind them."""
        if model not in self._cards:
            pipeline = self.get(model)
            titles = column_titles(pipeline)
            cards, rows = [], []
            for row in views.pick_differences(pipeline.differences()):  # run now: a card's ranks are a click's
                query = pipeline.query_of(row.direction, row.query_id)
                try:
                    result = _run(pipeline, query, 1, 0, 1)
                except QueryError:  # a test caption of words the models never saw is refused: no card for it
                    continue
                cards.append((views.difference_card(query, result, titles), views.difference_label(result, titles)))
                rows.append(row)
            self._cards[model] = (cards, rows)
        return self._cards[model]

    def ui_difference_cards(self, model):
        return self.difference_cards(model)[0]

    def ui_difference(self, t2i_k, seed, n_images, i2t_k, model, evt: gr.SelectData):
        """A click on a card: that query, on its tab; the other tab's outputs are left as they are."""
        rows = self.difference_cards(model)[1]
        if evt.index is None or not 0 <= int(evt.index) < len(rows):
            raise gr.Error(messages.CLICK_A_ROW)
        direction, query_id = rows[int(evt.index)].direction, rows[int(evt.index)].query_id
        try:
            query = self.get(model).query_of(direction, query_id)
        except QueryError as err:
            raise gr.Error(str(err)) from None
        skip = [gr.skip()] * len(OUTPUTS)
        if direction == "text_to_image":
            return [gr.Tabs(selected="t2i"), query, gr.skip(), *self.ui_text(query, t2i_k, seed, n_images, model),
                    *skip]
        return [gr.Tabs(selected="i2t"), gr.skip(), query, *skip, *self.ui_image(query, i2t_k, model)]

    def ui_select_model(self, model):
        pipeline = self.get(model)
        titles = [_column_title(model, pipeline) for _ in TAB_OF for model in ("baseline", "gxn")]
        return [_gallery_line(pipeline), gr.Dataset(samples=[[t] for t in pipeline.examples("text_to_image")]),
                pipeline.examples("image_to_text"), self.ui_difference_cards(model),
                _attribution(pipeline), *titles]

    def endpoints(self) -> tuple[Callable, Callable]:
        """The two named API functions (their signatures are the API's parameters)."""
        default = self.names[0]

        def text_to_image(text: str, k: int = 5, seed: int = 0, n_images: int = 1, model: str = default) -> dict:
            """Text → image for both models; returns QueryResult.to_json() plus "model"."""
            return _json(self.run_query(model, text or "", k, seed, n_images), model)

        def image_to_text(image, k: int = 5, model: str = default) -> dict:
            """Image → text for both models; returns QueryResult.to_json() plus "model"."""
            return _json(self.run_query(model, image, k, image=True), model)

        return text_to_image, image_to_text


# --------------------------------------------------------------------------- building the page


def build_demo(pipelines: Mapping[str, Pipeline], *, assets_dir: str | Path = ASSETS) -> gr.Blocks:
    """The whole app for ``pipelines`` (display name → pipeline; the first is selected).

    Items are only accessed when selected (the first at build time), so the
    mapping may load models lazily. Launch with ``demo.launch(**launch_options())``.
    """
    h = Handlers(pipelines)
    first = h.get(h.names[0])
    with gr.Blocks(title="Look, Imagine and Match", delete_cache=(3600, 3600)) as demo:
        ui = _header(h.names, first)
        with gr.Tabs(selected="t2i") as ui["tabs"]:
            with gr.Tab("Text → Image", id="t2i"):
                ui["t2i"] = _text_inputs(first) | _results("text_to_image", first)
            with gr.Tab("Image → Text", id="i2t"):
                ui["i2t"] = _image_inputs(first) | _results("image_to_text", first)
            with gr.Tab("Where they differ", id="diff") as ui["diff_tab"]:
                ui["diff_cards"] = _differences_tab(first)
            with gr.Tab("Benchmark", id="bench"):
                _benchmark_tab(assets_dir)
            with gr.Tab("About", id="about"):
                gr.Markdown(ABOUT)
                ui["attribution"] = gr.Markdown(_attribution(first), elem_id="attribution")
        _wire(h, ui)
    demo.queue(**serving.QUEUE)
    return demo


def _wire(h: Handlers, ui: dict) -> None:
    """Events: buttons, examples, the differences table, the model selector, and the two API endpoints."""
    t2i, i2t, model = ui["t2i"], ui["i2t"], ui["model"]
    t2i_out, i2t_out = [t2i[name] for name in OUTPUTS], [i2t[name] for name in OUTPUTS]
    t2i_in = [t2i["text"], t2i["k"], t2i["seed"], t2i["n"], model]
    busy = dict(serving.PIPELINE)
    private = dict(api_visibility="private", **busy)
    # Progress and errors show on the status line only (the message itself is a toast),
    # so a refused query leaves the previous result in place instead of six "Error" badges.
    t2i_busy, i2t_busy = dict(show_progress_on=t2i["status"], **private), dict(show_progress_on=i2t["status"], **private)
    gr.on([t2i["run"].click, t2i["text"].submit], h.ui_text, t2i_in, t2i_out, **t2i_busy)
    t2i["examples"].click(h.ui_text_example, [t2i["examples"], *t2i_in[1:]], [t2i["text"], *t2i_out], **t2i_busy)
    gr.on([i2t["run"].click, i2t["image"].upload], h.ui_image, [i2t["image"], i2t["k"], model], i2t_out, **i2t_busy)
    i2t["examples"].select(h.ui_image_example, [i2t["k"], model], [i2t["image"], *i2t_out], **i2t_busy)
    ui["diff_tab"].select(h.ui_difference_cards, [model], [ui["diff_cards"]], show_progress="minimal", **private)
    ui["diff_cards"].select(h.ui_difference, [t2i["k"], t2i["seed"], t2i["n"], i2t["k"], model],
                            [ui["tabs"], t2i["text"], i2t["image"], *t2i_out, *i2t_out], show_progress="minimal",
                            **private)
    titles = [ui[tab][f"{m}_title"] for tab in TAB_OF.values() for m in ("baseline", "gxn")]
    model.change(h.ui_select_model, [model],
                 [ui["gallery_line"], t2i["examples"], i2t["examples"], ui["diff_cards"], ui["attribution"], *titles],
                 show_progress="minimal", **private)
    # The two public endpoints: hidden triggers over the same input components.
    text_to_image, image_to_text = h.endpoints()
    for fn in (text_to_image, image_to_text):  # the request guard (serving.ApiArguments) knows them as API says
        assert tuple(inspect.signature(fn).parameters) == API[fn.__name__], f"API and {fn.__name__} disagree"
    gr.Button(visible=False).click(text_to_image, t2i_in, t2i["json"], api_name="text_to_image", **busy)
    gr.Button(visible=False).click(image_to_text, [i2t["image"], i2t["k"], model], i2t["json"],
                                   api_name="image_to_text", **busy)


def _header(names: list[str], first: Pipeline) -> dict:
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
            model = _raw(gr.Dropdown(names, value=names[0], label="Model and gallery", elem_id="model"))
            line = gr.Markdown(_gallery_line(first), elem_id="gallery-line")
    return {"model": model, "gallery_line": line}


def _text_inputs(first: Pipeline) -> dict:
    with gr.Row(equal_height=False):
        with gr.Column(scale=3):
            text = _raw(gr.Textbox(label="Describe a picture", lines=1, max_lines=3, elem_id="t2i-text",
                                   max_length=validation.MAX_RAW_CHARS,
                                   placeholder="e.g. " + _first(first.examples("text_to_image", 1), "")))
            examples = gr.Dataset(components=[gr.Textbox(visible=False)], label="Examples (click to run)",
                                  samples=[[t] for t in first.examples("text_to_image")], samples_per_page=8,
                                  elem_id="t2i-examples")
        with gr.Column(scale=2, min_width=260):
            k = _raw(gr.Slider(1, 10, value=5, step=1, label="Top k"))
            with gr.Row():
                seed = _raw(gr.Number(0, precision=0, label="Seed", minimum=0, maximum=validation.MAX_SEED,
                                      min_width=80))
                n = _raw(gr.Slider(1, 4, value=2, step=1, label="Samples", min_width=120))
            run = gr.Button("Look, imagine, match", variant="primary", elem_id="t2i-run")
    return {"text": text, "examples": examples, "k": k, "seed": seed, "n": n, "run": run}


def _image_inputs(first: Pipeline) -> dict:
    with gr.Row(equal_height=False):
        with gr.Column(scale=2, min_width=240):
            image = _query_image(label="A picture", type="filepath", format="png", sources=["upload", "clipboard"],
                                 height=220, elem_id="i2t-image")
        with gr.Column(scale=3):
            examples = gr.Gallery(first.examples("image_to_text"), label="Examples (click to run)", columns=8,
                                  fit_columns=False, height="auto", object_fit="contain", allow_preview=False,
                                  format="png", interactive=False, buttons=[], elem_classes="li-gallery",
                                  elem_id="i2t-examples")
            k = _raw(gr.Slider(1, 10, value=5, step=1, label="Top k"))
            run = gr.Button("Look, imagine, match", variant="primary", elem_id="i2t-run")
    return {"image": image, "examples": examples, "k": k, "run": run}


def _results(direction: str, first: Pipeline) -> dict:
    """The status line, the baseline and GXN columns, and the JSON of one direction: ``OUTPUTS``, by name."""
    tab = TAB_OF[direction]
    out = {"status": gr.Markdown("", elem_classes="li-status", elem_id=f"{tab}-status")}
    with gr.Row(equal_height=False):
        for model in ("baseline", "gxn"):
            out |= {f"{model}_{part}": c for part, c in _model_column(model, direction, first).items()}
    with gr.Accordion(f"Result as JSON (what the /{direction} API returns)", open=False):
        out["json"] = gr.JSON(label="result", elem_id=f"{tab}-json")
    titles = {name: out.pop(name) for name in ("baseline_title", "gxn_title")}  # not a result: set per model
    assert tuple(out) == OUTPUTS, "the page and OUTPUTS disagree"
    return out | titles


def _column_title(model: str, pipeline: Pipeline) -> str:
    """``### GXN · Look → Imagine → Match``, with the pipeline's own names for its two models."""
    baseline, imagining = column_titles(pipeline)
    if model == "baseline":
        return f"### {baseline} <small>· Look → Match</small>"
    return f"### {imagining} <small>· Look → Imagine → Match</small>"


def _model_column(model: str, direction: str, first: Pipeline) -> dict:
    """One model's column: its title, Look, Imagine and Match panels and the rank badge (see ``views.PANELS``)."""
    key = f"{model}-{TAB_OF[direction]}"
    with gr.Column(elem_classes=["li-col", f"li-{model}"], elem_id=key):
        title = gr.Markdown(_column_title(model, first), elem_classes="li-col-title", elem_id=f"{key}-title")
        look = gr.Plot(label="Look: the query among the gallery", show_label=False, elem_id=f"{key}-look")
        gr.Markdown("Imagine", elem_classes="li-stage")
        if model == "baseline":
            imagine = gr.Markdown(f"*{messages.NO_GENERATOR}*", elem_classes="li-note", elem_id=f"{key}-imagine")
        elif direction == "text_to_image":
            imagine = gr.Gallery(label="Imagined pictures", show_label=False, columns=4, fit_columns=False,
                                 height="auto", object_fit="contain", format="png", interactive=False,
                                 buttons=["fullscreen"], elem_classes=["li-imagine", "li-gallery"],
                                 elem_id=f"{key}-imagine")
        else:
            imagine = gr.Markdown("*The generated caption appears here.*", elem_classes=["li-note", "li-caption"],
                                  elem_id=f"{key}-imagine")
        gr.Markdown("Match", elem_classes="li-stage")
        if direction == "text_to_image":
            match = gr.Gallery(label="Top k", show_label=False, columns=5, fit_columns=False, height="auto",
                               object_fit="contain", format="png", interactive=False, buttons=["fullscreen"],
                               elem_classes=["li-gallery", "li-match"], elem_id=f"{key}-match")
        else:
            match = gr.Dataframe(headers=views.RANKING_HEADERS, interactive=False, wrap=True, show_label=False,
                                 column_widths=["8%", "64%", "15%", "13%"], max_height=420, elem_id=f"{key}-match")
        badge = gr.Markdown("", elem_classes="li-badge", elem_id=f"{key}-badge")
    return {"title": title, "look": look, "imagine": imagine, "match": match, "badge": badge}


def _differences_tab(first: Pipeline) -> gr.Gallery:
    gr.Markdown("Test queries on which one model ranks the ground truth first and the other does not: each card "
                "shows the query, then each model's first choice (green frame: it is the ground truth). "
                f"Up to {views.CARDS_PER_GROUP} of the starkest per direction and winner, so both models' wins "
                "show. **Click a card** to run that query.")
    # filled when the tab is opened (``Handlers.difference_cards``): building the cards matches each query
    return gr.Gallery([], columns=3, height="auto", object_fit="contain", allow_preview=False, show_label=False,
                      interactive=False, buttons=[], elem_classes="li-gallery", elem_id="diff-cards")


def _benchmark_tab(assets_dir: str | Path) -> None:
    """The verdict figure first; each table of RESULTS.md's generated block, then the other plots, folded below."""
    figure = showcase.benchmark_figure(assets_dir)
    if figure:
        gr.Image(str(figure), format="png", show_label=False, interactive=False, buttons=["download", "fullscreen"],
                 alt_text=showcase.FOREST_CAPTION, elem_id="bench-forest")
        gr.Markdown(showcase.FOREST_CAPTION, elem_id="bench-caption")
    if showcase.benchmark_markdown(assets_dir) == showcase.NO_RESULTS:
        gr.Markdown(showcase.NO_RESULTS, elem_id="bench-md")
    else:
        with gr.Column(elem_id="bench-md"):
            for title, body in showcase.benchmark_sections(assets_dir):
                with gr.Accordion(title, open=False):
                    gr.Markdown(body)
    figures = showcase.benchmark_figures(assets_dir)
    if figures:
        with gr.Accordion("More figures: imagined pictures and captions, recall curves", open=False,
                          elem_id="bench-more"):
            gr.Gallery([(str(p), showcase.figure_label(p)) for p in figures], label="Figures", columns=2,
                       height="auto", object_fit="contain", interactive=False, elem_id="bench-figures")


def _json(result: QueryResult, model: str) -> dict:
    return {"model": model, **result.to_json()}


def _gallery_line(pipeline: Pipeline) -> str:
    return f"Gallery: {pipeline.gallery_description}"


def _attribution(pipeline: Pipeline) -> str:
    return f"**Gallery ({pipeline.name}):** {pipeline.attribution}"


def _first(items, default):
    return next(iter(items), default)


def launch_options(assets_dir: str | Path = ASSETS) -> dict:
    """Keyword arguments for ``demo.launch``: look (theme, css) and limits (Gradio 6 puts them here)."""
    theme = gr.themes.Soft(
        primary_hue="indigo",
        neutral_hue="slate",
        font=["ui-sans-serif", "system-ui", "Segoe UI", "Helvetica", "Arial", "sans-serif"],  # no web fonts: offline
        font_mono=["ui-monospace", "SFMono-Regular", "Menlo", "monospace"],
    )
    return {"theme": theme, "css": CSS, "max_file_size": serving.MAX_UPLOAD,
            "allowed_paths": [str(Path(assets_dir).resolve())], "app_kwargs": serving.app_kwargs(API),
            "state_session_capacity": serving.SESSIONS}


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

    def __contains__(self, name: object) -> bool:  # without loading (Mapping's default would load it)
        return name in self._loaders

    def __iter__(self) -> Iterator[str]:
        return iter(self._loaders)

    def __len__(self) -> int:
        return len(self._loaders)


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description="Look, Imagine and Match — the interactive demo.")
    # shapes first: its imagined pictures visibly follow the sentence (judge R-precision 13% against emoji's 4%)
    # and a visitor can check a caption against a picture at a glance; emoji stays one click away.
    parser.add_argument("--dataset", choices=DATASETS, default="shapes", help="shipped pocket models to start with")
    parser.add_argument("--checkpoint", metavar="DIR", help="a checkpoint folder (with gxn/ and baseline/) instead")
    parser.add_argument("--gallery-folder", metavar="DIR", help="search this folder of images + captions.jsonl")
    from lookimagine.pipeline import DEVICES

    parser.add_argument("--device", choices=DEVICES, default="auto")
    parser.add_argument("--host", default=os.environ.get("GRADIO_SERVER_NAME"),
                        help="default: $GRADIO_SERVER_NAME or 127.0.0.1")
    parser.add_argument("--port", type=int, default=_env_int("GRADIO_SERVER_PORT"),
                        help="default: $GRADIO_SERVER_PORT or 7860")
    parser.add_argument("--share", action="store_true", help="make a public gradio.live link")
    parser.add_argument("--warmup", action=argparse.BooleanOptionalAction, default=True,
                        help="run one query per direction before serving (default: on)")
    parser.add_argument("--fake", action="store_true", help="synthetic shapes and fake models: the UI without weights")
    parser.add_argument("--full", action="store_true", default=os.environ.get("LOOKIMAGINE_FULL") == "1",
                        help="offer the zero-shot mode (CLIP + captioner + diffusion) on CPU too; on a GPU it is "
                             "offered anyway (or set LOOKIMAGINE_FULL=1)")
    from lookimagine.full.options import add_model_arguments

    add_model_arguments(parser)
    return parser.parse_args(argv)


def _env_int(name: str) -> int | None:
    value = os.environ.get(name)
    return int(value) if value and value.isdigit() else None


def load_pipelines(args: argparse.Namespace) -> Mapping[str, Pipeline]:
    """Display name → pipeline for ``args``; the first is selected and loaded at start."""
    if args.fake:
        from lookimagine.demo.fake import FakePipeline

        log.warning("--fake: synthetic shapes and fake models, no trained weights")
        fake = FakePipeline()
        return {fake.name: fake}
    try:
        from lookimagine.pipeline import LookImagineMatch
    except ImportError as err:
        raise SystemExit(f"The trained pipeline is not available ({err}).\n{messages.TRY_FAKE}") from None
    device = None if args.device == "auto" else args.device

    def loader(path: Path) -> Callable[[], Pipeline]:
        return lambda: LookImagineMatch.from_pretrained(str(path), device=device, gallery_folder=args.gallery_folder)

    if args.checkpoint:  # a folder, or a Hub id that from_pretrained downloads
        return LazyPipelines({_checkpoint_name(Path(args.checkpoint)): loader(Path(args.checkpoint)),
                              **_zero_shot(args)})
    order = [args.dataset, *(d for d in DATASETS if d != args.dataset)]
    folders = {d: PipelineFolder.shipped(d, ASSETS) for d in order}
    if not folders[args.dataset].exists():
        raise SystemExit(f"No shipped {args.dataset} checkpoints at {folders[args.dataset].root}.\n"
                         f"Train them (see the README), pass --checkpoint DIR, or: {messages.TRY_FAKE}")
    loaders = {f"pocket · {d}": loader(folders[d].root) for d in order if d == args.dataset or folders[d].exists()}
    suffix = " · own gallery" if args.gallery_folder else ""
    return LazyPipelines({**{name + suffix: fn for name, fn in loaders.items()}, **_zero_shot(args)})


def _checkpoint_name(folder: Path) -> str:
    """The selector's name for a checkpoint folder: "GXN over CLIP · …" when its GXN reads open_clip towers."""
    try:
        backbone = json.loads((folder / "gxn" / "config.json").read_text())["model"].get("backbone", "pocket")
    except (OSError, ValueError, KeyError, TypeError, AttributeError):  # a Hub id, or a folder from_pretrained judges
        backbone = "pocket"
    return f"{'GXN over CLIP' if backbone == 'open_clip' else 'checkpoint'} · {folder.name}"


def _zero_shot(args: argparse.Namespace) -> dict[str, Callable[[], Pipeline]]:
    """The full tier's zero-shot entry, loaded when first selected: offered on a GPU, or on CPU when asked
    for (``--full``, ``LOOKIMAGINE_FULL=1``); its gallery is ``--gallery-folder`` or ``--dataset``'s test split."""
    import torch
    from lookimagine.full import options

    if not (args.full or (args.device in ("auto", "cuda") and torch.cuda.is_available())):
        return {}
    try:
        config = options.config_from_args(args)
    except ValueError as err:
        raise SystemExit(f"Zero-shot mode: {err}") from None

    def load() -> Pipeline:
        from lookimagine.full.zero_shot import ZeroShotPipeline

        gr.Info(options.LOADING)
        return ZeroShotPipeline.for_app(config, args.dataset, args.gallery_folder, None if args.device == "auto"
                                        else args.device)

    return {options.NAME: load}


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
        raise SystemExit(f"Could not load the model: {err}\n{messages.TRY_FAKE}") from None
    log.info("torch threads per query: %d", serving.share_cpus())
    if args.warmup:
        warm_up(first)
    demo = build_demo(pipelines)
    demo.launch(server_name=args.host, server_port=args.port, share=args.share, **launch_options())


if __name__ == "__main__":
    sys.exit(main())
