"""The Explorer page (``/``): optimizers racing on a surface.

The configuration and its link:

* ``config``: :class:`ExplorerConfig` (everything the page shows), :class:`OptimizerEntry`, ``DEFAULT``
* ``sanitize``: untrusted values in, a valid configuration out, every repair noted
* ``query``: the URL query codec (``to_query`` / ``from_query``)
* ``state``: the public state API other packages import (re-exports the three above)
* ``presets``: the lesson buttons
* ``points``: a data surface's edited points (canonical form, their link, the data set they belong to)

The race and what the view draws:

* ``compute``: configuration → trajectories and per-step series, and the animation engine's payload
* ``figures``: the map (2-D contour map or 3-D surface); ``diagnostics``: the panels under it
* ``views``: the view for a configuration through the shared result cache (what ``collect`` returns)
* ``data_view``: a data surface's part of the payload (points, batch orders), its batch regime, CSV in and out

The page:

* ``ids``: component ids and every other name shared with ``assets/explorer.js`` (which reads them
  from the page's root)
* ``controls``: numeric rows, optimizer cards, notices, and every control's value for a configuration
* ``layout``: the page skeleton, and ``page``, the page rendered for one configuration
* ``data_panel``: the batch-size row and the data panel (drawn and edited by ``assets/data_panel.js``)
* ``inputs``: the callbacks' grouped inputs as typed values, and the configuration they describe
* ``actions``: what lessons, add, remove, copy, surface and schedule pickers do to the configuration
* ``callbacks``: the Dash wiring (named, grouped inputs; each body calls one pure function)
* ``fastpath``: the JSON route a moved hyperparameter slider asks first; ``export_bar``: downloads

Where things go: a new control is placed in ``layout.build_layout``, gets its value for a
configuration in ``controls`` (``RENDER_OUTPUTS`` and ``controls_for``) and, if the race depends on
it, a field of ``inputs.FORM``; a new figure is built in ``figures`` (the map) or ``diagnostics`` (a
panel) and travels in the race's payload (``views.race_entry``); a new lesson preset is one entry of
``presets.PRESETS``.
"""
