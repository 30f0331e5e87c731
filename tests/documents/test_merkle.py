"""RFC 9162 Merkle trees: hashing, stored-node proofs and their verification, against transparency-dev's vectors."""

import base64
import hashlib
import json
import random
from pathlib import Path

import pytest

from documents import merkle

VECTORS = Path(__file__).parent / "vectors" / "transparency_dev_merkle"
TREE = json.loads((VECTORS / "tree.json").read_text())
LEAF_INPUTS = [bytes.fromhex(value) for value in TREE["leaf_inputs_hex"]]
LEAF_HASHES = [merkle.leaf_hash(data) for data in LEAF_INPUTS]


def b64(value: str) -> bytes:
    return base64.b64decode(value) if value else b""


def vector_files(kind: str) -> list[Path]:
    return sorted((VECTORS / kind).rglob("*.json"))


def fetcher(nodes: dict):
    def fetch(keys):
        return {key: nodes[key] for key in keys}

    return fetch


def test_leaf_and_node_hashes_use_the_rfc_prefixes():
    assert merkle.leaf_hash(b"") == hashlib.sha256(b"\x00").digest()
    assert merkle.node_hash(b"a" * 32, b"b" * 32) == hashlib.sha256(b"\x01" + b"a" * 32 + b"b" * 32).digest()
    assert merkle.EMPTY_ROOT.hex() == TREE["root_hashes_hex_by_size"][0]


def test_leaf_hashes_and_nodes_match_the_vectors():
    nodes = merkle.tree_from_leaves(LEAF_HASHES)
    for level, hashes in enumerate(TREE["node_hashes_hex_by_level"]):
        for index, value in enumerate(hashes):
            assert nodes[(level, index)].hex() == value, (level, index)


@pytest.mark.parametrize("size", range(0, 9))
def test_roots_of_every_prefix_match_the_vectors(size):
    expected = TREE["root_hashes_hex_by_size"][size]
    assert merkle.mth(LEAF_HASHES[:size]).hex() == expected
    nodes = merkle.tree_from_leaves(LEAF_HASHES[:size])
    assert merkle.root_from(size, fetcher(nodes)).hex() == expected
    streaming = merkle.StreamingTree()
    for leaf in LEAF_HASHES[:size]:
        streaming.append(leaf)
    assert streaming.root().hex() == expected


@pytest.mark.parametrize("path", vector_files("inclusion"), ids=lambda path: str(path.relative_to(VECTORS)))
def test_inclusion_vectors(path):
    vector = json.loads(path.read_text())
    proof = [b64(item) for item in vector["proof"] or []]
    ok = merkle.verify_inclusion(
        b64(vector["leafHash"]), vector["leafIdx"], vector["treeSize"], proof, b64(vector["root"])
    )
    assert ok is not vector["wantErr"], vector["desc"]


@pytest.mark.parametrize("path", vector_files("consistency"), ids=lambda path: str(path.relative_to(VECTORS)))
def test_consistency_vectors(path):
    vector = json.loads(path.read_text())
    proof = [b64(item) for item in vector["proof"] or []]
    ok = merkle.verify_consistency(vector["size1"], vector["size2"], b64(vector["root1"]), b64(vector["root2"]), proof)
    assert ok is not vector["wantErr"], vector["desc"]


def test_proofs_from_stored_nodes_equal_the_vectors_happy_paths():
    nodes = merkle.tree_from_leaves(LEAF_HASHES)
    fetch = fetcher(nodes)
    for path in vector_files("inclusion"):
        vector = json.loads(path.read_text())
        if vector["wantErr"] or vector["treeSize"] > 8 or vector["desc"] != "happy path":
            continue
        proof = merkle.inclusion_proof(vector["leafIdx"], vector["treeSize"], fetch)
        assert proof == [b64(item) for item in vector["proof"] or []], path
    for path in vector_files("consistency"):
        vector = json.loads(path.read_text())
        if vector["wantErr"] or vector["size2"] > 8 or vector["desc"] != "happy path":
            continue
        proof = merkle.consistency_proof(vector["size1"], vector["size2"], fetch)
        assert proof == [b64(item) for item in vector["proof"] or []], path


def test_every_proof_of_a_larger_tree_verifies_and_a_flipped_bit_fails():
    leaves = [merkle.leaf_hash(str(number).encode()) for number in range(70)]
    nodes = merkle.tree_from_leaves(leaves)
    fetch = fetcher(nodes)
    for size in range(1, 71):
        root = merkle.mth(leaves[:size])
        assert merkle.root_from(size, fetch) == root
        for index in range(size):
            proof = merkle.inclusion_proof(index, size, fetch)
            assert merkle.verify_inclusion(leaves[index], index, size, proof, root), (index, size)
        for old in range(1, size + 1):
            proof = merkle.consistency_proof(old, size, fetch)
            assert merkle.verify_consistency(old, size, merkle.mth(leaves[:old]), root, proof), (old, size)
    proof = merkle.inclusion_proof(5, 70, fetch)
    proof[1] = bytes([proof[1][0] ^ 1]) + proof[1][1:]
    assert not merkle.verify_inclusion(leaves[5], 5, 70, proof, merkle.mth(leaves))


def test_growing_in_batches_stores_the_same_nodes_as_building_at_once():
    leaves = [merkle.leaf_hash(bytes([number])) for number in range(100)]
    stored: dict = {}
    size = 0
    rng = random.Random(12)
    while size < len(leaves):
        batch = leaves[size : size + rng.randint(1, 9)]
        frontier = {key: stored[key] for key in merkle.frontier_nodes(size)}
        new = merkle.extend(size, batch, frontier)
        assert not set(new) & set(stored), "a complete node is never rewritten"
        stored.update(new)
        size += len(batch)
        assert merkle.root_after(size, new, frontier) == merkle.mth(leaves[:size])
    assert stored == merkle.tree_from_leaves(leaves)


def test_the_streaming_tree_reports_nodes_in_last_leaf_order():
    seen = []
    tree = merkle.StreamingTree(on_node=lambda level, index, value: seen.append((level, index, value)))
    leaves = [merkle.leaf_hash(bytes([number])) for number in range(13)]
    for leaf in leaves:
        tree.append(leaf)
    nodes = merkle.tree_from_leaves(leaves)
    assert {(level, index): value for level, index, value in seen} == nodes
    order = [(merkle.last_leaf_of(level, index), level) for level, index, _value in seen]
    assert order == sorted(order)
