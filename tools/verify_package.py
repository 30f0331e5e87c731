#!/usr/bin/env python3
"""Check a verification package of the 农村集体三资 archive offline: no network, no site, no database.

    python3 verify_package.py PACKAGE.zip
    python3 verify_package.py verification.json --document dossier.pdf
    python3 verify_package.py ARCHIVE-PACKAGE.zip    (an archive volume: manifest.xml, dossier, scans)
    python3 verify_package.py PACKAGE.zip --trusted-key "<vkey published by the county>"

Needs Python 3.9+ and the ``cryptography`` package (pip install cryptography); SM2 signatures are
checked when ``gmssl`` is installed too. What it checks, naming the part that fails:

1. the package: a ZIP (or a folder) whose ``verification.json`` is canonical JSON;
2. the checkpoint (signed tree head, a C2SP signed note): a valid signature of a log key, the keys
   being those in the package, or only the ones you pass with --trusted-key (compare the key
   fingerprint printed below with the one the county publishes);
3. the witnesses' cosignatures on that checkpoint (C2SP cosignature/v1);
4. each leaf: its payload against the SHA-256 and SM3 in its leaf data, the leaf hash
   (RFC 9162: SHA-256 of 0x00 and the leaf data), and its inclusion proof up to the checkpoint's root;
5. the document: its SHA-256 and SM3 against the fingerprint a leaf records;
6. an archive package: manifest.xml against the log key's signature in manifest.sig, and every file
   the manifest lists against its size, SHA-256 and SM3.

Exit status 0 when everything checks out, 1 when a part fails, 2 when the package cannot be read.
"""

import argparse
import base64
import hashlib
import io
import json
import struct
import sys
import xml.etree.ElementTree as ElementTree
import zipfile
from pathlib import Path

try:
    from cryptography.exceptions import InvalidSignature
    from cryptography.hazmat.primitives import hashes
    from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey
except ImportError:  # pragma: no cover - said to the user
    sys.exit("This verifier needs the cryptography package: pip install cryptography")

FORMAT = "sanzi-verification/1"
FIELDS = {"format", "subject", "document", "leaves", "checkpoint", "log_keys", "witness_keys", "timestamp"}
ZIP_TIME = (1980, 1, 1, 0, 0, 0)
LEAF_FIELDS = {"index", "leaf_data", "payload", "proof"}
WITNESS_FIELDS = {"name", "public_key"}
SUBJECTS = {"dossier", "notice", "minutes", "certificate", "file", "record", "archive"}
DASH = "\u2014"
TYPE_ED25519, TYPE_COSIGNATURE, TYPE_SM2 = 0x01, 0x04, 0xFF


class Failure(Exception):
    def __init__(self, part, message):
        super().__init__(f"{part}: {message}")
        self.part = part
        self.message = message


# --- hashing -------------------------------------------------------------------------------------


def sha256_hex(data):
    return hashlib.sha256(data).hexdigest()


def sm3_hex(data):
    digest = hashes.Hash(hashes.SM3())
    digest.update(data)
    return digest.finalize().hex()


def b64strict(text):
    """Base64 that decodes and encodes back to the same text: the spare bits of its last character count too."""
    raw = base64.b64decode(text, validate=True)
    if base64.b64encode(raw).decode() != text:
        raise ValueError("not in canonical base64")
    return raw


def hexstrict(text):
    raw = bytes.fromhex(text)
    if raw.hex() != text:
        raise ValueError("not in lower-case hex")
    return raw


def canonical(value):
    return json.dumps(value, sort_keys=True, ensure_ascii=False, separators=(",", ":"))


def node_hash(left, right):
    return hashlib.sha256(b"\x01" + left + right).digest()


def root_from_inclusion(leaf, index, size, proof):
    """RFC 9162 section 2.1.3.2; None when the proof cannot be one for (index, size)."""
    if not 0 <= index < size:
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


# --- keys and signed notes -----------------------------------------------------------------------


def key_id(name, signature_type, public_key):
    return hashlib.sha256(name.encode() + b"\n" + bytes([signature_type]) + public_key).digest()[:4]


