"""lookimagine — GXN (Look, Imagine and Match; Gu et al., CVPR 2018).

Data flows one way through the package:
``data`` → ``models`` (+ ``losses``) → ``training`` / ``evaluation`` → ``pipeline`` → ``app.py``.
"""

__version__ = "0.1.0"
