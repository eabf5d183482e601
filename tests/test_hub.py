"""Where models come from (``lookimagine.hub``: a local round trip with strict keys, the offline message) and
publishing (``lookimagine.publish``: a push with a stand-in ``HfApi``;
there is no network here, so the test asserts what would be uploaded)."""

from __future__ import annotations

import dataclasses
import json
import shutil
from pathlib import Path

import pytest
import torch
from safetensors.torch import load_file, save_file

from lookimagine import hub, publish
from lookimagine.config import get_preset
from lookimagine.data.vocab import Vocabulary
from lookimagine.models.checkpoint import CheckpointError, load_model, save_checkpoint
from lookimagine.models.gxn import GXN


@pytest.fixture
def checkpoint(tmp_path):
    """A tiny pocket GXN checkpoint folder (random weights; nothing trained)."""
    torch.manual_seed(0)
    vocab = Vocabulary.build(["a red circle", "a blue square above a green star"])
    preset = get_preset("tiny-gxn")
    model = GXN(dataclasses.replace(preset.model, vocab_size=len(vocab))).eval()
    folder = save_checkpoint(tmp_path / "ckpt", model, vocab, preset.train, {"preset": preset.name, "seed": 0,
                                                                             "command": "test"})
    return folder, model


@pytest.fixture
def offline_hub(monkeypatch, tmp_path):
    from huggingface_hub import constants

    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    monkeypatch.setattr(constants, "HF_HUB_OFFLINE", True)
    monkeypatch.setattr(constants, "HF_HUB_CACHE", str(tmp_path / "empty-hub-cache"))


def test_round_trip_from_a_local_folder(checkpoint):
    folder, model = checkpoint
    loaded = load_model(str(folder))
    tokens, lengths = loaded.tokenize(["a red circle"])
    images = torch.rand(2, 3, 32, 32) * 2 - 1
    with torch.no_grad():
        a = model.similarity(model.encode_image(images), model.encode_text(tokens, lengths))
        b = loaded.model.similarity(loaded.model.encode_image(images), loaded.model.encode_text(tokens, lengths))
    assert torch.equal(a, b)


@pytest.mark.parametrize("change", ["extra", "missing"])
def test_a_missing_or_extra_key_is_refused(checkpoint, change):
    folder, _ = checkpoint
    state = load_file(str(folder / "model.safetensors"))
    if change == "extra":
        state["image_encoder.stray.weight"] = torch.zeros(2)
    else:
        state.pop(sorted(state)[0])
    save_file(state, str(folder / "model.safetensors"), metadata={"format": "lookimagine-checkpoint-v1"})
    with pytest.raises(CheckpointError, match="does not match its config") as caught:
        load_model(folder)
    assert ("unexpected ['image_encoder.stray.weight']" in str(caught.value)) == (change == "extra")


def test_a_hub_id_that_cannot_be_downloaded_says_so_in_one_sentence(offline_hub):
    with pytest.raises(CheckpointError) as caught:
        load_model("lookimagine-nobody/no-such-checkpoint")
    message = str(caught.value)
    assert "\n" not in message and "'lookimagine-nobody/no-such-checkpoint'" in message
    assert "HF_HUB_OFFLINE is set" in message and "hf download lookimagine-nobody/no-such-checkpoint" in message


def test_a_gallery_can_be_a_hub_dataset_repo(monkeypatch, tmp_path, offline_hub):
    import huggingface_hub

    gallery = tmp_path / "snapshot"
    gallery.mkdir()
    calls = []

    def fake_snapshot(repo_id, repo_type=None, **kwargs):
        calls.append((repo_id, repo_type))
        return str(gallery)

    monkeypatch.setattr(huggingface_hub, "snapshot_download", fake_snapshot)
    assert hub.resolve("me/my-gallery", repo_type="dataset", what="gallery") == gallery
    assert calls == [("me/my-gallery", "dataset")]
    assert hub.resolve(str(tmp_path)) == tmp_path and calls == [("me/my-gallery", "dataset")]  # folders stay local


def test_an_unreachable_gallery_repo_names_the_dataset_download(offline_hub):
    from lookimagine.pipeline.look_imagine_match import _fetch

    with pytest.raises(CheckpointError) as caught:
        _fetch("lookimagine-nobody/no-such-gallery", "dataset", "gallery")
    assert "hf download lookimagine-nobody/no-such-gallery --repo-type dataset" in str(caught.value)


class FakeApi:
    """Records what ``push`` asks of the Hub instead of sending it."""

    def __init__(self):
        self.calls = []

    def create_repo(self, repo_id, **kwargs):
        self.calls.append(("create_repo", repo_id, kwargs))

    def upload_folder(self, **kwargs):
        self.calls.append(("upload_folder", kwargs))
        return type("CommitInfo", (), {"commit_url": f"https://huggingface.co/{kwargs['repo_id']}/commit/1"})()


