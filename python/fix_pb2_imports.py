"""Copies protoc's Python output into the runnel package, pointing its imports there."""
import pathlib
import re
import sys

src, dst = pathlib.Path(sys.argv[1]), pathlib.Path(sys.argv[2])
dst.mkdir(parents=True, exist_ok=True)
(dst / "__init__.py").write_text('"""Protobuf messages, wire-compatible with TensorFlow."""\n')
for path in sorted(src.glob("*_pb2.py")):
    text = re.sub(r"^from core\.proto import", "from runnel.proto import", path.read_text(),
                  flags=re.MULTILINE)
    (dst / path.name).write_text(text)
