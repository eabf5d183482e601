"""Checkpoints and galleries on the Hugging Face Hub: fetch, model card, push.

A checkpoint folder (``config.json``, ``model.safetensors``, ``vocab.json``) or a
pipeline folder (``gxn/`` + ``baseline/``) is what goes to a model repository;
``push`` adds a generated ``README.md`` model card. ``load_model``,
``LookImagineMatch.from_pretrained`` and ``app.py --checkpoint`` take a folder or
a Hub id; a gallery in the ``folder`` format (images + ``captions.jsonl``) can be
a Hub *dataset* repository.

    python -m lookimagine.hub push runs/coco-clip-gxn/best you/gxn-coco-clip          # one checkpoint
    python -m lookimagine.hub push assets/checkpoints/emoji you/lookimagine-emoji      # a pipeline folder
    python -m lookimagine.hub card runs/coco-clip-gxn/best                             # print the card only

Downloads honour ``HF_HUB_OFFLINE``: offline, only what is in the local Hub
cache loads, and anything else fails with one sentence naming the id and how
to supply it as a local folder. Importing this module imports no torch.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
from pathlib import Path

CARD = "README.md"


class HubUnavailable(RuntimeError):
    """A Hub repository that cannot be had here; the message says how to supply it locally."""


def looks_local(source: str) -> bool:
    """True when ``source`` can only be a path, never a Hub id ("owner/name" or "name")."""
    if source.startswith((".", "~", "/")) or os.path.isabs(source) or "\\" in source:
        return True
    return source.count("/") > 1 or Path(source).exists()


def download(repo_id: str, repo_type: str = "model", what: str = "checkpoint") -> Path:
    """A Hub repository → its local snapshot folder (from the cache when offline); ``HubUnavailable`` if not."""
    from huggingface_hub import constants, snapshot_download

    kind = "dataset" if repo_type == "dataset" else "model"
    fetch = f"hf download {repo_id}{' --repo-type dataset' if kind == 'dataset' else ''} --local-dir DIR"
    try:
        return Path(snapshot_download(repo_id, repo_type=repo_type))
    except Exception as e:  # offline, unknown id, no network, gated: huggingface_hub raises many kinds
        why = ("it is not in the local Hub cache and HF_HUB_OFFLINE is set" if constants.HF_HUB_OFFLINE else
               f"it could not be downloaded ({type(e).__name__}: {(str(e).strip().splitlines() or [''])[0]})")
        raise HubUnavailable(f"Cannot load the {what} {repo_id!r}: no such local folder, and as a Hugging Face "
                             f"Hub {kind} repository {why}. Download it where the Hub can be reached "
                             f"(`{fetch}`) and pass DIR instead.") from e


def resolve(source: str | Path, repo_type: str = "model", what: str = "checkpoint") -> Path:
    """A local folder as is; anything that can be a Hub id and is not a folder here is downloaded."""
    path = Path(source).expanduser()
    if path.exists() or looks_local(str(source)):
        return path
    return download(str(source), repo_type, what)


# ---- the model card -------------------------------------------------------------------------------------------
def _checkpoints(folder: Path) -> dict[str, Path]:
    """{name: checkpoint folder}: the folder itself, or a pipeline folder's gxn/ and baseline/."""
    if (folder / "config.json").is_file():
        return {folder.name: folder}
    found = {m: folder / m for m in ("gxn", "baseline") if (folder / m / "config.json").is_file()}
    if not found:
        raise FileNotFoundError(f"{folder}: neither a checkpoint (config.json, model.safetensors, vocab.json) nor "
                                "a pipeline folder (gxn/ and baseline/)")
    return found


