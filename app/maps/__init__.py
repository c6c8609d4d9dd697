"""The sweep maps page (``/maps``): basins of attraction and hyperparameter stability maps, computed
as background jobs.

Modules, from the bottom up:

* :mod:`~app.maps.ids`: component ids and the pattern-matching id builders;
* :mod:`~app.maps.wording`: how numbers and settings are written in the page's sentences;
* :mod:`~app.maps.figures`: pure figure builders of a computed :class:`~optimizers.maps.SweepMap`
  (the colourings, legends, contours, the stability boundary);
* :mod:`~app.maps.state`: :class:`~app.maps.state.MapConfig`, its validation and the URL codec,
  the browser stores' data;
* :mod:`~app.maps.presets`: the lessons;
* :mod:`~app.maps.map_figure`: a configuration's figure: titles and the analytic bound;
* :mod:`~app.maps.compute`: computing a map (the background job, the result cache, warm-up);
* :mod:`~app.maps.pixels`: one pixel's run, its story and its Explorer link;
* :mod:`~app.maps.layout`: the page's components and every control's value for a configuration;
* :mod:`~app.maps.form`: the form as plain values, structural changes and lessons;
* :mod:`~app.maps.callbacks`: the Dash callbacks (grouped, named arguments; bodies call the above);
* :mod:`~app.maps.page`: the entry the router, the app and the worker use.

A new map kind is declared in :mod:`~app.maps.state` (``KINDS``, ``KIND_LABELS``, what
:class:`~app.maps.state.MapConfig` checks and :func:`~app.maps.state.map_axes`), swept in
:mod:`~app.maps.compute` and drawn in :mod:`~app.maps.map_figure`; a new colouring is one more
entry of ``SHOWS`` and ``SHOW_LABELS`` and one more branch of :func:`~app.maps.figures.value_traces`
(both in :mod:`~app.maps.figures`).
"""