def parse_vkey(vkey):
    name, key_hex, material = vkey.split("+", 2)
    raw = b64strict(material)
    if raw[0] not in (TYPE_ED25519, TYPE_SM2):
        raise ValueError("unknown key type")
    if key_id(name, raw[0], raw[1:]).hex() != key_hex:
        raise ValueError("the key id does not match the key")
    return {"name": name, "type": raw[0], "public_key": raw[1:], "id": bytes.fromhex(key_hex)}


def fingerprint(public_key):
    digest = sha256_hex(public_key)[:32]
    return " ".join(digest[i : i + 4] for i in range(0, len(digest), 4))


def verify_signature(key, message, signature):
    if key["type"] == TYPE_ED25519:
        try:
            Ed25519PublicKey.from_public_bytes(key["public_key"]).verify(signature, message)
        except (InvalidSignature, ValueError):
            return False
        return True
    try:
        from gmssl import sm2
    except ImportError:
        return None  # cannot check SM2 here
    verifier = sm2.CryptSM2(private_key="", public_key=key["public_key"].hex())
    try:
        return bool(verifier.verify_with_sm3(signature.hex(), message))
    except (ValueError, TypeError, ZeroDivisionError):
        return False


def split_note(note):
    body, separator, signatures = note.rpartition("\n\n")
    if not separator:
        raise ValueError("no blank line before the signatures")
    lines = []
    for line in signatures.split("\n"):
        if not line:
            continue
        dash, _space, rest = line.partition(" ")
        name, _space, encoded = rest.rpartition(" ")
        raw = b64strict(encoded)
        if dash != DASH or not name or len(raw) < 5:
            raise ValueError("a signature line is “— <name> <base64>”")
        lines.append((name, raw[:4], raw[4:]))
    return body + "\n", lines


def parse_checkpoint(body):
    lines = body.split("\n")
    if len(lines) < 4 or lines[-1] != "":
        raise ValueError("a checkpoint has an origin, a size and a root line")
    if not lines[1].isdigit():
        raise ValueError("the size is not a number")
    root = b64strict(lines[2])
    if len(root) != 32:
        raise ValueError("the root is not 32 bytes")
    timestamp = None
    for line in lines[3:-1]:
        if line.startswith("timestamp ") and line[10:].isdigit():
            timestamp = int(line[10:])
    return {"origin": lines[0], "size": int(lines[1]), "root": root, "timestamp": timestamp}


# --- the checks ----------------------------------------------------------------------------------


class Report:
    def __init__(self, out):
        self.out = out
        self.lines = []

    def ok(self, part, message):
        self.lines.append(("OK", part, message))
        print(f"OK    {part}: {message}", file=self.out)

    def note(self, part, message):
        self.lines.append(("NOTE", part, message))
        print(f"NOTE  {part}: {message}", file=self.out)


def check_checkpoint(package, trusted, report):
    part = "checkpoint (signed tree head)"
    try:
        keys = [parse_vkey(vkey) for vkey in package["log_keys"]]
    except (ValueError, KeyError, TypeError, IndexError) as error:
        raise Failure("log keys", f"a key cannot be read ({error})") from error
    if trusted:
        pinned = [parse_vkey(vkey) for vkey in trusted]
        keys = [key for key in keys if any(key["public_key"] == other["public_key"] for other in pinned)]
        if not keys:
            raise Failure("log keys", "none of the package's keys is a key you trust (--trusted-key)")
    try:
        body, signatures = split_note(package["checkpoint"])
        checkpoint = parse_checkpoint(body)
    except (ValueError, KeyError, TypeError) as error:
        raise Failure(part, f"it is not a signed checkpoint ({error})") from error
    signed_by = []
    unchecked = []
    for key in keys:
        for name, signature_key, signature in signatures:
            if name == key["name"] and signature_key == key["id"]:
                outcome = verify_signature(key, body.encode(), signature)
                if outcome is None:
                    unchecked.append(key)
                elif outcome:
                    signed_by.append(key)
                else:
                    raise Failure(part, f"the signature of key {fingerprint(key['public_key'])} does not verify")
    if not signed_by:
        if unchecked:
            raise Failure(part, "only an SM2 signature is present: install gmssl to check it")
        raise Failure(part, "no valid signature of the log's key")
    for key in signed_by:
        algorithm = "Ed25519" if key["type"] == TYPE_ED25519 else "SM2"
        report.ok(part, f"signed by {key['name']} ({algorithm}, key {fingerprint(key['public_key'])})")
    for key in unchecked:
        report.note(part, f"SM2 signature of {key['name']} not checked (gmssl is not installed)")
    return checkpoint, body, signatures


