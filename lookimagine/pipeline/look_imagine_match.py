"""LookImagineMatch: a trained GXN and its baseline over one gallery, query by query.

    pipe = LookImagineMatch.from_pretrained("assets/checkpoints/emoji")
    result = pipe.run("woman firefighter: medium-dark skin tone", k=5)
    result.gxn.imagined.images, result.baseline.ranking, result.gxn.ground_truth_rank
    pipe.save_pretrained("my-pipeline")   # the same folder layout (``layout.PipelineFolder``)

``run`` does Look (encode the query), Imagine (GXN's caption or picture) and
Match (rank the gallery by s*) for both models; ``look``, ``imagine`` and
``match`` expose the stages one at a time. The pipeline only loads
checkpoints: it never imports the training code.
"""

from __future__ import annotations

import dataclasses
import logging
import shutil
import time
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import torch
from PIL import Image

from ..data import load_dataset
from ..data.framing import REFRAMED_DATASETS, normalise_framing
from ..data.images import from_tensor
from ..data.vocab import BOS_ID, EOS_ID, PAD_ID, UNK_ID
from ..errors import HubUnavailable
from ..evaluation.differences import Difference, read_differences
from ..hub import resolve
from ..models.checkpoint import CheckpointError, LoadedModel, load_model, pick_device, save_checkpoint
from ..models.gxn import ImageEmbedding, TextEmbedding
from ..models.similarity import combined_similarity
from . import messages
from .checking import check_text, marked
from .folder_gallery import FolderGallery
from .pocket_gallery import Gallery, GalleryEmbedding
from .layout import MODELS, PipelineFolder
from .look_map import LookSpace, embed
from .outputs import Direction, Imagined, Look, ModelResult, QueryError, QueryResult, RankedItem, SentenceCheck
from .top_k import rank, rank_distinct
from .search import GallerySearch
from .validation import (MAX_TEXT_CHARS, check_numbers, clean_text, load_query_image, no_known_words_error,
                         unknown_words_notice)

log = logging.getLogger(__name__)
NO_GENERATOR = messages.NO_GENERATOR
__all__ = ["LookImagineMatch", "NO_GENERATOR", "pick_device"]


#: how deep an indexed gallery is searched per query: the top k shown, the Look map's best, the ground truth
SEARCH_DEPTH = 100


@dataclass(frozen=True)
class _Searched:
    """An indexed gallery's answer for one query: its best entries, best first."""

    scores: np.ndarray  # (depth,)
    indices: np.ndarray  # (depth,)
    search: GallerySearch
    query: np.ndarray  # (D,) joint vector

    @classmethod
    def of(cls, search: GallerySearch, query: np.ndarray, depth: int = SEARCH_DEPTH) -> _Searched:
        scores, indices = search.search(query, depth)
        return cls(scores[0], indices[0], search, query)

    def holding(self, k: int, groups: np.ndarray) -> _Searched:
        """This answer, searched deeper until it holds ``k`` distinct texts (``groups``) or the whole gallery."""
        found = self
        while len(np.unique(groups[found.indices])) < k and len(found.indices) < len(found.search):
            found = _Searched.of(found.search, found.query, depth=4 * len(found.indices))
        return found

    def rank(self, truth: set[int], k: int,
             groups: np.ndarray | None = None) -> tuple[list[int], int | None, int | None]:
        """The ``k`` best indices; the ground truth's rank if it is within the searched depth, else "beyond" it.

        Same tie rule as ``top_k.rank``, among the searched entries (the ground truth's score is exact).
        ``groups`` ((N,) text ids, as ``top_k.rank_distinct``): each group is listed and counted once.
        """
        kept = np.ones(len(self.indices), dtype=bool)
        if groups is not None:  # the best entry of each text only (``indices`` are best first)
            _, first = np.unique(groups[self.indices], return_index=True)
            kept[:] = False
            kept[first] = True
        order = [int(i) for i in self.indices[kept][:k]]
        if not truth:
            return order, None, None
        best_truth = float(self.search.scores_of(self.query, truth).max())
        truth_groups = set() if groups is None else {int(groups[t]) for t in truth}
        others = np.array([s for s, i in zip(self.scores[kept], self.indices[kept])
                           if int(i) not in truth and (groups is None or int(groups[i]) not in truth_groups)])
        if len(self.indices) < len(self.search) and (len(others) == 0 or best_truth < self.scores[-1]):
            return order, None, len(self.indices)  # not among the searched best
        return order, 1 + int((others >= best_truth).sum()), None


