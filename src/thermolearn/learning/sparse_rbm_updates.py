"""CD-k and PCD-k epochs for Bernoulli RBMs on the CPU that exploit binary sparsity (Numba).

Every matrix product in a Bernoulli RBM update has a binary factor: the data and the
visible samples v, the hidden samples h. A product v W with binary v is a sum of the rows
of W where v_i = 1, and the weight gradient V^T Y (V binary) adds the rows of Y into the
rows i where v_i = 1. On binarised MNIST about 13% of the pixels are on, so the dense
products do about eight times the necessary arithmetic; here each product costs in
proportion to the ones it meets. A row with more ones than zeros is listed by its zeros
instead and summed as (sum of all rows) - (rows of its zeros), the sums of all rows of W
or W^T being computed once in an update when such a row first needs them, so the cost
follows whichever value is rarer and sparse data pays nothing for it. The update is the
same as the dense one in :mod:`thermolearn.learning.contrastive_divergence`:

    velocity = momentum * velocity + lr * (<v h>_data - <v h>_model - decay * W),  W += velocity

with p(h | v) (not a draw) in both statistics. Rows of the minibatch and the chains run in
parallel; the weight update runs in parallel over visible units, each thread writing its
own rows of W and the matching columns of a transposed copy W^T (the hidden-to-visible
products add rows of W^T). Every sum runs in a fixed order on one thread, so the results do
not depend on the number of threads.

Random numbers: row r of update t draws from a SplitMix64 stream whose start is a hash of
(epoch key, t, r), and draw i of a stream is a function of i alone (a counter-based
generator), so the sampling loops vectorise, any thread computes the same numbers, and a
resumed run continues bit for bit. The sigmoid is Cephes' single-precision exp inlined, so
its loops vectorise as well (error below 1e-7, the size of the 2^-24 steps of the uniform
draws). The draws differ from the JAX engine's (threefry), so the two engines agree
in distribution, not number for number.
"""

from __future__ import annotations

import numpy as np
from numba import prange, uint64

from thermolearn.kernel_cache import njit
from thermolearn.randomness.counter import counter_uniform32, splitmix64

MAX_UNITS = 1 << 20
"""Largest layer this engine accepts: the draws of one row are numbered in 2^21-wide blocks."""
_BLOCK = 1 << 21
_ROWS = 16

# Cephes' expf: exp(y) = 2^n exp(r), n = round(y / ln 2), r = y - n ln 2 split in two parts so
# that r is exact, exp(r) by a degree-6 polynomial (relative error about 1e-7 in float32)
_LOG2E = np.float32(1.44269504088896341)
_LN2_HI = np.float32(0.693359375)
_LN2_LO = np.float32(-2.12194440e-4)
_EXP_POLY = (
    np.float32(1.9875691500e-4),
    np.float32(1.3981999507e-3),
    np.float32(8.3334519073e-3),
    np.float32(4.1665795894e-2),
    np.float32(1.6666665459e-1),
    np.float32(5.0000001201e-1),
)
_ONE = np.float32(1.0)
_HALF = np.float32(0.5)
_Y_MIN = np.float32(-87.0)  # 2^n stays a normal float32 inside [-87, 88]
_Y_MAX = np.float32(88.0)


@njit(inline="always")
def _add_rows(acc, rows, index, count):
    """acc += sum of rows[index[q]] for q < count, eight rows per pass over acc (the pass, not
    the additions, is what costs: it loads and stores acc)."""
    m = acc.shape[0]
    q = 0
    while q + 8 <= count:
        r0 = rows[index[q]]
        r1 = rows[index[q + 1]]
        r2 = rows[index[q + 2]]
        r3 = rows[index[q + 3]]
        r4 = rows[index[q + 4]]
        r5 = rows[index[q + 5]]
        r6 = rows[index[q + 6]]
        r7 = rows[index[q + 7]]
        for j in range(m):
            acc[j] += ((r0[j] + r1[j]) + (r2[j] + r3[j])) + ((r4[j] + r5[j]) + (r6[j] + r7[j]))
        q += 8
    while q < count:
        r = rows[index[q]]
        for j in range(m):
            acc[j] += r[j]
        q += 1


