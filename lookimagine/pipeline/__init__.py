"""Look → Imagine → Match over a gallery, for GXN beside its baseline.

``LookImagineMatch`` is imported lazily so that ``import lookimagine.pipeline``
(e.g. by the app or ``demo.fake``) stays cheap. What the page shows of a result is
``lookimagine.demo``'s, one layer up.
"""

from .outputs import Imagined, Look, ModelResult, QueryError, QueryResult, RankedItem


def __getattr__(name):
    if name == "LookImagineMatch":
        from .look_imagine_match import LookImagineMatch

        return LookImagineMatch
    if name == "DEVICES":  # what --device accepts (lookimagine.models.checkpoint; imports torch)
        from ..models.checkpoint import DEVICES

        return DEVICES
    raise AttributeError(name)


__all__ = ["DEVICES", "LookImagineMatch", "QueryError", "QueryResult", "ModelResult", "Look", "Imagined", "RankedItem"]
