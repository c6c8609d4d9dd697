"""Page machinery every page shares: the HTML shell and the plotly.js bundle it loads, layout-tree
helpers, validation and clamping of untrusted values, notices, and the figure style.

A page package (``app/explorer``, ``app/maps``, ``app/lab``) builds on these and never on another
page's internals; pages link to each other only through another page's ``state`` (its URL codec).
"""