def check_witnesses(package, body, signatures, report):
    witnesses = []
    for witness in package.get("witness_keys", []):
        try:
            public_key = b64strict(witness["public_key"])
        except (ValueError, KeyError, TypeError) as error:
            raise Failure("witness keys", "a witness key cannot be read") from error
        expected_id = key_id(witness["name"], TYPE_COSIGNATURE, public_key)
        for name, signature_key, signature in signatures:
            if name != witness["name"] or signature_key != expected_id:
                continue
            part = f"witness {name}"
            if len(signature) != 72:
                raise Failure(part, "the cosignature is not a timestamp and an Ed25519 signature")
            (timestamp,) = struct.unpack(">Q", signature[:8])
            message = f"cosignature/v1\ntime {timestamp}\n{body}".encode()
            try:
                Ed25519PublicKey.from_public_bytes(public_key).verify(signature[8:], message)
            except (InvalidSignature, ValueError) as error:
                raise Failure(part, "the cosignature does not verify") from error
            witnesses.append(name)
            report.ok(part, f"cosigned this tree head (time {timestamp})")
    if not witnesses:
        report.note("witnesses", "no witness has cosigned this tree head yet")
    return witnesses


def check_leaves(package, checkpoint, report):
    payloads = []
    for number, leaf in enumerate(package["leaves"], start=1):
        part = f"leaf {number}"
        try:
            data = leaf["leaf_data"].encode()
            payload = leaf["payload"].encode()
            fields = json.loads(data)
            proof = [hexstrict(step) for step in leaf["proof"]]
            index = int(leaf["index"])
        except (ValueError, KeyError, TypeError, AttributeError) as error:
            raise Failure(part, f"it cannot be read ({error})") from error
        if sha256_hex(payload) != fields.get("payload_sha256"):
            raise Failure(f"{part} (payload)", "the record differs from the SHA-256 its leaf holds")
        if fields.get("format") == 1 and sm3_hex(payload) != fields.get("payload_sm3"):
            raise Failure(f"{part} (payload)", "the record differs from the SM3 its leaf holds")
        if canonical(fields) != leaf["leaf_data"]:
            raise Failure(f"{part} (leaf data)", "the leaf data is not in its canonical form")
        leaf_hash = hashlib.sha256(b"\x00" + data).digest()
        root = root_from_inclusion(leaf_hash, index, checkpoint["size"], proof)
        if root != checkpoint["root"]:
            raise Failure(f"{part} (inclusion proof)", "the leaf is not under the signed tree head")
        record = json.loads(payload)
        report.ok(part, f"entry #{index + 1} of {checkpoint['size']}: {describe(record)}")
        payloads.append(record)
    return payloads


def describe(record):
    if not isinstance(record, dict):
        return "a record"
    model = record.get("model", "")
    fields = record.get("fields", {})
    for key in ("archive_number", "verification_code", "number", "title", "original_name", "name"):
        if fields.get(key):
            return f"{model} no. {record.get('pk')} ({fields[key]})"
    return f"{model} no. {record.get('pk')}" if model else "a record"


def fingerprints_in(records):
    """(sha256, sm3) of every file the records fingerprint."""
    found = []
    for record in records:
        for value in (record.get("files") or {}).values():
            if isinstance(value, dict) and "sha256" in value:
                found.append((value["sha256"], value.get("sm3")))
        if "sha256" in record and "model" not in record:
            found.append((record["sha256"], record.get("sm3")))
    return found


def check_document(name, data, records, report, part="document"):
    sha256, sm3 = sha256_hex(data), sm3_hex(data)
    for logged_sha256, logged_sm3 in fingerprints_in(records):
        if logged_sha256 == sha256:
            if logged_sm3 and logged_sm3 != sm3:
                raise Failure(part, "its SM3 differs from the one the log holds")
            report.ok(part, f"{name}: SHA-256 {sha256} and SM3 {sm3} are the ones the log holds")
            return
    raise Failure(part, f"{name} is not the document the log fingerprints (SHA-256 {sha256})")


