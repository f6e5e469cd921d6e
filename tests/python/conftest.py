"""Makes `import runnel` work from the build tree when PYTHONPATH does not say where, and
records which ops each test runs (for test_kernels.py's coverage table)."""
import collections
import functools
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

import numpy as np  # noqa: E402
import pytest  # noqa: E402

import runnel as tf  # noqa: E402
from runnel.client import session as session_lib  # noqa: E402
from runnel.framework import ops  # noqa: E402


@pytest.fixture(autouse=True)
def fresh_graph():
    """Every test builds into an empty default graph."""
    tf.reset_default_graph()
    yield


@pytest.fixture
def fresh_keras():
    """For Keras tests: a new Keras session, and numpy's global generator (which Keras's
    initializers and fit's shuffling draw from) seeded."""
    from runnel.keras import backend
    backend.clear_session()
    np.random.seed(0)
    yield


def run(fetches, feed=None):
    """Runs `fetches` of the default graph in a new session."""
    with tf.Session() as sess:
        return sess.run(fetches, feed)


# --- which ops each test runs ------------------------------------------------------------
# test_kernels.py's coverage table names the test that checks each op; it asks OPS_RUN
# whether that test really ran the op: the op types a Session.run reached from its fetches
# without passing a fed tensor, gathered per test ("file.py::test_name").
OPS_RUN = collections.defaultdict(set)
_current_test = [None]
_reached_cache = {}


def _ops_reached(graph, fetches, feed_dict):
    try:
        leaves = session_lib._FetchMapper(graph, fetches).leaves
        fed = frozenset(graph.as_graph_element(k, allow_operation=False).name
                        for k in (feed_dict or {}))
    except Exception:  # noqa: BLE001 - run() itself reports bad fetches and feeds
        return set()
    key = (id(graph), graph.version, tuple(leaf.name for leaf in leaves), fed)
    if key not in _reached_cache:
        stack = [leaf.op if isinstance(leaf, ops.Tensor) else leaf for leaf in leaves]
        seen, types = set(), set()
        while stack:
            op = stack.pop()
            if op.name in seen:
                continue
            seen.add(op.name)
            types.add(op.type)
            stack.extend(t.op for t in op.inputs if t.name not in fed)
            stack.extend(op.control_inputs)
        _reached_cache[key] = types
    return _reached_cache[key]


def _recording(run):
    @functools.wraps(run)
    def recording_run(self, fetches, *args, **kwargs):
        if _current_test[0] is not None:
            feed_dict = args[0] if args else kwargs.get("feed_dict")
            OPS_RUN[_current_test[0]] |= _ops_reached(self.graph, fetches, feed_dict)
        return run(self, fetches, *args, **kwargs)
    return recording_run


session_lib.Session.run = _recording(session_lib.Session.run)


@pytest.fixture(autouse=True)
def record_ops_run(request):
    _current_test[0] = f"{request.node.path.name}::{request.node.originalname}"
    yield
    _current_test[0] = None
    _reached_cache.clear()  # graphs die with the test; their ids are reused


def pytest_collection_modifyitems(items):
    """Tests marked after_all_tests run last (they read what the others did)."""
    items.sort(key=lambda item: item.get_closest_marker("after_all_tests") is not None)


def pytest_configure(config):
    config.addinivalue_line("markers", "after_all_tests: runs after every other test")
