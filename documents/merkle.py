"""Merkle trees over ledger entry hashes: a root that pins every entry, and proofs that one entry is under it.

The rule, simple enough for a third party to recompute with any SHA-256 tool:
- the leaves are the entries' entry_hash values (32 raw bytes each), in seq order;
- each level pairs neighbours left to right, parent = SHA-256(left || right);
- a last node without a partner is promoted to the next level unchanged;
- the root of a single leaf is that leaf; the root of no leaves is SHA-256 of nothing.
"""

import hashlib
from collections.abc import Iterable, Sequence

LEFT = "left"
RIGHT = "right"

# One step of an inclusion proof: which side the sibling sits on, and the sibling's hash.
ProofStep = tuple[str, bytes]


def _parent(left: bytes, right: bytes) -> bytes:
    return hashlib.sha256(left + right).digest()


def _next_level(level: Sequence[bytes]) -> list[bytes]:
    paired = [_parent(level[i], level[i + 1]) for i in range(0, len(level) - 1, 2)]
    if len(level) % 2:
        paired.append(level[-1])
    return paired


def merkle_root(leaves: Sequence[bytes]) -> bytes:
    """The root over the leaves, by the rule in the module docstring."""
    if not leaves:
        return hashlib.sha256(b"").digest()
    level = list(leaves)
    while len(level) > 1:
        level = _next_level(level)
    return level[0]


def prefix_roots(leaves: Iterable[bytes], sizes: Iterable[int]) -> dict[int, bytes]:
    """The roots over the first n leaves for each n in ``sizes``, in one pass and O(log n) memory.

    The tree of n leaves is the right fold of its perfect subtrees, largest first (the binary digits
    of n): the frontier of those subtree roots is all a running count needs.
    """
    wanted = set(sizes)
    roots = {0: merkle_root([])} if 0 in wanted else {}
    frontier: list[tuple[int, bytes]] = []  # (height, root) of perfect subtrees, heights decreasing
    count = 0
    for leaf in leaves:
        node, height = leaf, 0
        while frontier and frontier[-1][0] == height:
            node = _parent(frontier.pop()[1], node)
            height += 1
        frontier.append((height, node))
        count += 1
        if count in wanted:
            root = frontier[-1][1]
            for _height, left in reversed(frontier[:-1]):
                root = _parent(left, root)
            roots[count] = root
    return roots


def inclusion_proof(leaves: Sequence[bytes], index: int) -> list[ProofStep]:
    """The sibling hashes from leaf ``index`` up to the root; a promoted node adds no step."""
    if not 0 <= index < len(leaves):
        raise IndexError(f"leaf {index} is not among {len(leaves)} leaves")
    proof: list[ProofStep] = []
    level = list(leaves)
    while len(level) > 1:
        if index % 2:
            proof.append((LEFT, level[index - 1]))
        elif index + 1 < len(level):
            proof.append((RIGHT, level[index + 1]))
        level = _next_level(level)
        index //= 2
    return proof


def verify_inclusion(leaf: bytes, proof: Sequence[ProofStep], root: bytes) -> bool:
    """True when hashing the leaf up through the proof gives the root."""
    node = leaf
    for side, sibling in proof:
        if side == LEFT:
            node = _parent(sibling, node)
        elif side == RIGHT:
            node = _parent(node, sibling)
        else:
            return False
    return node == root
