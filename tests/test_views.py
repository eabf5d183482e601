"""The pure view functions the app renders, on FakePipeline results; and the input checks."""

import dataclasses
import json
from pathlib import Path

import numpy as np
import plotly.graph_objects as go
import pytest
from PIL import Image

from lookimagine.demo import showcase, views
from lookimagine.demo.fake import FakePipeline
from lookimagine.pipeline import validation
from lookimagine.pipeline.messages import NO_GENERATOR as BASELINE_NOTE
from lookimagine.pipeline.outputs import QueryError


@pytest.fixture(scope="module")
def fake():
    return FakePipeline()


@pytest.fixture(scope="module")
def text_result(fake):
    # A gallery caption, so there is a ground truth to mark.
    return fake.run(fake.examples("text_to_image")[1], k=5, n_images=3)


@pytest.fixture(scope="module")
def image_result(fake):
    return fake.run(fake.examples("image_to_text")[2], k=4)


def test_look_figure_marks_gallery_topk_query_and_truth(text_result):
    g = text_result.gxn
    fig = views.look_figure(g.look, g.ranking, "GXN")
    by_name = fig.traces
    assert len(by_name["images (ranked)"]["x"]) == len(g.look.gallery_xy)
    assert len(by_name["captions (not ranked)"]["x"]) == len(g.look.other_xy)  # both modalities
    top = by_name[f"top {len(g.ranking)}"]
    assert list(top["text"]) == [str(i) for i in range(1, len(g.ranking) + 1)]
    assert by_name["query"]["marker"]["symbol"] == "star"
    assert (by_name["query"]["x"][0], by_name["query"]["y"][0]) == pytest.approx(tuple(g.look.query_xy), abs=1e-4)
    if any(it.is_ground_truth for it in g.ranking):
        assert by_name["ground truth"]["marker"]["symbol"] == "diamond-open"
    # Hover names the caption of each match.
    assert g.ranking[0].caption[:20] in top["customdata"][0][1]


def test_look_figure_is_valid_plotly_json(text_result, image_result):
    """Built from dicts for speed, so plotly's own validation runs here instead: every property must exist."""
    for result in (text_result, image_result):
        for m in (result.baseline, result.gxn):
            fig = views.look_figure(m.look, m.ranking, model="gxn")
            assert isinstance(fig.to_plotly(), go.Figure)  # raises on an unknown or invalid property
            assert json.loads(fig.to_json()) == json.loads(json.dumps(fig))


def test_look_figures_have_one_size_and_model_colours(text_result):
    b = views.look_figure(text_result.baseline.look, text_result.baseline.ranking, "Baseline")
    g = views.look_figure(text_result.gxn.look, text_result.gxn.ranking, "GXN")
    assert b["layout"]["height"] == g["layout"]["height"] == views.FIGURE_HEIGHT
    top_colour = lambda fig: next(t for n, t in fig.traces.items() if n.startswith("top"))["marker"]["color"]  # noqa: E731
    assert top_colour(b) == views.COLOURS["baseline"] and top_colour(g) == views.COLOURS["gxn"]


def test_look_figure_without_ranking_still_draws():
    look = validation_look()
    fig = views.look_figure(look, (), "")
    assert list(fig.traces) == ["images (ranked)", "query"]


def validation_look():
    from lookimagine.pipeline.outputs import Look

    return Look(embedding=np.zeros(4), gallery_xy=np.random.default_rng(0).normal(size=(10, 2)), query_xy=np.zeros(2))


def test_ranking_gallery_captions(text_result):
    items = views.ranking_gallery(text_result.gxn)
    assert len(items) == len(text_result.gxn.ranking)
    image, caption = items[0]
    assert isinstance(image, Image.Image)
    assert caption.split(" ", 1)[1].startswith("#1 · ")
    # the fake's gallery is shapes: the checker marks each image true or false of the sentence (the ground
    # truth, by meaning), the mark first
    truth = [c for _, c in items if c.startswith("✓ ")]
    assert len(truth) == sum(it.is_ground_truth for it in text_result.gxn.ranking)
    assert all(c.startswith(("✓ #", "✗ #")) for _, c in items)


def test_ranking_table_and_markdown(image_result):
    rows = views.ranking_table(image_result.gxn)
    assert len(rows) == 4 and len(rows[0]) == len(views.RANKING_HEADERS)
    assert [r[0] for r in rows] == [1, 2, 3, 4]
    assert all(r[2] == f"{it.score:.3f}" for r, it in zip(rows, image_result.gxn.ranking))
    assert {r[3] for r in rows} <= {"✓ ground truth", "✓ true", "✗ false"}
    md = views.ranking_markdown(image_result.gxn)
    assert md.count("\n") == 1 + 4


