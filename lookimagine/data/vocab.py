"""Tokenisation and the word vocabulary shared by the text encoders and the caption decoder.

Tokenisation rules (``tokenize``), chosen for CLDR emoji names ("woman
firefighter: medium-dark skin tone"), the shapes captions ("a red circle left
of a blue square") and COCO / Flickr30K sentences:

1. Unicode NFKC normalisation (full-width letters, ligatures and compatibility
   digits become their plain forms), then lower-casing.
2. Curly apostrophes (’ ‘ ʼ) become ``'``; the Unicode hyphens ‐ ‑ become ``-``.
3. A token is a run of letters and digits (any script; combining marks stay
   attached to their letter). An apostrophe or hyphen *between* two such
   characters joins them, so "medium-dark", "t-shirt", "don't", "man's" and
   "o'clock" are single tokens; a leading or trailing one is dropped.
4. Everything else separates tokens and produces none: spaces, punctuation
   (":" "," "." "!" "(" '"' ...), underscores, symbols and emoji. So "3.5"
   gives "3", "5" and "😀" gives no token at all.
5. Scripts written without spaces (Chinese, Japanese, Thai) are not segmented:
   a run of such characters is one token, usually ``<unk>``.

Any string is accepted; no input raises.

The vocabulary is built from training captions only, ordered by frequency
(descending) then alphabetically, so the same captions always give the same
ids. It is saved as JSON with a format name and version.
"""

from __future__ import annotations

import json
import unicodedata
from collections import Counter
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path

PAD, BOS, EOS, UNK = "<pad>", "<bos>", "<eos>", "<unk>"
SPECIALS = (PAD, BOS, EOS, UNK)
PAD_ID, BOS_ID, EOS_ID, UNK_ID = 0, 1, 2, 3

FORMAT = "lookimagine.vocabulary"
VERSION = 1

_JOINERS = "'-"
_NORMALISE = str.maketrans({"\u2019": "'", "\u2018": "'", "\u02bc": "'", "\u2010": "-", "\u2011": "-"})


def _is_word_char(char: str, in_word: bool) -> bool:
    category = unicodedata.category(char)
    return category[0] in "LN" or (in_word and category[0] == "M")


def tokenize(text: str) -> list[str]:
    """Split ``text`` into lower-case word tokens by the rules in the module docstring.

    >>> tokenize("Woman firefighter: medium-dark skin tone")
    ['woman', 'firefighter', 'medium-dark', 'skin', 'tone']
    """
    text = unicodedata.normalize("NFKC", text).lower().translate(_NORMALISE)
    tokens: list[str] = []
    current: list[str] = []
    for i, char in enumerate(text):
        if _is_word_char(char, bool(current)):
            current.append(char)
        elif char in _JOINERS and current and i + 1 < len(text) and _is_word_char(text[i + 1], False):
            current.append(char)
        elif current:
            tokens.append("".join(current))
            current = []
    if current:
        tokens.append("".join(current))
    return tokens


@dataclass(frozen=True)
class EncodedText:
    """A text as ids, with what a person should be told about it.

    ids:           the encoded ids (with <bos>/<eos> when asked), at most ``max_len``.
    unknown_words: distinct words that became <unk>, in order of appearance
                   (only words that survived truncation).
    truncated:     True when words were cut to fit ``max_len``.
    n_tokens:      the number of words in the whole text, before truncation.
    """

    ids: list[int]
    unknown_words: tuple[str, ...]
    truncated: bool
    n_tokens: int


