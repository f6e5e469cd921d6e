"""tf.nn.rnn_cell's cells, tf.nn.dynamic_rnn, static_rnn and bidirectional_dynamic_rnn
against the same recurrences written in numpy from the cells' own weights: batch- and
time-major inputs, sequence lengths (zeros past the end, the state held), an initial
state, variables named as TensorFlow names them; tf.reverse, tf.reverse_sequence,
tf.clip_by_value and tf.Assert. (tests/python/test_tensorflow_parity.py runs the same
scripts in TensorFlow.)"""
import numpy as np
import pytest

import runnel as tf
from numeric_gradient import numeric_gradient


def sigmoid(z):
    return 1 / (1 + np.exp(-z))


def lstm_reference(x, kernel, bias, lengths=None, c=None, h=None, forget_bias=1.0):
    """BasicLSTMCell over x [batch, time, depth]: outputs, c, h."""
    batch, steps, _ = x.shape
    units = bias.shape[0] // 4
    c = np.zeros((batch, units)) if c is None else c
    h = np.zeros((batch, units)) if h is None else h
    lengths = np.full(batch, steps) if lengths is None else lengths
    outputs = np.zeros((batch, steps, units))
    for t in range(steps):
        i, j, f, o = np.split(np.concatenate([x[:, t], h], 1) @ kernel + bias, 4, axis=1)
        new_c = c * sigmoid(f + forget_bias) + sigmoid(i) * np.tanh(j)
        new_h = np.tanh(new_c) * sigmoid(o)
        live = (t < lengths)[:, None]
        c, h = np.where(live, new_c, c), np.where(live, new_h, h)
        outputs[:, t] = np.where(live, new_h, 0)
    return outputs, c, h


@pytest.fixture
def sequences():
    return np.random.RandomState(5).randn(3, 6, 4).astype(np.float32)


def run(fetches, feed):
    with tf.Session() as sess:
        sess.run(tf.global_variables_initializer())
        return sess.run(fetches, feed)


def test_dynamic_rnn_lstm_matches_numpy_with_sequence_lengths(sequences):
    x = tf.placeholder(tf.float32, [None, None, 4])
    lengths = tf.placeholder(tf.int32, [None])
    outputs, state = tf.nn.dynamic_rnn(tf.nn.rnn_cell.BasicLSTMCell(5), x,
                                       sequence_length=lengths, dtype=tf.float32)
    assert [v.op.name for v in tf.global_variables()] == [
        "rnn/basic_lstm_cell/kernel", "rnn/basic_lstm_cell/bias"]
    assert outputs.shape.as_list() == [None, None, 5] and state.h.shape.as_list() == [None, 5]
    longer = np.concatenate([sequences, sequences], 1)
    with tf.Session() as sess:
        sess.run(tf.global_variables_initializer())
        got, c, h, kernel, bias = sess.run([outputs, state.c, state.h] + tf.global_variables(),
                                           {x: sequences, lengths: [6, 2, 0]})
        # More steps in the next run: the loop runs as many times as the input has steps.
        got_longer = sess.run(outputs, {x: longer, lengths: [12, 12, 12]})
    want, want_c, want_h = lstm_reference(sequences, kernel, bias, np.array([6, 2, 0]))
    np.testing.assert_allclose(got, want, rtol=1e-5, atol=1e-6)
    np.testing.assert_allclose(c, want_c, rtol=1e-5, atol=1e-6)
    np.testing.assert_allclose(h, want_h, rtol=1e-5, atol=1e-6)
    got = got_longer
    np.testing.assert_allclose(got, lstm_reference(longer, kernel, bias)[0], rtol=1e-5,
                               atol=1e-6)


def test_time_major_and_an_initial_state(sequences):
    x = tf.placeholder(tf.float32, [6, 3, 4])
    c0 = np.full((3, 5), 0.3, np.float32)
    h0 = np.full((3, 5), -0.2, np.float32)
    cell = tf.nn.rnn_cell.BasicLSTMCell(5, forget_bias=0.0)
    outputs, state = tf.nn.dynamic_rnn(cell, x, time_major=True,
                                       initial_state=tf.nn.rnn_cell.LSTMStateTuple(c0, h0))
    assert outputs.shape.as_list() == [6, 3, 5]
    got, h, kernel, bias = run([outputs, state.h] + tf.global_variables(),
                               {x: sequences.transpose(1, 0, 2)})
    want, _, want_h = lstm_reference(sequences, kernel, bias, c=c0, h=h0, forget_bias=0.0)
    np.testing.assert_allclose(got, want.transpose(1, 0, 2), rtol=1e-5, atol=1e-6)
    np.testing.assert_allclose(h, want_h, rtol=1e-5, atol=1e-6)


