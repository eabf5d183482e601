# Sourced by staged.sh and staged_converged.sh: one resumable stage of one seed on one thread.
#   train <preset> <out> [--set KEY=VALUE ...]   (uses $PY and $seed; skipped once <out>/run.json exists)
train() {
  local preset=$1 out=$2
  shift 2
  [ -f "$out/run.json" ] && return 0
  $PY -m lookimagine.train --preset "$preset" --seed "$seed" --threads 1 --no-progress --out "$out" "$@" \
    > "$out.log" 2>&1
}
