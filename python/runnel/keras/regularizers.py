"""Weight regularizers: l1, l2 and l1_l2 penalties added to a model's loss."""
from runnel.ops import math_ops
from runnel.keras._names import lookup


class L1L2:
    def __init__(self, l1=0.0, l2=0.0):
        self.l1, self.l2 = float(l1), float(l2)

    def __call__(self, weight):
        penalty = 0.0
        if self.l1:
            penalty += self.l1 * math_ops.reduce_sum(math_ops.abs(weight))
        if self.l2:
            penalty += self.l2 * math_ops.reduce_sum(math_ops.square(weight))
        return penalty

    def get_config(self):
        return {"l1": self.l1, "l2": self.l2}


def l1(l=0.01):  # noqa: E741 (Keras's argument name)
    return L1L2(l1=l)


def l2(l=0.01):  # noqa: E741
    return L1L2(l2=l)


def l1_l2(l1=0.01, l2=0.01):  # noqa: F811
    return L1L2(l1=l1, l2=l2)


_REGULARIZERS = {"l1": l1, "l2": l2, "l1_l2": l1_l2}


def get(identifier):
    if isinstance(identifier, dict):
        return L1L2(**identifier.get("config", {}))
    if isinstance(identifier, str):
        return lookup("regularizer", _REGULARIZERS, identifier)()
    return identifier


def serialize(regularizer):
    if regularizer is None:
        return None
    if not isinstance(regularizer, L1L2):
        raise ValueError(f"cannot serialize the regularizer {regularizer!r}")
    return {"class_name": "L1L2", "config": regularizer.get_config()}
