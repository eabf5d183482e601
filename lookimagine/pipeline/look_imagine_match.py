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
import time
from pathlib import Path

import numpy as np
import torch
from PIL import Image

from ..config import ModelConfig, TrainConfig, from_dict
from ..data import load_dataset
from ..data.images import from_tensor, to_tensor
from ..models.checkpoint import WEIGHTS, CheckpointError, load_checkpoint
from ..models.gxn import GXN
from ..models.similarity import combined_similarity
from .gallery import Gallery, GalleryEmbedding
from .outputs import Direction, Imagined, Look, ModelResult, QueryError, QueryResult, RankedItem
from .validation import MAX_TEXT_CHARS, clean_text, load_query_image, no_known_words_error, unknown_words_notice

log = logging.getLogger(__name__)
ASSETS = Path(__file__).resolve().parents[2] / "assets"
NO_GENERATOR = "The baseline has no generator: it only looks and matches."


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
        root = Path(path_or_hub_id)
        if not root.exists():
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
            known = report.n_tokens - len(report.unknown_words)
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
        direction, q, _ = self._parse(query)
        return {m.name: self._imagine(m, direction, q, self._look(m, direction, q)[1], seed, n_images)
                for m in (self.baseline, self.gxn)}

    @torch.no_grad()
    def match(self, query, k: int = 5) -> dict[str, tuple[RankedItem, ...]]:
        direction, q, _ = self._parse(query)
        gt = self._ground_truth(direction, q)
        return {m.name: self._match(m, direction, self._look(m, direction, q)[1], k, gt)[0]
                for m in (self.baseline, self.gxn)}

    @torch.no_grad()
    def run(self, query, k: int = 5, *, seed: int = 0, n_images: int = 1) -> QueryResult:
        """Look → Imagine → Match for the baseline and GXN."""
        if not 1 <= int(k) <= 50:
            raise QueryError("k must be between 1 and 50.")
        if not 1 <= int(n_images) <= 8:
            raise QueryError("The number of imagined images must be between 1 and 8.")
        direction, q, notices = self._parse(query)
        gt = self._ground_truth(direction, q)
        results = {}
        for m in (self.baseline, self.gxn):
            start = time.perf_counter()
            look, emb = self._look(m, direction, q)
            imagined = self._imagine(m, direction, q, emb, seed, n_images)
            ranking, gt_rank = self._match(m, direction, emb, int(k), gt)
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
        """Gallery entries that are the query's ground truth, when the query comes from the gallery."""
        g = self.gallery
        if direction == "text_to_image":
            image = g.image_index_of_caption.get(q.strip().lower())
            return set() if image is None else {image}
        import hashlib

        arr = (to_tensor(q, self.gxn.cfg.image_size).add(1).mul(127.5).round().to(torch.uint8))
        image = g.image_hashes.get(hashlib.sha1(arr.numpy().tobytes()).hexdigest())
        return set() if image is None else set(g.captions_of_image[image].tolist())

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
        order = np.argsort(-scores, kind="stable")
        gt_rank = None
        if gt:
            best = max(scores[list(gt)])
            gt_rank = int((scores >= best).sum())  # ties count against the ground truth
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
        g = self.gallery
        step = max(g.n_images // n, 1)
        picks = list(range(0, g.n_images, step))[:n]
        if direction == "text_to_image":
            return [g.split.captions[int(g.captions_of_image[i][0])] for i in picks]
        return [g.image(i) for i in picks]

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
        g = self.gallery
        if direction == "text_to_image":
            # query ids of text queries are "<image id>#<caption number>"
            image_id, _, number = query_id.rpartition("#")
            image = g.split.ids.index(image_id)
            return g.split.captions[int(g.captions_of_image[image][int(number)])]
        return g.image(g.split.ids.index(query_id))


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
    try:
        return Path(snapshot_download(repo_id))
    except (LocalEntryNotFoundError, HfHubHTTPError, OSError, ValueError) as e:
        raise CheckpointError(f"{repo_id}: not a local folder, and it could not be fetched from the Hugging Face "
                              f"Hub ({type(e).__name__}: {str(e).splitlines()[0] if str(e) else ''})") from None
