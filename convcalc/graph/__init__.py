"""The model as a graph and the one size engine that `inspect` and `chain` share.

``model`` is the format-neutral Graph every reader produces (and `chain` builds from its layers);
``shapes`` runs it on concrete input shapes; ``values`` is the shape arithmetic an exporter writes;
``sizes`` finds the input sizes a graph accepts, per axis, with every tensor's size as a periodic
affine function of it (``formulas``); ``fields`` the receptive fields. Pure integers, below the
features: nothing here imports a feature, the CLI, Rich or NumPy.
"""
