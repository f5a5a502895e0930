"""`convcalc port`: a layer translated from one framework's arguments to another's, with its exact fix.

``translate`` holds the logic (pure integers, on the conventions of ``convcalc.conventions``),
``document`` the JSON, ``render`` the Rich tables, ``snippet`` the paste-ready code, and ``execute``
the check by running both layers in the NumPy engine.
"""
