"""Makes `import runnel` work from the build tree when PYTHONPATH does not say where."""
import os
import pathlib
import sys

ROOT = pathlib.Path(__file__).resolve().parents[2]
SHARED_DATA = ROOT.parent / "shared" / "data"
BUILD = pathlib.Path(os.environ.get("RUNNEL_BUILD_DIR", ROOT / "build"))

try:
    import runnel  # noqa: F401
except ImportError:
    sys.path.insert(0, str(BUILD / "python"))

import pytest  # noqa: E402

import runnel as tf  # noqa: E402


@pytest.fixture(autouse=True)
def fresh_graph():
    """Every test builds into an empty default graph."""
    tf.reset_default_graph()
    yield


def run(fetches, feed=None):
    """Runs `fetches` of the default graph in a new session."""
    with tf.Session() as sess:
        return sess.run(fetches, feed)
