"""Device specs as TensorFlow writes them ("/job:ps/task:0/device:CPU:0", "/cpu:1",
"/device:GPU:*") and how nested `tf.device` scopes combine them: the inner scope's parts
win, the outer ones fill in what the inner leaves out."""
import re

from runnel.framework.api_export import tf_export

_PART = re.compile(r"^(job|replica|task|device|cpu|gpu):?(.*)$", re.IGNORECASE)


@tf_export("DeviceSpec")
class DeviceSpec:
    """A (partial) device name: job, replica, task, device_type, device_index."""

    def __init__(self, job=None, replica=None, task=None, device_type=None,
                 device_index=None):
        self.job, self.replica, self.task = job, replica, task
        self.device_type, self.device_index = device_type, device_index

    @classmethod
    def from_string(cls, spec):
        out = cls()
        for part in (spec or "").split("/"):
            if not part:
                continue
            fields = part.split(":")
            key = fields[0].lower()
            if key in ("job", "replica", "task") and len(fields) == 2:
                value = fields[1]
                setattr(out, key, value if key == "job" else _index(value, spec))
            elif key == "device" and len(fields) in (2, 3):
                out.device_type = fields[1].upper()
                out.device_index = _index(fields[2], spec) if len(fields) == 3 else None
            elif key in ("cpu", "gpu") and len(fields) <= 2:
                out.device_type = key.upper()
                out.device_index = _index(fields[1], spec) if len(fields) == 2 else None
            elif len(fields) == 2 and fields[0].isupper():  # "CPU:0"
                out.device_type, out.device_index = fields[0], _index(fields[1], spec)
            else:
                raise ValueError(f"bad device spec {spec!r}: unknown part {part!r}")
        return out

    def merge_from(self, other):
        """Takes each part `other` sets."""
        for key in ("job", "replica", "task", "device_type", "device_index"):
            if getattr(other, key) is not None:
                setattr(self, key, getattr(other, key))

    def to_string(self):
        out = ""
        if self.job is not None:
            out += f"/job:{self.job}"
        if self.replica is not None:
            out += f"/replica:{self.replica}"
        if self.task is not None:
            out += f"/task:{self.task}"
        if self.device_type is not None:
            index = "*" if self.device_index is None else self.device_index
            out += f"/device:{self.device_type}:{index}"
        return out

    def __repr__(self):
        return f"DeviceSpec({self.to_string()!r})"


def _index(value, spec):
    if value == "*":
        return None
    if not value.isdigit():
        raise ValueError(f"bad device spec {spec!r}: {value!r} is not an index")
    return int(value)


def merge(outer, inner):
    """`inner`'s parts over `outer`'s, as a spec string ("" when neither sets any)."""
    merged = DeviceSpec.from_string(outer)
    merged.merge_from(DeviceSpec.from_string(inner))
    return merged.to_string()
