"""Checks that outputs computed elsewhere (runnel-run's .npy, the C++ example's raw float32)
match the Python session's to a tolerance: compare_outputs.py EXPECTED.npy GOT [--atol A]."""
import argparse
import sys

import numpy as np

parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
parser.add_argument("expected")
parser.add_argument("got", help=".npy, or raw float32 of the expected shape")
parser.add_argument("--atol", type=float, default=1e-6)
args = parser.parse_args()
expected = np.load(args.expected)
if args.got.endswith(".npy"):
    got = np.load(args.got)
else:
    got = np.fromfile(args.got, np.float32).reshape(expected.shape)
diff = float(np.max(np.abs(got.astype(np.float64) - expected))) if expected.size else 0.0
print(f"{args.got}: shape {list(got.shape)}, max |difference| from Python {diff:.2e}")
sys.exit(0 if got.shape == expected.shape and diff <= args.atol else 1)
