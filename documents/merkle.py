"""Merkle trees as RFC 9162 (Certificate Transparency 2.0) defines them, over stored perfect subtrees.

- leaf hash = SHA-256(0x00 || leaf data); node hash = SHA-256(0x01 || left || right); the root of no
  leaves is SHA-256 of nothing;
- the tree of n leaves splits at k, the largest power of two below n: left the first k leaves, right
  the rest (RFC 9162 section 2.1.1).

A tree here is a set of stored *perfect subtree* nodes: node (level, index) covers leaves
[index * 2**level, (index + 1) * 2**level). Once complete, a node never changes, so the sequencer
stores each one once and a proof reads only the O(log² n) nodes it needs, never the whole log.
Functions that need nodes take ``fetch``: a callable from a list of (level, index) to a dict of hashes.
Checked against the test vectors of transparency-dev/merkle (tests/documents/vectors/).
"""

import hashlib
from collections.abc import Callable, Iterable, Sequence

LEAF_PREFIX = b"\x00"
NODE_PREFIX = b"\x01"
EMPTY_ROOT = hashlib.sha256(b"").digest()

NodeKey = tuple[int, int]
Fetch = Callable[[list[NodeKey]], dict[NodeKey, bytes]]


def leaf_hash(data: bytes) -> bytes:
    return hashlib.sha256(LEAF_PREFIX + data).digest()


def node_hash(left: bytes, right: bytes) -> bytes:
    return hashlib.sha256(NODE_PREFIX + left + right).digest()


def _split(size: int) -> int:
    """The largest power of two smaller than size (size > 1)."""
    return 1 << ((size - 1).bit_length() - 1)


def last_leaf_of(level: int, index: int) -> int:
    """The index of the last leaf under a node: the order in which a growing tree completes its nodes."""
    return ((index + 1) << level) - 1


# --- ranges and the perfect subtrees that make them up -------------------------------------------


def range_nodes(start: int, end: int) -> list[NodeKey]:
    """The perfect subtrees covering leaves [start, end), left to right.

    Every range an RFC 9162 proof asks for starts at a multiple of a power of two at least its size,
    so it splits along the binary digits of its size, largest first.
    """
    nodes = []
    while start < end:
        size = end - start
        level = size.bit_length() - 1
        # A range of an RFC proof is aligned; a misaligned one still splits correctly, only smaller.
        while start % (1 << level):
            level -= 1
        nodes.append((level, start >> level))
        start += 1 << level
    return nodes


def fold(hashes: Sequence[bytes]) -> bytes:
    """The root over perfect subtrees given left to right: the right-most pair joins first."""
    if not hashes:
        return EMPTY_ROOT
    root = hashes[-1]
    for left in reversed(hashes[:-1]):
        root = node_hash(left, root)
    return root


def root_nodes(size: int) -> list[NodeKey]:
    return range_nodes(0, size)


def root_from(size: int, fetch: Fetch) -> bytes:
    keys = root_nodes(size)
    nodes = fetch(keys)
    return fold([nodes[key] for key in keys])


# --- proofs --------------------------------------------------------------------------------------


def inclusion_ranges(index: int, size: int) -> list[tuple[int, int]]:
    """PATH(m, D[n]) of RFC 9162 2.1.3.1 as leaf ranges, from the leaf up."""
    if not 0 <= index < size:
        raise IndexError(f"leaf {index} is not in a tree of {size}")
    ranges: list[tuple[int, int]] = []
    start, end = 0, size
    while end - start > 1:
        k = _split(end - start)
        if index - start < k:
            ranges.append((start + k, end))
            end = start + k
        else:
            ranges.append((start, start + k))
            start += k
    return list(reversed(ranges))


def consistency_ranges(old_size: int, new_size: int) -> list[tuple[int, int]]:
    """PROOF(m, D[n]) of RFC 9162 2.1.4.1 (SUBPROOF with b = true) as leaf ranges."""
    if not 0 <= old_size <= new_size:
        raise ValueError(f"no consistency proof from {old_size} to {new_size}")
    if old_size in (0, new_size):
        return []
    ranges: list[tuple[int, int]] = []
    start, end, m, complete = 0, new_size, old_size, True
    while True:
        size = end - start
        if m == size:
            if not complete:
                ranges.append((start, end))
            break
        k = _split(size)
        if m <= k:
            ranges.append((start + k, end))
            end = start + k
        else:
            ranges.append((start, start + k))
            start += k
            m -= k
            complete = False
    return list(reversed(ranges))


def hashes_of_ranges(ranges: Iterable[tuple[int, int]], fetch: Fetch) -> list[bytes]:
    """Each range's Merkle hash, from the stored nodes, in one fetch."""
    ranges = list(ranges)
    wanted = [range_nodes(start, end) for start, end in ranges]
    nodes = fetch(sorted({key for keys in wanted for key in keys}))
    return [fold([nodes[key] for key in keys]) for keys in wanted]


def inclusion_proof(index: int, size: int, fetch: Fetch) -> list[bytes]:
    return hashes_of_ranges(inclusion_ranges(index, size), fetch)


def consistency_proof(old_size: int, new_size: int, fetch: Fetch) -> list[bytes]:
    return hashes_of_ranges(consistency_ranges(old_size, new_size), fetch)


