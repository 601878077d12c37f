"""What each pipeline stage does, for any task; the notebooks call these.

    teacher   train, score and checkpoint a task's teacher; load it back
    students  every strategy x seed of one initialisation (the distill stage)
    ablation  the depth / width and objective / hidden-weight ablations
    angles    teacher layers seen from each student, before and after training
"""
