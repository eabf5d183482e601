"""Tools that measure or check the package from outside; none is part of the library.

Each is a command (``python -m lookimagine.tools.NAME``, or its ``lookimagine-*`` console script):

* ``benchmark``: a query's latency, load time and memory against the demo's budgets.
* ``search_benchmark``: the gallery index against the exact scan, and embedding a big folder.
* ``stress``: the running app under a public Space's visitors (``hostile``: the odd and hostile images
  it, and the fuzz tests, send).
* ``serving_profile``: where a query's time goes in the app (the Look map figure, the client library).
* ``training_speed`` (``timed_training``): seconds per training step of the presets.
* ``gpu_check`` (``full_models``, ``pocket_parity``): the CUDA paths in one run on a GPU host.
* ``fingerprint``: what the shipped pipelines answer, to check that a refactoring changed nothing.
* ``framing``: how the shipped emoji models score pictures framed as visitors frame them.

``processes`` holds what they share: this process's memory, a free port, ``app.py`` as a child process.
Tools may import any layer; nothing in the library imports them.
"""
