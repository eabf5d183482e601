"""LookImagineMatch: a trained GXN and its baseline over one gallery, query by query.

    pipe = LookImagineMatch.from_pretrained("assets/checkpoints/emoji")
    result = pipe.run("woman firefighter: medium-dark skin tone", k=5)
    result.gxn.imagined.images, result.baseline.ranking, result.gxn.ground_truth_rank

``run`` does Look (encode the query), Imagine (GXN's caption or picture) and
Match (rank the gallery by s*) for both models; ``look``, ``imagine`` and
``match`` expose the stages one at a time. The pipeline only loads
checkpoints: it never imports the training code.
"""

from __future__ import annotations

import json
import logging
import os
import time
from pathlib import Path

import numpy as np
import torch
from PIL import Image

from ..config import ModelConfig, TrainConfig, from_dict
from ..data import load_dataset
from ..data.images import from_tensor, to_tensor
from ..data.vocab import BOS_ID, EOS_ID, PAD_ID, UNK_ID
from ..models.checkpoint import WEIGHTS, CheckpointError, load_checkpoint
from ..models.gxn import GXN
from ..models.similarity import combined_similarity
from .gallery import Gallery, GalleryEmbedding
from .outputs import Direction, Imagined, Look, ModelResult, QueryError, QueryResult, RankedItem
from .validation import MAX_TEXT_CHARS, clean_text, load_query_image, no_known_words_error, unknown_words_notice

log = logging.getLogger(__name__)
ASSETS = Path(__file__).resolve().parents[2] / "assets"
NO_GENERATOR = "The baseline has no generator: it only looks and matches."
MAX_K, MAX_IMAGES = 50, 8


def pick_device(device: str | None = None) -> torch.device:
    """CUDA, then MPS, then CPU — unless ``device`` says otherwise ("auto" = choose)."""
    if device and device != "auto":
        return torch.device(device)
    if torch.cuda.is_available():
        return torch.device("cuda")
    if getattr(torch.backends, "mps", None) is not None and torch.backends.mps.is_available():
        return torch.device("mps")
    return torch.device("cpu")


class _Model:
    """One loaded checkpoint (GXN or baseline) with its gallery embeddings."""

    def __init__(self, name: str, folder: Path, device: torch.device) -> None:
        self.name, self.folder, self.device = name, folder, device
        self.model, self.vocab, self.config = load_checkpoint(folder, device)
        if device.type == "cuda":
            self.model.half()  # half precision on GPU
        self.cfg: ModelConfig = self.model.cfg
        self.train_cfg = from_dict(TrainConfig, self.config["train"])
        self.gallery_view: GalleryEmbedding | None = None

    def encode_text(self, text: str):
        ids = self.vocab.encode(text, max_len=self.train_cfg.max_len)
        tokens = torch.tensor([ids], device=self.device)
        return self.model.encode_text(tokens, torch.tensor([len(ids)], device=self.device))

    def encode_image(self, image: Image.Image):
        x = to_tensor(image, self.cfg.image_size)[None].to(self.device, next(self.model.parameters()).dtype)
        return self.model.encode_image(x)


