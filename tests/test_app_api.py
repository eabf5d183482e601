"""The app's named API endpoints, driven with gradio_client against the tiny real pipeline.

Every bad input must come back as ``AppError`` with a clear message, odd but
valid images must work, and the app must keep answering afterwards. The
pipeline is ``LookImagineMatch`` on the tiny checkpoints (``tiny_pipeline_dir``),
so the checks and messages tested are the real ones.
"""

import io
import struct
import zlib

import numpy as np
import pytest
from PIL import Image

gradio_client = pytest.importorskip("gradio_client")
from gradio_client import Client, handle_file  # noqa: E402
from gradio_client.exceptions import AppError  # noqa: E402

import app  # noqa: E402
from lookimagine.data.cache import ENV_VAR  # noqa: E402
from lookimagine.demo.fake import FakePipeline  # noqa: E402
from lookimagine.tools.hostile import CASES  # noqa: E402

MAIN, OTHER = "pocket · shapes", "pocket · shapes (exploding)"
pytestmark = [
    pytest.mark.timeout(300),
    # Gradio's queue calls pandas APIs that pandas 3 deprecates; not ours to fix.
    pytest.mark.filterwarnings("ignore:.*no_silent_downcasting:DeprecationWarning"),
    pytest.mark.filterwarnings("ignore:The copy keyword is deprecated:DeprecationWarning"),
]


class Exploding:
    """The same pipeline under another name, failing unexpectedly (not a ``QueryError``) on text with "explode"."""

    def __init__(self, pipeline, name: str):
        self._pipeline, self.name = pipeline, name

    def __getattr__(self, attr):
        return getattr(self._pipeline, attr)

    def run(self, query, *args, **kwargs):
        if isinstance(query, str) and "explode" in query:
            raise RuntimeError("told to fail on 'explode'")
        return self._pipeline.run(query, *args, **kwargs)


@pytest.fixture(scope="module")
def pipe(tiny_pipeline_dir, tmp_path_factory):
    from lookimagine.pipeline import LookImagineMatch

    with pytest.MonkeyPatch.context() as mp:
        mp.setenv(ENV_VAR, str(tmp_path_factory.mktemp("app-cache")))
        yield LookImagineMatch.from_pretrained(tiny_pipeline_dir, device="cpu", progress=False)


@pytest.fixture(scope="module")
def client(pipe):
    assert pipe.name == MAIN
    demo = app.build_demo({MAIN: pipe, OTHER: Exploding(pipe, OTHER)})
    _, url, _ = demo.launch(prevent_thread_lock=True, quiet=True, **app.launch_options())
    try:
        yield Client(url, verbose=False)
    finally:
        demo.close()


def t2i(client, text, k=5, seed=0, n_images=1, model=MAIN):
    return client.predict(text, k, seed, n_images, model, api_name="/text_to_image")


def i2t(client, path, k=5, model=MAIN):
    return client.predict(handle_file(str(path)), k, model, api_name="/image_to_text")


# ------------------------------------------------------------------ files


def png_bytes(image: Image.Image, **kwargs) -> bytes:
    buf = io.BytesIO()
    image.save(buf, format="PNG", **kwargs)
    return buf.getvalue()


def with_ihdr_size(png: bytes, width: int, height: int) -> bytes:
    """The PNG with its IHDR claiming width × height (CRC fixed), pixel data unchanged."""
    assert png[12:16] == b"IHDR"
    body = struct.pack(">II", width, height) + png[24:29]
    crc = struct.pack(">I", zlib.crc32(b"IHDR" + body) & 0xFFFFFFFF)
    return png[:16] + body + crc + png[33:]


def noise(size=(64, 64), seed=0) -> Image.Image:
    return Image.fromarray(np.random.default_rng(seed).integers(0, 256, (*size, 3), dtype=np.uint8))


