"""Models: encoders (Look), similarity (Match), generators (Imagine), and GXN."""

from .gxn import GXN, ImageEmbedding, TextEmbedding

__all__ = ["GXN", "ImageEmbedding", "TextEmbedding"]
