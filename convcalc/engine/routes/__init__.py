"""The witness routes: each computes the transposed convolution (or its adjoint) its own way.

``scatter`` (the definition), ``direct`` (zeros inserted, then a stride-1 convolution), ``matrix`` (the
dense C^T) and ``adjoint`` (the inner-product identity). None of them calls the fast path's helpers:
they share with it only the boundary checks (``convcalc.engine.inputs``), the budgets and the core.
"""
