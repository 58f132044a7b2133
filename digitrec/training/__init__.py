"""The training side: everything here imports TensorFlow and Keras.

    model     the CNN by name ("seed" as designed, "compact" its fixes, "wide" what ships)
    augment   geometric augmentation inside the tf.data graph
    datasets  what the network learns from: MNIST, real writers' strokes as the apps see them, extras
    train     data -> fit -> calibrate -> .keras + card + .tflite
    export    SavedModel for TensorFlow Serving, LiteRT flatbuffer for the predictor
    finetune  the saved drawings -> a fine-tuned model that still reads everyone else

The apps never import this package: the inference side (``digitrec.predict`` and what it uses)
runs the saved model with LiteRT or NumPy. Training imports the data side, never the evaluation.
"""

MODEL_NAMES = ("seed", "compact", "wide")  # here, not in model: the CLI lists them without importing Keras
DEFAULT_ARCH = "wide"
