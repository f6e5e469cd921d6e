"""Command-line tools: `python3 -m runnel.tools.freeze_graph`."""