def test_rank_badge(fake, text_result):
    badge = views.rank_badge(text_result.gxn)
    assert f"Ground truth at rank {text_result.gxn.ground_truth_rank} of {fake.n_gallery}" in badge
    row = next(r for r in fake.differences() if r.direction == "text_to_image" and r.baseline_rank > 1)
    outside = fake.run(row.query_text, k=1)
    assert views.rank_badge(outside.baseline).startswith(f"Ground truth at rank {row.baseline_rank} of ")
    assert "(outside the top 1)" in views.rank_badge(outside.baseline)
    not_from_gallery = fake.run("red", k=3)
    assert views.rank_badge(not_from_gallery.gxn).startswith("Query not from the gallery: no ground truth")


def test_imagine_views(text_result, image_result):
    assert [c for _, c in views.imagined_gallery(text_result.gxn)] == ["sample 1", "sample 2", "sample 3"]
    chosen = dataclasses.replace(text_result.gxn, imagined=dataclasses.replace(text_result.gxn.imagined, best_of=8))
    assert [c for _, c in views.imagined_gallery(chosen)][:2] == ["1 · best of 8", "2 · best of 8"]
    assert views.imagined_gallery(text_result.baseline) == []
    assert BASELINE_NOTE in views.imagine_note_markdown(text_result.baseline)
    assert views.imagined_caption_markdown(image_result.gxn).startswith("> a ")


def test_notices_and_summary(fake):
    result = fake.run("a red zorblax circle " * 20, k=3)
    line = views.notices_markdown(result)
    assert "truncated to 200 characters" in line and "zorblax" in line
    assert "ground truth" in views.summary_markdown(result)


def test_difference_cards_show_the_query_and_each_first_choice(fake):
    rows = views.pick_differences(fake.differences(), per_group=2)
    groups = [(r.direction, r.winner) for r in rows]
    assert all(groups.count(g) <= 2 for g in groups) and len(set(groups)) > 1
    texts = [r.query_text for r in rows if r.query_text is not None]
    assert len(texts) == len(set(texts))  # a shared caption is one query
    for row in rows:
        query = fake.query_of(row.direction, row.query_id)
        result = fake.run(query, k=1)
        card = views.difference_card(query, result)
        assert card.size == (3 * 120 + 4 * 8, 120 + 38 + 16)
        # the query's own thumbnail (image queries) or text box, then the two first choices
        panel = np.asarray(card)[8:128, 8:128]
        if row.direction == "image_to_text":
            assert np.abs(panel.astype(int) - np.asarray(query.resize((120, 120)))).mean() < 8
        green = np.array([0x16, 0xa3, 0x4a])
        frames = [bool((np.asarray(card)[6, x:x + 120] == green).all(axis=1).any()) for x in (136, 264)]
        assert frames == [result.baseline.ground_truth_rank == 1, result.gxn.ground_truth_rank == 1]
        label = views.difference_label(result)
        assert label.startswith(views.DIRECTION_LABELS[row.direction]) and "ground truth:" in label


def test_showcase_without_results(tmp_path):
    assert "No benchmark results shipped yet" in showcase.benchmark_markdown(tmp_path)
    assert showcase.benchmark_figures(tmp_path) == []
    assert showcase.benchmark_figure(tmp_path) is None


def test_showcase_with_results(tmp_path):
    (tmp_path / "results").mkdir()
    (tmp_path / "results" / "tables.md").write_text(
        "<!-- generated -->\n\n#### emoji: GXN against its baseline\n\n| model | R@1 |\n|---|---|\n| GXN | 50 |\n\n"
        "![imagined, emoji](assets/figures/emoji_imagined.png)\n\n### Speed and memory\n\n| a |\n|---|\n| 1 |\n")
    (tmp_path / "figures").mkdir()
    for name in ("emoji_imagined.png", "emoji_recall.png", "shapes_recall.png", "other.png", "verdict_forest.png"):
        Image.new("RGB", (4, 4)).save(tmp_path / "figures" / name)
    assert "GXN" in showcase.benchmark_markdown(tmp_path) and "![" not in showcase.benchmark_markdown(tmp_path)
    sections = showcase.benchmark_sections(tmp_path)
    assert [title for title, _ in sections] == ["emoji: GXN against its baseline", "Speed and memory"]
    assert "| GXN | 50 |" in sections[0][1] and "<!-- generated -->" in sections[0][1] and "####" not in sections[0][1]
    assert showcase.benchmark_figure(tmp_path) == tmp_path / "figures" / "verdict_forest.png"
    figures = showcase.benchmark_figures(tmp_path)
    assert [p.name for p in figures] == ["emoji_imagined.png", "emoji_recall.png", "shapes_recall.png"]
    assert [showcase.figure_label(p) for p in figures] == [
        "emoji imagined", "emoji recall (first recipe, superseded)", "shapes recall (first recipe, superseded)"]


def test_the_shipped_assets_give_the_benchmark_figure_and_folded_tables():
    assets = Path(__file__).resolve().parents[1] / "assets"
    assert showcase.benchmark_figure(assets) == assets / "figures" / "verdict_forest.png"
    titles = [title for title, _ in showcase.benchmark_sections(assets)]
    assert any(t.startswith("shapes: GXN against its baseline") for t in titles), titles
    assert any(t.startswith("emoji: GXN against its baseline") for t in titles), titles