# --- reading packages ----------------------------------------------------------------------------


def read_parts(path):
    """{name: bytes} of a ZIP package, a folder, or a lone verification.json."""
    path = Path(path)
    if path.is_dir():
        return {str(item.relative_to(path)): item.read_bytes() for item in path.rglob("*") if item.is_file()}
    data = path.read_bytes()
    if data.startswith(b"PK"):
        return read_zip(data)
    return {"verification.json": data}


def write_zip(members):
    """The package ZIP as the archive writes it: stored, fixed time and attributes, members in order."""
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        for name, data in members.items():
            info = zipfile.ZipInfo(name, date_time=ZIP_TIME)
            info.compress_type = zipfile.ZIP_STORED
            info.create_system = 3
            info.external_attr = 0o644 << 16
            archive.writestr(info, data)
    return buffer.getvalue()


def read_zip(data):
    """The members of a package ZIP, which must be byte for byte the ZIP the archive writes of them."""
    parts = {}
    try:
        with zipfile.ZipFile(io.BytesIO(data)) as archive:
            for info in archive.infolist():
                parts[info.filename] = archive.read(info)
    # A damaged ZIP raises whatever the part of zipfile or zlib that trips on it raises.
    except Exception as error:
        raise Failure("package", f"the ZIP file is damaged ({type(error).__name__}: {error})") from error
    if write_zip(parts) != data:
        raise Failure("package", "the ZIP file was altered outside its parts (a header, a name or a comment)")
    return parts


def load_verification(parts):
    raw = parts.get("verification.json")
    if raw is None:
        raise Failure("package", "there is no verification.json in it")
    try:
        package = json.loads(raw)
    except ValueError as error:
        raise Failure("verification.json", f"it is not JSON ({error})") from error
    if canonical(package).encode() != raw:
        raise Failure("verification.json", "it is not in its canonical form: it was edited")
    if not isinstance(package, dict) or package.get("format") != FORMAT:
        raise Failure("verification.json", f"it is not a {FORMAT} package")
    # Every field is known and checked: nothing in the file can change without the check seeing it.
    if set(package) != FIELDS or package["subject"] not in SUBJECTS:
        raise Failure("verification.json", "it has fields a package does not have: it was edited")
    leaves, witnesses = package["leaves"], package["witness_keys"]
    if (
        not isinstance(leaves, list)
        or not leaves
        or any(not isinstance(leaf, dict) or set(leaf) != LEAF_FIELDS for leaf in leaves)
    ):
        raise Failure("verification.json", "its leaves are not as a package writes them: it was edited")
    if not isinstance(witnesses, list) or any(
        not isinstance(item, dict) or set(item) != WITNESS_FIELDS for item in witnesses
    ):
        raise Failure("verification.json", "its witness keys are not as a package writes them: it was edited")
    document = package["document"]
    expected = {"verification.json"} | ({document} if document else set())
    if "manifest.xml" not in parts and set(parts) != expected:
        stray = sorted(set(parts) ^ expected)[0]
        raise Failure(stray if stray in parts else "document", "the package's files are not the ones it names")
    return package


def check_manifest(parts, keys, report):
    manifest = parts.get("manifest.xml")
    signature_note = parts.get("manifest.sig")
    if signature_note is None:
        raise Failure("manifest.sig", "the archive package has no signature of its manifest")
    try:
        body, signatures = split_note(signature_note.decode())
        lines = body.split("\n")
    except (ValueError, UnicodeDecodeError) as error:
        raise Failure("manifest.sig", "it is not a signed note") from error
    if (
        len(lines) < 3
        or lines[0] != "sanzi-archive-manifest/1"
        or lines[1] != f"manifest.xml {sha256_hex(manifest)} {sm3_hex(manifest)}"
    ):
        raise Failure("manifest.xml", "it differs from the manifest the archive signed")
    signed = False
    for key in keys:
        for name, signature_key, signature in signatures:
            if name == key["name"] and signature_key == key["id"] and verify_signature(key, body.encode(), signature):
                signed = True
    if not signed:
        raise Failure("manifest.sig", "no valid signature of the log's key")
    report.ok("manifest.xml", "signed by the archive's key at export")
    try:
        root = ElementTree.fromstring(manifest)
    except ElementTree.ParseError as error:
        raise Failure("manifest.xml", f"it is not XML ({error})") from error
    listed = {}
    for item in root.iter("文件"):
        name = item.findtext("计算机文件名") or ""
        data = parts.get(name)
        part = name or "manifest.xml"
        if data is None:
            raise Failure(part, "the manifest lists it but the package does not hold it")
        if (
            str(len(data)) != (item.findtext("计算机文件大小") or "")
            or sha256_hex(data) != (item.findtext("数字摘要[@算法='SHA-256']") or "")
            or sm3_hex(data) != (item.findtext("数字摘要[@算法='SM3']") or "")
        ):
            raise Failure(part, "its size or fingerprint differs from the manifest")
        listed[name] = item
    unlisted = sorted(set(parts) - set(listed) - {"manifest.xml", "manifest.sig"})
    if unlisted:
        raise Failure(unlisted[0], "the package holds it but the manifest does not list it")
    report.ok("manifest.xml", f"every one of its {len(listed)} files matches its size, SHA-256 and SM3")
    return listed


