"""Resumable training state without pickle.

Optimiser moments and RNG states are tensors: they go into a safetensors file
under flat keys; step counts, hyper-parameters and history go into JSON.
"""

from __future__ import annotations

import json
from pathlib import Path

import torch
from safetensors.torch import load_file, save_file


def optimizer_to_flat(name: str, opt: torch.optim.Optimizer) -> tuple[dict[str, torch.Tensor], dict]:
    """Adam state → ({'<name>.<param>.<key>': tensor}, JSON-able rest)."""
    sd = opt.state_dict()
    tensors, scalars = {}, {}
    for pid, st in sd["state"].items():
        for key, value in st.items():
            if torch.is_tensor(value):
                tensors[f"{name}.{pid}.{key}"] = value.detach().cpu().contiguous()
            else:
                scalars[f"{pid}.{key}"] = value
    groups = [{k: v for k, v in g.items()} for g in sd["param_groups"]]
    return tensors, {"scalars": scalars, "param_groups": groups}


def optimizer_from_flat(name: str, opt: torch.optim.Optimizer, tensors: dict[str, torch.Tensor], rest: dict) -> None:
    state: dict[int, dict] = {}
    prefix = f"{name}."
    for key, value in tensors.items():
        if key.startswith(prefix):
            pid, field = key[len(prefix):].split(".", 1)
            state.setdefault(int(pid), {})[field] = value
    for key, value in rest["scalars"].items():
        pid, field = key.split(".", 1)
        state.setdefault(int(pid), {})[field] = value
    opt.load_state_dict({"state": state, "param_groups": rest["param_groups"]})


def save_state(directory: Path, tensors: dict[str, torch.Tensor], info: dict) -> None:
    """Write trainer_state.safetensors + trainer_state.json atomically (tmp file, then rename)."""
    directory.mkdir(parents=True, exist_ok=True)
    tmp = directory / "trainer_state.safetensors.tmp"
    save_file(tensors, str(tmp))
    tmp.replace(directory / "trainer_state.safetensors")
    tmp_json = directory / "trainer_state.json.tmp"
    tmp_json.write_text(json.dumps(info, indent=1))
    tmp_json.replace(directory / "trainer_state.json")


def load_state(directory: Path) -> tuple[dict[str, torch.Tensor], dict] | None:
    st, js = directory / "trainer_state.safetensors", directory / "trainer_state.json"
    if not (st.is_file() and js.is_file()):
        return None
    return load_file(str(st)), json.loads(js.read_text())