@njit(inline="always")
def _sigmoid(x, out, bits):
    """out = 1 / (1 + exp(-x)) in float32, in two loops that vectorise (no library calls);
    ``bits`` is int32 scratch of the same length for the 2^n factors."""
    c0, c1, c2, c3, c4, c5 = _EXP_POLY
    for i in range(x.shape[0]):
        y = min(max(-x[i], _Y_MIN), _Y_MAX)
        n = np.floor(y * _LOG2E + _HALF)
        r = (y - n * _LN2_HI) - n * _LN2_LO
        out[i] = (((((c0 * r + c1) * r + c2) * r + c3) * r + c4) * r + c5) * (r * r) + r + _ONE
        bits[i] = (np.int32(n) + 127) << 23
    scale = bits.view(np.float32)
    for i in range(x.shape[0]):
        out[i] = _ONE / (_ONE + out[i] * scale[i])


@njit(inline="always")
def _index(xrow, idx):
    """A binary row as a list of indices into ``idx``, coded by the returned number: c >= 0 means
    idx[:c] are its ones; c < 0 means idx[:-c - 1] are its zeros (used when more than half the
    entries are ones, so a product costs in proportion to whichever is rarer)."""
    n = xrow.shape[0]
    ones = 0
    for i in range(n):
        ones += xrow[i] != 0
    if 2 * ones <= n:
        c = 0
        for i in range(n):
            idx[c] = i
            c += xrow[i] != 0
        return c
    z = 0
    for i in range(n):
        idx[z] = i
        z += xrow[i] == 0
    return -z - 1


@njit(inline="always")
def _draw(p, key, offset, xrow, idx):
    """x_i = [u_i < p_i] into the byte row ``xrow``, u_i the draw offset + i of stream ``key``;
    returns the row's index code (see ``_index``)."""
    for i in range(p.shape[0]):
        xrow[i] = counter_uniform32(key, offset + uint64(i)) < p[i]
    return _index(xrow, idx)


@njit(inline="always")
def _selected_sum(acc, base, rows, total, idx, code):
    """acc = base + the sum of the rows selected by a binary row with index code ``code``:
    of its ones' rows, or ``total`` (all rows summed) minus its zeros' rows."""
    m = acc.shape[0]
    if code >= 0:
        for j in range(m):
            acc[j] = base[j]
        _add_rows(acc, rows, idx, code)
    else:
        for j in range(m):
            acc[j] = 0
        _add_rows(acc, rows, idx, -code - 1)
        for j in range(m):
            acc[j] = (base[j] + total[j]) - acc[j]


@njit(inline="always")
def _probabilities(rows, bias, total, idx, code, prow, bits):
    """prow = sigmoid(bias + sum of the ``rows`` selected by the other layer's binary state):
    p(h | v) with rows = W, p(v | h) with rows = W^T; ``total`` is the sum of all rows."""
    acc = np.empty(bias.shape[0], bias.dtype)
    _selected_sum(acc, bias, rows, total, idx, code)
    _sigmoid(acc, prow, bits)


@njit(inline="always")
def _squared_error(xrow, prow):
    """sum_i (x_i - p_i)^2: how far the reconstruction p(v | h) is from the row."""
    e = 0.0
    for i in range(prow.shape[0]):
        d = np.float32(xrow[i]) - prow[i]
        e += d * d
    return e


