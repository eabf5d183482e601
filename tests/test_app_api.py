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
from lookimagine.pipeline.fake import FakePipeline  # noqa: E402

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
        assert set(r["ranking"][0]) == {"rank", "id", "score", "caption", "is_ground_truth"}
        assert r["ground_truth_rank"] is not None
    assert out["gxn"]["imagined_images"] == 3
    assert out["baseline"]["imagined_images"] == 0 and "no generator" in out["baseline"]["imagine_note"]
    assert out["notices"] == []


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


def test_bad_numbers_are_refused(client):
    with pytest.raises(AppError):
        t2i(client, "a red circle", k=2.5)


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
    assert (args.dataset, args.device, args.warmup, args.fake) == ("emoji", "auto", True, False)
    assert (args.host, args.port) == ("0.0.0.0", 7999)
    args = app.parse_args(["--dataset", "shapes", "--no-warmup", "--port", "1234", "--host", "127.0.0.1"])
    assert (args.dataset, args.warmup, args.port, args.host) == ("shapes", False, 1234, "127.0.0.1")


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