# --- verifying proofs (RFC 9162 2.1.3.2 and 2.1.4.2) ----------------------------------------------


def root_from_inclusion(leaf: bytes, index: int, size: int, proof: Sequence[bytes]) -> bytes | None:
    """The root an inclusion proof leads to, or None when the proof cannot be one for (index, size)."""
    if not 0 <= index < size or len(leaf) != len(EMPTY_ROOT):
        return None
    fn, sn, node = index, size - 1, leaf
    for sibling in proof:
        if sn == 0:
            return None
        if fn & 1 or fn == sn:
            node = node_hash(sibling, node)
            if not fn & 1:
                while fn and not fn & 1:
                    fn >>= 1
                    sn >>= 1
        else:
            node = node_hash(node, sibling)
        fn >>= 1
        sn >>= 1
    return node if sn == 0 else None


def verify_inclusion(leaf: bytes, index: int, size: int, proof: Sequence[bytes], root: bytes) -> bool:
    return root_from_inclusion(leaf, index, size, proof) == root


def verify_consistency(old_size: int, new_size: int, old_root: bytes, new_root: bytes, proof: Sequence[bytes]) -> bool:
    """True when the tree of new_size leaves and root new_root extends the one of old_size and old_root."""
    if not 0 <= old_size <= new_size:
        return False
    if old_size == 0:
        # As transparency-dev/merkle: a proof from the empty tree proves nothing.
        return False
    if old_size == new_size:
        return not proof and old_root == new_root
    if not proof:
        return False
    path = list(proof)
    if old_size & (old_size - 1) == 0:  # a power of two: the old root is itself a node of the new tree
        path.insert(0, old_root)
    fn, sn = old_size - 1, new_size - 1
    while fn & 1:
        fn >>= 1
        sn >>= 1
    fr = sr = path[0]
    for node in path[1:]:
        if sn == 0:
            return False
        if fn & 1 or fn == sn:
            fr = node_hash(node, fr)
            sr = node_hash(node, sr)
            if not fn & 1:
                while fn and not fn & 1:
                    fn >>= 1
                    sn >>= 1
        else:
            sr = node_hash(sr, node)
        fn >>= 1
        sn >>= 1
    return sn == 0 and fr == old_root and sr == new_root


# --- growing a tree ------------------------------------------------------------------------------


def frontier_nodes(size: int) -> list[NodeKey]:
    """The stored nodes a tree of ``size`` leaves needs to grow: the left siblings on its right edge."""
    return [(level, (size >> level) - 1) for level in range(size.bit_length()) if (size >> level) & 1]


def extend(size: int, leaves: Sequence[bytes], frontier: dict[NodeKey, bytes]) -> dict[NodeKey, bytes]:
    """The nodes that become complete when ``leaves`` are appended to a tree of ``size`` leaves.

    ``frontier`` holds the nodes of ``frontier_nodes(size)``; the result includes the new leaves (level 0).
    """
    end = size + len(leaves)
    new: dict[NodeKey, bytes] = {(0, size + offset): leaf for offset, leaf in enumerate(leaves)}
    level = 1
    while (1 << level) <= end:
        for index in range(size >> level, end >> level):
            left_key, right_key = (level - 1, 2 * index), (level - 1, 2 * index + 1)
            left = new[left_key] if left_key in new else frontier[left_key]
            new[(level, index)] = node_hash(left, new[right_key])
        level += 1
    return new


def root_after(size: int, new_nodes: dict[NodeKey, bytes], frontier: dict[NodeKey, bytes]) -> bytes:
    """The root of the grown tree, from the nodes ``extend`` made and the old frontier."""
    return fold([new_nodes[key] if key in new_nodes else frontier[key] for key in root_nodes(size)])


def tree_from_leaves(leaves: Sequence[bytes]) -> dict[NodeKey, bytes]:
    """Every perfect-subtree node over the given leaf hashes (for tests and small trees)."""
    return extend(0, leaves, {})


def mth(leaves: Sequence[bytes]) -> bytes:
    """MTH(D[n]) straight from RFC 9162's recursive definition, over leaf hashes (a reference)."""
    if not leaves:
        return EMPTY_ROOT
    if len(leaves) == 1:
        return leaves[0]
    k = _split(len(leaves))
    return node_hash(mth(leaves[:k]), mth(leaves[k:]))


class StreamingTree:
    """A tree grown one leaf at a time in O(log n) memory: verifies a whole log while streaming it.

    ``on_node`` is called with (level, index, hash) for each node as it completes, in the order of
    ``last_leaf_of`` then level: the order the sequencer's stored nodes are compared in.
    """

    def __init__(self, on_node: Callable[[int, int, bytes], None] | None = None):
        self.size = 0
        self._stack: list[tuple[int, bytes]] = []  # (level, hash) of the right edge, levels decreasing
        self._on_node = on_node

    def append(self, leaf: bytes) -> None:
        node, level, index = leaf, 0, self.size
        if self._on_node:
            self._on_node(0, index, node)
        while self._stack and self._stack[-1][0] == level:
            node = node_hash(self._stack.pop()[1], node)
            level += 1
            index >>= 1
            if self._on_node:
                self._on_node(level, index, node)
        self._stack.append((level, node))
        self.size += 1

    def root(self) -> bytes:
        return fold([node for _level, node in self._stack])
