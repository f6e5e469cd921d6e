"""keras.utils: one-hot labels, Sequence for batches made on demand, the progress bar, and
pictures of training (learning curves) and of models (their graph)."""
import io
import os
import random

import numpy as np

from runnel.framework import file_io
from runnel.ops import random_ops

from runnel.keras.callbacks import Progbar  # noqa: F401 (keras.utils.Progbar)


def to_categorical(y, num_classes=None, dtype="float32"):
    """Class ids (any shape; a trailing dim of 1 is dropped) as one-hot rows."""
    y = np.asarray(y)
    if y.ndim and y.shape[-1] == 1 and y.ndim > 1:
        y = y[..., 0]
    if y.size and (np.any(y < 0) or not np.all(np.equal(np.mod(y, 1), 0))):
        raise ValueError("to_categorical takes non-negative integer class ids")
    ids = y.astype(np.int64)
    num_classes = int(num_classes) if num_classes is not None else \
        (int(ids.max()) + 1 if ids.size else 0)
    if ids.size and ids.max() >= num_classes:
        raise ValueError(f"class id {ids.max()} is not below num_classes={num_classes}")
    out = np.zeros(ids.shape + (num_classes,), dtype=dtype)
    np.put_along_axis(out, ids[..., None], 1, axis=-1)
    return out


def set_random_seed(seed):
    """Makes runs repeatable, as Keras's: seeds Python's and numpy's generators (fit's
    shuffling) and the default graph's (initializers, Dropout)."""
    random.seed(seed)
    np.random.seed(seed)
    random_ops.set_random_seed(seed)


class Sequence:
    """Batches made on demand: define __len__ (batches per epoch) and __getitem__(i)
    returning (x, y); on_epoch_end runs after each epoch (reshuffle there)."""

    def __getitem__(self, index):
        raise NotImplementedError

    def __len__(self):
        raise NotImplementedError

    def on_epoch_end(self):
        pass


def plot_history(history, path, title=None):
    """Learning curves as a PNG: loss, and each metric, per epoch, training and (when fit
    had validation data) validation. `history` is fit's History or its .history dict."""
    import matplotlib
    matplotlib.use("Agg")
    from matplotlib import pyplot as plt
    logs = getattr(history, "history", history)
    if not logs:
        raise ValueError("plot_history: the history holds no epochs")
    names = [k for k in logs if not k.startswith("val_") and k != "lr"]
    fig, axes = plt.subplots(1, len(names), figsize=(5 * len(names), 4), squeeze=False)
    for ax, name in zip(axes[0], names):
        epochs = np.arange(1, len(logs[name]) + 1)
        ax.plot(epochs, logs[name], "o-", label=f"training {name}")
        if f"val_{name}" in logs:
            ax.plot(epochs, logs[f"val_{name}"], "s--", label=f"validation {name}")
        ax.set_xlabel("epoch")
        ax.set_ylabel(name)
        ax.grid(alpha=0.3)
        ax.legend()
    if title:
        fig.suptitle(title)
    fig.tight_layout()
    png = io.BytesIO()
    fig.savefig(png, format="png", dpi=100)
    plt.close(fig)
    file_io.write_atomically(os.fspath(path), png.getvalue())


def plot_model(model, to_file="model.html", **kwargs):
    """The model's graph drawn by runnel-inspect's renderer: one self-contained HTML page
    (name scopes folded by layer, details on click), or Graphviz source for a .dot file."""
    from runnel.framework import graph_util
    from runnel.tools import inspect_graph
    graph_def = graph_util.extract_sub_graph(model.outputs[0].graph.as_graph_def(),
                                             [t.op.name for t in model.outputs])
    to_file = os.fspath(to_file)
    if to_file.endswith(".dot"):
        dot = inspect_graph.to_dot(graph_def, inspect_graph.infer(graph_def))
        file_io.write_atomically(to_file, dot.encode())
        return
    summary = inspect_graph.summarize(graph_def, model.name, "keras", with_nodes=True)
    inspect_graph.write_html(summary, to_file)
