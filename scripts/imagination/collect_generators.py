"""Collect the shapes generator experiments of issue 21 (runs/exp21/<name>/result.json, written by gen_exp.py)
into assets/results/analysis/imagination_shapes_generators.json, with the commands that ran them.

    python scripts/imagination/collect_generators.py

The experiments (scripts/imagination/gen_exp.py, one CPU thread each, the other core busy):
- arch fc: the shipped GAN's generator (a linear layer to a 4×4 map, then nearest ×2 + conv blocks);
  arch coord: ``coord_generator.CoordGenerator`` here (every conv sees the pixel coordinates, every block is
  FiLM-modulated by the code);
- text (t_l ×16, log-variance from −6, as shipped) with the GAN, the matching critic and squared error
  (weight 20, as shipped) or without it; and the scene itself (every object's shape, colour, size and place)
  with squared error alone: what a generator of that kind learns in the same steps when nothing is ambiguous;
- the mode-seeking term of MSGAN (Mao et al., 2019; weight 1): two drawings of one code from different noise
  must differ, the issue's "diversity terms";
- a cVAE-GAN (BicycleGAN's first half, Zhu et al., 2017; --z_encoder): the squared error is taken on the drawing
  from the described picture's own noise (read by an encoder), not on the one from prior noise, so it stops
  pulling every drawing of a caption to the caption's mean picture.
"""
import ast
import json
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
RUNS = ROOT / "runs" / "exp21"
OUT = ROOT / "assets" / "results" / "analysis" / "imagination_shapes_generators.json"
FIGURE = ROOT / "assets" / "figures" / "imagination_shapes_generators.png"
EXPERIMENTS = {
    "f2_text": "fc generator, text, GAN + matching + squared error 20 (the shipped stage 2's losses)",
    "f2b_text": "f2 again, by a harness that also measures the samples' spread (samples_distance)",
    "f7_text_long": "f2 (the shipped generator and losses, from text) for 6,000 steps (validated every 1,500)",
    "f5_text_ms": "f2 + the mode-seeking term (weight 1)",
    "f9_text_ms01": "f2 + the mode-seeking term at a tenth of the weight (0.1)",
    "f10_cvae": "f2 as a cVAE-GAN: a noise encoder reads z from the described picture, the squared error compares "
                "that drawing only; KL weight 0.01 (a first try with the log-variance unclamped went to NaN)",
    "f11_cvae_kl003": "f10 with the KL weight at 0.03",
    "c2_text": "coord generator, text, GAN + matching + squared error 20",
    "f3_text_nomse": "fc generator, text, GAN + matching, no squared error",
    "c3_text_nomse": "coord generator, text, GAN + matching, no squared error",
    "f8_text_nomse_spread": "f3 again, by the harness that measures the samples' spread (samples_distance)",
    "f4_scene": "fc generator, told the scene, squared error alone",
    "c4_scene": "coord generator, told the scene, squared error alone",
    "f6_scene_long": "f4 for 8,000 steps (validated every 2,000)",
}


def main() -> None:
    out = {
        "what": "Does a generator with a spatial bias (CoordConv + FiLM) draw shapes where the shipped GAN's draws "
                "blobs, and is the squared-error term the cause of the blobs? Generator-only stage 2 on the frozen "
                "stage-1 encoders of shapes seed 1 (runs/stage1/shapes-s1), 20k training scenes, batch 32, "
                "1200 steps, lr 2e-3, seed 0; judged on the first 300 val images by stage 1 of seed 2 "
                "(runs/stage1/shapes-s2, neither the encoders' seed nor the final judge, seed 0). 'exact': "
                "R-precision@1 over 100 candidates; 'truth': truth-aware; 'probe': the conditioning probe; "
                "'samples_distance': the mean pairwise RMS pixel distance among 4 samples of each of the first 16 "
                "distinct captions (true training scenes of a shapes caption lie 0.267 apart, the shipped GAN's "
                "samples 0.06-0.10: assets/results/imagination/gan_shipped.json). "
                "Pictures: runs/exp21/<name>/grid_<steps>.png (each row: a val picture, then 4 samples of its caption), "
                "the first six rows of each side by side in the figure below.",
        "command": "python scripts/imagination/collect_generators.py",
        "experiments": {},
    }
    for name, change in EXPERIMENTS.items():
        path = RUNS / name / "result.json"
        if not path.exists():
            print(f"missing: {path}", file=sys.stderr)
            continue
        result = json.loads(path.read_text())
        out["experiments"][name] = {"change": change, "command": result["command"],
                                    "val": [{k: round(v, 3) if isinstance(v, float) else v for k, v in h.items()}
                                            for h in result["history"]]}
        for line in (RUNS / f"{name}.log").read_text().splitlines():  # the judge on the real val pictures
            if line.startswith("real "):
                out["real_pictures"] = ast.literal_eval(line[5:])
    out["figure"] = str(FIGURE.relative_to(ROOT))
    OUT.write_text(json.dumps(out, indent=1) + "\n")
    sheet([n for n in EXPERIMENTS if grid_of(n) is not None])
    print(OUT, FIGURE)


def grid_of(name: str) -> Path | None:
    """The experiment's grid after its last step (grid_<steps>.png), or None."""
    grids = sorted((RUNS / name).glob("grid_*.png"), key=lambda p: int(p.stem.split("_")[1]))
    return grids[-1] if grids else None


def sheet(names: list[str], columns: int = 3) -> None:
    """The experiments' grids (each: 10 val captions, the real picture then 4 samples), the first six rows of
    each, under their names, ``columns`` to a row; f2b and f8 repeat f2 and f3 and are left out."""
    from PIL import Image, ImageDraw

    names = [n for n in names if n not in ("f2b_text", "f8_text_nomse_spread")]
    grids = [Image.open(grid_of(n)).convert("RGB") for n in names]
    w, h = grids[0].width + 8, 6 * 66 + 20
    rows = (len(grids) + columns - 1) // columns
    out = Image.new("RGB", (columns * w, rows * h), "white")
    draw = ImageDraw.Draw(out)
    for i, (name, grid) in enumerate(zip(names, grids)):
        x, y = (i % columns) * w, (i // columns) * h
        out.paste(grid.crop((0, 0, grid.width, 6 * 66)), (x, y + 18))
        draw.text((x + 2, y + 3), f"{name} ({grid_of(name).stem.split('_')[1]} steps)", fill="black")
    out.quantize(256).save(FIGURE, optimize=True)  # a palette: a third of the bytes, the same to the eye


if __name__ == "__main__":
    main()