def test_gru_and_basic_rnn_cells_match_numpy(sequences):
    x = tf.constant(sequences)
    with tf.variable_scope("gru"):
        gru_out, _ = tf.nn.dynamic_rnn(tf.nn.rnn_cell.GRUCell(3), x, dtype=tf.float32)
    with tf.variable_scope("plain"):
        rnn_out, _ = tf.nn.dynamic_rnn(tf.nn.rnn_cell.BasicRNNCell(2, activation=tf.nn.relu),
                                       x, dtype=tf.float32)
    names = [v.op.name for v in tf.global_variables()]
    assert names == ["gru/rnn/gru_cell/gates/kernel", "gru/rnn/gru_cell/gates/bias",
                     "gru/rnn/gru_cell/candidate/kernel", "gru/rnn/gru_cell/candidate/bias",
                     "plain/rnn/basic_rnn_cell/kernel", "plain/rnn/basic_rnn_cell/bias"]
    got_gru, got_rnn, gk, gb, ck, cb, rk, rb = run([gru_out, rnn_out] + tf.global_variables(),
                                                   None)
    np.testing.assert_array_equal(gb, np.ones(6))  # the gates' bias starts at 1
    h, want = np.zeros((3, 3)), []
    for t in range(6):
        r, u = np.split(sigmoid(np.concatenate([sequences[:, t], h], 1) @ gk + gb), 2, axis=1)
        candidate = np.tanh(np.concatenate([sequences[:, t], r * h], 1) @ ck + cb)
        h = u * h + (1 - u) * candidate
        want.append(h)
    np.testing.assert_allclose(got_gru, np.stack(want, 1), rtol=1e-5, atol=1e-6)
    h, want = np.zeros((3, 2)), []
    for t in range(6):
        h = np.maximum(np.concatenate([sequences[:, t], h], 1) @ rk + rb, 0)
        want.append(h)
    np.testing.assert_allclose(got_rnn, np.stack(want, 1), rtol=1e-5, atol=1e-6)


def test_static_rnn_and_multi_rnn_cell_share_variables_across_steps(sequences):
    steps = [tf.constant(sequences[:, t]) for t in range(6)]
    cell = tf.nn.rnn_cell.MultiRNNCell([tf.nn.rnn_cell.BasicLSTMCell(4),
                                        tf.nn.rnn_cell.BasicLSTMCell(4)])
    outputs, state = tf.nn.static_rnn(cell, steps, dtype=tf.float32, sequence_length=[6, 4, 1])
    assert [v.op.name for v in tf.global_variables()] == [
        f"rnn/multi_rnn_cell/cell_{k}/basic_lstm_cell/{w}" for k in (0, 1)
        for w in ("kernel", "bias")]
    got, top_h, k0, b0, k1, b1 = run([outputs, state[1].h] + tf.global_variables(), None)
    lengths = np.array([6, 4, 1])
    first, _, _ = lstm_reference(sequences, k0, b0, lengths)
    second, _, h = lstm_reference(first, k1, b1, lengths)
    np.testing.assert_allclose(np.stack(got, 1), second, rtol=1e-5, atol=1e-6)
    np.testing.assert_allclose(top_h, h, rtol=1e-5, atol=1e-6)


def test_bidirectional_rnn_reverses_each_sequence_within_its_length(sequences):
    x = tf.placeholder(tf.float32, [None, None, 4])
    lengths = np.array([6, 3, 1])
    (fw, bw), (state_fw, state_bw) = tf.nn.bidirectional_dynamic_rnn(
        tf.nn.rnn_cell.BasicLSTMCell(3), tf.nn.rnn_cell.BasicLSTMCell(3), x,
        sequence_length=lengths, dtype=tf.float32)
    names = [v.op.name for v in tf.global_variables()]
    assert names == [f"bidirectional_rnn/{d}/basic_lstm_cell/{w}" for d in ("fw", "bw")
                     for w in ("kernel", "bias")]
    got_fw, got_bw, h_bw, kf, bf, kb, bb = run([fw, bw, state_bw.h] + tf.global_variables(),
                                               {x: sequences})
    np.testing.assert_allclose(got_fw, lstm_reference(sequences, kf, bf, lengths)[0],
                               rtol=1e-5, atol=1e-6)
    flipped = sequences.copy()
    for b, n in enumerate(lengths):
        flipped[b, :n] = sequences[b, :n][::-1]
    want_bw, _, want_h = lstm_reference(flipped, kb, bb, lengths)
    for b, n in enumerate(lengths):
        want_bw[b, :n] = want_bw[b, :n][::-1]
    np.testing.assert_allclose(got_bw, want_bw, rtol=1e-5, atol=1e-6)
    np.testing.assert_allclose(h_bw, want_h, rtol=1e-5, atol=1e-6)


