"""layerkd: intermediate-layer matching knowledge distillation, small and explicit.

One module per concern:
    strategies      which student layer is pulled towards which teacher layer
    config          params.yaml schema, validated before anything trains
    data            offline datasets and their fixed splits
    models          transformer encoder returning logits and every hidden state
    initialisation  random or weight-copy student initialisation
    losses          CE + KL + hidden-state matching, and the Distiller
    train           seeded training loops, checkpoints, metrics
    report          tables, figures and the paper's numbers from finished runs
"""

__version__ = "0.1.0"
