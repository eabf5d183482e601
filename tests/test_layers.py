"""Imports follow the data flow: data → models (+ losses) → training / evaluation → pipeline → demo → app.

``demo`` is the page's view-model (the protocol the app calls, views, the Benchmark tab's files, the fake
pipeline): above the pipeline, below the app.

The full tier (``full``: open_clip + captioner + diffusion, zero-shot) sits beside ``pipeline``: it builds
on data, models and evaluation, and the app may offer it; nothing below it imports it. ``tools`` (the GPU
check) sits on top: it may import every layer, and no layer (nor the app) imports it.
"""

import ast
from pathlib import Path

PACKAGE = Path(__file__).resolve().parents[1] / "lookimagine"
# what each layer may NOT import (the layers above it)
FORBIDDEN = {
    "data": {"models", "losses", "training", "evaluation", "pipeline", "demo", "full", "tools"},
    "models": {"losses", "training", "evaluation", "pipeline", "demo", "full", "tools"},
    "losses": {"models", "training", "evaluation", "pipeline", "demo", "full", "tools"},
    "evaluation": {"training", "pipeline", "demo", "full", "tools"},
    "training": {"pipeline", "demo", "full", "tools"},
    "pipeline": {"training", "demo", "full", "tools"},
    "demo": {"training", "full", "tools"},
    "full": {"training", "demo", "tools"},
}


def imported_layers(path: Path, package: Path = PACKAGE) -> set[str]:
    """The lookimagine sub-packages (layers) a file imports, absolute or relative."""
    # the file's own package as a dotted path, e.g. ["lookimagine", "pipeline"]
    own = ["lookimagine", *path.resolve().relative_to(package).parts[:-1]] if path.resolve().is_relative_to(package) \
        else []
    layers = set()
    for node in ast.walk(ast.parse(path.read_text())):
        names = []
        if isinstance(node, ast.ImportFrom):
            base = own[: len(own) - (node.level - 1)] if node.level else []
            names.append([*base, *(node.module or "").split(".")])
        elif isinstance(node, ast.Import):
            names += [alias.name.split(".") for alias in node.names]
        layers |= {n[1] for n in names if len(n) > 1 and n[0] == "lookimagine"}
    return layers


def test_the_checker_sees_relative_and_absolute_imports(tmp_path):
    fake = tmp_path / "lookimagine" / "pipeline"
    fake.mkdir(parents=True)
    (fake / "x.py").write_text("from ..training.trainer import Trainer\nfrom .outputs import Look\n"
                               "import lookimagine.data.vocab\nfrom lookimagine.models import GXN\n")
    assert imported_layers(fake / "x.py", tmp_path / "lookimagine") == {"training", "pipeline", "data", "models"}


def test_no_layer_imports_a_layer_above_it():
    offences = []
    for layer, forbidden in FORBIDDEN.items():
        for path in sorted((PACKAGE / layer).rglob("*.py")):
            bad = imported_layers(path) & forbidden
            if bad:
                offences.append(f"{path.relative_to(PACKAGE.parent)} imports {sorted(bad)}")
    assert not offences, "\n".join(offences)


def test_nothing_in_the_library_imports_the_tools():
    offences = [str(path.relative_to(PACKAGE.parent)) for path in sorted(PACKAGE.rglob("*.py"))
                if "tools" not in path.relative_to(PACKAGE).parts[:-1] and "tools" in imported_layers(path)]
    assert not offences, offences


def test_app_imports_only_the_demo_pipelines_and_serving():
    app = PACKAGE.parent / "app.py"
    layers = imported_layers(app)
    assert layers <= {"demo", "pipeline", "full", "serving"}, layers  # serving: the request limits, no model code
