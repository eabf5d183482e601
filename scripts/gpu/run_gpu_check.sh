#!/usr/bin/env bash
# The one command to run on the GPU host: python -m lookimagine.tools.gpu_check with the missing packages on
# the path from the wheel folder prepared beforehand (scripts/gpu/prepare_wheels.sh), nothing from the network.
#
#   scripts/gpu/run_gpu_check.sh                 # the report in $GPU_CHECK_OUT, else $OUT, else gpu_check_out/
#   scripts/gpu/run_gpu_check.sh --quick         # the same on the CPU, tiny (any extra flags go to gpu_check)
#
# For each "module wheel" line of $GPU_WHEELS/MANIFEST (default gpu_wheels/) whose module the host's Python
# cannot import, the wheel is unpacked into a temporary folder put first on PYTHONPATH; what the host has is
# left alone. Writes gpu_check.json (the figures; rewritten after every part, so a run cut short keeps what
# it measured), gpu_check.log and nvidia-smi.txt. The check stops at $GPU_CHECK_SECONDS (default 300 s).
# Exit status: gpu_check's (0 ran, 1 a part failed, 2 no CUDA), or 124 when it ran out of time.
set -uo pipefail
ROOT="$(cd "$(dirname "$0")/../.." && pwd)"
cd "$ROOT"
OUTDIR="${GPU_CHECK_OUT:-${OUT:-gpu_check_out}}"
WHEELS="${GPU_WHEELS:-gpu_wheels}"
PY="${PYTHON:-python3}"
mkdir -p "$OUTDIR"
SITE="$(mktemp -d "${TMPDIR:-/tmp}/gpu_check_site.XXXXXX")"
trap 'rm -rf "$SITE"' EXIT

supplied=()
if [ -f "$WHEELS/MANIFEST" ]; then
  while read -r module wheel; do
    [ -n "$module" ] || continue
    if ! PYTHONPATH="$SITE" "$PY" -c "import $module" >/dev/null 2>&1; then
      "$PY" -c "import sys, zipfile; zipfile.ZipFile(sys.argv[1]).extractall(sys.argv[2])" "$WHEELS/$wheel" "$SITE" \
        && supplied+=("$module")
    fi
  done < "$WHEELS/MANIFEST"
else
  echo "note: no $WHEELS/MANIFEST (run scripts/gpu/prepare_wheels.sh where PyPI can be reached); using the host's packages only" >&2
fi
commit="$(git rev-parse HEAD 2>/dev/null || cat "$WHEELS/COMMIT" 2>/dev/null || true)"
(IFS=,; echo "from the wheel folder: ${supplied[*]:-nothing}") | tee "$OUTDIR/gpu_check.log"
command -v nvidia-smi >/dev/null && nvidia-smi > "$OUTDIR/nvidia-smi.txt" 2>&1

export PYTHONPATH="$SITE:$ROOT${PYTHONPATH:+:$PYTHONPATH}"
export LOOKIMAGINE_GPU_WHEELS="$(IFS=,; echo "${supplied[*]:-}")" LOOKIMAGINE_COMMIT="$commit"
export HF_HUB_OFFLINE=1 TRANSFORMERS_OFFLINE=1 PYTHONUNBUFFERED=1
timeout --signal=TERM --kill-after=15 "${GPU_CHECK_SECONDS:-300}" \
  "$PY" -m lookimagine.tools.gpu_check --json "$OUTDIR/gpu_check.json" "$@" 2>&1 | tee -a "$OUTDIR/gpu_check.log"
status=${PIPESTATUS[0]}
echo "exit status $status; report: $OUTDIR/gpu_check.json" | tee -a "$OUTDIR/gpu_check.log"
exit "$status"