@dataclass
class _Model(LoadedModel):
    """One loaded checkpoint (GXN or baseline) with its view of the gallery."""

    name: str = ""
    gallery_view: GalleryEmbedding | None = None

    @classmethod
    def load(cls, name: str, folder: Path, device: str | torch.device | None) -> _Model:
        """``load_model`` picks the device ("auto"/None: CUDA, MPS, CPU) and the precision (half on CUDA)."""
        return cls(**vars(load_model(folder, device, half="auto")), name=name)

    def embed_sentence(self, text: str) -> TextEmbedding:
        """One sentence → its joint-space text embedding (batch of 1)."""
        return self.model.encode_text(*self.tokenize([text]))

    def embed_picture(self, image: Image.Image) -> ImageEmbedding:
        """One picture → its joint-space image embedding (batch of 1)."""
        return self.model.encode_image(self.preprocess([image]))


class LookImagineMatch:
    """GXN beside its baseline over one gallery; satisfies ``demo.protocol.Pipeline``."""

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
        """Load a pipeline folder (``layout.PipelineFolder``) and a gallery (its test split, or a folder).

        ``path_or_hub_id`` is a local folder, or a Hugging Face Hub model id
        holding the same layout (downloaded only then; offline it fails with a
        clear message). ``gallery_folder`` is a folder or a Hub *dataset* id in
        the ``folder`` format (images + captions.jsonl), fetched the same way.
        """
        folder = PipelineFolder(_fetch(path_or_hub_id, "model", "pipeline"))
        if folder.missing():
            raise CheckpointError(folder.missing())
        gxn, base = (_Model.load(m, folder.checkpoint(m), device) for m in MODELS)
        train = gxn.train_config
        if gallery_folder is not None:
            dataset = load_dataset("folder", root=_fetch(gallery_folder, "dataset", "gallery"),
                                   image_size=gxn.model_config.image_size)
            attribution = "Your own gallery folder: " + str(gallery_folder)
        else:
            kwargs = train.dataset_kwargs()
            if train.dataset == "emoji":  # the demo never runs npm: test renders come from the cache or assets/
                kwargs["fetch"] = False
            dataset = load_dataset(train.dataset, "test", **kwargs)
            attribution = _attribution(train.dataset, train.styles, weights=True)
        kind = FolderGallery if gallery_folder is not None else Gallery  # a folder's pixels stay on disk
        gallery = kind(dataset, gxn.vocab, gxn.model_config.image_size, gxn.max_len)
        for m in (base, gxn):
            m.gallery_view = gallery.embeddings(m, progress, m.name)
        name = f"pocket · {train.dataset}" + (" · folder" if gallery_folder else "")
        diff = folder.differences
        return cls(gxn, base, gallery, name, attribution, diff if diff.is_file() else None)

    def save_pretrained(self, path: str | Path) -> PipelineFolder:
        """Write both checkpoints (and the differences file, when there is one) as a pipeline folder."""
        folder = PipelineFolder(path)
        for m in (self.gxn, self.baseline):
            save_checkpoint(folder.checkpoint(m.name), m.model, m.vocab, m.train_config, m.meta)
        if self._differences_path is not None:
            shutil.copyfile(self._differences_path, folder.differences)
        return folder

    # ---- the three stages ------------------------------------------------------------
    def _parse(self, query) -> tuple[Direction, str | Image.Image, list[str]]:
        if isinstance(query, str) or query is None:
            text, notices = clean_text(query, self.max_text_chars)
            report = self.gxn.vocab.encode_with_report(text, max_len=self.gxn.max_len)
            known = sum(i not in (PAD_ID, BOS_ID, EOS_ID, UNK_ID) for i in report.ids)  # words the model reads
            if known <= 0:
                raise no_known_words_error(len(self.gxn.vocab))
            notices = list(notices)
            note = unknown_words_notice(report.unknown_words)
            if note:
                notices.append(note)
            if report.truncated:
                notices.append(f"Only the first {self.gxn.max_len - 2} words are read.")
            return "text_to_image", text, notices
        image = load_query_image(query)
        if self.dataset_name in REFRAMED_DATASETS and self.gallery.index_of_image(image) is None:
            # a visitor's picture (full-bleed, off-centre, on a colour) framed as the training drawings are
            return "image_to_text", normalise_framing(image, self.gallery.image_size), [messages.REFRAMED]
        return "image_to_text", image, []

    @torch.no_grad()
    def look(self, query) -> dict[str, Look]:
        direction, q, _ = self._parse(query)
        return {m.name: self._look(m, direction, q)[0] for m in (self.baseline, self.gxn)}

    @torch.no_grad()
    def imagine(self, query, *, seed: int = 0, n_images: int = 1) -> dict[str, Imagined]:
        _, seed, n_images = check_numbers(seed=seed, n_images=n_images)
        direction, q, _ = self._parse(query)
        return {m.name: self._imagine(m, direction, self._encode(m, direction, q), seed, n_images)
                for m in (self.baseline, self.gxn)}

    @torch.no_grad()
    def match(self, query, k: int = 5) -> dict[str, tuple[RankedItem, ...]]:
        k, _, _ = check_numbers(k)
        direction, q, _ = self._parse(query)
        gt = self._ground_truth(direction, q)[0]
        return {m.name: self._match(direction, self._look(m, direction, q, k)[2], k, gt)[0]
                for m in (self.baseline, self.gxn)}

    @torch.no_grad()
    def run(self, query, k: int = 5, *, seed: int = 0, n_images: int = 1) -> QueryResult:
        """Look → Imagine → Match for the baseline and GXN."""
        k, seed, n_images = check_numbers(k, seed, n_images)
        direction, q, notices = self._parse(query)
        gt, check, truth = self._ground_truth(direction, q)
        results = {}
        for m in (self.baseline, self.gxn):
            start = time.perf_counter()
            look, emb, scores = self._look(m, direction, q, k)
            imagined = self._imagine(m, direction, emb, seed, n_images)
            ranking, gt_rank, beyond = self._match(direction, scores, k, gt)
            ranking = marked(ranking, None if truth is None else [truth[it.index] for it in ranking])
            results[m.name] = ModelResult(m.name, look, imagined, ranking, gt_rank, time.perf_counter() - start,
                                          beyond)
        return QueryResult(direction, q if isinstance(q, str) else None, results["baseline"], results["gxn"],
                           tuple(notices), check)

    # ---- internals --------------------------------------------------------------------
    @staticmethod
    def _encode(m: _Model, direction: Direction, q):
        return m.embed_sentence(q) if direction == "text_to_image" else m.embed_picture(q)

    def _look(self, m: _Model, direction: Direction, q, k: int = 0) -> tuple[Look, object, np.ndarray | _Searched]:
        """The query's Look map, its embedding and its scores s* against the gallery (N,).

        A large gallery (``GalleryEmbedding.search``) is searched through its index instead: the scores
        are then ``_Searched`` (the best ``SEARCH_DEPTH`` entries), and the map draws the gallery's fixed
        sample plus those entries; an image query's answer holds at least ``k`` distinct caption texts,
        searched deeper where needed, as ``_match`` lists each text once.
        """
        emb = self._encode(m, direction, q)
        view, cfg = m.gallery_view, m.model_config
        to = lambda t: t.float().cpu()  # noqa: E731
        text_query = direction == "text_to_image"
        h, low = (to(emb.t_h), to(emb.t_l)) if text_query else (to(emb.v_h), to(emb.v_l))
        vec = embed(h.numpy()[0], low.numpy()[0], cfg.lam)
        matched = "images" if text_query else "texts"
        if matched in view.search:
            found = _Searched.of(view.search[matched], vec)
            found = found.holding(k, self.gallery.caption_group) if not text_query else found
            return self._look_indexed(view, matched, found, text_query), emb, found
        if text_query:
            scores = combined_similarity(view.images.v_h, view.images.v_l, h, low, cfg.similarity, cfg.lam)[:, 0]
        else:
            scores = combined_similarity(h, low, view.texts.t_h, view.texts.t_l, cfg.similarity, cfg.lam)[0]
        scores = scores.numpy()
        return view.space.look(vec, text_query, scores), emb, scores

    @staticmethod
    def _look_indexed(view: GalleryEmbedding, matched: str, found: _Searched, text_query: bool) -> Look:
        """The Look map of a large gallery: its fixed sample and the query's best matches, with exact scores."""
        search, vec = found.search, found.query
        sample = view.sample.get(matched, np.arange(len(search)))
        drawn = np.union1d(sample, found.indices)
        own = view.space.texts if text_query else view.space.images
        images, texts = (search.vectors[drawn], own) if text_query else (own, search.vectors[drawn])
        look = LookSpace.of(images, texts).look(vec, text_query, search.scores_of(vec, drawn))
        return dataclasses.replace(look, gallery_index=drawn, gallery_size=len(search))

    def _imagine(self, m: _Model, direction: Direction, emb, seed: int, n_images: int) -> Imagined:
        model, baseline = m.model, m.name == "baseline"
        if direction == "image_to_text":
            if not model.can_caption:
                return Imagined(note=messages.NO_GENERATOR if baseline else messages.NO_CAPTION_DECODER)
            tokens = model.generate_caption(emb, beam=3)[0].tolist()
            return Imagined(caption=m.vocab.decode(tokens), note=messages.CAPTION_NOTE)
        if not model.can_draw:
            return Imagined(note=messages.NO_GENERATOR if baseline else messages.NO_IMAGE_GENERATOR)
        rng = torch.Generator(device=m.device if m.device.type != "cpu" else "cpu").manual_seed(seed)
        emb_n = type(emb)(*(t.expand(n_images, *t.shape[1:]) for t in (emb.t_h, emb.t_l, emb.states, emb.mask)))
        images = model.draw(emb_n, generator=rng)
        branch = "GAN" if m.model_config.t2i == "gan" else "diffusion model"
        note = messages.DRAWING_NOTE.format(branch=branch)
        if model.cfg.imagine_best_of > 1:  # model.draw showed the best of k (GXN.draw_best_of)
            note += messages.BEST_OF_NOTE.format(k=model.cfg.imagine_best_of)
        return Imagined(images=tuple(from_tensor(x) for x in images), note=note, best_of=model.cfg.imagine_best_of)

    def _ground_truth(self, direction: Direction, q) -> tuple[set[int], SentenceCheck | None, np.ndarray | None]:
        """The query's ground truth among the gallery entries it is ranked against, the checker's reading of a
        sentence, and the checker's truth over those entries ((N,) images or (M,) caption rows; None: no checker).

        Where the dataset has a checker (shapes), the ground truth is by meaning, as the evaluation's truth
        protocol has it: every image a sentence is true of (any sentence, from the gallery or not), every caption
        true of a gallery image. Elsewhere it is by caption text (``Gallery.images_matching_caption`` /
        ``captions_matching_image``): a caption shared by several images has them all as ground truth.
        """
        if direction == "text_to_image":
            check, truth = check_text(self.gallery.dataset, q)
            exact = self.gallery.images_matching_caption(q)
        else:
            check, truth = None, self.gallery.caption_truth(self.gallery.index_of_image(q))
            exact = self.gallery.captions_matching_image(q)
        gt = exact if truth is None else {int(i) for i in np.flatnonzero(truth)}
        return gt, check, truth

    def _match(self, direction: Direction, scores: np.ndarray | _Searched, k: int, gt: set[int]):
        g = self.gallery
        beyond = None
        # an image query lists each caption text once, at its best-scoring row (ranks count distinct texts)
        groups = g.caption_group if direction == "image_to_text" else None
        if isinstance(scores, _Searched):  # an indexed gallery: its best SEARCH_DEPTH entries
            order, gt_rank, beyond = scores.rank(gt, k, groups)
            scores = dict(zip(scores.indices.tolist(), scores.scores.tolist()))
        elif groups is not None:
            order, gt_rank = rank_distinct(scores, gt, k, groups)
        else:
            order, gt_rank = rank(scores, gt, k)
        items = []
        for r, idx in enumerate(order, start=1):
            if direction == "text_to_image":
                caption = g.split.captions[int(g.captions_of_image[idx][0])]
                items.append(RankedItem(r, idx, g.split.ids[idx], float(scores[idx]), caption, g.image(idx), idx in gt))
            else:
                owner = int(g.split.image_of_caption[idx])
                items.append(RankedItem(r, idx, g.split.ids[owner], float(scores[idx]), g.split.captions[idx], None,
                                        idx in gt))
        return tuple(items), gt_rank, beyond

    # ---- app helpers -----------------------------------------------------------------
    def examples(self, direction: Direction, n: int = 8):
        """``n`` gallery items spread over the split; text examples only among captions whose every word
        the models know (a caption of unknown words would only earn an error message)."""
        g = self.gallery
        if direction == "image_to_text":
            step = max(g.n_images // n, 1)
            return [g.image(i) for i in range(0, g.n_images, step)[:n]]
        max_len = self.gxn.max_len
        readable = [c for c in (g.split.captions[int(rows[0])] for rows in g.captions_of_image)
                    if not self.gxn.vocab.encode_with_report(c, max_len=max_len).unknown_words]
        step = max(len(readable) // n, 1)
        return readable[::step][:n]

    def differences(self) -> list[Difference]:
        return read_differences(self._differences_path)

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
            raise QueryError(messages.UNKNOWN_QUERY_ID.format(query_id=query_id, gallery=self.gallery_description)) \
                from None


def _fetch(source: str | Path, repo_type: str, what: str) -> Path:
    """A folder, or a Hub repository (a pipeline: "model"; a gallery in the ``folder`` format: "dataset") → its
    local folder (``hub.resolve``); a ``CheckpointError`` of one sentence when it cannot be had."""
    try:
        return resolve(source, repo_type, what)
    except HubUnavailable as e:
        raise CheckpointError(str(e)) from None


def _attribution(dataset: str, styles=None, weights: bool = False) -> str:
    """The credits (Markdown) of a dataset's test gallery in ``styles`` (emoji; None: OpenMoji), from
    ``data.licences``; ``weights``: first the licence that weights trained on that data carry (pocket models)."""
    if dataset in ("emoji", "shapes"):
        from ..data.licences import SHIPPED_NOTE, data_licence

        licence = data_licence(dataset, styles if dataset == "emoji" else None)
        shipped = dataset == "emoji" and bool(set(styles or ()) & {"twemoji", "fluent"})
        credits = "\n".join(f"- {c}" for c in licence.credits + ((SHIPPED_NOTE,) if shipped else ()))
        return (licence.why if weights else "Credits:") + "\n\n" + credits
    return ""
