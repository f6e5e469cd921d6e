"""Keras callbacks: hooks fit calls at the start and end of training, epochs and batches."""
import csv
import math
import os
import sys
import time

import numpy as np

from runnel.keras import backend
from runnel.ops import gen_ops
from runnel.ops import summary_ops
from runnel.proto import summary_pb2
from runnel.training import summary_io


class Callback:
    def __init__(self):
        self.model = None
        self.params = {}

    def set_model(self, model):
        self.model = model

    def set_params(self, params):
        self.params = params

    def on_train_begin(self, logs=None): pass
    def on_train_end(self, logs=None): pass
    def on_epoch_begin(self, epoch, logs=None): pass
    def on_epoch_end(self, epoch, logs=None): pass
    def on_train_batch_begin(self, batch, logs=None): self.on_batch_begin(batch, logs)
    def on_train_batch_end(self, batch, logs=None): self.on_batch_end(batch, logs)
    def on_batch_begin(self, batch, logs=None): pass
    def on_batch_end(self, batch, logs=None): pass
    def on_test_begin(self, logs=None): pass
    def on_test_end(self, logs=None): pass
    def on_test_batch_begin(self, batch, logs=None): pass
    def on_test_batch_end(self, batch, logs=None): pass
    def on_predict_begin(self, logs=None): pass
    def on_predict_end(self, logs=None): pass
    def on_predict_batch_begin(self, batch, logs=None): pass
    def on_predict_batch_end(self, batch, logs=None): pass


class CallbackList:
    """Calls every callback's hook of the same name, in order."""

    def __init__(self, callbacks, model, params):
        self.callbacks = list(callbacks)
        for c in self.callbacks:
            c.set_model(model)
            c.set_params(params)

    def __getattr__(self, hook):
        if not hook.startswith("on_"):
            raise AttributeError(hook)

        def call(*args):
            for c in self.callbacks:
                getattr(c, hook)(*args)
        return call


class History(Callback):
    """Every epoch's logs: history.history['loss'][epoch]."""

    def on_train_begin(self, logs=None):
        self.epoch, self.history = [], {}

    def on_epoch_end(self, epoch, logs=None):
        self.epoch.append(epoch)
        for k, v in (logs or {}).items():
            self.history.setdefault(k, []).append(v)


def _format_logs(logs, keys):
    parts = []
    for k in keys:
        v = logs.get(k)
        if v is not None:
            parts.append(f"{k}: {v:.4f}" if abs(v) >= 1e-3 or v == 0 else f"{k}: {v:.4e}")
    return "".join(f" - {p}" for p in parts)


def _duration(seconds):
    if seconds >= 3600:
        return f"{int(seconds // 3600)}:{int(seconds % 3600 // 60):02d}:{int(seconds % 60):02d}"
    if seconds >= 60:
        return f"{int(seconds // 60)}:{int(seconds % 60):02d}"
    return f"{int(seconds)}s"


def _per_step(seconds):
    if seconds >= 1:
        return f"{seconds:.0f}s/step"
    if seconds >= 1e-3:
        return f"{seconds * 1e3:.0f}ms/step"
    return f"{seconds * 1e6:.0f}us/step"


class Progbar:
    """Keras's progress bar: `50/50 [====>....] - ETA: 1s - loss: 0.6931`, redrawn in place
    on a terminal; elsewhere one line when done."""

    def __init__(self, target, width=30, verbose=1, stream=None, interval=0.05):
        self.target, self.width, self.verbose, self.interval = target, width, verbose, interval
        self.stream = stream or sys.stdout
        self.dynamic = hasattr(self.stream, "isatty") and self.stream.isatty()
        self.start = time.time()
        self.last_draw = 0.0
        self.seen = 0

    def update(self, current, logs=None, finalize=None):
        self.seen = current
        logs = logs or {}
        finished = finalize if finalize is not None else \
            (self.target is not None and current >= self.target)
        now = time.time()
        if self.verbose != 1 or (not finished and (
                not self.dynamic or now - self.last_draw < self.interval)):
            return
        self.last_draw = now
        elapsed = now - self.start
        per_step = elapsed / max(current, 1)
        if self.target is not None:
            digits = len(str(self.target))
            done = int(self.width * current / self.target)
            bar = "=" * max(done - 1, 0) + (">" if done < self.width else "=") if done else ""
            line = f"{current:{digits}d}/{self.target} [{bar}{'.' * (self.width - len(bar))}]"
        else:
            line = f"{current:7d}/Unknown"
        if finished:
            line += f" - {_duration(elapsed)} {_per_step(per_step)}"
        else:
            line += f" - ETA: {_duration(per_step * (self.target - current))}" \
                if self.target else ""
        line += _format_logs(logs, list(logs))
        if self.dynamic:
            self.stream.write("\r" + line + " " * 8 + ("\n" if finished else ""))
        else:
            self.stream.write(line + "\n")
        self.stream.flush()


