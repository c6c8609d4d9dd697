"""The sweep maps page (``/maps``): basins of attraction and hyperparameter stability maps, computed
as background jobs.
"""
