"""Compiled inner loops of a round (numba): what numpy can only do in several passes.

A round's time is one matrix product per block of needs plus whatever reads that product
afterwards. In numpy that reading took a fifth of the product's time: adding the sparse lexical
scores, group maxima, a partition, a gather, each a pass over a block of 40 MB. Here it is one
pass per need over its row (40 kB, in cache): add the need's lexical scores, take group maxima,
find the k-th best offer of another organization and keep every offer within `margin` of it.
`nogil`: the worker threads of `matching.blocks.rank` run it side by side. `mutual` does the
round's reciprocity look-ups with one hash set."""

from __future__ import annotations

from typing import Any

import numpy as np
from numba import njit

GROUP = 16  # a row's columns g, g + m//16, g + 2·(m//16), … form group g


@njit(nogil=True, cache=True, inline="always")
def _sift_down(heap: np.ndarray, size: int) -> None:
    """Restores the min-heap after heap[0] was replaced."""
    at = 0
    value = heap[0]
    while True:
        child = 2 * at + 1
        if child >= size:
            break
        if child + 1 < size and heap[child + 1] < heap[child]:
            child += 1
        if heap[child] >= value:
            break
        heap[at] = heap[child]
        at = child
    heap[at] = value


@njit(nogil=True, cache=True, inline="always")
def _sift_up(heap: np.ndarray, at: int) -> None:
    value = heap[at]
    while at > 0:
        parent = (at - 1) // 2
        if heap[parent] <= value:
            break
        heap[at] = heap[parent]
        at = parent
    heap[at] = value


@njit(nogil=True, cache=True)
def _group_maxima(row: np.ndarray, groups: np.ndarray) -> None:
    """groups[g] = max(row[g], row[g + G], row[g + 2G], …) for G = len(groups), over the first
    GROUP·G values: sixteen contiguous passes, which the compiler turns into vector code. NaN
    values are passed over (a broken vector must not hide its group's other offers)."""
    width = groups.shape[0]
    groups[:] = -np.inf
    for t in range(GROUP):
        start = t * width
        for g in range(width):
            value = row[start + g]
            if value > groups[g]:
                groups[g] = value


@njit(nogil=True, cache=True)
def _into_heap(heap: np.ndarray, filled: int, value: float) -> int:
    """Offers `value` to the min-heap of the largest values seen; returns its new size."""
    if filled < heap.shape[0]:
        heap[filled] = value
        _sift_up(heap, filled)
        return filled + 1
    if value > heap[0]:
        heap[0] = value
        _sift_down(heap, filled)
    return filled


@njit(nogil=True, cache=True)
def _kth_largest(values: np.ndarray, heap: np.ndarray) -> float:
    """The `len(heap)`-th largest of `values`; −∞ when there are fewer."""
    top_k, filled = heap.shape[0], 0
    for value in values:
        if filled < top_k or value > heap[0]:
            filled = _into_heap(heap, filled, value)
    return heap[0] if filled == top_k and top_k > 0 else -np.inf


@njit(nogil=True, cache=True)
def _kth_of_others(row: np.ndarray, offer_org: np.ndarray, org: int, heap: np.ndarray) -> float:
    """The `len(heap)`-th largest value of `row` among offers of organizations other than
    `org`; −∞ when there are fewer. A full scan: only for needs whose own organization holds
    most of their best offers."""
    top_k, filled = heap.shape[0], 0
    for j in range(offer_org.shape[0]):
        if row[j] != row[j]:  # NaN: never a candidate
            continue
        if (filled < top_k or row[j] > heap[0]) and offer_org[j] != org:
            filled = _into_heap(heap, filled, row[j])
    return heap[0] if filled == top_k and top_k > 0 else -np.inf