class ProgbarLogger(Callback):
    """Prints fit's progress: a bar per epoch (verbose=1) or one line per epoch (2)."""

    def __init__(self, verbose=1, stream=None):
        super().__init__()
        self.verbose, self.stream = verbose, stream or sys.stdout

    def on_epoch_begin(self, epoch, logs=None):
        self.stream.write(f"Epoch {epoch + 1}/{self.params['epochs']}\n")
        self.progbar = Progbar(self.params.get("steps"), verbose=self.verbose,
                               stream=self.stream)
        self.epoch_start = time.time()
        self.steps = 0

    def on_train_batch_end(self, batch, logs=None):
        self.steps = batch + 1
        if self.verbose == 1:
            self.progbar.update(batch + 1, logs, finalize=False)

    def on_epoch_end(self, epoch, logs=None):
        logs = logs or {}
        if self.verbose == 1:
            self.progbar.update(self.steps, logs, finalize=True)
        else:
            elapsed = time.time() - self.epoch_start
            self.stream.write(f"{self.steps}/{self.params.get('steps') or self.steps} - "
                              f"{_duration(elapsed)} - {_per_step(elapsed / max(self.steps, 1))}"
                              f"{_format_logs(logs, list(logs))}\n")
            self.stream.flush()


class _Monitor(Callback):
    """A callback watching one logged quantity, improving downwards or upwards."""

    def __init__(self, monitor, mode, min_delta):
        super().__init__()
        if mode not in ("auto", "min", "max"):
            raise ValueError(f"mode must be 'auto', 'min' or 'max', got {mode!r}")
        if mode == "auto":
            mode = "max" if any(k in monitor for k in ("acc", "auc")) else "min"
        self.monitor, self.mode, self.min_delta = monitor, mode, abs(min_delta)

    def _value(self, logs):
        value = (logs or {}).get(self.monitor)
        if value is None:
            sys.stderr.write(f"{type(self).__name__}: '{self.monitor}' is not among the "
                             f"logged values ({', '.join(sorted(logs or {}))}); skipped\n")
        return value

    def _improves(self, value, best):
        if best is None:
            return True
        if self.mode == "min":
            return value < best - self.min_delta
        return value > best + self.min_delta


class EarlyStopping(_Monitor):
    """Stops training once `monitor` has not improved (by more than `min_delta`) for
    `patience` epochs, counted as Keras counts them: an epoch that improves on the best so
    far but not on `baseline` does not reset the count. With `restore_best_weights`, the
    model ends training with the weights of its best epoch (the first epoch's when none
    improved), stopped early or not, as Keras 3 does."""

    def __init__(self, monitor="val_loss", min_delta=0, patience=0, verbose=0, mode="auto",
                 baseline=None, restore_best_weights=False, start_from_epoch=0):
        super().__init__(monitor, mode, min_delta)
        self.patience, self.verbose, self.baseline = patience, verbose, baseline
        self.restore_best_weights, self.start_from_epoch = restore_best_weights, start_from_epoch

    def on_train_begin(self, logs=None):
        self.wait, self.stopped_epoch, self.best, self.best_epoch = 0, 0, None, 0
        self.best_weights = None

    def on_epoch_end(self, epoch, logs=None):
        value = self._value(logs)
        if value is None or epoch < self.start_from_epoch:
            return
        if self.restore_best_weights and self.best_weights is None:
            self.best_weights, self.best_epoch = self.model.get_weights(), epoch
        self.wait += 1
        if self._improves(value, self.best):
            self.best, self.best_epoch = value, epoch
            if self.restore_best_weights:
                self.best_weights = self.model.get_weights()
            if self.baseline is None or self._improves(value, self.baseline):
                self.wait = 0
            return
        if self.wait >= self.patience and epoch > 0:
            self.stopped_epoch = epoch
            self.model.stop_training = True

    def on_train_end(self, logs=None):
        if self.stopped_epoch and self.verbose:
            print(f"Epoch {self.stopped_epoch + 1}: early stopping")
        if self.restore_best_weights and self.best_weights is not None:
            if self.verbose:
                print(f"Restoring model weights from the end of the best epoch: "
                      f"{self.best_epoch + 1}.")
            self.model.set_weights(self.best_weights)


