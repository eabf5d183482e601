"""Imports follow the data flow, every module of the package is placed, and the import graph has no circle.

Layers, bottom to top (``LAYERS``); a unit — a sub-package, or a module at the package root — may import
only the units in the layers below its own, never one beside it nor above it:

* ``lookimagine`` (the version), ``errors`` (the errors a person reads), ``config`` (typed configs): nothing.
* ``hub`` (where models come from: a folder or a Hub id) beside ``data`` (the datasets).
* ``models`` beside ``losses``.
* ``evaluation``.
* ``training`` beside ``pipeline``: the pipeline loads checkpoints and never imports the trainer.
* ``full`` (the full tier: open_clip + captioner + diffusion) beside ``demo`` (the page's view-model: the
  protocol the app calls, views, the Benchmark tab's files, the fake pipeline) and ``serving`` (the request
  limits): the app may offer either tier; nothing below imports them.
* the entry points at the root: ``evaluate``, ``train``, ``report``, ``publish``.
* ``tools`` on top: they may import every layer, and nothing in the library (nor the app) imports them.

``app.py`` imports only the demo, the pipelines and serving. Every import counts, the ones inside
functions too: ``import a.b.c`` / ``from a.b import c`` is an edge to ``a.b.c`` when that is a module, else
to ``a.b`` (the packages above it run first, but are not what it asks for).
"""

import ast
from pathlib import Path

PACKAGE = Path(__file__).resolve().parents[1] / "lookimagine"
LAYERS = [
    {"lookimagine", "errors", "config"},
    {"hub", "data"},
    {"models", "losses"},
    {"evaluation"},
    {"training", "pipeline"},
    {"full", "demo", "serving"},
    {"evaluate", "train", "report", "publish"},
    {"tools"},
]
LAYER_OF = {unit: n for n, units in enumerate(LAYERS) for unit in units}
APP_MAY_IMPORT = {"demo", "pipeline", "full", "serving"}


def module_name(path: Path, package: Path = PACKAGE) -> str:
    """``lookimagine/pipeline/search.py`` → ``lookimagine.pipeline.search``; a package is its ``__init__``."""
    parts = [package.name, *path.relative_to(package).with_suffix("").parts]
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def all_modules(package: Path = PACKAGE) -> dict[str, Path]:
    return {module_name(p, package): p for p in sorted(package.rglob("*.py"))}


def unit(module: str) -> str:
    """The layer unit of a module: the sub-package or root module it is in (``lookimagine`` for the root)."""
    parts = module.split(".")
    return parts[1] if len(parts) > 1 else parts[0]


def imports(path: Path, modules: dict[str, Path], own: str) -> set[str]:
    """The package's modules that the file at ``path`` (the module ``own``) imports, anywhere in it."""
    package = own.split(".") if path.name == "__init__.py" else own.split(".")[:-1]

    def known(name: str) -> str | None:  # the module itself, else the nearest package above it that is one
        parts = name.split(".")
        while parts and ".".join(parts) not in modules:
            parts.pop()
        return ".".join(parts) or None

    found = set()
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.Import):
            found |= {known(alias.name) for alias in node.names}
        elif isinstance(node, ast.ImportFrom):
            base = ".".join([*(package[: len(package) - node.level + 1] if node.level else []),
                             *([node.module] if node.module else [])])
            found |= {f"{base}.{a.name}" if f"{base}.{a.name}" in modules else known(base) for a in node.names}
    return found - {None, own}


def import_graph(package: Path = PACKAGE) -> dict[str, set[str]]:
    modules = all_modules(package)
    return {name: imports(path, modules, name) for name, path in modules.items()}


def find_cycle(graph: dict[str, set[str]]) -> list[str]:
    """One circle of the graph as a path that returns to its start, or [] when there is none."""
    state, stack = {}, []  # state: 1 on the current path, 2 done

    def visit(node):
        state[node] = 1
        stack.append(node)
        for nxt in sorted(graph.get(node, ())):
            if state.get(nxt) == 1:
                return stack[stack.index(nxt):] + [nxt]
            if nxt not in state and (cycle := visit(nxt)):
                return cycle
        state[node] = 2
        stack.pop()
        return []

    for node in sorted(graph):
        if node not in state and (cycle := visit(node)):
            return cycle
    return []


# ---- the checker itself ---------------------------------------------------------------------------------------
def _fake_package(tmp_path, files: dict[str, str]) -> Path:
    root = tmp_path / "lookimagine"
    for name, text in {"__init__.py": "", **files}.items():
        (root / name).parent.mkdir(parents=True, exist_ok=True)
        (root / name).write_text(text)
    return root


def test_the_checker_sees_relative_absolute_and_function_level_imports(tmp_path):
    root = _fake_package(tmp_path, {
        "pipeline/__init__.py": "", "pipeline/outputs.py": "", "training/__init__.py": "",
        "training/trainer.py": "", "data/__init__.py": "", "data/vocab.py": "", "hub.py": "",
        "pipeline/x.py": "from ..training.trainer import Trainer\nfrom .outputs import Look\n"
                         "import lookimagine.data.vocab\nfrom lookimagine import hub\n"
                         "def f():\n    from ..data import load_dataset\n"})
    graph = import_graph(root)
    assert graph["lookimagine.pipeline.x"] == {"lookimagine.training.trainer", "lookimagine.pipeline.outputs",
                                              "lookimagine.data.vocab", "lookimagine.hub", "lookimagine.data"}


def test_the_checker_finds_a_circle(tmp_path):
    root = _fake_package(tmp_path, {"a.py": "from . import b\n", "b.py": "def f():\n    from .c import g\n",
                                    "c.py": "import lookimagine.a\n"})
    assert find_cycle(import_graph(root)) == ["lookimagine.a", "lookimagine.b", "lookimagine.c", "lookimagine.a"]
    assert find_cycle({"a": {"b"}, "b": set()}) == []


# ---- the package --------------------------------------------------------------------------------------------
def test_every_module_is_in_a_layer():
    unplaced = sorted({unit(m) for m in all_modules()} - set(LAYER_OF))
    assert not unplaced, f"place these in LAYERS: {unplaced}"


def test_no_module_imports_beside_or_above_its_layer():
    offences = []
    for module, targets in import_graph().items():
        mine = unit(module)
        bad = sorted(t for t in targets if unit(t) != mine and LAYER_OF[unit(t)] >= LAYER_OF[mine])
        offences += [f"{module} imports {t}" for t in bad]
    assert not offences, "\n".join(offences)


def test_the_import_graph_has_no_circle():
    cycle = find_cycle(import_graph())
    assert not cycle, " → ".join(cycle)


def test_app_imports_only_the_demo_pipelines_and_serving():
    modules = all_modules()
    app = PACKAGE.parent / "app.py"
    units = {unit(m) for m in imports(app, modules, "app")}
    assert units <= APP_MAY_IMPORT, units - APP_MAY_IMPORT  # serving: the request limits, no model code
