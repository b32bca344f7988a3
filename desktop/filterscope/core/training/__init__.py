"""Training: model specs, Keras builders and code, data plan, tf.data pipeline, runs, train()."""