class ModelCheckpoint(_Monitor):
    """Saves the model (or its weights) after each epoch, or only when `monitor` improved;
    `filepath` may name the epoch and logs: 'weights.{epoch:02d}-{val_loss:.2f}.keras'."""

    def __init__(self, filepath, monitor="val_loss", verbose=0, save_best_only=False,
                 save_weights_only=False, mode="auto", save_freq="epoch", period=1):
        super().__init__(monitor, mode, 0)
        if save_freq != "epoch":
            raise NotImplementedError("ModelCheckpoint: only save_freq='epoch' is supported")
        self.filepath, self.verbose = os.fspath(filepath), verbose
        self.save_best_only, self.save_weights_only = save_best_only, save_weights_only
        self.period = period
        self.best = None

    def on_epoch_end(self, epoch, logs=None):
        logs = logs or {}
        if (epoch + 1) % self.period:
            return
        path = self.filepath.format(epoch=epoch + 1, **logs)
        if self.save_best_only:
            value = self._value(logs)
            if value is None or not self._improves(value, self.best):
                return
            if self.verbose:
                print(f"\nEpoch {epoch + 1}: {self.monitor} improved from {self.best} to "
                      f"{value:.5f}, saving model to {path}")
            self.best = value
        if self.save_weights_only:
            self.model.save_weights(path)
        else:
            self.model.save(path)


class ReduceLROnPlateau(_Monitor):
    def __init__(self, monitor="val_loss", factor=0.1, patience=10, verbose=0, mode="auto",
                 min_delta=1e-4, cooldown=0, min_lr=0, **kwargs):
        super().__init__(monitor, mode, min_delta)
        if factor >= 1.0:
            raise ValueError(f"ReduceLROnPlateau: factor must be < 1, got {factor}")
        self.factor, self.patience, self.verbose = factor, patience, verbose
        self.cooldown, self.min_lr = cooldown, min_lr

    def on_train_begin(self, logs=None):
        self.wait, self.cooldown_counter, self.best = 0, 0, None

    def on_epoch_end(self, epoch, logs=None):
        logs = logs if logs is not None else {}
        lr = float(backend.get_value(self.model.optimizer.lr))
        logs["lr"] = lr
        value = self._value(logs)
        if value is None:
            return
        if self.cooldown_counter > 0:
            self.cooldown_counter -= 1
            self.wait = 0
        if self._improves(value, self.best):
            self.best, self.wait = value, 0
        elif self.cooldown_counter <= 0:
            self.wait += 1
            if self.wait >= self.patience and lr > self.min_lr:
                new_lr = max(lr * self.factor, self.min_lr)
                backend.set_value(self.model.optimizer.lr, new_lr)
                if self.verbose:
                    print(f"\nEpoch {epoch + 1}: ReduceLROnPlateau reducing learning rate "
                          f"to {new_lr}.")
                self.cooldown_counter, self.wait = self.cooldown, 0


class LearningRateScheduler(Callback):
    """Sets the learning rate to schedule(epoch, lr) (or schedule(epoch)) before each
    epoch."""

    def __init__(self, schedule, verbose=0):
        super().__init__()
        self.schedule, self.verbose = schedule, verbose

    def on_epoch_begin(self, epoch, logs=None):
        lr = float(backend.get_value(self.model.optimizer.lr))
        try:
            new_lr = self.schedule(epoch, lr)
        except TypeError:
            new_lr = self.schedule(epoch)
        if not isinstance(new_lr, (float, int, np.floating, np.integer)):
            raise ValueError(f"the schedule must return a number, got {new_lr!r}")
        backend.set_value(self.model.optimizer.lr, float(new_lr))
        if self.verbose:
            print(f"\nEpoch {epoch + 1}: LearningRateScheduler setting learning rate to "
                  f"{new_lr}.")

    def on_epoch_end(self, epoch, logs=None):
        if logs is not None:
            logs["lr"] = float(backend.get_value(self.model.optimizer.lr))


class CSVLogger(Callback):
    """One row per epoch: epoch, then the logs in sorted order."""

    def __init__(self, filename, separator=",", append=False):
        super().__init__()
        self.filename, self.separator, self.append = os.fspath(filename), separator, append

    def on_train_begin(self, logs=None):
        exists = self.append and os.path.exists(self.filename) and \
            os.path.getsize(self.filename) > 0
        self.file = open(self.filename, "a" if self.append else "w", newline="")
        self.writer, self.keys, self.header_written = None, None, exists

    def on_epoch_end(self, epoch, logs=None):
        logs = logs or {}
        if self.keys is None:
            self.keys = sorted(logs)
            self.writer = csv.writer(self.file, delimiter=self.separator)
            if not self.header_written:
                self.writer.writerow(["epoch"] + self.keys)
        self.writer.writerow([epoch] + [logs.get(k, "NA") for k in self.keys])
        self.file.flush()

    def on_train_end(self, logs=None):
        self.file.close()


