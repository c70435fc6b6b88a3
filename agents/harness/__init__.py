"""The harness around the models: configs, training, evaluation, callbacks, benchmarks and the `memtape` CLI."""
