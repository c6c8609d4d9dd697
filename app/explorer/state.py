"""The Explorer's public state API: its configuration, how untrusted values become one, and its link.

Other packages (the sweep maps, the exports, the command line) import from here;
inside the Explorer each module imports from where a name lives:

* :mod:`app.explorer.config`: :class:`ExplorerConfig`, :class:`OptimizerEntry`,
  :data:`DEFAULT` (the view a bare link opens); the limits stay there;
* :mod:`app.explorer.sanitize`: :func:`sanitize`, a valid configuration from an
  untrusted mapping, every repair noted;
* :mod:`app.explorer.query`: :func:`to_query` and :func:`from_query`, the URL
  query codec::

    ?surface=quadratic&s.kappa=50&start=-9,4&steps=300&opt=sgd,lr=0.9&opt=momentum,lr=0.3,momentum=0.8
"""

from __future__ import annotations

from app.explorer.config import DEFAULT, FORMULA, ExplorerConfig, OptimizerEntry
from app.explorer.query import from_query, to_query
from app.explorer.sanitize import sanitize

__all__ = ["DEFAULT", "FORMULA", "ExplorerConfig", "OptimizerEntry", "from_query", "sanitize", "to_query"]
