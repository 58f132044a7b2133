"""The training side: everything here imports TensorFlow and Keras.

    model     the CNN by name ("seed" as designed, "default" improved)
    augment   geometric augmentation inside the tf.data graph
    train     data -> fit -> calibrate -> .keras + card + .tflite
    export    SavedModel for TensorFlow Serving, LiteRT flatbuffer for the predictor

The apps never import this package: the inference side (``digitrec.predict`` and what it uses)
runs the saved model with LiteRT or NumPy.
"""
