"""Training: the Trainer (trainer.py) and the parts it calls (data, passes, schedules, optimisers, objectives, records, persistence, state, health), and the ``train`` entry point (cli.py)."""
