"""The page's view-model, above the pipeline: what the app needs from a pipeline and what it shows.

``protocol`` (the ``Pipeline`` interface the app calls), ``views`` (results → plain values Gradio components
take: figures, galleries, rows, markdown), ``showcase`` (the Benchmark tab's shipped files) and ``fake`` (a
deterministic stand-in pipeline for UI tests and screenshots). Nothing here runs a model; it imports
``pipeline`` (result types, checks, the sentences a person reads in ``pipeline.messages``), never the other way.
"""
