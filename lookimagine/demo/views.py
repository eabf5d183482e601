"""Turn pipeline results into what the app shows — pure functions, no gradio.

Each returns a plain value a Gradio component accepts: a ``Figure`` (plotly's
JSON as dicts) for ``gr.Plot``, ``[(image, caption)]`` for ``gr.Gallery``, rows for
``gr.Dataframe``, markdown strings for ``gr.Markdown``.
"""

from __future__ import annotations

import json
from collections.abc import Sequence

import numpy as np
from PIL import Image

from ..evaluation.differences import Difference
from ..pipeline.look_map import radius
from ..pipeline.outputs import Look, ModelResult, QueryResult, RankedItem

#: one height for both columns' plots, so the columns line up
FIGURE_HEIGHT = 330
COLOURS = {
    "baseline": "#64748b",  # slate: the muted column
    "gxn": "#4f46e5",  # indigo: the accent column
    "gallery": "#94a3b8",
    "other": "#fdba74",  # light orange: the query's own modality
    "truth": "#16a34a",
    "query": "#f59e0b",
}
RANKING_HEADERS = ["#", "caption", "score", "truth"]
DIRECTION_LABELS = {"text_to_image": "text → image", "image_to_text": "image → text"}


def _model_key(title: str) -> str:
    return "baseline" if "baseline" in title.lower() else "gxn"


class Figure(dict):
    """A plotly figure as plain JSON-ready dicts: ``{"data": [trace, ...], "layout": {...}}``.

    ``gr.Plot`` takes it as a plotly figure (it only calls ``to_json``). Built
    from dicts it costs ~1 ms; the same figure through ``plotly.graph_objects``
    took ~60 ms (every property validated, the template expanded), which was
    most of a query's time in the app.
    """

    @property
    def traces(self) -> dict[str, dict]:
        """The named traces, by name."""
        return {t["name"]: t for t in self["data"] if t.get("name")}

    def to_json(self) -> str:
        return json.dumps(self, separators=(",", ":"), allow_nan=False)

    def to_plotly(self):
        """The same figure as a ``plotly.graph_objects.Figure`` (for notebooks and image export)."""
        import plotly.graph_objects as go

        return go.Figure(self)


def look_figure(look: Look, ranking: Sequence[RankedItem], title: str = "", *, model: str | None = None) -> Figure:
    """The Look map (``look_map``): the query at the centre, the better an entry's score the nearer.

    Grey dots: the entries the query is ranked against (images for a sentence,
    captions for a picture); pale triangles: the gallery's other modality;
    numbered dots: the top-k (1 = best), joined to the star by dotted lines;
    green open diamond: a ground-truth entry in the top-k; dotted circles:
    round scores. ``model`` ("baseline"/"gxn") picks the
    colour; by default it is read from the title.
    """
    colour = COLOURS[model or _model_key(title)]
    xy = np.asarray(look.gallery_xy, dtype=float).reshape(-1, 2)
    other = np.asarray(look.other_xy, dtype=float).reshape(-1, 2)
    q = np.asarray(look.query_xy, dtype=float).reshape(2)
    kinds = (look.gallery_kind, "images" if look.gallery_kind == "captions" else "captions")
    fig = Figure(data=[], layout=_look_layout(title))
    _score_rings(fig, look, q, xy)
    if len(other):
        fig["data"].append(_scatter(other, "markers", f"{kinds[1]} (not ranked)", hoverinfo="skip",
                                    marker=dict(size=5, symbol="triangle-up", color=COLOURS["other"], opacity=0.7,
                                                line=dict(width=0))))
    # The hover names the entry by its index (pointNumber): no per-point strings in the payload. A large
    # gallery is drawn as a sample (``look.gallery_index``): then its indices travel as customdata.
    drawn = dict(hovertemplate=f"gallery {kinds[0][:-1]} %{{pointNumber}}<extra></extra>")
    if look.gallery_index is not None:
        drawn = dict(customdata=np.asarray(look.gallery_index).tolist(),
                     hovertemplate=f"gallery {kinds[0][:-1]} %{{customdata}}<extra></extra>")
    name = f"{kinds[0]} (ranked)" if look.gallery_index is None else f"{kinds[0]} (ranked; a sample)"
    fig["data"].append(_scatter(xy, "markers", name, marker=dict(size=6, color=COLOURS["gallery"],
                                                                   line=dict(width=0)), **drawn))
    rows = {it.index: look.row_of(it.index) for it in ranking}
    top = [it for it in ranking if rows[it.index] is not None]
    if top:
        _top_matches(fig, q, xy, top, [rows[it.index] for it in top], colour)
    truth = [it for it in top if it.is_ground_truth]
    if truth:
        fig["data"].append(_scatter(
            xy[[rows[it.index] for it in truth]], "markers", "ground truth",
            marker=dict(symbol="diamond-open", size=27, color=COLOURS["truth"], line=dict(width=3)),
            customdata=[[it.rank, it.id] for it in truth],
            hovertemplate="ground truth · #%{customdata[0]} · %{customdata[1]}<extra></extra>"))
    fig["data"].append(_scatter(q[None], "markers", "query", hovertemplate="the query<extra></extra>",
                                marker=dict(symbol="star", size=22, color=COLOURS["query"],
                                            line=dict(width=1, color="#78350f"))))
    return fig