@njit(nogil=True, cache=True)
def _collect(
    row: np.ndarray,
    groups: np.ndarray,
    offer_org: np.ndarray,
    org: int,
    cut: float | np.floating[Any],
    found: np.ndarray,
) -> int:
    """Writes every offer of another organization whose value reaches `cut` into `found`,
    looking only into groups whose maximum does; returns their count."""
    width, m = groups.shape[0], offer_org.shape[0]
    count = 0
    for g in range(width):
        if groups[g] >= cut:
            for j in range(g, GROUP * width, width):
                if row[j] >= cut and offer_org[j] != org:
                    found[count] = j
                    count += 1
    for j in range(GROUP * width, m):  # the columns after the last whole group
        if row[j] >= cut and offer_org[j] != org:
            found[count] = j
            count += 1
    return count


@njit(nogil=True, cache=True)
def _row_candidates(
    row: np.ndarray,
    groups: np.ndarray,
    offer_org: np.ndarray,
    org: int,
    margin: np.float32,
    heap: np.ndarray,
    found: np.ndarray,
    values: np.ndarray,
) -> int:
    """Offers of other organizations within `margin` of the row's k-th best of them
    (k = len(heap)) into `found`; returns their count. `groups[g]` is at least the largest
    value of group g.

    A guess at the k-th best value: the k-th largest group maximum (k groups each hold a value
    that high). Collecting every value of other organizations down to the guess minus the
    margin finds the exact k-th best among them whenever it finds at least k values (all the
    values above theirs were collected too), and then the exact cut. Where the need's own
    organization holds the best groups, the k-th best lies below the guess and the row is
    collected again at the exact cut; with fewer than k found, a full scan finds it.
    """
    low = _kth_largest(groups, heap)
    count = _collect(row, groups, offer_org, org, low - margin, found)
    for p in range(count):
        values[p] = row[found[p]]
    kth = _kth_largest(values[:count], heap)
    if kth < low:
        if count < heap.shape[0]:
            kth = _kth_of_others(row, offer_org, org, heap)
        count = _collect(row, groups, offer_org, org, kth - margin, found)
    kept = 0
    for p in range(count):
        if row[found[p]] >= kth - margin:
            found[kept] = found[p]
            kept += 1
    return kept


@njit(nogil=True, cache=True)
def _add_lexical(
    row: np.ndarray,
    need: int,
    need_indptr: np.ndarray,
    need_indices: np.ndarray,
    need_data: np.ndarray,
    post_indptr: np.ndarray,
    post_indices: np.ndarray,
    post_data: np.ndarray,
    weight: np.float32,
    lexical: np.ndarray,
    touched: np.ndarray,
    groups: np.ndarray,
) -> int:
    """Writes need `need`'s lexical similarity to every offer sharing a term into `lexical`
    (offers listed in `touched`, their count returned), adds `weight` times it to `row` and
    keeps `groups` at or above the row's group maxima (TF-IDF weights are positive: an offer
    is listed once)."""
    count = 0
    for p in range(need_indptr[need], need_indptr[need + 1]):
        term, value = need_indices[p], need_data[p]
        for q in range(post_indptr[term], post_indptr[term + 1]):
            offer, product = post_indices[q], value * post_data[q]
            if product == 0.0:  # an explicit zero in either matrix: nothing to add
                continue
            if lexical[offer] == 0.0:
                touched[count] = offer
                count += 1
            lexical[offer] += product
    width = groups.shape[0]
    for p in range(count):
        offer = touched[p]
        row[offer] += weight * lexical[offer]
        if offer < GROUP * width and row[offer] > groups[offer % width]:
            groups[offer % width] = row[offer]
    return count