# The parallel kernels of an update are called only by sparse_epoch, which is cached; they are not
# cached themselves. A cached caller compiled in a process that had loaded its parallel callees from
# the cache crashes (SIGSEGV) in the next process that loads it (Numba 0.68: two processes training
# on one cold cache at once, or a cache entry of the caller lost, were enough). Compiled together
# with their caller, the callees' code is in the caller's cache entry and nothing else is loaded.
@njit(cache=False, parallel=True)
def _data_rows(W, bh, total_w, data, rows, X, xon, xcnt, P, keys, hon, hcnt, draw):
    """Data row r of the minibatch: its bytes X[r], its ones, P[r] = p(h | v); with ``draw``
    also h ~ p(h | v) (draws 0.. of stream keys[r]) into the list hon[r] of length hcnt[r]."""
    nh = W.shape[1]
    for r in prange(rows.shape[0]):
        bits = np.empty(max(W.shape[0], nh), np.int32)
        # element loops here and below, not slice assignments: Numba compiles those through its
        # generic broadcasting copy, seconds of a cold start for the same machine code
        src = data[rows[r]]
        for i in range(src.shape[0]):
            X[r, i] = src[i]
        xcnt[r] = _index(X[r], xon[r])
        _probabilities(W, bh, total_w, xon[r], xcnt[r], P[r], bits)
        if draw:
            hrow = np.empty(nh, np.uint8)
            hcnt[r] = _draw(P[r], keys[r], uint64(0), hrow, hon[r])


@njit(cache=False, parallel=True)  # not cached: see the note above
def _visible_step(WT, bv, total_wt, hon, hcnt, keys, offset, X, xon, xcnt, first, sample, err_rows):
    """For each hidden list r: p = p(v | h) (rows of W^T only, so W^T is all this loop reads);
    with ``sample``, v ~ p (draws offset.. of stream keys[r]) into row first + r of X and
    its list of ones; with a non-empty ``err_rows``, err_rows[r] = |X[r] - p|^2 (X[r] the data)."""
    nv = WT.shape[1]
    for r in prange(hcnt.shape[0]):
        bits = np.empty(nv, np.int32)
        pv = np.empty(nv, np.float32)
        _probabilities(WT, bv, total_wt, hon[r], hcnt[r], pv, bits)
        if err_rows.shape[0] > 0:
            err_rows[r] = _squared_error(X[r], pv)
        if sample:
            xcnt[first + r] = _draw(pv, keys[r], offset, X[first + r], xon[first + r])


@njit(cache=False, parallel=True)  # not cached: see the note above
def _hidden_step(W, bh, total_w, xon, xcnt, first, P, keys, offset, hon, hcnt, sample, chains, to_chains):
    """For row first + r of X (r < len(hcnt)): P = p(h | v) (rows of W only); with ``sample``,
    h ~ P (draws offset.. of stream keys[r]) into the list hon[r] of length hcnt[r], and with
    ``to_chains`` into the persistent ``chains`` too."""
    nh = W.shape[1]
    for r in prange(hcnt.shape[0]):
        bits = np.empty(nh, np.int32)
        n = first + r
        _probabilities(W, bh, total_w, xon[n], xcnt[n], P[n], bits)
        if sample:
            hrow = np.empty(nh, np.uint8)
            hcnt[r] = _draw(P[n], keys[r], offset, hrow, hon[r])
            if to_chains:
                for j in range(nh):
                    chains[r, j] = hrow[j]


@njit(cache=True)
def _column_lists(X, xon, xcnt, con, ccnt, B):
    """For each visible unit i, the rows n with X[n, i] = 1 in increasing order (con[i, :ccnt[i]]),
    built from the rows' index lists (rows listed by their zeros are read from X); returns the
    count of data rows among them per unit."""
    nv = con.shape[0]
    npos = np.zeros(nv, np.int64)
    for i in range(nv):
        ccnt[i] = 0
    for n in range(xcnt.shape[0]):
        code = xcnt[n]
        if code >= 0:
            for q in range(code):
                i = xon[n, q]
                con[i, ccnt[i]] = n
                ccnt[i] += 1
        else:
            for i in range(nv):
                if X[n, i] != 0:
                    con[i, ccnt[i]] = n
                    ccnt[i] += 1
        if n == B - 1:
            for i in range(nv):
                npos[i] = ccnt[i]
    return npos