def _scatter(points: np.ndarray, mode: str, name: str | None, **props) -> dict:
    """A scatter trace over ``points`` (N, 2), coordinates rounded to 4 decimals (the plot is 330 px high)."""
    points = np.round(np.asarray(points, dtype=float).reshape(-1, 2), 4)
    trace = {"type": "scatter", "x": points[:, 0].tolist(), "y": points[:, 1].tolist(), "mode": mode, **props}
    if name:
        trace["name"] = name
    return trace


def _score_rings(fig: Figure, look: Look, q: np.ndarray, xy: np.ndarray) -> None:
    """Dotted circles around the query at round scores (at most four), labelled with their score."""
    reach = float(np.linalg.norm(xy - q, axis=1).max()) if len(xy) else 1.0
    spread = look.centre_score - (look.centre_score - reach**2)  # the score range the map covers
    step = next(s for s in (0.01, 0.02, 0.05, 0.1, 0.2, 0.5, 1.0, 2.0) if spread / s <= 4)
    score, last = np.floor(look.centre_score / step) * step, -reach
    layout = fig["layout"]
    while (r := float(radius(score, look.centre_score))) <= reach:
        score -= step
        if r - last < 0.15 * reach:  # the square-root scale packs low scores: keep the labels apart
            continue
        last = r
        layout["shapes"].append(dict(type="circle", x0=q[0] - r, y0=q[1] - r, x1=q[0] + r, y1=q[1] + r,
                                     layer="below", line=dict(color="#cbd5e1", width=1, dash="dot")))
        layout["annotations"].append(dict(x=q[0], y=q[1] + r, text=f"s*={score + step:.2f}", showarrow=False,
                                          yshift=6, font=dict(size=9, color="#64748b")))


def _top_matches(fig: Figure, q: np.ndarray, xy: np.ndarray, top: Sequence[RankedItem], rows: Sequence[int],
                 colour: str) -> None:
    """The numbered top-k (``rows``: their rows in ``xy``), joined to the query by dotted lines."""
    lines = []  # dotted lines from the query to each match (one trace, gaps as None)
    for row in rows:
        lines += [q, xy[row], (np.nan, np.nan)]
    dotted = _scatter(np.array(lines), "lines", None, hoverinfo="skip", showlegend=False,
                      line=dict(color=colour, width=1, dash="dot"))
    dotted["x"] = [None if v != v else v for v in dotted["x"]]  # NaN → null: the gaps
    dotted["y"] = [None if v != v else v for v in dotted["y"]]
    fig["data"].append(dotted)
    fig["data"].append(_scatter(
        xy[list(rows)], "markers+text", f"top {len(top)}",
        marker=dict(size=17, color=colour, line=dict(width=1, color="white")),
        text=[str(it.rank) for it in top], textposition="middle center", textfont=dict(color="white", size=10),
        customdata=[[it.id, _short(it.caption, 60), f"{it.score:.3f}"] for it in top],
        hovertemplate="#%{text} · %{customdata[0]}<br>%{customdata[1]}<br>score %{customdata[2]}<extra></extra>"))