def check_archive(parts, listed, records, report):
    """The dossier as archived (the bytes before the export embedded its attachments), the scans, the report."""
    original = listed["dossier.pdf"].findtext("原件字节数") or ""
    if not original.isdigit():
        raise Failure("dossier.pdf", "the manifest does not say how long the archived dossier is")
    check_document("dossier.pdf", parts["dossier.pdf"][: int(original)], records, report, part="dossier.pdf")
    for name in sorted(parts):
        if name.startswith("scans/"):
            check_document(name, parts[name], records, report, part=name)
    if "archive-check.json" in parts:
        try:
            checked = json.loads(parts["archive-check.json"])
        except ValueError as error:
            raise Failure("archive-check.json", "it is not JSON") from error
        logged = [
            record["fields"].get("report") for record in records if record.get("model") == "documents.ArchiveCheck"
        ]
        if not logged or canonical(logged[0]) != canonical(checked):
            raise Failure("archive-check.json", "the 四性检测 report differs from the one the log holds")
        report.ok("archive-check.json", "the 四性检测 report is the one the log holds")


def verify(path, *, document=None, trusted=(), out=sys.stdout):
    """Check the package at ``path``; raises Failure naming the first part that does not check out."""
    try:
        return _verify(path, document=document, trusted=trusted, out=out)
    except Failure:
        raise
    # Whatever a damaged package trips in the parsers, it is a failure of the package, never a pass.
    except (ValueError, KeyError, TypeError, IndexError, AttributeError, UnicodeError) as error:
        raise Failure("package", f"it cannot be read ({type(error).__name__}: {error})") from error


def _verify(path, *, document, trusted, out):
    report = Report(out)
    parts = read_parts(path)
    package = load_verification(parts)
    checkpoint, body, signatures = check_checkpoint(package, list(trusted), report)
    check_witnesses(package, body, signatures, report)
    records = check_leaves(package, checkpoint, report)
    if "manifest.xml" in parts:
        keys = [parse_vkey(vkey) for vkey in package["log_keys"]]
        listed = check_manifest(parts, keys, report)
        check_archive(parts, listed, records, report)
    if document is not None:
        check_document(Path(document).name, Path(document).read_bytes(), records, report)
    elif package["document"]:
        name = package["document"]
        check_document(name, parts[name], records, report)
    if package["timestamp"]:
        report.note(
            "timestamp",
            "an RFC 3161 token of the tree head is included; check it with `openssl ts -verify` and the TSA's "
            "certificate",
        )
    return report


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("package", help="a package (.zip), a folder, an archive dossier PDF, or verification.json")
    parser.add_argument("--document", help="the document the proof is for, when it is not in the package")
    parser.add_argument(
        "--trusted-key", action="append", default=[], help="a log key (vkey) to trust, not the package's"
    )
    arguments = parser.parse_args(argv)
    try:
        verify(arguments.package, document=arguments.document, trusted=arguments.trusted_key)
    except Failure as failure:
        print(f"FAIL  {failure.part}: {failure.message}")
        return 1
    except OSError as error:
        print(f"FAIL  package: cannot be read ({error})")
        return 2
    print("VERIFIED: every part of the package checks out against the signed log.")
    return 0


if __name__ == "__main__":
    sys.exit(main())
