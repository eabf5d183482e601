"""Every command-line entry has a console script in pyproject.toml, and each answers ``--help``."""

import ast
import importlib
import tomllib
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
SCRIPTS = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]["scripts"]
#: entries whose ``__main__`` block runs inline, without a main() to point a script at: none may
INLINE: set[str] = set()


def _target(spec: str):
    module, _, name = spec.partition(":")
    return getattr(importlib.import_module(module), name)


def _runs_as_main(path: Path) -> bool:
    """True for ``__main__.py`` and for a module with an ``if __name__ == "__main__":`` block."""
    if path.name == "__main__.py":
        return True
    return any(isinstance(node, ast.If) and isinstance(node.test, ast.Compare) and isinstance(node.test.left, ast.Name)
               and node.test.left.id == "__name__" for node in ast.parse(path.read_text()).body)


def test_every_command_line_entry_has_a_console_script():
    """``python -m lookimagine.X`` for any X has a console script that calls the same ``main``."""
    targets = {(f.__module__, f.__name__) for f in map(_target, SCRIPTS.values())}
    missing, inline = [], []
    for path in sorted((ROOT / "lookimagine").rglob("*.py")):
        if not _runs_as_main(path):
            continue
        module = ".".join(path.relative_to(ROOT).with_suffix("").parts)
        main = getattr(importlib.import_module(module), "main", None)  # a shim's main is its target's
        if main is None:
            inline.append(module)
        elif (main.__module__, main.__name__) not in targets:
            missing.append(module)
    assert not missing, f"no console script for: {missing}"
    assert set(inline) == INLINE, f"__main__ blocks without a main(): {sorted(inline)}; INLINE lists {sorted(INLINE)}"


@pytest.mark.parametrize("script", sorted(SCRIPTS))
def test_each_console_script_answers_help(script, capsys):
    main = _target(SCRIPTS[script])
    with pytest.raises(SystemExit) as done:
        main(["--help"])
    assert done.value.code in (0, None)
    assert "usage:" in capsys.readouterr().out