def model_card(folder: str | Path, repo_id: str = "") -> str:
    """A README.md for a checkpoint or pipeline folder, written from its configs (nothing is invented)."""
    from .data.licences import combined, from_train_config

    folder = Path(folder)
    sections, tags, datasets, licences = [], {"lookimagine", "gxn", "image-text-retrieval"}, set(), []
    for name, ckpt in _checkpoints(folder).items():
        config = json.loads((ckpt / "config.json").read_text())
        model, train, meta = config.get("model", {}), config.get("train") or {}, config.get("meta") or {}
        backbone = model.get("backbone", "pocket")
        if backbone == "open_clip":
            tags.add("open_clip")
            look = f"open_clip {model.get('clip_model')} ({model.get('clip_pretrained') or 'random init'})"
        else:
            look = "pocket CNN + GRUs, trained from scratch"
        branches = [b for b, on in (("caption decoder", model.get("i2t")), (f"text→image {model.get('t2i')}",
                                                                           model.get("t2i") not in (None, "none")))
                    if on] or ["none (the baseline)"]
        dataset = train.get("dataset", "?")
        licences.append(from_train_config(train))
        if dataset == "emoji" and train.get("styles"):
            dataset = f"emoji ({', '.join(train['styles'])})"
        datasets.add(Path(train["data_json"]).stem if train.get("data_json") else dataset)
        val = (meta.get("val") or {})
        score = f"val rsum {val['rsum']:.1f} (epoch {meta.get('epoch')})" if "rsum" in val else "no val record"
        sections.append(f"### {name}\n\n| | |\n|---|---|\n| preset | `{meta.get('preset', '?')}` (seed "
                        f"{meta.get('seed', train.get('seed', '?'))}) |\n| Look | {look}, joint space "
                        f"{model.get('embed_dim')}-d, {model.get('similarity')} similarity |\n| Imagine | "
                        f"{', '.join(branches)} |\n| trained on | {dataset} |\n| selection | {score} |\n"
                        f"| command | `{meta.get('command', '?')}` |\n")
    licence = combined(licences)  # from the training data: the art's licence carries into the weights
    front = ["---", "library_name: lookimagine", f"license: {licence.licence}", "tags:",
             *[f"  - {t}" for t in sorted(tags)], "---"]
    backbones = ("\n\nThe pretrained open_clip towers' own licence applies to them as well."
                 if "open_clip" in tags else "")
    load = (f'from lookimagine.models.checkpoint import load_model\nloaded = load_model("{repo_id or folder}")'
            if (folder / "config.json").is_file() else
            f'from lookimagine.pipeline.look_imagine_match import LookImagineMatch\n'
            f'pipe = LookImagineMatch.from_pretrained("{repo_id or folder}")')
    return "\n".join(front) + (
        f"\n\n# {repo_id or folder.name}\n\nGXN (Gu et al., *Look, Imagine and Match*, CVPR 2018) trained with "
        "lookimagine; configs in `config.json`, weights in `model.safetensors`, the "
        "word vocabulary in `vocab.json`. Generated by `python -m lookimagine.hub` from the configs.\n\n"
        + "\n".join(sections) + f"\n## Use\n\n```python\n{load}\n```\n"
        + f"\n## Licence and attribution\n\nWeights: **{licence.name}**. {licence.markdown()}{backbones}\n\n"
        "The lookimagine code is Apache-2.0.\n")


# ---- push -----------------------------------------------------------------------------------------------------
def check_folder(folder: Path) -> None:
    """Refuse to push what would not load: every checkpoint must load with strict keys."""
    from .models.checkpoint import load_checkpoint

    for ckpt in _checkpoints(folder).values():
        load_checkpoint(ckpt)


def push(folder: str | Path, repo_id: str, private: bool = False, message: str | None = None, api=None,
         token: str | None = None) -> str:
    """Check the folder, write its model card (README.md) into it, create the repo and upload the folder.

    Returns the commit URL. ``api``: an ``HfApi`` (tests pass a stand-in).
    """
    folder = Path(folder)
    check_folder(folder)
    (folder / CARD).write_text(model_card(folder, repo_id))
    if api is None:
        from huggingface_hub import HfApi

        api = HfApi(token=token)
    api.create_repo(repo_id, private=private, exist_ok=True)
    info = api.upload_folder(repo_id=repo_id, folder_path=str(folder), commit_message=message or
                             f"lookimagine checkpoint from {folder.name}",
                             ignore_patterns=["trainer_state.*", "*.tmp"])
    return str(getattr(info, "commit_url", info))


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m lookimagine.hub", description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    sub = parser.add_subparsers(dest="command", required=True)
    p = sub.add_parser("push", help="upload a checkpoint or pipeline folder with a generated model card")
    p.add_argument("folder")
    p.add_argument("repo_id", help="owner/name of the model repository (created if missing)")
    p.add_argument("--private", action="store_true")
    p.add_argument("--message", help="commit message")
    c = sub.add_parser("card", help="print the model card of a folder")
    c.add_argument("folder")
    c.add_argument("--repo-id", default="")
    args = parser.parse_args(argv)
    try:
        if args.command == "card":
            print(model_card(args.folder, args.repo_id))
            return 0
        print(push(args.folder, args.repo_id, private=args.private, message=args.message))
    except (FileNotFoundError, RuntimeError, OSError) as e:  # CheckpointError is a RuntimeError
        print(f"error: {e}", file=sys.stderr)
        return 2
    return 0


if __name__ == "__main__":
    sys.exit(main())
