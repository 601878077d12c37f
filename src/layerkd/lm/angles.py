"""Teacher layers seen from the decoder-only students (the angle stage's part
for ``facts``): the same measures as ``stages.angles.measure`` on the hidden
states ``transformers`` returns (the embedding output, then each block's; the
last one through the final RMSNorm, as the official code matches them), over
the real tokens of the first ``angles.max_examples`` test questions."""

from __future__ import annotations

import torch
from tqdm import tqdm

from ..config import LLM_TASK, AnglesParams, LLMParams
from ..data.tokens import PAD
from ..angles import mean_distances
from ..stages.angles import measure
from .qwen import hidden_states, layer_reduced_student
from .students import load_student
from .task import Facts

STACK = "decoder"


@torch.no_grad()
def stacked_states(model, ids: torch.Tensor, batch_size: int = 256):
    """{STACK: ((L + 1, N, T, d) hidden states, (N, T) real-token mask)}."""
    model.eval()
    mask = ids != PAD
    parts = [torch.stack(hidden_states(model, ids[i:i + batch_size],
                                       mask[i:i + batch_size])[1])
             for i in range(0, len(ids), batch_size)]
    return {STACK: (torch.cat(parts, 1), mask)}


def angle_report(llm: LLMParams, angles: AnglesParams, facts: Facts, teacher,
                 progress: bool = True) -> dict:
    """Every init x measured seed x (initial + each strategy), as ``stages.angles``."""
    d = llm.distill
    ids = facts["x_test"][: angles.max_examples]
    teacher_states = stacked_states(teacher, ids)
    states, mask = teacher_states[STACK]
    report = {"task": LLM_TASK, "stacks": [STACK], "bins": angles.bins, "n_examples": len(ids),
              "student_width": llm.model.width, "teacher_width": llm.model.width,
              "teacher_distances": {STACK: mean_distances(states, states, mask).tolist()},
              "runs": []}
    seeds = [s for s in angles.seeds if s in d.seeds]
    todo = [(i, k, s) for i in d.inits for k in seeds for s in ["initial", *d.strategies]]
    for init, seed, strategy in tqdm(todo, desc=f"angles {LLM_TASK}", disable=not progress,
                                     mininterval=10):
        student = (layer_reduced_student(teacher, d.student_depth, init, seed)
                   if strategy == "initial" else load_student(llm, teacher, init, strategy, seed))
        report["runs"].append({"init": init, "seed": seed, "strategy": strategy,
                               **measure(stacked_states(student, ids), teacher_states,
                                         {STACK: None}, angles.bins, seed)})
    return report
