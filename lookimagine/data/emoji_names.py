"""Emoji ids, CLDR names and splits: what an emoji is called and where it falls, whoever drew it.

The same for every artist (``emoji_set`` draws OpenMoji, ``emoji_styles`` the others), so both import
it and neither imports the other for it.

Captions
    One caption per image: the CLDR short name, lower-cased for a consistent
    vocabulary ("flag: germany", "japanese here button"), with CLDR's
    ``base: qualifier, qualifier`` punctuation restored from the ``emoji``
    package's underscored names (which drop ``:`` and ``,``):
    ``woman firefighter: medium-dark skin tone``, ``kiss: woman, man``,
    ``keycap: 1``, ``man: red hair``. Curly quotes in a few names (Japanese
    "here" button) are lost by the ``emoji`` package and stay lost.

Ids and splits
    ``id`` is the fully-qualified code point sequence, e.g. ``1F469-1F3FE-200D-1F692``.
    The split comes from the sha1 of the id (bucket = first 8 hex digits mod
    100): 0–14 test, 15–24 val, the rest train — stable across versions, since
    adding emoji never moves an old one. Skin-tone and gender variants of one
    base emoji fall into different splits, so test asks for new combinations.
"""

from __future__ import annotations

import hashlib
from functools import lru_cache

import emoji

SPLITS = ("train", "val", "test")
SPLIT_BUCKETS = {"test": range(0, 15), "val": range(15, 25), "train": range(25, 100)}

_SKIN_TONES = tuple(f"{t} skin tone" for t in ("light", "medium-light", "medium", "medium-dark", "dark"))
_HAIR = ("red hair", "curly hair", "white hair", "blond hair", "bald", "beard")
_GROUP_BASES = ("family", "kiss", "couple with heart")
_MEMBERS = frozenset({"man", "woman", "girl", "boy", "adult", "child", "person"})


def codepoints(sequence: str) -> str:
    """``"👩🏾‍🚒"`` -> ``"1F469-1F3FE-200D-1F692"``."""
    return "-".join(f"{ord(c):04X}" for c in sequence)


def from_codepoints(code: str) -> str:
    """``"1F469-1F3FE-200D-1F692"`` -> ``"👩🏾‍🚒"``."""
    return "".join(chr(int(c, 16)) for c in code.split("-"))


@lru_cache(maxsize=1)
def _fully_qualified() -> dict[str, str]:
    """FE0F-stripped sequence -> the fully-qualified sequence, for every fully-qualified emoji."""
    qualified = emoji.STATUS["fully_qualified"]
    return {seq.replace("\ufe0f", ""): seq for seq, d in emoji.EMOJI_DATA.items() if d["status"] == qualified}


def canonical_sequence(sequence: str) -> str:
    """The fully-qualified form of an emoji sequence (FE0F added or dropped as Unicode says), else unchanged."""
    return _fully_qualified().get(sequence.replace("\ufe0f", ""), sequence)


def normalise_id(code: str) -> str:
    """Any source's code point name -> the id used everywhere: upper-case, ``-``-joined, fully qualified.

    ``"1f468-200d-1f692"`` (Twemoji) and ``"1F468-200D-1F692"`` (OpenMoji) -> ``"1F468-200D-1F692"``;
    ``"2764"`` and ``"2764-fe0f"`` -> ``"2764-FE0F"``; ``"0031-20e3"`` -> ``"0031-FE0F-20E3"``;
    ``"1f3f4-e0067_e0062_e0073_e0063_e0074_e007f"`` (underscores) -> dashes.
    """
    parts = [p for p in code.strip().replace("_", "-").replace(" ", "-").split("-") if p]
    return codepoints(canonical_sequence("".join(chr(int(p, 16)) for p in parts)))


def split_of(code: str) -> str:
    """The split of an emoji id: sha1 bucket 0–14 test, 15–24 val, 25–99 train."""
    bucket = int(hashlib.sha1(code.encode("ascii")).hexdigest()[:8], 16) % 100
    return next(s for s, r in SPLIT_BUCKETS.items() if bucket in r)


def _is_flag(sequence: str) -> bool:
    cps = [ord(c) for c in sequence]
    if len(cps) == 2 and all(0x1F1E6 <= c <= 0x1F1FF for c in cps):  # regional indicator pair
        return True
    return len(cps) > 2 and cps[0] == 0x1F3F4 and all(0xE0020 <= c <= 0xE007F for c in cps[1:])  # tag flag


def cldr_name(sequence: str) -> str | None:
    """The lower-cased CLDR short name of an emoji, or None when it has none.

    The ``emoji`` package stores ``:woman_firefighter_medium-dark_skin_tone:``
    (CLDR with ``:`` and ``,`` dropped, spaces as ``_``, and no ``flag:`` prefix
    on flags); CLDR punctuation is restored by rule: trailing skin tones, the
    hair styles of man/woman/person, the members of family/kiss/couple, keycap
    labels and flag names are qualifiers after ``": "``, joined by ``", "``.
    """
    data = emoji.EMOJI_DATA.get(sequence)
    if data is None:
        return None
    words = data["en"].strip(":").replace("_", " ")
    if _is_flag(sequence):
        return "flag: " + words.lower()
    words = words.lower()
    if words.startswith("keycap "):
        return "keycap: " + words[len("keycap ") :]
    qualifiers: list[str] = []
    stripped = True
    while stripped:  # peel qualifiers off the end: "woman light skin tone blond hair"
        stripped = False
        for q in _SKIN_TONES + _HAIR:
            if words.endswith(" " + q):
                base = words[: -len(q) - 1]
                if q in _HAIR and base.split(" ")[0] not in ("man", "woman", "person"):
                    continue
                words, stripped = base, True
                qualifiers.insert(0, q)
                break
    for group in _GROUP_BASES:  # "kiss woman man" -> "kiss: woman, man"
        members = words[len(group) + 1 :].split(" ") if words.startswith(group + " ") else []
        if members and all(m in _MEMBERS for m in members):
            words, qualifiers = group, members + qualifiers
    return words + (": " + ", ".join(qualifiers) if qualifiers else "")