def _look_layout(title: str) -> dict:
    """The layout: white, no axes (positions mean nothing but distance), the legend above the plot."""
    axis = dict(showticklabels=False, zeroline=False, showgrid=False, title=None, showline=False)
    return dict(
        title=dict(text=title, font=dict(size=14), x=0.01, y=0.98, yanchor="top") if title else None,
        height=FIGURE_HEIGHT,
        margin=dict(l=6, r=6, t=74 if title else 50, b=22),
        paper_bgcolor="white", plot_bgcolor="white", font=dict(color="#2a3f5f"),
        showlegend=True,
        # Above the plot area, so it never hides gallery points.
        legend=dict(orientation="h", yanchor="bottom", y=1.01, xanchor="right", x=1.0, font=dict(size=11)),
        hoverlabel=dict(font_size=12),
        dragmode="pan",
        xaxis=axis, yaxis=dict(axis, scaleanchor="x"),
        shapes=[],
        annotations=[dict(text="nearer the star = higher score s*; alike entries lie in alike directions",
                          xref="paper", yref="paper", x=0.5, y=-0.01, yanchor="top", showarrow=False,
                          font=dict(size=10, color="#64748b"))],
    )


def _short(text: str, n: int) -> str:
    return text if len(text) <= n else text[: n - 1].rstrip() + "…"


def truth_mark(it: RankedItem) -> str:
    """What is known of one result: the checker's "✓ true" / "✗ false" (where it is the ground truth, by
    meaning), else "✓ ground truth" (by caption text) or ""."""
    if it.is_true is not None:
        return "✓ true" if it.is_true else "✗ false"
    return "✓ ground truth" if it.is_ground_truth else ""


def _score_caption(it: RankedItem) -> str:
    # Short enough for a thumbnail's label, the mark first so that a narrow label still shows it; the rank
    # badge and the status line spell out the rest.
    mark = truth_mark(it).split(" ")[0]
    return (f"{mark} " if mark else "") + f"#{it.rank} · {it.score:.3f}"


def ranking_gallery(result: ModelResult) -> list[tuple[Image.Image, str]]:
    """Text → image ranking for ``gr.Gallery``: ``(image, "✓ #1 · 0.812")`` (✓ / ✗: ``truth_mark``)."""
    return [(it.image, _score_caption(it)) for it in result.ranking if it.image is not None]


def ranking_table(result: ModelResult) -> list[list]:
    """Image → text ranking as rows ``[rank, caption, "0.812", truth_mark]`` (see ``RANKING_HEADERS``).

    Scores are formatted strings so that every row shows three decimals.
    """
    return [[it.rank, it.caption, f"{it.score:.3f}", truth_mark(it)] for it in result.ranking]


def ranking_markdown(result: ModelResult) -> str:
    """The same ranking as a markdown table, ground truth in bold."""
    lines = ["| # | caption | score | |", "|---:|---|---:|:---:|"]
    for it in result.ranking:
        caption = _md_escape(it.caption)
        caption = f"**{caption}**" if it.is_ground_truth else caption
        lines.append(f"| {it.rank} | {caption} | {it.score:.3f} | {truth_mark(it)} |")
    return "\n".join(lines)


def _md_escape(text: str) -> str:
    return text.replace("|", "\\|").replace("*", "\\*").replace("_", "\\_").replace("<", "&lt;")


def rank_badge(result: ModelResult) -> str:
    """Where the ground truth landed, as one markdown line."""
    n = result.look.n_ranked
    timing = f" · {result.seconds * 1000:.0f} ms"
    if result.ground_truth_beyond is not None:
        return f"Ground truth not among the {result.ground_truth_beyond} best of {n:,} (indexed search){timing}"
    checked = "" if result.n_true is None else f" · {result.n_true} of the top {len(result.ranking)} true"
    if result.ground_truth_rank is None:
        if checked:
            return f"Checked by meaning{checked}{timing}"
        return f"Query not from the gallery: no ground truth{timing}"
    r, k = result.ground_truth_rank, len(result.ranking)
    if r <= k:
        return f"✓ Ground truth at rank {r} of {n}{checked}{timing}"
    return f"Ground truth at rank {r} of {n} (outside the top {k}){checked}{timing}"


def imagined_caption_markdown(result: ModelResult) -> str:
    """GXN's generated caption as a quote, or the model's note (the baseline's "no generator")."""
    if result.imagined.caption:
        return f"> {_md_escape(result.imagined.caption)}"
    return f"*{result.imagined.note or 'Nothing imagined.'}*"