@pytest.fixture(scope="module")
def files(tmp_path_factory, pipe):
    d = tmp_path_factory.mktemp("uploads")
    out = {}

    def put(name, data):
        out[name.split(".")[0]] = d / name
        (d / name).write_bytes(data)

    gallery = pipe.examples("image_to_text")[0]
    put("gallery.png", png_bytes(gallery))
    put("text.png", b"This is a text file with a .png name.\n")
    good = png_bytes(noise())
    put("truncated.png", good[: len(good) // 2])
    idat = good.index(b"IDAT")
    garbled = bytearray(good)
    garbled[idat + 8 : idat + 200] = bytes(192)  # zeros inside the zlib stream; CRC no longer matches
    put("garbled.png", bytes(garbled))
    small = png_bytes(Image.new("RGB", (1, 1)))
    put("huge.png", with_ihdr_size(small, 8000, 6000))  # 48 MP: over the app's limit, under Pillow's
    put("bomb.png", with_ihdr_size(small, 100_000, 100_000))  # 10 GP: Pillow's own guard
    # Odd but valid images.
    rgba = Image.new("RGBA", (64, 64), (0, 0, 0, 0))
    rgba.paste((214, 48, 49, 255), (16, 16, 48, 48))
    put("rgba.png", png_bytes(rgba))
    put("palette.png", png_bytes(gallery.convert("P", palette=Image.Palette.ADAPTIVE, colors=16)))
    buf = io.BytesIO()
    Image.new("CMYK", (64, 64), (0, 200, 200, 0)).save(buf, format="JPEG")
    put("cmyk.jpg", buf.getvalue())
    a16 = (np.linspace(0, 65535, 64 * 64).reshape(64, 64)).astype(np.uint16)
    put("gray16.png", png_bytes(Image.fromarray(a16)))  # uint16 -> mode I;16
    put("gray.png", png_bytes(gallery.convert("L")))
    buf = io.BytesIO()
    frames = [gallery, noise(seed=1), noise(seed=2)]
    frames[0].save(buf, format="GIF", save_all=True, append_images=frames[1:], duration=100, loop=0)
    put("animated.gif", buf.getvalue())
    return out


# ------------------------------------------------------------------ endpoints


def test_view_api_lists_exactly_the_named_endpoints(client):
    endpoints = client.view_api(print_info=False, return_format="dict")["named_endpoints"]
    assert set(endpoints) == {"/text_to_image", "/image_to_text"}
    params = [p["parameter_name"] for p in endpoints["/text_to_image"]["parameters"]]
    assert params == ["text", "k", "seed", "n_images", "model"]
    assert [p["parameter_name"] for p in endpoints["/image_to_text"]["parameters"]] == ["image", "k", "model"]


def test_text_to_image_json(client, pipe):
    caption = next(c for c in pipe.examples("text_to_image") if len(c.split()) <= 10)  # read whole: no notice
    out = t2i(client, caption, k=4, n_images=3)
    assert out["model"] == MAIN and out["direction"] == "text_to_image" and out["query_text"] == caption
    for name in ("baseline", "gxn"):
        r = out[name]
        assert r["model"] == name and len(r["ranking"]) == 4
        assert [it["rank"] for it in r["ranking"]] == [1, 2, 3, 4]
        assert set(r["ranking"][0]) == {"rank", "id", "score", "caption", "is_ground_truth", "is_true"}
        assert r["ground_truth_rank"] is not None
    assert out["gxn"]["imagined_images"] == 3
    assert out["baseline"]["imagined_images"] == 0 and "no generator" in out["baseline"]["imagine_note"]
    assert out["notices"] == []
    assert out["check"]["understood"] and out["check"]["true_of"] >= 1  # a gallery caption is true of its image


def test_free_sentences_are_marked_by_the_checker_through_the_api(client, pipe):
    """Each result's is_true, the count of true gallery images and precision@k, against brute force."""
    from lookimagine.data.shapes import caption_is_true

    dataset = pipe.gallery.dataset
    ids = [dataset.id_of(i) for i in range(len(dataset))]
    for sentence in ("a small green square", "two red shapes", "a gray star above a blue circle"):
        out = t2i(client, sentence, k=8)
        truth = [caption_is_true(sentence, dataset.scene_of(i)) for i in range(len(dataset))]
        assert out["check"] == {"understood": True, "true_of": sum(truth), "gallery_size": 1000, "note": ""}
        for name in ("baseline", "gxn"):
            marks = [truth[ids.index(it["id"])] for it in out[name]["ranking"]]
            assert [it["is_true"] for it in out[name]["ranking"]] == marks
            assert out[name]["precision_at_k"] == pytest.approx(sum(marks) / 8)
            assert (out[name]["ground_truth_rank"] is None) == (sum(truth) == 0)
    out = t2i(client, "a red circle wearing a hat", k=3)
    assert out["check"]["understood"] is False and "hat" in out["check"]["note"] and "wearing" in out["check"]["note"]
    assert out["gxn"]["precision_at_k"] is None and all(it["is_true"] is None for it in out["gxn"]["ranking"])


def test_image_to_text_json(client, files):
    out = i2t(client, files["gallery"], k=3)
    assert out["direction"] == "image_to_text" and out["query_text"] is None
    assert isinstance(out["gxn"]["imagined_caption"], str) and out["gxn"]["imagined_caption"]
    assert out["baseline"]["imagined_caption"] is None
    assert out["gxn"]["ground_truth_rank"] is not None  # the upload is a gallery image
    assert len(out["baseline"]["ranking"]) == 3


def test_second_model_is_selectable(client):
    out = t2i(client, "a red circle", model=OTHER)
    assert out["model"] == OTHER


# ------------------------------------------------------------------ bad text


@pytest.mark.parametrize("text", ["", "   \n\t  "])
def test_empty_text_is_refused(client, text):
    with pytest.raises(AppError, match="The query is empty"):
        t2i(client, text)


def test_long_text_is_truncated_with_a_notice(client):
    out = t2i(client, "a big red circle on the left " * 40)
    assert "Query truncated to 200 characters." in out["notices"]
    assert len(out["query_text"]) <= 200


def test_unknown_words_give_a_notice(client):
    out = t2i(client, "a red zorblax circle frobnicated")
    assert "Unknown words ignored: zorblax, frobnicated" in out["notices"]


def test_only_unknown_words_are_refused(client):
    with pytest.raises(AppError, match="vocabulary"):
        t2i(client, "zorblax frobnicated")


BAD_NUMBERS = ["five", None, [1], {"k": 1}, 2.5, "2.5", True, 10**30, ""]


@pytest.mark.parametrize("field, what", [("k", "k (how many results)"), ("seed", "The seed"),
                                         ("n_images", "The number of imagined images")])
@pytest.mark.parametrize("value", BAD_NUMBERS, ids=repr)
def test_bad_numbers_get_one_readable_message(client, field, what, value):
    """Every number goes through validation.whole_number, whatever Gradio's component would have done."""
    with pytest.raises(AppError) as err:
        t2i(client, "a red circle", **{field: value})
    assert str(err.value).startswith(what) and "must be" in str(err.value)


@pytest.mark.parametrize("literal", ["NaN", "Infinity", "-Infinity"])
def test_nan_and_infinity_sent_raw_are_refused_readably(client, literal):
    """JSON clients that write NaN (gradio_client cannot): through Gradio's REST API, as curl would."""
    import httpx

    url = client.src.rstrip("/") + "/gradio_api/call/text_to_image"
    body = '{"data": ["a red circle", %s, 0, 1, "%s"]}' % (literal, MAIN)
    event = httpx.post(url, content=body, headers={"content-type": "application/json"}, timeout=60).json()
    stream = httpx.get(f"{url}/{event['event_id']}", timeout=60).text
    assert "event: error" in stream and "k (how many results) must be a whole number" in stream, stream


def test_a_rest_call_missing_arguments_is_told_which(client):
    """Without gradio_client (which fills defaults), a short "data" list got {"error": null} and a traceback."""
    import httpx

    response = httpx.post(client.src.rstrip("/") + "/gradio_api/call/text_to_image", json={"data": ["red", 5]})
    assert response.status_code == 422 and "text, k, seed, n_images, model" in response.json()["error"]


@pytest.mark.parametrize("value, expected", [(3, 3), (3.0, 3), ("3", 3)])
def test_whole_numbers_in_any_spelling_are_accepted(client, value, expected):
    assert len(t2i(client, "a red circle", k=value)["gxn"]["ranking"]) == expected


@pytest.mark.parametrize("text", [["red"], {"text": "red"}, 42])
def test_text_that_is_not_a_string_is_refused(client, text):
    with pytest.raises(AppError, match="must be a string|The query is empty"):
        t2i(client, text)


@pytest.mark.parametrize("model", [["pocket · shapes"], "no such model", None])
def test_unknown_models_are_named(client, model):
    with pytest.raises(AppError, match="Unknown model"):
        t2i(client, "a red circle", model=model)


def test_a_huge_request_body_is_refused_at_the_door(client):
    """10 MB of text never reaches the queue: 413 with a sentence, and the app keeps answering."""
    import httpx

    body = {"data": ["red circle " * 909_091, 5, 0, 1, MAIN], "fn_index": 0, "session_hash": "x"}
    response = httpx.post(client.src.rstrip("/") + "/gradio_api/queue/join", json=body, timeout=60)
    assert response.status_code == 413
    assert "too large" in response.json()["error"]
    assert t2i(client, "a red circle")["gxn"]["ranking"]


def test_unexpected_failure_is_reported_and_the_app_keeps_serving(client):
    with pytest.raises(AppError, match="Something went wrong"):
        t2i(client, "explode the red circle", model=OTHER)
    assert t2i(client, "a red circle", model=OTHER)["model"] == OTHER


# ------------------------------------------------------------------ bad images


@pytest.mark.parametrize(
    "name, message",
    [
        ("text", "not a readable image"),
        ("truncated", "not a readable image"),
        ("garbled", "not a readable image"),
        ("huge", "too large"),
        ("bomb", "too large"),
    ],
)
def test_bad_uploads_are_refused(client, files, name, message):
    with pytest.raises(AppError, match=message) as err:
        i2t(client, files[name])
    assert "/tmp" not in str(err.value)  # no server paths leak into messages


@pytest.mark.parametrize("name", ["rgba", "palette", "cmyk", "gray16", "gray", "animated"])
def test_odd_image_modes_work(client, files, name):
    out = i2t(client, files[name])
    assert out["gxn"]["imagined_caption"]
    assert len(out["gxn"]["ranking"]) == 5


@pytest.fixture(scope="module")
def hostile(tmp_path_factory):
    from lookimagine.tools.hostile import write_corpus

    return write_corpus(tmp_path_factory.mktemp("hostile"))


@pytest.mark.parametrize("name", [c.name for c in CASES])
def test_hostile_images_are_answered_or_refused_in_our_words(client, hostile, name):
    path, case = hostile[name]
    if case.ok:
        assert i2t(client, path)["gxn"]["imagined_caption"]
        return
    with pytest.raises(AppError) as err:
        i2t(client, path)
    message = str(err.value)
    assert case.says in message and "decompression bomb" not in message and "/tmp" not in message


def test_concurrent_visitors_get_right_answers_and_memory_stays_flat(client, hostile):
    """8 visitors at once, hostile images among their queries: every answer right, resident memory bounded.

    Before the decode bounds, each 6300×6300 16-bit PNG cost ~650 MB while decoding and the memory stayed.
    """
    import threading

    from lookimagine.tools.processes import memory

    heavy = [hostile[n][0] for n in ("png16_rgba_6300.png", "photo_24mp.jpg", "pillow_bomb.png")]
    problems, lock = [], threading.Lock()

    def visitor(i):
        local = Client(client.src, verbose=False)
        for j in range(6):
            try:
                if j % 2:
                    path = heavy[(i + j) % len(heavy)]
                    try:
                        out = i2t(local, path)
                        assert path.name == "photo_24mp.jpg" and out["gxn"]["imagined_caption"], path.name
                    except AppError as err:
                        assert path.name != "photo_24mp.jpg" and "too large" in str(err), str(err)
                else:
                    assert t2i(local, "a red circle", k=3)["gxn"]["ranking"][0]["rank"] == 1
            except AssertionError as err:  # collected: an assert in a thread would be lost
                with lock:
                    problems.append(f"visitor {i}, query {j}: {err}")

    def round_of_visitors():
        threads = [threading.Thread(target=visitor, args=(i,)) for i in range(8)]
        for t in threads:
            t.start()
        for t in threads:
            t.join()

    round_of_visitors()  # warm: first-use allocations are not growth
    before = memory()["rss_mib"]
    round_of_visitors()
    after = memory()["rss_mib"]
    assert not problems, problems
    assert after - before < 200, f"resident memory grew {after - before:.0f} MiB over 48 queries"


def test_app_still_answers_after_errors(client, files):
    for bad in ("text", "huge"):
        with pytest.raises(AppError):
            i2t(client, files[bad])
    with pytest.raises(AppError):
        t2i(client, " ")
    assert t2i(client, "a blue square")["gxn"]["ranking"]
    assert i2t(client, files["gallery"])["gxn"]["imagined_caption"]


# ------------------------------------------------------------------ command line (no server)


def test_parse_args_defaults_and_env(monkeypatch):
    monkeypatch.setenv("GRADIO_SERVER_NAME", "0.0.0.0")
    monkeypatch.setenv("GRADIO_SERVER_PORT", "7999")
    args = app.parse_args([])
    assert (args.dataset, args.device, args.warmup, args.fake) == ("shapes", "auto", True, False)
    assert (args.host, args.port) == ("0.0.0.0", 7999)
    args = app.parse_args(["--dataset", "emoji", "--no-warmup", "--port", "1234", "--host", "127.0.0.1"])
    assert (args.dataset, args.warmup, args.port, args.host) == ("emoji", False, 1234, "127.0.0.1")


def test_the_default_opens_on_shapes_with_emoji_one_click_away():
    names = list(app.load_pipelines(app.parse_args([])))  # lazy: nothing loads
    assert names[:2] == ["pocket · shapes", "pocket · emoji"]


def test_load_pipelines_fake():
    pipelines = app.load_pipelines(app.parse_args(["--fake"]))
    assert list(pipelines) == ["fake · shapes"]
    assert isinstance(pipelines["fake · shapes"], FakePipeline)


def test_missing_checkpoints_give_a_message_not_a_traceback(monkeypatch, tmp_path):
    monkeypatch.setattr(app, "ASSETS", tmp_path)
    with pytest.raises(SystemExit, match="--fake"):
        app.load_pipelines(app.parse_args(["--dataset", "shapes"]))


def test_lazy_pipelines_load_on_first_access_only():
    calls = []
    lazy = app.LazyPipelines({"a": lambda: calls.append("a") or FakePipeline(name="a"), "b": lambda: 1 / 0})
    assert list(lazy) == ["a", "b"] and len(lazy) == 2 and calls == []
    assert lazy["a"] is lazy["a"] and calls == ["a"]


def test_build_demo_touches_only_the_selected_pipeline():
    lazy = app.LazyPipelines({MAIN: FakePipeline, "broken": lambda: 1 / 0})
    demo = app.build_demo(lazy)
    assert demo is not None and lazy._loaded.keys() == {MAIN}


def test_a_checkpoint_over_clip_is_named_as_such(tmp_path):
    import json

    for backbone, expected in (("open_clip", "GXN over CLIP · run"), ("pocket", "checkpoint · run"), (None, "checkpoint · run")):
        (tmp_path / "run" / "gxn").mkdir(parents=True, exist_ok=True)
        model = {"embed_dim": 8} | ({"backbone": backbone} if backbone else {})
        (tmp_path / "run" / "gxn" / "config.json").write_text(json.dumps({"model": model}))
        assert app._checkpoint_name(tmp_path / "run") == expected
    assert app._checkpoint_name(tmp_path / "no-such-folder") == "checkpoint · no-such-folder"
