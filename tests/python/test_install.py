"""`cmake --install` puts a working runnel package under the prefix."""
import os
import shutil
import subprocess
import sys

import pytest

from conftest import BUILD



@pytest.mark.skipif(shutil.which("cmake") is None or not (BUILD / "CMakeCache.txt").exists(),
                    reason="needs cmake and a configured build tree")
def test_cmake_install_gives_an_importable_package(tmp_path):
    subprocess.run(["cmake", "--install", str(BUILD), "--prefix", str(tmp_path)], check=True,
                   capture_output=True)
    site = next(tmp_path.glob("lib/python3*/dist-packages"))
    code = "import runnel as tf; print(tf.__file__); print(tf.Session().run(tf.constant(6) * 7))"
    env = {k: v for k, v in os.environ.items() if k != "PYTHONPATH"}
    env["PYTHONPATH"] = str(site)
    out = subprocess.run([sys.executable, "-c", code], env=env, check=True, capture_output=True,
                         text=True, cwd=tmp_path).stdout.split()
    assert out[0].startswith(str(site))
    assert out[1] == "42"
