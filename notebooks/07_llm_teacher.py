# %% [markdown]
# # 7. The decoder-only teacher (Qwen3)
# The paper's third setting distils a pre-trained LLM (Qwen3-8B, 36 pre-norm
# blocks) into a layer-reduced student that starts from a quarter of its blocks.
# Here a small Qwen3 from `transformers` (built offline from a config: RMSNorm,
# rotary positions, grouped key/value heads) plays that teacher on the generated
# `facts` world (data stage): it pre-trains as a language model on the pool, the
# statements of every person's facts, then fine-tunes on the questions of the
# training people (with the pool's statements beside them: `llm.teacher.rehearse_pool`).
# Two scores mirror the paper's: multiple choice by the log-likelihood of each
# ending (HellaSwag `acc`) and greedy answers by exact match (CommonsenseQA).

# %% tags=["parameters"]
params_file = "params.yaml"

# %%
import json

import pandas as pd
from IPython.display import Markdown, display

from layerkd import paths
from layerkd.config import LLM_TASK, load_params
from layerkd.lm.teacher import run_teacher
from layerkd.report.curves import read_curve

paths.enter_repository()  # opened in JupyterLab, the kernel starts in notebooks/
llm = load_params(params_file).llm  # validated before anything runs

# %%
metrics = run_teacher(llm)
print(json.dumps(metrics, indent=2))

# %% [markdown]
# Validation curves (dvclive log): multiple-choice accuracy while pre-training,
# then the selection score (mean of multiple choice and exact match) while
# fine-tuning.

# %%
folder = paths.teacher_paths(LLM_TASK)[0]
curve = read_curve(folder / "live", "val/score")
curve = curve.assign(step=curve["step"] + llm.teacher.pretrain_epochs)
ax = None
if llm.teacher.pretrain_epochs:
    ax = read_curve(folder / "pretrain", "val/mc").plot(
        x="step", y="value", label="pre-training on the pool (multiple choice)")
ax = curve.plot(x="step", y="value", label="fine-tuning (mean of both scores)", ax=ax)
ax.set(xlabel="epoch", ylabel="validation (%)", title=f"Qwen3 teacher on {LLM_TASK}");

# %%
display(pd.DataFrame({"after pre-training (validation)": [metrics["pretrained_val_mc"],
                                                           metrics["pretrained_val_em"]],
                      "fine-tuned (test)": [metrics["test_mc"], metrics["test_em"]]},
                     index=["multiple choice acc. (%)", "exact match (%)"]).round(1))
display(Markdown(
    f"The teacher ({metrics['depth']} blocks, {metrics['n_params']:,} parameters) scores "
    f"{metrics['test_mc']:.1f} % on multiple choice and {metrics['test_em']:.1f} % exact "
    f"match on the test people, after {metrics['pretrain_epochs']} epochs on "
    f"{metrics['n_pool']:,} statements and fine-tuning on {metrics['n_questions']:,} "
    "questions" + (f" with the pool beside them ({metrics['n_finetune']:,} sequences)"
                   if metrics["rehearse_pool"] else "")
    + f", in {metrics['wall_s']:.0f} s. Pre-training alone gave "
    f"{metrics['pretrained_val_mc']:.1f} % multiple choice and "
    f"{metrics['pretrained_val_em']:.1f} % exact match on validation: it knows the facts "
    "but not yet the question format."))