def test_lstm_cell_peepholes_projection_and_clips(sequences):
    x = tf.constant(sequences)
    cell = tf.nn.rnn_cell.LSTMCell(5, use_peepholes=True, num_proj=2, cell_clip=0.6,
                                   proj_clip=0.3, forget_bias=0.5)
    outputs, state = tf.nn.dynamic_rnn(cell, x, dtype=tf.float32)
    names = [v.op.name.split("lstm_cell/")[1] for v in tf.global_variables()]
    assert sorted(names) == ["bias", "kernel", "projection/kernel", "w_f_diag", "w_i_diag",
                             "w_o_diag"]
    got, c_final, *weights = run([outputs, state.c] + tf.global_variables(), None)
    values = dict(zip(names, weights))
    c, m, want = np.zeros((3, 5)), np.zeros((3, 2)), []
    for t in range(6):
        i, j, f, o = np.split(np.concatenate([sequences[:, t], m], 1) @ values["kernel"] +
                              values["bias"], 4, axis=1)
        c = sigmoid(f + 0.5 + values["w_f_diag"] * c) * c + \
            sigmoid(i + values["w_i_diag"] * c) * np.tanh(j)
        c = np.clip(c, -0.6, 0.6)
        m = sigmoid(o + values["w_o_diag"] * c) * np.tanh(c)
        m = np.clip(m @ values["projection/kernel"], -0.3, 0.3)
        want.append(m)
    np.testing.assert_allclose(got, np.stack(want, 1), rtol=1e-5, atol=1e-6)
    np.testing.assert_allclose(c_final, c, rtol=1e-5, atol=1e-6)


def test_dropout_wrapper_keeps_all_at_one_and_scales_what_it_keeps(sequences):
    keep = tf.placeholder_with_default(1.0, [])
    cell = tf.nn.rnn_cell.DropoutWrapper(tf.nn.rnn_cell.BasicRNNCell(8), output_keep_prob=keep)
    outputs, _ = tf.nn.dynamic_rnn(cell, tf.constant(sequences), dtype=tf.float32)
    with tf.Session() as sess:
        sess.run(tf.global_variables_initializer())
        full = sess.run(outputs)
        dropped = sess.run(outputs, {keep: 0.5})
    # The recurrence uses the cell's undropped state, so each output is the full one
    # either zeroed or doubled.
    kept = dropped != 0
    assert 0.2 < kept.mean() < 0.8
    np.testing.assert_allclose(dropped[kept], 2 * full[kept], rtol=1e-5)


def test_reverse_reverse_sequence_clip_and_assert():
    x = np.arange(24, dtype=np.float32).reshape(2, 3, 4)
    reversed_ = tf.reverse(x, [0, -1])
    by_length = tf.reverse_sequence(x, [3, 1], seq_axis=1, batch_axis=0)
    clipped = tf.clip_by_value(x, 3.0, 10.0)
    flag = tf.placeholder(tf.bool, [])
    check = tf.Assert(flag, ["the flag was", flag])
    with tf.Session() as sess:
        got = sess.run([reversed_, by_length, clipped], None)
        sess.run(check, {flag: True})
        with pytest.raises(tf.errors.InvalidArgumentError, match="the flag was"):
            sess.run(check, {flag: False})
    np.testing.assert_array_equal(got[0], x[::-1, :, ::-1])
    want = x.copy()
    want[0] = x[0, ::-1]
    np.testing.assert_array_equal(got[1], want)
    np.testing.assert_array_equal(got[2], np.clip(x, 3, 10))
    with tf.Session() as sess, pytest.raises(tf.errors.InvalidArgumentError, match="seq_lengths"):
        sess.run(tf.reverse_sequence(x, [4, 1], seq_axis=1))


