"""`convcalc solve`: from the size you need to the layer that gives it."""
