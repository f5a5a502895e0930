"""`convcalc diff`: which layer did a conversion change?

Two models (ONNX, Keras, PyTorch; each read by inspect's readers into the same Graph) are compared layer
by layer: ``models`` reads both on the same input (B's shape derived from A's through the axis names of
``axes``), ``layers`` gathers each model's conv-like layers with the Pad / Slice / Transpose nodes that
serve them folded in, ``align`` pairs them, ``compare`` gives each pair's verdict and exact shift, and
``report`` follows the output positions through the whole model. ``present`` (document, render,
headline) shows a ``DiffReport``; ``marks`` names the nodes a picture of the diff marks.
"""