def imagined_gallery(result: ModelResult) -> list[tuple[Image.Image, str]]:
    """GXN's generated pictures for ``gr.Gallery``, captioned "sample 1", "sample 2", ... or, where each is the
    best of k drawings by GXN's own match, "1 · best of 8", "2 · best of 8", ... (a caption wider than about 15
    characters is cut off under the thumbnail)."""
    k = result.imagined.best_of
    return [(im, f"{i + 1} · best of {k}" if k > 1 else f"sample {i + 1}")
            for i, im in enumerate(result.imagined.images)]


def imagine_note_markdown(result: ModelResult) -> str:
    """The imagine panel of a model that generated nothing (the baseline)."""
    return f"*{result.imagined.note or 'Nothing imagined.'}*"


def notices_markdown(result: QueryResult) -> str:
    """The pipeline's notices (truncation, unknown words) as one line, or "" when there are none."""
    return " · ".join(f"⚠ {_md_escape(n)}" for n in result.notices)


def summary_markdown(result: QueryResult, titles: tuple[str, str] = ("Baseline", "GXN")) -> str:
    """The status line: where the two models (``titles``: the baseline's, the imagining model's) put the ground
    truth, and, where a checker reads the query, of how many images it is true and each model's precision."""
    b, g = result.baseline.ground_truth_rank, result.gxn.ground_truth_rank
    check = check_markdown(result, titles)
    if b is None or g is None:
        if result.check is not None and result.check.understood:
            return check
        line = "The query is not from the gallery, so there is no ground truth to compare."
        return f"{line}  \n{check}" if check else line
    if b == g:
        line = f"Both models put the ground truth at rank {g}."
    else:
        better = titles[1] if g < b else titles[0]
        line = f"{better} ranks the ground truth higher: {titles[1]} {g}, {titles[0].lower()} {b}."
    return f"{line}  \n{check}" if check else line


def check_markdown(result: QueryResult, titles: tuple[str, str] = ("Baseline", "GXN")) -> str:
    """The checker's line (``checking``): "true of N of the 1,000 gallery images · precision@k …", or ""."""
    c, b, g = result.check, result.baseline, result.gxn
    if c is not None and not c.understood:
        return (f"**Not checked:** {_md_escape(c.note)}. The models still ranked it; the results are unmarked "
                "(the checker reads colours, sizes, shapes, counts and left/right/above/below).")
    if b.precision_at_k is None or g.precision_at_k is None:
        return ""
    k = len(g.ranking)
    precision = (f"precision@{k}: {titles[1]} **{g.n_true}/{k}**, "
                 f"{titles[0].lower()} **{b.n_true}/{len(b.ranking)}** (✓ / ✗ on each result)")
    if c is None:  # an image query from the gallery: its captions checked against it
        return f"Checked by meaning against the picture: {precision}."
    if c.true_of == 0:
        return (f"Checked by meaning: the sentence is true of **none** of the {c.gallery_size:,} gallery images, "
                f"so every result is ✗ — {precision}.")
    return (f"Checked by meaning: the sentence is true of **{c.true_of:,} of the {c.gallery_size:,}** gallery "
            f"images — {precision}.")


#: the panels of one result, in the order ``result_panels`` fills them
PANELS = ("status", "baseline_look", "baseline_imagine", "baseline_match", "baseline_badge",
          "gxn_look", "gxn_imagine", "gxn_match", "gxn_badge")


def result_panels(result: QueryResult, titles: tuple[str, str] = ("Baseline", "GXN")) -> dict[str, object]:
    """Everything the two columns show for one query, keyed by ``PANELS``.

    Text → image: Match is a gallery, GXN's Imagine a gallery of pictures.
    Image → text: Match is a table, GXN's Imagine a caption. The baseline's
    Imagine is its note either way.
    """
    b, g = result.baseline, result.gxn
    text_query = result.direction == "text_to_image"
    match = ranking_gallery if text_query else ranking_table
    status = summary_markdown(result, titles)
    notices = notices_markdown(result)
    return {
        "status": f"{status}  \n{notices}" if notices else status,
        "baseline_look": look_figure(b.look, b.ranking, model="baseline"),
        "baseline_imagine": imagine_note_markdown(b),
        "baseline_match": match(b),
        "baseline_badge": rank_badge(b),
        "gxn_look": look_figure(g.look, g.ranking, model="gxn"),
        "gxn_imagine": imagined_gallery(g) if text_query else imagined_caption_markdown(g),
        "gxn_match": match(g),
        "gxn_badge": rank_badge(g),
    }


