"""`convcalc inspect`: read a model (ONNX, Keras, PyTorch); explain, check and fix its convolutions."""
