"""The Autoencoder lab page (``/lab``): one autoencoder trained by several optimizers from the same
weights, queued as background races.
"""
