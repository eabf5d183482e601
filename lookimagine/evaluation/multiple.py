"""Many cells, one verdict: paired-t p-values, Holm's step-down adjustment and the headline family.

A verdict has many cells (dataset × split × direction × basis); with no effect at all, about one in twenty
95% intervals still excludes 0. The headline family is named before the runs in
``assets/results/preregistered.json``; ``headline`` computes each cell's two-sided paired-t p-value and
Holm-adjusts them over the whole family, so "ahead" and "behind" are said only of cells that survive.
"""

from __future__ import annotations

import json
import math
from pathlib import Path

PREREGISTERED = Path(__file__).resolve().parents[2] / "assets" / "results" / "preregistered.json"
BASES = {"gxn_minus_baseline": "equal epochs", "gxn_minus_baseline_wall": "equal wall-clock"}
DIRECTIONS = {"i2t_r1": "image→text R@1", "t2i_r1": "text→image R@1"}


def t_two_sided_p(t: float, df: int) -> float:
    """P(|T| ≥ |t|) for Student's t with integer ``df`` ≥ 1, in closed form (Abramowitz & Stegun 26.7.3–4)."""
    if df < 1:
        raise ValueError("df must be at least 1")
    if math.isinf(t):
        return 0.0
    theta = math.atan(abs(t) / math.sqrt(df))
    s, c = math.sin(theta), math.cos(theta)
    if df % 2:  # odd: A = 2/π (θ + sinθ (cosθ + 2/3 cos³θ + … ))
        term, total = c, 0.0
        for k in range(1, (df - 1) // 2 + 1):
            total += term
            term *= c * c * (2 * k) / (2 * k + 1)
        inside = (2 / math.pi) * (theta + s * total)
    else:  # even: A = sinθ (1 + 1/2 cos²θ + 1·3/(2·4) cos⁴θ + … )
        term, total = 1.0, 0.0
        for k in range(1, df // 2 + 1):
            total += term
            term *= c * c * (2 * k - 1) / (2 * k)
        inside = s * total
    return min(1.0, max(0.0, 1.0 - inside))


def paired_p(stat: dict) -> float | None:
    """The two-sided p-value of a paired difference from ``verdict.mean_ci``'s dict (None with one seed)."""
    n, std = stat.get("n", 1), stat.get("std")
    if n < 2 or std is None:
        return None
    if std == 0:
        return 1.0 if stat["mean"] == 0 else 0.0
    return t_two_sided_p(stat["mean"] / (std / math.sqrt(n)), n - 1)


def holm(pvalues: list[float]) -> list[float]:
    """Holm's step-down adjusted p-values, in the input order: the i-th smallest of m is multiplied by
    m − i + 1, then made monotone (never smaller than an earlier one) and capped at 1."""
    m = len(pvalues)
    order = sorted(range(m), key=lambda i: pvalues[i])
    adjusted, running = [0.0] * m, 0.0
    for rank, i in enumerate(order):
        running = max(running, min(1.0, (m - rank) * pvalues[i]))
        adjusted[i] = running
    return adjusted


def load_plan(path: Path = PREREGISTERED) -> dict:
    return json.loads(Path(path).read_text())


def headline(verdicts: dict[str, dict], plan: dict) -> dict:
    """The family's cells from ``{dataset: verdict.json}``, each with p, Holm p and a word.

    Cells the plan names but the verdicts lack (a basis not run) are listed as missing and left out of the
    family: Holm is over what was examined, and the count says how many that was."""
    alpha = plan["alpha"]
    cells, missing = [], []
    for dataset, splits in plan["splits"].items():
        v = verdicts.get(dataset)
        for split in splits:
            for basis in plan["bases"]:
                for key in plan["directions"]:
                    stat = (v or {}).get("splits", {}).get(split, {}).get(basis, {}).get(key)
                    p = paired_p(stat) if stat else None
                    name = {"dataset": dataset, "split": split, "basis": BASES[basis], "metric": key}
                    if p is None:
                        missing.append(name)
                        continue
                    effect = stat["mean"] / stat["std"] if stat["std"] else None
                    cells.append({**name, "n": stat["n"], "mean": stat["mean"], "std": stat["std"],
                                  "ci95": stat["ci95"], "effect_size_dz": effect, "p": p})
    for cell, adjusted in zip(cells, holm([c["p"] for c in cells])):
        cell["holm_p"] = adjusted
        cell["verdict"] = ("ahead" if cell["mean"] > 0 else "behind") if adjusted < alpha else "level"
    planned = {(c["dataset"], c["split"], c["basis"], c["metric"]) for c in plan.get("expected_to_move", [])}
    for cell in cells:
        cell["planned"] = (cell["dataset"], cell["split"], cell["basis"], cell["metric"]) in planned
    return {"alpha": alpha, "family": plan["family"], "examined": len(cells),
            "survive": sum(c["verdict"] != "level" for c in cells), "cells": cells, "missing": missing}


def headline_sentence(family: dict) -> str:
    """What survives correction, in plain words, from ``headline``'s dict: per basis, the cells where GXN is
    ahead or behind after Holm, the rest called level."""
    m, k, alpha = family["examined"], family["survive"], family["alpha"]
    parts = [f"{k} of {m} cells survive Holm correction (α = {alpha})"]
    for basis in BASES.values():
        cells = [c for c in family["cells"] if c["basis"] == basis]
        if not cells:
            continue
        moved = [c for c in cells if c["verdict"] != "level"]
        if not moved:
            parts.append(f"at {basis} GXN is level with its baseline in all {len(cells)}")
            continue
        said = "; ".join(f"{c['dataset']} {c['split']} {DIRECTIONS[c['metric']]} {c['mean']:+.1f} "
                         f"[{c['ci95'][0]:+.1f}, {c['ci95'][1]:+.1f}], Holm p {c['holm_p']:.3f}" for c in moved)
        words = {v for v in (c["verdict"] for c in moved)}
        verdict = "behind" if words == {"behind"} else "ahead" if words == {"ahead"} else "ahead or behind"
        parts.append(f"at {basis} GXN is {verdict} in {len(moved)} of {len(cells)} ({said}) and level in the rest")
    unadjusted = [c for c in family["cells"] if c["p"] < alpha and c["verdict"] == "level"]
    text = ": ".join(parts[:1]) + (": " + ", ".join(parts[1:]) if len(parts) > 1 else "") + "."
    if unadjusted:
        text += (f" {len(unadjusted)} more had p < {alpha} before correction; with no effect at all about "
                 f"{alpha * m:.1f} of {m} would.")
    planned = [c for c in family["cells"] if c.get("planned")]
    if planned:
        moved = sum(c["verdict"] == "ahead" for c in planned)
        text += f" Of the {len(planned)} cells where GXN was expected to be ahead, {moved} {'is' if moved == 1 else 'are'}."
    return text
