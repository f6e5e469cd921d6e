"""Op functions: gen_ops (generated from the C++ registry) and the TensorFlow-named
functions composed from them."""