def test_reverse_gradients_are_reversed():
    x = tf.constant(np.arange(6, dtype=np.float32).reshape(2, 3))
    weights = tf.constant(np.arange(6, dtype=np.float32).reshape(2, 3) + 1)
    loss = tf.reduce_sum(weights * tf.reverse(x, [1])) + \
        tf.reduce_sum(weights * tf.reverse_sequence(x, [2, 3], seq_axis=1, batch_axis=0))
    grad = tf.gradients(loss, x)[0]
    w = np.arange(6, dtype=np.float32).reshape(2, 3) + 1
    want = w[:, ::-1].copy()
    want[0, :2] += w[0, :2][::-1]
    want[0, 2] += w[0, 2]
    want[1] += w[1, ::-1]
    with tf.Session() as sess:
        np.testing.assert_array_equal(sess.run(grad), want)


def test_dynamic_rnn_needs_a_dtype_or_an_initial_state(sequences):
    with pytest.raises(ValueError, match="dtype"):
        tf.nn.dynamic_rnn(tf.nn.rnn_cell.BasicLSTMCell(2), tf.constant(sequences))
    with pytest.raises(ValueError, match="last dimension"):
        tf.nn.dynamic_rnn(tf.nn.rnn_cell.BasicLSTMCell(2),
                          tf.placeholder(tf.float32, [None, None, None]), dtype=tf.float32)


@pytest.mark.parametrize("make_cell", [
    lambda: tf.nn.rnn_cell.LSTMCell(3, use_peepholes=True, num_proj=2, cell_clip=1.0),
    lambda: tf.nn.rnn_cell.LSTMCell(3, use_peepholes=True, forget_bias=0.3),
    lambda: tf.nn.rnn_cell.GRUCell(3),
    lambda: tf.nn.rnn_cell.MultiRNNCell([tf.nn.rnn_cell.BasicLSTMCell(2),
                                         tf.nn.rnn_cell.BasicRNNCell(2)]),
], ids=["lstm_clipped", "lstm_fused", "gru", "multi"])
def test_dynamic_rnn_gradients_match_finite_differences(make_cell):
    """Through the while loop, the TensorArrays and the sequence lengths, to the inputs,
    the initial-state-free cell's weights and biases."""
    x = tf.placeholder(tf.float64, [2, 4, 3])
    outputs, state = tf.nn.dynamic_rnn(make_cell(), x, sequence_length=[4, 2],
                                       dtype=tf.float64)
    loss = tf.reduce_sum(tf.square(outputs)) + tf.add_n([tf.reduce_sum(s) for s in _flat(state)])
    variables = tf.global_variables()
    grads = tf.gradients(loss, [x] + variables)
    feed = {x: np.random.RandomState(2).randn(2, 4, 3)}
    with tf.Session() as sess:
        sess.run(tf.global_variables_initializer())
        got = sess.run(grads, feed)
        for value, wrt in zip(got, [x] + variables):
            np.testing.assert_allclose(value, numeric_gradient(sess, loss, feed, wrt),
                                       atol=1e-7, err_msg=str(wrt))
    assert np.abs(got[0][1, 2:]).max() == 0  # past the second sequence's end


def _flat(state):
    return [s for item in state for s in _flat(item)] if isinstance(state, tuple) else [state]


def test_the_lstm_forecaster_example_beats_the_last_value_forecast():
    """tools/examples/lstm_forecaster.py: dynamic_rnn over an LSTMCell trained with Adam."""
    import importlib.util
    import pathlib
    path = pathlib.Path(__file__).parents[2] / "tools" / "examples" / "lstm_forecaster.py"
    spec = importlib.util.spec_from_file_location("lstm_forecaster", path)
    example = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(example)
    test_mse, last_value_mse, losses = example.forecast(tf, train_steps=300)
    assert losses[-1] < losses[0] / 10
    assert test_mse < last_value_mse / 3, (test_mse, last_value_mse)


