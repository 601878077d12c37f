# %% [markdown]
# # Hub task data (the paper's own datasets)
# One GLUE task of section `hub` (`profiles/paper.yaml`): loaded with
# `datasets.load_dataset` (a Hub dataset, or local stand-in files of the same
# format), tokenised by the checkpoint's tokenizer to `hub.model.max_length`
# tokens, with `n_val` examples held out of the training split for checkpoint
# selection (GLUE's test labels are hidden) and the labelled validation split
# scored. Stored with a checksum card as every task is (`data_hub/<task>.npz`).

# %% tags=["parameters"]
params_file = "params.yaml"
task_name = "mnli"

# %%
import pandas as pd
from IPython.display import Markdown, display

from layerkd import paths
from layerkd.config import load_params
from layerkd.data import save_dataset
from layerkd.hub.data import build_hub_task, decode_examples

paths.enter_repository()  # opened in JupyterLab, the kernel starts in notebooks/hub/
hub = load_params(params_file).hub
spec = hub.datasets[task_name]
arrays = build_hub_task(hub, task_name)
card = save_dataset(arrays, paths.data_file(task_name, paths.HUB_DATA))

# %% [markdown]
# Split sizes, label counts and how full the token budget is (mean valid tokens).

# %%
summary = pd.DataFrame({
    split: {"examples": len(arrays[f"y_{split}"]),
            **{f"label {k}": int((arrays[f"y_{split}"] == k).sum())
               for k in range(spec.n_classes)},
            "mean tokens": float(arrays[f"mask_{split}"].sum(1).mean() + 1)}
    for split in ("train", "val", "test")}).T
summary

# %% [markdown]
# The first training examples as the model reads them:

# %%
for text, label in zip(decode_examples(arrays, hub), arrays["y_train"]):
    print(label, text)

# %%
display(Markdown(
    f"`{task_name}`: {spec.path} ({spec.name}), {card['sizes']['train']:,} training, "
    f"{card['sizes']['val']:,} validation and {card['sizes']['test']:,} test examples "
    f"(`{spec.test_split}`), {hub.model.max_length} tokens, vocabulary "
    f"{int(arrays['vocab_size']):,}; checksum `{card['checksum'][:12]}`."))