# ---------------------------------------------------------------------------- "Where they differ" cards

#: cards shown per direction and winner (the file keeps the starkest disagreements first)
CARDS_PER_GROUP = 12
_CARD = dict(panel=120, gap=8, label=38)


def pick_differences(rows: Sequence[Difference], per_group: int = CARDS_PER_GROUP) -> list[Difference]:
    """The first ``per_group`` rows of each (direction, winner), in file order: as many wins shown for each model.

    A caption text that several images share is one query: it is shown once.
    """
    seen: dict[tuple[str, str], int] = {}
    picked, texts = [], set()
    for row in rows:
        group = (row.direction, row.winner)
        if row.query_text is not None and row.query_text in texts:
            continue
        texts.add(row.query_text)
        if seen.get(group, 0) < per_group:
            seen[group] = seen.get(group, 0) + 1
            picked.append(row)
    return picked


def difference_card(query: str | Image.Image, result: QueryResult,
                    titles: tuple[str, str] = ("Baseline", "GXN")) -> Image.Image:
    """One disagreement as a picture: the query, then each model's first choice, from ``result`` (the query run
    now, k ≥ 1). A caption is drawn as text in a grey box; a first choice that is the ground truth gets a green
    frame, the other says where that model ranks the ground truth.
    """
    from PIL import ImageDraw, ImageFont

    p, gap, label = _CARD["panel"], _CARD["gap"], _CARD["label"]
    card = Image.new("RGB", (3 * p + 4 * gap, p + label + 2 * gap), "white")
    draw = ImageDraw.Draw(card)
    font, small = ImageFont.load_default(size=13), ImageFont.load_default(size=12)
    # the card's font (Pillow's own, so it draws the same everywhere) has no arrows or ticks: plain words
    panels = [(query, "query", result.direction.replace("_", " "), "#cbd5e1")]
    for r, title in zip((result.baseline, result.gxn), titles):
        top = r.ranking[0]
        rank = r.ground_truth_rank
        verdict = "= ground truth" if rank == 1 else (f"truth at rank {rank}" if rank else "truth not found")
        panels.append((top.image if top.image is not None else top.caption, f"{title}'s first", verdict,
                       COLOURS["truth"] if rank == 1 else "#cbd5e1"))
    for i, (content, head, sub, frame) in enumerate(panels):
        x, y = gap + i * (p + gap), gap
        if isinstance(content, Image.Image):
            card.paste(content.convert("RGB").resize((p, p), Image.Resampling.LANCZOS), (x, y))
        else:
            draw.rectangle((x, y, x + p - 1, y + p - 1), fill="#f1f5f9")
            _draw_wrapped(draw, str(content), (x + 6, y + 6), p - 12, font)
        draw.rectangle((x - 2, y - 2, x + p + 1, y + p + 1), outline=frame, width=3 if frame != "#cbd5e1" else 1)
        draw.text((x, y + p + 6), head, fill="#334155", font=font)
        draw.text((x, y + p + 22), sub, fill=COLOURS["truth"] if sub.startswith("=") else "#64748b", font=small)
    return card


def _draw_wrapped(draw, text: str, origin: tuple[int, int], width: int, font) -> None:
    """``text`` wrapped to ``width`` pixels from ``origin``, at most seven lines (the last ends in "…")."""
    lines, line = [], ""
    for word in text.split():
        trial = f"{line} {word}".strip()
        if draw.textlength(trial, font=font) <= width or not line:
            line = trial
        else:
            lines.append(line)
            line = word
    lines.append(line)
    if len(lines) > 7:
        lines = lines[:6] + [lines[6] + "…"]
    for j, text_line in enumerate(lines):
        draw.text((origin[0], origin[1] + 15 * j), text_line, fill="#0f172a", font=font)


def difference_label(result: QueryResult, titles: tuple[str, str] = ("Baseline", "GXN")) -> str:
    """The card's caption: where each model ranks the ground truth, the better first."""
    ranks = {titles[0]: result.baseline.ground_truth_rank, titles[1]: result.gxn.ground_truth_rank}
    order = sorted(ranks, key=lambda t: ranks[t] or 10**9)
    shown = ", ".join(f"{t.lower() if i else t} {ranks[t] or '–'}" for i, t in enumerate(order))
    return f"{DIRECTION_LABELS[result.direction]} · ground truth: {shown}"
