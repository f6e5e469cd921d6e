"""Graph construction: dtypes, shapes, graphs, operations and tensors."""
