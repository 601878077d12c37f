"""layerkd: intermediate-layer matching knowledge distillation, small and explicit.

One subpackage (or module) per concern; each subpackage's ``__init__`` maps it:
    config      params.yaml schema, validated before anything trains
    strategies  the strategy registry: which student layer is pulled towards which teacher layer
    paths       every location the pipeline reads or writes
    data        offline datasets, one module per task builder; the data stage
    tasks       a Task: splits, shapes, vocabularies and its model family
    models      the encoder classifier and the encoder-decoder, every hidden state returned
    families    one Family per model family: what differs between them, behind one interface
    distill     the objective, distillers, teacher cache, initialisation, one run, students
                trained together
    train       the training loop and the scores
    stages      what each pipeline stage does, for any task
    angles      angle and distance measures between teacher and student states
    report      tables, figures, statistics and the paper's numbers from finished runs
    check, notebook, io   parameter check, stage runner, atomic writes
"""

__version__ = "0.1.0"