@njit(cache=False, parallel=True)  # not cached: see the note above
def _weight_update(W, WT, bv, vW, vbv, Y, y_total, con, ccnt, npos, lr, momentum, decay, inv_b, inv_c):
    """W += velocity, velocity = momentum * velocity + lr * (<v h>_data - <v h>_chains - decay * W),
    with <v h>_data - <v h>_chains = sum of the rows Y[n] (P[n] / B for data rows, -P[n] / C for
    chain rows) where v_n,i = 1, or ``y_total`` (all rows) minus those where v_n,i = 0 when the
    ones are the majority; the same for the visible bias. 16 visible units (rows of W) per
    iteration, then their block of W^T (16 units fill a cache line of each row of W^T)."""
    nv, nh = W.shape
    R = Y.shape[0]
    for blk in prange((nv + _ROWS - 1) // _ROWS):
        lo = blk * _ROWS
        hi = min(lo + _ROWS, nv)
        g = np.empty(nh, W.dtype)
        zeros = np.empty(R, np.int32)
        for i in range(lo, hi):
            c = ccnt[i]
            n_pos = npos[i]
            for j in range(nh):
                g[j] = 0
            if 2 * c <= R:
                _add_rows(g, Y, con[i], c)
            else:  # the rows missing from the sorted list of ones
                z = 0
                q = 0
                for n in range(R):
                    if q < c and con[i, q] == n:
                        q += 1
                    else:
                        zeros[z] = n
                        z += 1
                _add_rows(g, Y, zeros, z)
                for j in range(nh):
                    g[j] = y_total[j] - g[j]
            if momentum == 0:  # the old velocity need not be read (PCD is usually run so)
                for j in range(nh):
                    v = lr * (g[j] - decay * W[i, j])
                    vW[i, j] = v
                    W[i, j] += v
            else:
                for j in range(nh):
                    v = momentum * vW[i, j] + lr * (g[j] - decay * W[i, j])
                    vW[i, j] = v
                    W[i, j] += v
            vbv[i] = momentum * vbv[i] + lr * (n_pos * inv_b - (c - n_pos) * inv_c)
            bv[i] += vbv[i]
        for j in range(nh):
            for i in range(lo, hi):
                WT[j, i] = W[i, j]


@njit(cache=False, parallel=True, fastmath={"reassoc"})  # not cached: see the note above _data_rows
def _row_sums(M, out):
    """out[j] = sum of row j of M (reassociated so that it vectorises; each row on one thread,
    so the result does not depend on the thread count)."""
    for j in prange(M.shape[0]):
        acc = np.float32(0)
        for i in range(M.shape[1]):
            acc += M[j, i]
        out[j] = acc


@njit(cache=True)
def _hidden_bias_update(bh, vbh, P, Y, y_total, B, lr, momentum, inv_b, inv_c):
    """The hidden bias's step (gradient mean p(h | v_data) - mean p(h | v_chains)); fills Y with
    the rows P[n] / B (data) and -P[n] / C (chains) that the weight gradient sums, and y_total
    with their sum (the hidden gradient itself)."""
    nh = bh.shape[0]
    pos = np.zeros(nh, P.dtype)
    neg = np.zeros(nh, P.dtype)
    for n in range(B):
        for j in range(nh):
            pos[j] += P[n, j]
            Y[n, j] = P[n, j] * inv_b
    for n in range(B, P.shape[0]):
        for j in range(nh):
            neg[j] += P[n, j]
            Y[n, j] = -P[n, j] * inv_c
    for j in range(nh):
        y_total[j] = pos[j] * inv_b - neg[j] * inv_c
        vbh[j] = momentum * vbh[j] + lr * y_total[j]
        bh[j] += vbh[j]


@njit(cache=True)
def _any_listed_by_zeros(codes):
    """Whether some row's index code says it is listed by its zeros (see ``_index``)."""
    for c in codes:
        if c < 0:
            return True
    return False


@njit(cache=True)
def _any_dense(dense_rows, rows):
    """Whether some of the minibatch's data rows have more ones than zeros."""
    for r in rows:
        if dense_rows[r]:
            return True
    return False


@njit(cache=True)
def sparse_epoch(
    W,
    WT,
    bv,
    bh,
    vW,
    vbv,
    vbh,
    chains,
    data,
    dense_rows,
    order,
    batch,
    lrs,
    momentum,
    decay,
    key,
    persistent,
    k,
    reconstruction,
):
    """Run ``len(lrs)`` updates of CD-k (``persistent`` False) or PCD-k in place.

    W (n_visible, n_hidden) and WT = W^T (kept equal), biases, velocities and ``chains``
    (PCD: binary hidden states, n_chains x n_hidden; CD: ignored) are updated in place;
    minibatch t is ``data[order[t * batch:(t + 1) * batch]]`` (uint8 rows; ``dense_rows[n]``
    says whether row n has more ones than zeros). ``lrs[t]`` is the
    learning rate of update t, ``key`` (uint64) the epoch's random key. Everything is float32.
    Returns the sum over
    updates of the reconstruction error (mean squared error per unit of p(v | h ~ p(h | v_data))
    against v_data), 0 without ``reconstruction``.
    """
    nv, nh = W.shape
    B = batch
    C = chains.shape[0] if persistent else B
    R = B + C
    X = np.zeros((R, nv), np.uint8)
    xon = np.empty((R, nv), np.int32)  # each row's ones or zeros (see _index)
    xcnt = np.zeros(R, np.int64)
    P = np.empty((R, nh), W.dtype)
    Y = np.empty((R, nh), W.dtype)
    y_total = np.empty(nh, W.dtype)
    con = np.empty((nv, R), np.int32)
    ccnt = np.zeros(nv, np.int64)
    total_w = np.empty(nh, W.dtype)  # sum of the rows of W
    total_wt = np.empty(nv, W.dtype)  # sum of the rows of W^T
    hon = np.empty((C, nh), np.int32)  # the chains' hidden states, indexed
    hcnt = np.zeros(C, np.int64)
    if persistent:  # later updates carry the lists over from their last hidden draw
        for r in range(C):
            hcnt[r] = _index(chains[r], hon[r])
    pos_on = np.empty((B, nh), np.int32)  # PCD's hidden draw of the data (reconstruction only)
    pos_cnt = np.zeros(B, np.int64)
    err_rows = np.zeros(B if reconstruction else 0)
    no_err = np.zeros(0)
    data_keys = np.empty(B, np.uint64)
    chain_keys = np.empty(C, np.uint64)
    err_total = 0.0
    inv_b = np.float32(1.0 / B)
    inv_c = np.float32(1.0 / C)
    # bool variables rather than the literals True / False: a callee gets one compiled version for a
    # bool, but another for each literal (13 CPU s of a cold compile)
    yes = lrs.shape[0] >= 0
    no = not yes
    for t in range(lrs.shape[0]):
        update_key = splitmix64(key ^ uint64(t))[0]
        for r in range(B):  # data row r draws from (update, 2r), a persistent chain r from (update, 2r + 1)
            data_keys[r] = splitmix64(update_key + uint64(2 * r))[0]
        for r in range(C):
            chain_keys[r] = splitmix64(update_key + uint64(2 * r + 1))[0] if persistent else data_keys[r]
        rows = order[t * B : (t + 1) * B]
        # the sums of all rows of W (W^T) serve rows listed by their zeros; computed only when
        # such a row comes up, once per update (W changes only at the update's end)
        w_total_ok = False
        wt_total_ok = False
        if _any_dense(dense_rows, rows):
            _row_sums(WT, total_w)
            w_total_ok = True
        if persistent:
            _data_rows(W, bh, total_w, data, rows, X, xon, xcnt, P, data_keys, pos_on, pos_cnt, reconstruction)
            if reconstruction:
                if _any_listed_by_zeros(pos_cnt):
                    _row_sums(W, total_wt)
                    wt_total_ok = True
                _visible_step(WT, bv, total_wt, pos_on, pos_cnt, data_keys, uint64(0), X, xon, xcnt, B, no, err_rows)
        else:  # CD: chain r starts at data row r's hidden draw
            _data_rows(W, bh, total_w, data, rows, X, xon, xcnt, P, data_keys, hon, hcnt, yes)
        for s in range(k):
            if not wt_total_ok and _any_listed_by_zeros(hcnt):
                _row_sums(W, total_wt)
                wt_total_ok = True
            _visible_step(
                WT,
                bv,
                total_wt,
                hon,
                hcnt,
                chain_keys,
                uint64((2 * s + 1) * _BLOCK),
                X,
                xon,
                xcnt,
                B,
                yes,
                err_rows if (s == 0 and reconstruction and not persistent) else no_err,
            )
            if not w_total_ok and _any_listed_by_zeros(xcnt[B:]):
                _row_sums(WT, total_w)
                w_total_ok = True
            _hidden_step(
                W,
                bh,
                total_w,
                xon,
                xcnt,
                B,
                P,
                chain_keys,
                uint64((2 * s + 2) * _BLOCK),
                hon,
                hcnt,
                persistent or s + 1 < k,
                chains,
                persistent and s + 1 == k,
            )
        _hidden_bias_update(bh, vbh, P, Y, y_total, B, lrs[t], momentum, inv_b, inv_c)
        npos = _column_lists(X, xon, xcnt, con, ccnt, B)
        _weight_update(W, WT, bv, vW, vbv, Y, y_total, con, ccnt, npos, lrs[t], momentum, decay, inv_b, inv_c)
        if reconstruction:
            err_total += err_rows.sum() / (B * nv)
    return err_total


def epoch_key(seed: int, epoch: int) -> np.uint64:
    """The random key of one training epoch: a hash of (seed, epoch)."""
    return np.random.SeedSequence([int(seed), int(epoch)]).generate_state(1, np.uint64)[0]


def dense_rows(data: np.ndarray) -> np.ndarray:
    """1 for the rows of a binary matrix with more ones than zeros (the engine lists those by their zeros)."""
    data = np.asarray(data)
    return (2 * data.sum(axis=1, dtype=np.int64) > data.shape[1]).astype(np.uint8)


def run_sparse_epoch(
    params: dict,
    velocity: dict,
    chains,
    data: np.ndarray,
    order: np.ndarray,
    batch: int,
    rates: np.ndarray,
    momentum: float,
    decay: float,
    key: np.uint64,
    *,
    persistent: bool,
    k: int,
    reconstruction: bool,
    dense: np.ndarray | None = None,
) -> float:
    """``len(rates)`` updates (minibatch t = rows ``order[t * batch:(t + 1) * batch]`` of the
    uint8 ``data``) applied in place to float32 ``params`` and ``velocity`` (dicts with
    weights, visible_bias, hidden_bias) and, for PCD, the float32 hidden ``chains``
    (n_chains x n_hidden, 0 or 1). Returns the mean reconstruction error of the updates
    (NaN without ``reconstruction``). ``dense``: :func:`dense_rows` of ``data`` if already known."""
    W = params["weights"]
    f32 = np.float32
    data = np.ascontiguousarray(data)
    dense = dense_rows(data) if dense is None else np.ascontiguousarray(dense, dtype=np.uint8)
    err = sparse_epoch(
        W,
        np.ascontiguousarray(W.T),
        params["visible_bias"],
        params["hidden_bias"],
        velocity["weights"],
        velocity["visible_bias"],
        velocity["hidden_bias"],
        chains if persistent else np.zeros((0, W.shape[1]), f32),
        data,
        dense,
        np.ascontiguousarray(order, dtype=np.int64),
        int(batch),
        np.ascontiguousarray(rates, dtype=f32),
        f32(momentum),
        f32(decay),
        np.uint64(key),
        bool(persistent),
        int(k),
        bool(reconstruction),
    )
    return float(err) / len(rates) if reconstruction else float("nan")
