"""The Explorer page (``/``): optimizers racing on a surface.

``ids`` (component ids, shared with ``assets/explorer.js``), ``state`` (the validated
configuration and its URL codec), ``presets`` (the lesson buttons), ``compute`` (runs and
backgrounds), ``figures`` (pure figure builders), ``layout``, ``callbacks``, ``fastpath`` (the JSON
route the slider fast path calls) and ``export_bar``.
"""
