"""The errors a person reads: a checkpoint that will not load, a model that cannot be had here.

The lowest module of the package: it imports nothing from ``lookimagine``, so
``hub`` (where models come from), ``models`` and the full tier can all raise
and catch these without importing one another.
"""


class CheckpointError(RuntimeError):
    """A checkpoint folder that is missing, corrupt or does not match its config; the message names the file."""


class ModelUnavailable(CheckpointError):
    """A model (a Hub id or a folder) that cannot be loaded or downloaded here; the message is meant for a
    person and says how to supply it locally."""


class HubUnavailable(ModelUnavailable):
    """A Hugging Face Hub repository that cannot be downloaded here (offline, unknown id, no network)."""
