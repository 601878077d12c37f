# %% [markdown]
# # Hub task data (the paper's own datasets)
# One task of section `hub` (`profiles/paper.yaml`): a GLUE task, DART or WMT16
# En-Ro, loaded with `datasets.load_dataset` (a Hub dataset, or local stand-in
# files of the same format) and tokenised by its checkpoint's tokenizer, with
# `n_val` examples held out of the training split for checkpoint selection
# (GLUE's test labels are hidden). A generation task's ids are renumbered to the
# pipeline's convention (padding 0, start 1, EOS 2: `hub/seq2seq.py`) and its
# reference texts kept for BLEU. Stored with a checksum card as every task is
# (`data_hub/<task>.npz`).

# %% tags=["parameters"]
params_file = "params.yaml"
task_name = "mnli"

# %%
from IPython.display import Markdown, display

from layerkd import paths
from layerkd.config import load_params
from layerkd.data import save_dataset
from layerkd.hub.data import build_hub_task, decode_examples, split_summary

paths.enter_repository()  # opened in JupyterLab, the kernel starts in notebooks/hub/
hub = load_params(params_file).hub
spec, model = hub.datasets[task_name], hub.model_of(task_name)
arrays = build_hub_task(hub, task_name)
card = save_dataset(arrays, paths.data_file(task_name, paths.HUB_DATA))

# %% [markdown]
# Split sizes, labels (or references per example) and how full the token budget is:

# %%
split_summary(arrays, spec)

# %% [markdown]
# The first training examples as the model reads them:

# %%
for text, y in zip(decode_examples(arrays, hub, task_name), arrays["y_train"]):
    print(y if spec.kind == "classification" else "", text)

# %%
display(Markdown(
    f"`{task_name}`: {spec.path} ({spec.name}), {card['sizes']['train']:,} training, "
    f"{card['sizes']['val']:,} validation and {card['sizes']['test']:,} test examples "
    f"(`{spec.test_split}`), {model.max_length} source tokens"
    + (f", {spec.max_target_length} target tokens" if spec.kind == "generation" else "")
    + f", vocabulary {int(arrays['vocab_size']):,} (`{model.checkpoint}`); checksum "
    f"`{card['checksum'][:12]}`."))