class TensorBoard(Callback):
    """TensorBoard logs, as Keras 2 writes them: `log_dir/train` and `log_dir/validation`
    hold each epoch's metrics (tags `epoch_loss`, `epoch_accuracy`, ...; with
    `update_freq="batch"` or a number N also `batch_loss`, ... every N batches by batch
    count), the model's graph (`write_graph`) and, every `histogram_freq` epochs, a histogram
    of each weight (tag its name, ':' as '_'). Images of weights, profiling and embeddings
    are not written."""

    def __init__(self, log_dir="logs", histogram_freq=0, write_graph=True, write_images=False,
                 write_steps_per_second=False, update_freq="epoch", profile_batch=0,
                 embeddings_freq=0, embeddings_metadata=None):
        super().__init__()
        if write_images or embeddings_freq:
            raise NotImplementedError("TensorBoard(write_images=True, embeddings_freq=...) "
                                      "is not supported: images of weights and embeddings "
                                      "are not written")
        self.log_dir, self.histogram_freq = os.fspath(log_dir), histogram_freq
        self.write_graph, self.write_steps_per_second = write_graph, write_steps_per_second
        self.update_freq = 1 if update_freq == "batch" else update_freq
        self._writers, self._histograms = {}, None

    def _writer(self, name):
        if name not in self._writers:
            self._writers[name] = summary_io.FileWriter(os.path.join(self.log_dir, name))
        return self._writers[name]

    def on_train_begin(self, logs=None):
        self._batches, self._epoch_start = 0, time.time()
        if self.write_graph:
            self._writer("train").add_graph(backend.get_session().graph)
        if self.histogram_freq and self._histograms is None:
            # Built once, outside every collection, on the model's graph.
            with backend.get_session().graph.as_default():
                self._histograms = summary_ops.merge([
                    gen_ops.histogram_summary(w.name.replace(":", "_"), w,
                                              name="tensorboard_histogram")
                    for w in self.model.weights], name="tensorboard_histograms")

    def on_epoch_begin(self, epoch, logs=None):
        self._epoch_start = time.time()

    def on_train_batch_end(self, batch, logs=None):
        self._batches += 1
        if self.update_freq != "epoch" and self._batches % self.update_freq == 0:
            self._write("train", "batch_", logs or {}, self._batches)

    def on_epoch_end(self, epoch, logs=None):
        logs = dict(logs or {})
        if self.write_steps_per_second:
            logs["steps_per_second"] = self.params.get("steps", 0) / max(
                time.time() - self._epoch_start, 1e-9)
        self._write("train", "epoch_", {k: v for k, v in logs.items()
                                        if not k.startswith("val_")}, epoch)
        self._write("validation", "epoch_", {k[4:]: v for k, v in logs.items()
                                             if k.startswith("val_")}, epoch)
        if self._histograms is not None and (epoch + 1) % self.histogram_freq == 0:
            self._writer("train").add_summary(backend.get_session().run(self._histograms),
                                              epoch)

    def _write(self, writer, prefix, logs, step):
        values = [summary_pb2.Summary.Value(tag=prefix + k, simple_value=float(v))
                  for k, v in logs.items() if np.ndim(v) == 0]
        if values:
            self._writer(writer).add_summary(summary_pb2.Summary(value=values), step)

    def on_train_end(self, logs=None):
        for writer in self._writers.values():
            writer.close()
        self._writers = {}


class TerminateOnNaN(Callback):
    def on_batch_end(self, batch, logs=None):
        loss = (logs or {}).get("loss")
        if loss is not None and not math.isfinite(loss):
            print(f"Batch {batch}: invalid loss, terminating training")
            self.model.stop_training = True


class LambdaCallback(Callback):
    def __init__(self, on_epoch_begin=None, on_epoch_end=None, on_batch_begin=None,
                 on_batch_end=None, on_train_begin=None, on_train_end=None):
        super().__init__()
        for name, fn in dict(on_epoch_begin=on_epoch_begin, on_epoch_end=on_epoch_end,
                             on_batch_begin=on_batch_begin, on_batch_end=on_batch_end,
                             on_train_begin=on_train_begin, on_train_end=on_train_end).items():
            if fn is not None:
                setattr(self, name, fn)