class LookImagineMatch:
    """GXN beside its baseline over one gallery; satisfies ``pipeline.protocol.Pipeline``."""

    max_text_chars = MAX_TEXT_CHARS

    def __init__(self, gxn: _Model, baseline: _Model, gallery: Gallery, name: str, attribution: str = "",
                 differences_path: Path | None = None) -> None:
        self.gxn, self.baseline, self.gallery = gxn, baseline, gallery
        self.name = name
        self.dataset_name = gallery.dataset.name
        self.gallery_description = (f"{gallery.dataset.name} / {gallery.dataset.split} "
                                    f"({gallery.n_images:,} images, {gallery.n_captions:,} captions)")
        self.attribution = attribution
        self._differences_path = differences_path

    # ---- construction -----------------------------------------------------------------
    @classmethod
    def from_pretrained(cls, path_or_hub_id: str | Path, device: str | None = None,
                        gallery_folder: str | Path | None = None, progress: bool = True) -> "LookImagineMatch":
        """Load ``<path>/gxn`` and ``<path>/baseline`` and a gallery (their test split, or a folder).

        ``path_or_hub_id`` is a local folder, or a Hugging Face Hub model id
        holding the same layout (downloaded only then; offline it fails with a
        clear message).
        """
        root = Path(path_or_hub_id).expanduser()
        if not root.exists():
            if _looks_local(str(path_or_hub_id)):
                raise CheckpointError(f"{path_or_hub_id}: checkpoint folder not found (looked in {root.resolve()}; "
                                      "a pipeline folder holds gxn/ and baseline/ checkpoints)")
            root = _download(str(path_or_hub_id))
        dev = pick_device(device)
        for sub in ("gxn", "baseline"):
            if not (root / sub).is_dir():
                raise CheckpointError(f"{root / sub}: missing (a pipeline folder holds gxn/ and baseline/ "
                                      "checkpoints); looked in " + str(root.resolve()))
        gxn, base = _Model("gxn", root / "gxn", dev), _Model("baseline", root / "baseline", dev)
        if gallery_folder is not None:
            dataset = load_dataset("folder", root=gallery_folder, image_size=gxn.cfg.image_size)
            attribution = "Your own gallery folder: " + str(gallery_folder)
        else:
            dataset = load_dataset(gxn.train_cfg.dataset, "test")
            attribution = _attribution(gxn.train_cfg.dataset)
        gallery = Gallery(dataset, gxn.vocab, gxn.cfg.image_size, gxn.train_cfg.max_len)
        for m in (base, gxn):
            m.gallery_view = gallery.embeddings(m.model, gxn.vocab if m is gxn else m.vocab,
                                                m.folder / WEIGHTS, dev, progress, m.name)
        name = f"pocket · {gxn.train_cfg.dataset}" + (" · folder" if gallery_folder else "")
        diff = root / "differences.json"
        return cls(gxn, base, gallery, name, attribution, diff if diff.is_file() else None)

    # ---- the three stages ------------------------------------------------------------
    def _parse(self, query) -> tuple[Direction, str | Image.Image, list[str]]:
        if isinstance(query, str) or query is None:
            text, notices = clean_text(query, self.max_text_chars)
            report = self.gxn.vocab.encode_with_report(text, max_len=self.gxn.train_cfg.max_len)
            known = sum(i not in (PAD_ID, BOS_ID, EOS_ID, UNK_ID) for i in report.ids)  # words the model reads
            if known <= 0:
                raise no_known_words_error(len(self.gxn.vocab))
            notices = list(notices)
            note = unknown_words_notice(report.unknown_words)
            if note:
                notices.append(note)
            if report.truncated:
                notices.append(f"Only the first {self.gxn.train_cfg.max_len - 2} words are read.")
            return "text_to_image", text, notices
        return "image_to_text", load_query_image(query), []

    @torch.no_grad()
    def look(self, query) -> dict[str, Look]:
        direction, q, _ = self._parse(query)
        return {m.name: self._look(m, direction, q)[0] for m in (self.baseline, self.gxn)}

    @torch.no_grad()
    def imagine(self, query, *, seed: int = 0, n_images: int = 1) -> dict[str, Imagined]:
        n_images = _check_n_images(n_images)
        direction, q, _ = self._parse(query)
        return {m.name: self._imagine(m, direction, q, self._look(m, direction, q)[1], seed, n_images)
                for m in (self.baseline, self.gxn)}

    @torch.no_grad()
    def match(self, query, k: int = 5) -> dict[str, tuple[RankedItem, ...]]:
        k = _check_k(k)
        direction, q, _ = self._parse(query)
        gt = self._ground_truth(direction, q)
        return {m.name: self._match(m, direction, self._look(m, direction, q)[1], k, gt)[0]
                for m in (self.baseline, self.gxn)}

    @torch.no_grad()
    def run(self, query, k: int = 5, *, seed: int = 0, n_images: int = 1) -> QueryResult:
        """Look → Imagine → Match for the baseline and GXN."""
        k, n_images = _check_k(k), _check_n_images(n_images)
        direction, q, notices = self._parse(query)
        gt = self._ground_truth(direction, q)
        results = {}
        for m in (self.baseline, self.gxn):
            start = time.perf_counter()
            look, emb = self._look(m, direction, q)
            imagined = self._imagine(m, direction, q, emb, seed, n_images)
            ranking, gt_rank = self._match(m, direction, emb, k, gt)
            results[m.name] = ModelResult(m.name, look, imagined, ranking, gt_rank, time.perf_counter() - start)
        return QueryResult(direction, q if isinstance(q, str) else None, results["baseline"], results["gxn"],
                           tuple(notices))

    # ---- internals --------------------------------------------------------------------
    def _look(self, m: _Model, direction: Direction, q):
        view = m.gallery_view
        if direction == "text_to_image":
            emb = m.encode_text(q)
            vec = torch.cat([emb.t_h, emb.t_l], 1).float().cpu().numpy()[0]
            gallery_xy = view.image_xy
        else:
            emb = m.encode_image(q)
            vec = torch.cat([emb.v_h, emb.v_l], 1).float().cpu().numpy()[0]
            gallery_xy = view.text_xy
        return Look(embedding=vec, gallery_xy=gallery_xy, query_xy=view.project(vec)), emb

    def _imagine(self, m: _Model, direction: Direction, q, emb, seed: int, n_images: int) -> Imagined:
        model: GXN = m.model
        if direction == "image_to_text":
            if not model.can_caption:
                return Imagined(note=NO_GENERATOR if m.name == "baseline" else "This model has no caption decoder.")
            tokens = model.generate_caption(emb, beam=3)[0].tolist()
            return Imagined(caption=m.vocab.decode(tokens), note="Caption decoded from the grounded image vector v_l.")
        if not model.can_draw:
            return Imagined(note=NO_GENERATOR if m.name == "baseline" else "This model has no image generator.")
        gen = torch.Generator(device="cpu").manual_seed(int(seed))
        emb_n = type(emb)(*(t.expand(n_images, *t.shape[1:]) for t in (emb.t_h, emb.t_l, emb.states, emb.mask)))
        if m.device.type != "cpu":
            gen = torch.Generator(device=m.device).manual_seed(int(seed))
        images = model.draw(emb_n, generator=gen)
        return Imagined(images=tuple(from_tensor(x) for x in images),
                        note="Drawn from the grounded text vector t_l" + (" by the GAN." if model.generator is not None
                                                                           else " by the diffusion model."))

    def _ground_truth(self, direction: Direction, q) -> set[int]:
        """Gallery entries that are the query's ground truth, when the query comes from the gallery.

        By caption text (``Gallery.images_matching_caption`` / ``captions_matching_image``): a
        caption shared by several images has them all as ground truth.
        """
        if direction == "text_to_image":
            return self.gallery.images_matching_caption(q)
        return self.gallery.captions_matching_image(q)

    def _match(self, m: _Model, direction: Direction, emb, k: int, gt: set[int]):
        view, cfg, g = m.gallery_view, m.cfg, self.gallery
        to = lambda t: t.float().cpu()  # noqa: E731
        if direction == "text_to_image":
            scores = combined_similarity(view.images.v_h, view.images.v_l, to(emb.t_h), to(emb.t_l),
                                         cfg.similarity, cfg.lam)[:, 0]
        else:
            scores = combined_similarity(to(emb.v_h), to(emb.v_l), view.texts.t_h, view.texts.t_l,
                                         cfg.similarity, cfg.lam)[0]
        scores = scores.numpy()
        is_gt = np.zeros(len(scores), dtype=bool)
        is_gt[list(gt)] = True
        order = np.lexsort((is_gt, -scores))  # by score; on a tie the ground truth comes last
        gt_rank = None
        if gt:
            best = scores[is_gt].max()
            # ties with other entries count against the ground truth; other ground-truth entries do not
            gt_rank = 1 + int((scores[~is_gt] >= best).sum())
        items = []
        for r, idx in enumerate(order[:k], start=1):
            idx = int(idx)
            if direction == "text_to_image":
                caption = g.split.captions[int(g.captions_of_image[idx][0])]
                items.append(RankedItem(r, idx, g.split.ids[idx], float(scores[idx]), caption, g.image(idx), idx in gt))
            else:
                owner = int(g.split.image_of_caption[idx])
                items.append(RankedItem(r, idx, g.split.ids[owner], float(scores[idx]), g.split.captions[idx], None,
                                        idx in gt))
        return tuple(items), gt_rank

    # ---- app helpers -----------------------------------------------------------------
    def examples(self, direction: Direction, n: int = 8):
        """``n`` gallery items spread over the split; text examples only among captions whose every word
        the models know (a caption of unknown words would only earn an error message)."""
        g = self.gallery
        if direction == "image_to_text":
            step = max(g.n_images // n, 1)
            return [g.image(i) for i in range(0, g.n_images, step)[:n]]
        max_len = self.gxn.train_cfg.max_len
        readable = [c for c in (g.split.captions[int(rows[0])] for rows in g.captions_of_image)
                    if not self.gxn.vocab.encode_with_report(c, max_len=max_len).unknown_words]
        step = max(len(readable) // n, 1)
        return readable[::step][:n]

    def differences(self) -> list[dict]:
        if self._differences_path is None:
            return []
        try:
            rows = json.loads(self._differences_path.read_text())["rows"]
        except (OSError, ValueError, KeyError) as e:
            log.warning("cannot read %s: %s", self._differences_path, e)
            return []
        return rows

    def query_of(self, direction: Direction, query_id: str):
        """The caption (text ids are "<image id>#<caption number>") or image behind a differences row."""
        g = self.gallery
        try:
            if direction == "text_to_image":
                image_id, _, number = query_id.rpartition("#")
                image = g.split.ids.index(image_id)
                return g.split.captions[int(g.captions_of_image[image][int(number)])]
            return g.image(g.split.ids.index(query_id))
        except (ValueError, IndexError):
            raise QueryError(f"{query_id!r} is not a query of this gallery ({self.gallery_description}).") from None


def _check_k(k) -> int:
    """``k`` as an int in 1..MAX_K, or a ``QueryError``."""
    return _whole_in_range(k, 1, MAX_K, "k (how many results)")


def _check_n_images(n_images) -> int:
    """``n_images`` as an int in 1..MAX_IMAGES, or a ``QueryError``."""
    return _whole_in_range(n_images, 1, MAX_IMAGES, "The number of imagined images")


def _whole_in_range(value, low: int, high: int, what: str) -> int:
    try:
        number = int(value)
        if number != value and not isinstance(value, str):
            raise ValueError
    except (TypeError, ValueError):
        raise QueryError(f"{what} must be a whole number between {low} and {high}.") from None
    if not low <= number <= high:
        raise QueryError(f"{what} must be between {low} and {high}.")
    return number


def _looks_local(path: str) -> bool:
    """True when ``path`` can only be a folder, not a Hub id ("owner/name" or "name")."""
    if path.startswith((".", "~", "/")) or os.path.isabs(path) or "\\" in path:
        return True
    return path.count("/") > 1


def _attribution(dataset: str) -> str:
    if dataset == "emoji":
        from ..data.emoji_set import EMOJI_ATTRIBUTION

        return EMOJI_ATTRIBUTION
    if dataset == "shapes":
        return "Procedurally drawn shapes scenes generated by lookimagine (no third-party content)."
    return ""


def _download(repo_id: str) -> Path:
    """A Hub model id → a local snapshot folder; a clear error when offline or unknown."""
    try:
        from huggingface_hub import snapshot_download
        from huggingface_hub.errors import HfHubHTTPError, LocalEntryNotFoundError
    except ImportError as e:  # pragma: no cover - huggingface_hub is a pinned dependency
        raise CheckpointError(f"{repo_id}: not a local folder, and huggingface_hub is unavailable ({e})") from None
    local = Path(repo_id).resolve()
    try:
        return Path(snapshot_download(repo_id))
    except LocalEntryNotFoundError:
        from huggingface_hub import constants

        why = "HF_HUB_OFFLINE is set" if constants.HF_HUB_OFFLINE else "the Hub cannot be reached"
        raise CheckpointError(f"{repo_id}: no such folder ({local}), and this Hugging Face Hub model is not in the "
                              f"local Hub cache while {why}. Pass a local pipeline folder, or download the model "
                              "once while online.") from None
    except (HfHubHTTPError, OSError, ValueError) as e:
        raise CheckpointError(f"{repo_id}: no such folder ({local}), and it could not be fetched from the Hugging "
                              f"Face Hub ({type(e).__name__}: {str(e).splitlines()[0] if str(e) else ''})") from None