def test_the_fused_lstm_step_gives_the_separate_ops_values_and_gradients(monkeypatch):
    """LSTMBlockCell (one node per step, what the cells use) against the cell's own ops."""
    from runnel.ops import rnn_cell_impl
    x = tf.placeholder(tf.float64, [3, 5, 4])
    feed = {x: np.random.RandomState(8).randn(3, 5, 4)}
    results = []
    for fused in (True, False):
        monkeypatch.setattr(rnn_cell_impl, "_USE_FUSED_LSTM", fused)
        with tf.variable_scope(f"fused_{fused}"):
            cell = tf.nn.rnn_cell.LSTMCell(6, use_peepholes=True, forget_bias=0.7,
                                           initializer=tf.constant_initializer(0.1))
            outputs, state = tf.nn.dynamic_rnn(cell, x, sequence_length=[5, 3, 1],
                                               dtype=tf.float64)
        loss = tf.reduce_sum(tf.tanh(outputs)) + \
            tf.reduce_sum(state.c * state.c)
        variables = [v for v in tf.global_variables() if v.op.name.startswith(f"fused_{fused}")]
        ops = {op.type for op in tf.get_default_graph().get_operations()
               if op.name.startswith(f"fused_{fused}")}
        assert ("LSTMBlockCell" in ops) == fused
        results.append((outputs, state.c, tf.gradients(loss, [x] + variables)))
    with tf.Session() as sess:
        sess.run(tf.global_variables_initializer())
        fused_values, separate_values = sess.run(results, feed)
    for a, b in zip(_flat_values(fused_values), _flat_values(separate_values)):
        np.testing.assert_allclose(a, b, rtol=1e-7, atol=1e-10)


def _flat_values(values):
    if isinstance(values, (list, tuple)):
        return [v for item in values for v in _flat_values(item)]
    return [values]


def test_lstm_block_cell_and_its_grad_op_match_numpy():
    """TensorFlow's fused LSTM step (tf.raw_ops.LSTMBlockCell) with peepholes and a cell
    clip, and LSTMBlockCellGrad, against the equations in numpy."""
    rng = np.random.RandomState(9)
    batch, inputs, cell = 3, 4, 5
    x, cs_prev, h_prev = (rng.randn(batch, n) for n in (inputs, cell, cell))
    w, b = rng.randn(inputs + cell, 4 * cell) * 0.5, rng.randn(4 * cell) * 0.1
    wci, wcf, wco = (rng.randn(cell) * 0.3 for _ in range(3))
    got = tf.raw_ops.LSTMBlockCell(x=x, cs_prev=cs_prev, h_prev=h_prev, w=w, wci=wci, wcf=wcf,
                                   wco=wco, b=b, forget_bias=0.75, cell_clip=1.25,
                                   use_peephole=True)
    gates = np.concatenate([x, h_prev], 1) @ w + b
    gi, gc, gf, go = np.split(gates, 4, axis=1)
    i = sigmoid(gi + cs_prev * wci)
    f = sigmoid(gf + 0.75 + cs_prev * wcf)
    ci = np.tanh(gc)
    cs = np.clip(ci * i + cs_prev * f, -1.25, 1.25)  # float attrs: exact in float32
    o = sigmoid(go + cs * wco)
    co = np.tanh(cs)
    cs_grad, h_grad = rng.randn(batch, cell), rng.randn(batch, cell)
    grad = tf.raw_ops.LSTMBlockCellGrad(
        x=x, cs_prev=cs_prev, h_prev=h_prev, w=w, wci=wci, wcf=wcf, wco=wco, b=b, i=got[0],
        cs=got[1], f=got[2], o=got[3], ci=got[4], co=got[5], cs_grad=cs_grad, h_grad=h_grad,
        use_peephole=True)
    with tf.Session() as sess:
        forward, backward = sess.run([list(got), list(grad)])
    for value, expected in zip(forward, [i, cs, f, o, ci, co, co * o]):
        np.testing.assert_allclose(value, expected, rtol=1e-10)
    d_o = o * (1 - o) * h_grad * co
    dcs = (1 - co ** 2) * h_grad * o + cs_grad + d_o * wco
    dci = (1 - ci ** 2) * dcs * i
    df = f * (1 - f) * dcs * cs_prev
    di = i * (1 - i) * dcs * ci
    expected = [dcs * f + di * wci + df * wcf, np.concatenate([di, dci, df, d_o], 1),
                (di * cs_prev).sum(0), (df * cs_prev).sum(0), (d_o * cs).sum(0)]
    for value, want in zip(backward, expected):
        np.testing.assert_allclose(value, want, rtol=1e-10, atol=1e-12)
    with pytest.raises(tf.errors.InvalidArgumentError, match="w must be"):
        with tf.Session() as sess:
            sess.run(tf.raw_ops.LSTMBlockCell(x=x, cs_prev=cs_prev, h_prev=h_prev, w=w[1:],
                                              wci=wci, wcf=wcf, wco=wco, b=b))