class Vocabulary:
    """Word <-> id mapping; ids 0..3 are <pad>, <bos>, <eos>, <unk>, words follow.

    ``Vocabulary(words)`` takes the non-special words in id order (ids 4, 5, ...);
    usually you call ``Vocabulary.build(captions)`` or ``Vocabulary.load(path)``.
    """

    def __init__(self, words: Iterable[str] = ()):
        self._tokens: list[str] = list(SPECIALS)
        self._ids: dict[str, int] = {token: i for i, token in enumerate(SPECIALS)}
        for word in words:
            if not isinstance(word, str) or not word:
                raise ValueError(f"vocabulary words must be non-empty strings, got {word!r}")
            if word in self._ids:
                raise ValueError(f"duplicate vocabulary word {word!r}")
            self._ids[word] = len(self._tokens)
            self._tokens.append(word)

    @classmethod
    def build(cls, captions: Iterable[str], min_count: int = 1, max_size: int | None = None) -> Vocabulary:
        """Build from TRAINING captions only (never val/test, which would leak).

        min_count: keep words seen at least this often.
        max_size:  keep at most this many words (the four special tokens come on top).
        Order: frequency descending, then alphabetical — deterministic.
        """
        counts = Counter(token for caption in captions for token in tokenize(caption))
        words = sorted((w for w, n in counts.items() if n >= min_count), key=lambda w: (-counts[w], w))
        return cls(words if max_size is None else words[:max_size])

    def __len__(self) -> int:
        return len(self._tokens)

    def __contains__(self, token: object) -> bool:
        return token in self._ids

    def __eq__(self, other: object) -> bool:
        return isinstance(other, Vocabulary) and self._tokens == other._tokens

    def __repr__(self) -> str:
        return f"Vocabulary({len(self)} tokens)"

    @property
    def tokens(self) -> tuple[str, ...]:
        """Every token, specials included, in id order."""
        return tuple(self._tokens)

    def token_to_id(self, token: str) -> int:
        """The id of ``token``; ``UNK_ID`` for a word not in the vocabulary."""
        return self._ids.get(token, UNK_ID)

    def id_to_token(self, index: int) -> str:
        if not 0 <= index < len(self._tokens):
            raise ValueError(f"token id {index} is out of range 0..{len(self._tokens) - 1}")
        return self._tokens[index]

    def encode_with_report(self, text: str, max_len: int = 32, add_bos_eos: bool = True) -> EncodedText:
        """Encode ``text`` into at most ``max_len`` ids and report unknown words and truncation.

        With ``add_bos_eos`` the ids are ``<bos> w1 .. wn <eos>``; when too long
        the words are cut so that ``<eos>`` still ends the sequence.
        """
        room = max_len - 2 if add_bos_eos else max_len
        if room < (0 if add_bos_eos else 1):
            raise ValueError(f"max_len={max_len} leaves no room for any token")
        words = tokenize(text)
        kept = words[:room]
        word_ids = [self.token_to_id(word) for word in kept]
        unknown = tuple(dict.fromkeys(w for w, i in zip(kept, word_ids) if i == UNK_ID))
        ids = [BOS_ID, *word_ids, EOS_ID] if add_bos_eos else word_ids
        return EncodedText(ids=ids, unknown_words=unknown, truncated=len(words) > room, n_tokens=len(words))

    def encode(self, text: str, max_len: int = 32, add_bos_eos: bool = True) -> list[int]:
        """``encode_with_report(...).ids``."""
        return self.encode_with_report(text, max_len, add_bos_eos).ids

    def decode(self, ids: Iterable[int]) -> str:
        """Words joined by spaces; stops at <eos>, skips <pad> and <bos>, shows <unk> as is.

        Accepts a list or a 1-D tensor of ids.
        """
        if hasattr(ids, "tolist"):
            ids = ids.tolist()
        words = []
        for index in ids:
            if index == EOS_ID:
                break
            if index not in (PAD_ID, BOS_ID):
                words.append(self.id_to_token(int(index)))
        return " ".join(words)

    def to_dict(self) -> dict:
        """A plain JSON-able dict (for files and checkpoint metadata)."""
        return {"format": FORMAT, "version": VERSION, "tokens": list(self._tokens)}

    @classmethod
    def from_dict(cls, data: object, source: str = "vocabulary") -> Vocabulary:
        """Inverse of ``to_dict``; raises ValueError naming ``source`` when the data is not one."""
        if not isinstance(data, dict) or data.get("format") != FORMAT:
            raise ValueError(f"{source}: not a lookimagine vocabulary (expected format {FORMAT!r})")
        if data.get("version") != VERSION:
            raise ValueError(f"{source}: vocabulary version {data.get('version')!r}, this code reads {VERSION}")
        tokens = data.get("tokens")
        if not isinstance(tokens, Sequence) or tuple(tokens[: len(SPECIALS)]) != SPECIALS:
            raise ValueError(f"{source}: tokens must be a list starting with {', '.join(SPECIALS)}")
        try:
            return cls(tokens[len(SPECIALS) :])
        except ValueError as error:
            raise ValueError(f"{source}: {error}") from error

    def save(self, path: str | Path) -> None:
        """Write the vocabulary as UTF-8 JSON."""
        Path(path).write_text(json.dumps(self.to_dict(), ensure_ascii=False, indent=0) + "\n", encoding="utf-8")

    @classmethod
    def load(cls, path: str | Path) -> Vocabulary:
        """Read a file written by ``save``; a corrupt or foreign file raises ValueError naming it."""
        path = Path(path)
        try:
            data = json.loads(path.read_text(encoding="utf-8"))
        except (UnicodeDecodeError, json.JSONDecodeError) as error:
            raise ValueError(f"{path}: not a readable vocabulary file ({error})") from error
        return cls.from_dict(data, source=str(path))
