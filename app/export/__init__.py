"""Exports of an Explorer view: the formats (``formats``: PNG/SVG/PDF, HTML, GIF/MP4, CSV/JSON), the
data tables the CLI and the exporters share (``tables``), the export browser kaleido renders with
(``browser``) and raster helpers (``imaging``).  A new export format goes in ``formats``: a writer
and its media type; the page's export bar and the CLI offer every format listed there.
"""