@njit(nogil=True, cache=True)
def block_candidates(
    block: np.ndarray,
    rows: np.ndarray,
    need_org: np.ndarray,
    offer_org: np.ndarray,
    need_lex: tuple[np.ndarray, np.ndarray, np.ndarray],
    offer_lex_t: tuple[np.ndarray, np.ndarray, np.ndarray],
    lexical_weight: np.float32,  # float32, as the block: the sums stay in float32
    top_k: int,
    margin: np.float32,
    lexical: np.ndarray,
    touched: np.ndarray,
) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """Candidates of a block: for block row r (need rows[r]), every offer of another
    organization whose value lies within `margin` of the row's `top_k`-th best such value.

    `block` holds the dense part of the scores (need rows × offers); the lexical part is added
    in place from the sparse TF-IDF rows of the needs (`need_lex`, CSR arrays) and the offers'
    postings per term (`offer_lex_t`, CSR arrays of the transposed offer matrix). `lexical`
    (zeros, one per offer) and `touched` are scratch space, left as they were found.

    Returns (block row, offer, value, lexical) of every candidate, by row.
    """
    n, m = rows.shape[0], offer_org.shape[0]
    top_k = min(top_k, m)  # more than every offer is every offer (and no huge buffers)
    if top_k <= 0:
        empty = np.zeros(0, np.int64)
        return empty, empty, np.zeros(0, np.float32), np.zeros(0, np.float32)
    need_indptr, need_indices, need_data = need_lex
    post_indptr, post_indices, post_data = offer_lex_t
    capacity = max(n * (top_k + 16), 16)
    out_row = np.empty(capacity, np.int64)
    out_offer = np.empty(capacity, np.int64)
    out_value = np.empty(capacity, np.float32)
    out_lexical = np.empty(capacity, np.float32)
    size = 0
    heap = np.empty(top_k, np.float32)
    groups = np.empty(m // GROUP, np.float32)
    found = np.empty(m, np.int64)
    values = np.empty(m, np.float32)
    for r in range(n):
        row = block[r]
        _group_maxima(row, groups)  # reads the row in order: it is in cache for what follows
        count = _add_lexical(
            row,
            rows[r],
            need_indptr,
            need_indices,
            need_data,
            post_indptr,
            post_indices,
            post_data,
            lexical_weight,
            lexical,
            touched,
            groups,
        )
        kept = _row_candidates(
            row, groups, offer_org, need_org[rows[r]], margin, heap, found, values
        )
        if size + kept > capacity:
            capacity = max(2 * capacity, size + kept)
            out_row = _grown(out_row, capacity)
            out_offer = _grown(out_offer, capacity)
            out_value = _grown(out_value, capacity)
            out_lexical = _grown(out_lexical, capacity)
        for p in range(kept):
            j = found[p]
            out_row[size], out_offer[size] = r, j
            out_value[size], out_lexical[size] = row[j], lexical[j]
            size += 1
        for p in range(count):
            lexical[touched[p]] = 0.0
    return out_row[:size], out_offer[:size], out_value[:size], out_lexical[:size]


@njit(nogil=True, cache=True)
def _grown(array: np.ndarray, capacity: int) -> np.ndarray:
    out = np.empty(capacity, array.dtype)
    out[: array.shape[0]] = array
    return out


@njit(nogil=True, cache=True)
def _slot(key: np.uint64, mask: np.uint64) -> np.uint64:
    return (key * np.uint64(0x9E3779B97F4A7C15) >> np.uint64(17)) & mask


@njit(nogil=True, cache=True)
def mutual(need_org: np.ndarray, offer_org: np.ndarray, strong: np.ndarray) -> np.ndarray:
    """For every pair p (organization need_org[p] needs, offer_org[p] offers): is there a
    strong pair q the other way round (need_org[q] == offer_org[p] and offer_org[q] ==
    need_org[p])? One hash set of the strong pairs, one look-up per pair: a fifth of the time
    of sorting and searching the same keys in numpy. Organization ids are below 2³²."""
    size = 16
    while size < 2 * strong.shape[0]:
        size *= 2
    mask = np.uint64(size - 1)
    empty = np.uint64(0xFFFFFFFFFFFFFFFF)
    table = np.full(size, empty, np.uint64)
    shift = np.uint64(32)
    for p in range(need_org.shape[0]):
        if strong[p]:
            key = (np.uint64(need_org[p]) << shift) | np.uint64(offer_org[p])
            at = _slot(key, mask)
            while table[at] != empty and table[at] != key:
                at = (at + np.uint64(1)) & mask
            table[at] = key
    out = np.zeros(need_org.shape[0], np.bool_)
    for p in range(need_org.shape[0]):
        key = (np.uint64(offer_org[p]) << shift) | np.uint64(need_org[p])
        at = _slot(key, mask)
        while table[at] != empty:
            if table[at] == key:
                out[p] = True
                break
            at = (at + np.uint64(1)) & mask
    return out
