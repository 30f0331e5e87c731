"""The Merkle tree rule of documents/merkle.py: roots, prefix roots and inclusion proofs."""

import hashlib

import pytest

from documents.merkle import LEFT, RIGHT, inclusion_proof, merkle_root, prefix_roots, verify_inclusion


def h(data: bytes) -> bytes:
    return hashlib.sha256(data).digest()


def leaves(count: int) -> list[bytes]:
    return [h(str(index).encode()) for index in range(count)]


def test_root_of_no_leaves_is_the_hash_of_nothing():
    assert merkle_root([]) == h(b"")


def test_root_of_one_leaf_is_the_leaf():
    (leaf,) = leaves(1)
    assert merkle_root([leaf]) == leaf


def test_root_pairs_neighbours_and_promotes_an_odd_leaf():
    a, b, c = leaves(3)
    assert merkle_root([a, b]) == h(a + b)
    assert merkle_root([a, b, c]) == h(h(a + b) + c)
    d, e = leaves(5)[3:]
    assert merkle_root([a, b, c, d, e]) == h(h(h(a + b) + h(c + d)) + e)


def test_root_changes_when_any_leaf_changes_or_moves():
    items = leaves(7)
    root = merkle_root(items)
    for index in range(len(items)):
        changed = list(items)
        changed[index] = h(b"forged")
        assert merkle_root(changed) != root
    swapped = list(items)
    swapped[2], swapped[3] = swapped[3], swapped[2]
    assert merkle_root(swapped) != root


@pytest.mark.parametrize("count", range(0, 40))
def test_prefix_roots_equal_the_roots_of_each_prefix(count):
    items = leaves(count)
    roots = prefix_roots(iter(items), range(count + 1))
    assert roots == {size: merkle_root(items[:size]) for size in range(count + 1)}


@pytest.mark.parametrize("count", [1, 2, 3, 4, 5, 6, 7, 8, 9, 16, 17, 33])
def test_every_leaf_has_an_inclusion_proof_that_verifies(count):
    items = leaves(count)
    root = merkle_root(items)
    for index, leaf in enumerate(items):
        assert verify_inclusion(leaf, inclusion_proof(items, index), root)


def test_inclusion_proof_fails_when_leaf_proof_or_root_is_tampered():
    items = leaves(11)
    root = merkle_root(items)
    proof = inclusion_proof(items, 6)
    assert verify_inclusion(items[6], proof, root)
    assert not verify_inclusion(items[5], proof, root)
    assert not verify_inclusion(items[6], proof, h(b"another root"))
    side, sibling = proof[1]
    assert not verify_inclusion(items[6], [proof[0], (side, h(sibling)), *proof[2:]], root)
    flipped = [(LEFT if side == RIGHT else RIGHT, sibling) for side, sibling in proof]
    assert not verify_inclusion(items[6], flipped, root)
    assert not verify_inclusion(items[6], proof[:-1], root)
    assert not verify_inclusion(items[6], [("up", proof[0][1]), *proof[1:]], root)


def test_promoted_leaf_adds_no_step_to_its_proof():
    items = leaves(5)
    # Leaf 4 has no partner on the first two levels; only the last pairing needs a sibling.
    assert inclusion_proof(items, 4) == [(LEFT, merkle_root(items[:4]))]


def test_inclusion_proof_refuses_an_index_outside_the_leaves():
    with pytest.raises(IndexError):
        inclusion_proof(leaves(3), 3)
