"""Distillation: the objective, the modules that apply it, and the engines
that train students.

    objective        Objective (loss weights, temperature, hidden distance): the
                     one loss formula and its terms
    distiller        Distiller / Seq2SeqDistiller: student + projections -> losses
    cache            the frozen teacher's outputs on the transfer set
    initialisation   random or weight-copy student initialisation
    run              one student run of any family: build, train, record
    threads          students side by side in worker threads (encoder-decoders)
    stacked_forward  N encoder students' forward pass as grouped matrix products
    stacked          StudentStack: N encoder students as one set of tensors
    together         StudentGroup and distill_runs: encoder students trained together
    engines          the engines above by name (Family.together)
"""
