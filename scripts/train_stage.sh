# Sourced by the training scripts: one resumable stage of one seed on one thread, and the equal-wall-clock
# control's budget.
#   train <preset> <out> [--set KEY=VALUE ...]   (uses $PY and $seed; skipped once <out>/run.json exists)
train() {
  local preset=$1 out=$2
  shift 2
  [ -f "$out/run.json" ] && return 0
  $PY -m lookimagine.train --preset "$preset" --seed "$seed" --threads 1 --no-progress --out "$out" "$@" \
    > "$out.log" 2>&1
}

# control_epochs <root> [at least]: the equal-wall-clock control's epochs, measured in the format and on the machine
# the runs use: (stage 2 + stage 3 seconds) / the equal-epoch control's seconds per epoch, from <root>/{stage2,gxn,
# baseline}/run.json; never fewer than [at least] (default 1).
control_epochs() {
  $PY - "$1" "${2:-1}" <<'EOF'
import json, sys
root, least = sys.argv[1], int(sys.argv[2])
run = lambda name: json.load(open(f"{root}/{name}/run.json"))
base = run("baseline")
per_epoch = base["wall_seconds"] / base["train"]["epochs"]
print(max(least, round((run("stage2")["wall_seconds"] + run("gxn")["wall_seconds"]) / per_epoch)))
EOF
}