# ----------------------------------------------------------------- validation


@pytest.mark.parametrize("text", ["", "   ", "\n\t ", None])
def test_clean_text_refuses_empty(text):
    with pytest.raises(QueryError, match="empty"):
        validation.clean_text(text, 50)


def test_clean_text_truncates_and_normalises():
    text, notices = validation.clean_text("  a\x00 red\t\tcircle  " + "x" * 100, 20)
    assert text == "a red circle xxxxxxx" and len(text) <= 20
    assert notices == ("Query truncated to 20 characters.",)
    assert validation.clean_text("a red circle", 20) == ("a red circle", ())


def test_unknown_words_notice():
    assert validation.unknown_words_notice([]) is None
    assert validation.unknown_words_notice(["foo", "bar", "foo"]) == "Unknown words ignored: foo, bar"


def test_load_query_image_messages(tmp_path):
    bad = tmp_path / "notes.png"
    bad.write_text("not a picture")
    with pytest.raises(QueryError, match="not a readable image") as err:
        validation.load_query_image(bad)
    assert str(tmp_path) not in str(err.value)  # no server paths in messages
    with pytest.raises(QueryError, match="too large"):
        validation.load_query_image(Image.new("RGB", (300, 300)), max_pixels=10_000)
    with pytest.raises(QueryError, match="No image"):
        validation.load_query_image(None)
    rgba = Image.new("RGBA", (8, 8), (255, 0, 0, 0))
    assert validation.load_query_image(rgba).getpixel((0, 0)) == (255, 255, 255)


def test_max_pixels_matches_the_image_reader():
    from lookimagine.data import images

    assert validation.MAX_PIXELS == images.MAX_PIXELS


def test_fake_pipeline_is_deterministic_and_models_differ(fake):
    a = FakePipeline().run("a big red circle on the left", k=5, seed=3, n_images=2)
    b = FakePipeline().run("a big red circle on the left", k=5, seed=3, n_images=2)
    assert [i.id for i in a.gxn.ranking] == [i.id for i in b.gxn.ranking]
    assert all(np.array_equal(np.asarray(x), np.asarray(y)) for x, y in zip(a.gxn.imagined.images, b.gxn.imagined.images))
    c = FakePipeline().run("a big red circle on the left", k=5, seed=4, n_images=2)
    assert any(not np.array_equal(np.asarray(x), np.asarray(y)) for x, y in zip(a.gxn.imagined.images, c.gxn.imagined.images))
    assert a.baseline.imagined.images == () and a.baseline.imagined.note == BASELINE_NOTE
    rows = fake.differences()
    assert rows and all(r.baseline_rank != r.gxn_rank for r in rows)
    assert fake.query_of(rows[0].direction, rows[0].query_id) is not None


def test_fake_pipeline_marks_gallery_image_ground_truth(fake):
    image = fake.examples("image_to_text")[0]
    result = fake.run(image, k=3)
    assert result.gxn.ground_truth_rank is not None and result.baseline.ground_truth_rank is not None
    assert result.gxn.imagined.caption


def test_app_module_imports_without_side_effects():
    import app

    root = Path(app.__file__).parent
    assert not (root / "app.pyi").exists()
    assert callable(app.build_demo) and callable(app.main)


def test_result_panels_per_direction(text_result, image_result):
    t = views.result_panels(text_result)
    assert tuple(t) == views.PANELS
    assert isinstance(t["gxn_look"], views.Figure) and isinstance(t["baseline_look"], views.Figure)
    assert isinstance(t["gxn_imagine"], list) and len(t["gxn_imagine"]) == 3  # pictures
    assert isinstance(t["gxn_match"][0][0], Image.Image)  # a gallery of (image, caption)
    assert "no generator" in t["baseline_imagine"]
    i = views.result_panels(image_result)
    assert i["gxn_imagine"].startswith("> ")  # a caption
    assert i["gxn_match"] == views.ranking_table(image_result.gxn)
    assert "Ground truth at rank" in i["gxn_badge"]


def test_a_difference_the_models_cannot_run_gets_no_card_and_the_rest_do():
    """A test caption of words the models never saw is refused by the pipeline (QueryError): switching to the
    model must still build the other cards (it once failed the whole model switch)."""
    import app

    pipeline = FakePipeline()
    rows = views.pick_differences(pipeline.differences())
    bad = next(r for r in rows if r.direction == "text_to_image")
    refused = pipeline.query_of(bad.direction, bad.query_id)  # a caption: compared by value
    run = pipeline.run

    def strict_run(query, *args, **kwargs):
        if isinstance(query, str) and query == refused:
            raise QueryError("None of the words in the query are in the model's vocabulary")
        return run(query, *args, **kwargs)

    pipeline.run = strict_run
    cards, shown = app.Handlers({"fake": pipeline}).difference_cards("fake")
    assert len(cards) == len(shown) == len(rows) - 1 and bad not in shown
