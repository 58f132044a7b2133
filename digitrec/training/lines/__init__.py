"""The learned line reader's training side (imports TensorFlow and Keras): numbers composed from the
training writers' strokes rendered to shards, a CRNN trained on them with CTC, exported to LiteRT.

    render   composed numbers -> strips on disk, in shards (resumable)
    data     shards -> batches, in an order fixed by (seed, epoch)
    model    the CRNN, its CTC loss, its export
    train    shards -> fit, checkpointed each epoch -> models/number_reader.keras + .json + .tflite

``python -m digitrec.training.lines render ...`` and ``... train ...`` run them; the apps read the
``.tflite`` through ``digitrec.segment.learned``.
"""
