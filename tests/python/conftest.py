"""Makes `import runnel` work from the build tree when PYTHONPATH does not say where."""
import os
import pathlib
import sys

ROOT = pathlib.Path(__file__).resolve().parents[2]
SHARED_DATA = ROOT.parent / "shared" / "data"

try:
    import runnel  # noqa: F401
except ImportError:
    build = pathlib.Path(os.environ.get("RUNNEL_BUILD_DIR", ROOT / "build")) / "python"
    sys.path.insert(0, str(build))
