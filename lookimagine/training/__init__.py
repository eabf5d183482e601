"""Training: the trainer, its resumable state, and the ``train`` entry point."""
