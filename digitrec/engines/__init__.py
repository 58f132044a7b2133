"""How a model file becomes a forward pass: LiteRT, the NumPy engine or Keras, each loaded the same way.

``pick`` holds the interface (``Backend``), the loaders and the order ``Predictor.load`` tries them
in; ``litert``, ``numpy_net`` and ``keras_net`` are the three forward passes.
"""

from digitrec.engines.pick import AUTO, LOADERS, TRAIN_HINT, Backend, ModelError, Unavailable

__all__ = ["AUTO", "LOADERS", "TRAIN_HINT", "Backend", "ModelError", "Unavailable"]
