"""`convcalc shape`: a convolution and its transposed twin (``convcalc.core.shape_report``), or a layer as
one framework reads it (``framework``). ``present`` and ``framework_present`` hold their documents,
tables and one-line answers."""
