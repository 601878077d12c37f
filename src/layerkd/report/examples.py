"""A few training examples of a task, as the data stage shows them: digit
images, MNIST-1D signals, or token sequences decoded to text."""

from __future__ import annotations

import numpy as np
import pandas as pd

IMAGE_TASKS = ("mnist", "digits")


def images(arrays: dict, task: str, n: int) -> np.ndarray:
    """The first n training inputs as 2-D images (mnist 28x28, digits 8x8 from
    its 16 row-major 2x2 patches)."""
    x = arrays["x_train"][:n]
    if task == "digits":
        return x.reshape(n, 4, 4, 2, 2).transpose(0, 1, 3, 2, 4).reshape(n, 8, 8)
    return x.astype(np.float32) / 255.0


def example_figure(arrays: dict, task: str, n: int = 8):
    """A row of images or signals with their labels; None for token tasks."""
    import matplotlib.pyplot as plt

    y = arrays["y_train"][:n]
    if task in IMAGE_TASKS:
        fig, axes = plt.subplots(1, n, figsize=(1.1 * n, 1.5))
        for ax, img, label in zip(axes, images(arrays, task, n), y):
            ax.imshow(img, cmap="gray_r")
            ax.set_title(f"label {label}", fontsize=8)
            ax.axis("off")
    elif task == "mnist1d":
        signals = arrays["x_train"][:n].reshape(n, -1)  # 10 tokens x 4 -> 40 samples
        fig, axes = plt.subplots(1, n, figsize=(1.4 * n, 1.5), sharey=True)
        for ax, signal, label in zip(axes, signals, y):
            ax.plot(signal, lw=1)
            ax.set_title(f"label {label}", fontsize=8)
            ax.set_xticks([])
    else:
        return None
    fig.suptitle(f"{task}: first {n} training examples", fontsize=9)
    fig.tight_layout()
    return fig


def example_table(arrays: dict, task: str, n: int = 5) -> pd.DataFrame | None:
    """The first n training examples as text: ListOps expressions with their
    value, or source -> target pairs of the generation tasks; None otherwise."""
    from ..data import decode_tokens

    if "src_vocab" in arrays:
        return pd.DataFrame({
            "source": decode_tokens(arrays["x_train"][:n], arrays["src_vocab"]),
            "target": decode_tokens(arrays["y_train"][:n], arrays["tgt_vocab"])})
    if "vocab" in arrays:
        return pd.DataFrame({"expression": decode_tokens(arrays["x_train"][:n], arrays["vocab"]),
                             "value": arrays["y_train"][:n]})
    return None


def facts_examples(arrays: dict, n: int = 4) -> dict[str, pd.DataFrame]:
    """The decoder-only task's sequences as text: pool statements, fine-tuning
    questions with their answers, and multiple-choice items (endings, the true one)."""
    from ..data import decode_tokens

    vocab = arrays["vocab"]
    words = lambda ids: [str(vocab[i]) for i in ids]  # noqa: E731
    choices = [{"context": " ".join(words(c[c > 0][1:])), "endings": " | ".join(words(e)),
                "true ending": str(vocab[e[label]])}
               for c, e, label in zip(arrays["mc_context_test"][:n], arrays["mc_endings_test"][:n],
                                      arrays["mc_label_test"][:n])]
    return {"pre-training pool": pd.DataFrame({"statement": decode_tokens(arrays["x_pool"][:n], vocab)}),
            "fine-tuning questions": pd.DataFrame(
                {"question and answer": decode_tokens(arrays["x_train"][:n], vocab)}),
            "test multiple choice": pd.DataFrame(choices)}