def test_push_uploads_the_checkpoint_with_a_generated_model_card(checkpoint, monkeypatch):
    folder, _ = checkpoint
    api = FakeApi()
    url = publish.push(folder, "me/gxn-tiny", private=True, api=api)
    assert url.endswith("me/gxn-tiny/commit/1")
    (_, repo, create), (_, upload) = api.calls
    assert repo == "me/gxn-tiny" and create == {"private": True, "exist_ok": True}
    assert upload["repo_id"] == "me/gxn-tiny" and upload["folder_path"] == str(folder)
    assert "trainer_state.*" in upload["ignore_patterns"]
    assert sorted(p.name for p in folder.iterdir()) == ["README.md", "config.json", "model.safetensors", "vocab.json"]
    card = (folder / "README.md").read_text()
    assert card.startswith("---\nlibrary_name: lookimagine\n") and "`tiny-gxn`" in card
    assert 'load_model("me/gxn-tiny")' in card

    import huggingface_hub  # the command line: the same push through HfApi

    monkeypatch.setattr(huggingface_hub, "HfApi", lambda token=None: api)
    assert publish.main(["push", str(folder), "me/gxn-tiny"]) == 0 and len(api.calls) == 4


def test_push_refuses_a_folder_that_would_not_load(checkpoint, tmp_path, capsys):
    folder, _ = checkpoint
    (folder / "vocab.json").unlink()
    assert publish.main(["push", str(folder), "me/broken"]) == 2
    assert "vocab.json" in capsys.readouterr().err


# ---- licences: taken from the checkpoint's training data ------------------------------------------------------
SHIPPED = Path(__file__).resolve().parents[1] / "assets" / "checkpoints"
EMOJI_CREDITS = ("All emojis designed by OpenMoji", "Copyright 2020 Twitter, Inc and other contributors",
                 "Copyright (c) Microsoft Corporation", "CC BY-SA 4.0", "CC BY 4.0", "MIT", "CLDR")


def _licence(card: str) -> str:
    front = card.split("\n---\n", 1)[0]
    return next(line.split(":", 1)[1].strip() for line in front.splitlines() if line.startswith("license:"))


@pytest.mark.parametrize("dataset, licence", [("shapes", "apache-2.0"), ("emoji", "cc-by-sa-4.0")])
def test_push_and_local_cards_carry_the_training_datas_licence(dataset, licence, tmp_path):
    if not (SHIPPED / dataset / "gxn").is_dir():
        pytest.skip(f"no shipped {dataset} checkpoints")
    folder = shutil.copytree(SHIPPED / dataset, tmp_path / dataset)
    api = FakeApi()
    publish.push(folder, f"me/lookimagine-{dataset}", api=api)
    pushed = (folder / "README.md").read_text()
    assert api.calls[-1][1]["folder_path"] == str(folder)
    local = {m: (SHIPPED / dataset / m / "README.md").read_text() for m in ("gxn", "baseline")}
    assert _licence(pushed) == licence and all(_licence(card) == licence for card in local.values())
    for card in (pushed, *local.values()):
        assert "## Licence and attribution" in card and "The lookimagine code is Apache-2.0." in card
        if dataset == "emoji":
            assert all(credit in card for credit in EMOJI_CREDITS), card
        else:
            assert "no third-party content" in card
    one = publish.model_card(folder / "gxn", "me/gxn")  # a single checkpoint of the pipeline: the same licence
    assert _licence(one) == licence


@pytest.mark.parametrize("styles, licence", [(["openmoji", "twemoji", "fluent"], "cc-by-sa-4.0"),
                                             (None, "cc-by-sa-4.0"), (["twemoji", "fluent"], "cc-by-4.0"),
                                             (["fluent"], "mit")])
def test_the_card_licence_follows_the_emoji_styles(checkpoint, styles, licence):
    folder, _ = checkpoint
    config = json.loads((folder / "config.json").read_text())
    config["train"].update(dataset="emoji", styles=styles)
    (folder / "config.json").write_text(json.dumps(config))
    card = publish.model_card(folder)
    assert _licence(card) == licence
    assert ("OpenMoji" in card) == (styles is None or "openmoji" in styles)
    assert ("Twitter" in card) == bool(styles and "twemoji" in styles)
    assert ("Microsoft" in card) == bool(styles and "fluent" in styles)


def test_a_shapes_checkpoint_card_is_apache(checkpoint):
    folder, _ = checkpoint
    assert json.loads((folder / "config.json").read_text())["train"]["dataset"] == "shapes"
    assert _licence(publish.model_card(folder)) == "apache-2.0"


def test_one_model_unavailable_under_every_name():
    """``lookimagine.full`` names the error of ``lookimagine.errors``; it is a ``CheckpointError``."""
    from lookimagine import errors
    from lookimagine.full import ModelUnavailable, ZeroShotConfig

    assert ModelUnavailable is errors.ModelUnavailable and issubclass(ModelUnavailable, CheckpointError)
    assert issubclass(errors.HubUnavailable, ModelUnavailable) and ZeroShotConfig.__name__ == "ZeroShotConfig"
