"""The full tier: pretrained open_clip, transformers and diffusers models under Look, Imagine and Match.

Nothing here is imported by the pocket tier, and the heavy libraries are
imported inside functions only, so ``import lookimagine.full`` (and the app)
stays cheap and offline. Names resolve lazily:

* ``ZeroShotPipeline`` (``zero_shot``): Look = an open_clip model, Imagine = a
  captioner (transformers) and a text-to-image pipeline (diffusers), Match =
  the look similarity fused with the imagined output's (``fusion``).
* ``ModelUnavailable`` (``lookimagine.errors``): a model that cannot be
  loaded or downloaded, with one sentence saying how to supply it locally.
"""

_LAZY = {
    "ZeroShotPipeline": "lookimagine.full.zero_shot",
    "ZeroShotConfig": "lookimagine.full.options",
    "ModelUnavailable": "lookimagine.errors",
}


def __getattr__(name):
    if name in _LAZY:
        from importlib import import_module

        return getattr(import_module(_LAZY[name]), name)
    raise AttributeError(name)


__all__ = list(_LAZY)
