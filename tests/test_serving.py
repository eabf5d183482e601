"""The serving limits (``lookimagine.serving``) and the hostile-image corpus, without a Gradio server."""

import pytest
from starlette.applications import Starlette
from starlette.middleware import Middleware
from starlette.responses import JSONResponse
from starlette.routing import Route
from starlette.testclient import TestClient

from lookimagine import serving
from lookimagine.tools import hostile
from lookimagine.pipeline.outputs import QueryError
from lookimagine.pipeline.validation import MAX_DECODE_PIXELS, QUERY_SIDE, load_query_image

LIMIT = 1000


async def echo(request):
    body = await request.body()
    return JSONResponse({"bytes": len(body)})


@pytest.fixture(scope="module")
def http():
    routes = [Route("/gradio_api/queue/join", echo, methods=["POST"]), Route("/gradio_api/upload", echo, methods=["POST"])]
    app = Starlette(routes=routes, middleware=[Middleware(serving.RequestSizeLimit, max_bytes=LIMIT)])
    return TestClient(app)


def test_a_body_under_the_limit_reaches_the_app_intact(http):
    assert http.post("/gradio_api/queue/join", content=b"x" * LIMIT).json() == {"bytes": LIMIT}


def test_a_body_over_the_limit_is_refused_before_the_app(http):
    response = http.post("/gradio_api/queue/join", content=b"x" * (LIMIT + 1))
    assert response.status_code == 413 and "too large" in response.json()["error"]


def test_a_chunked_body_without_length_is_counted_too(http):
    chunks = (b"x" * 400 for _ in range(5))  # no Content-Length: the middleware counts what arrives
    response = http.post("/gradio_api/queue/join", content=chunks)
    assert response.status_code == 413


def test_uploads_are_left_to_gradios_own_file_limit(http):
    assert http.post("/gradio_api/upload", content=b"x" * (LIMIT * 5)).json() == {"bytes": LIMIT * 5}


@pytest.fixture(scope="module")
def corpus(tmp_path_factory):
    return hostile.write_corpus(tmp_path_factory.mktemp("hostile"))


@pytest.mark.parametrize("name", [c.name for c in hostile.CASES])
def test_every_hostile_image_is_decoded_small_or_refused_in_our_words(corpus, name):
    path, case = corpus[name]
    if not case.ok:
        with pytest.raises(QueryError, match=case.says):
            load_query_image(path)
        return
    image = load_query_image(path)
    assert image.mode == "RGB"
    assert min(image.size) < 2 * QUERY_SIDE or max(image.size) <= 96  # reduced at decode, not after
    assert image.size[0] * image.size[1] <= MAX_DECODE_PIXELS


def test_exif_orientation_is_applied(corpus):
    assert load_query_image(corpus["exif_rotated.jpg"][0]).size == (64, 96)  # 96×64 stored, rotated 90°


def test_the_big_png_is_refused_before_any_pixel_is_decoded(corpus, monkeypatch):
    from PIL import ImageFile

    def no_decoding(self, *args, **kwargs):
        raise AssertionError("decoded pixels of an image that should have been refused from its header")

    monkeypatch.setattr(ImageFile.ImageFile, "load", no_decoding)
    for name in ("png16_rgba_6300.png", "over_limit.png", "pillow_bomb.png"):
        with pytest.raises(QueryError, match="too large"):
            load_query_image(corpus[name][0])


@pytest.fixture(scope="module")
def api():
    route = Route("/gradio_api/call/text_to_image", echo, methods=["POST"])
    middleware = [Middleware(serving.ApiArguments, signatures={"text_to_image": ("text", "k", "seed")})]
    return TestClient(Starlette(routes=[route], middleware=middleware))


def test_a_rest_call_with_every_parameter_passes(api):
    assert api.post("/gradio_api/call/text_to_image", json={"data": ["red", 5, 0]}).status_code == 200


@pytest.mark.parametrize("body", [{"data": ["red", 5]}, {"data": "red"}, {}])
def test_a_rest_call_missing_parameters_names_them(api, body):
    response = api.post("/gradio_api/call/text_to_image", json=body)
    assert response.status_code == 422
    assert "text, k, seed" in response.json()["error"]


def test_a_rest_call_that_is_not_json_is_refused_readably(api):
    response = api.post("/gradio_api/call/text_to_image", content=b"{not json")
    assert response.status_code == 400 and "must be JSON" in response.json()["error"]
