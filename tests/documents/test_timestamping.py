"""RFC 3161 time-stamps of signed tree heads, from a TSA this test starts itself (openssl ts -reply)."""

import datetime
import http.server
import shutil
import subprocess
import threading
from pathlib import Path

import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID
from django.utils import translation

from documents.ledger_tasks import sequence_ledger
from documents.ledger_verify import ledger_verify
from documents.models import TreeHead
from documents.timestamping import head_message, timestamp_verify
from tests.documents.test_ledger import append

pytestmark = [
    pytest.mark.django_db,
    pytest.mark.skipif(shutil.which("openssl") is None, reason="needs the openssl command"),
]

TSA_CONFIG = """
[ tsa ]
default_tsa = tsa_config
[ tsa_config ]
dir = {dir}
serial = $dir/serial
crypto_device = builtin
signer_cert = $dir/tsa.crt
signer_key = $dir/tsa.key
signer_digest = sha256
default_policy = 1.2.3.4.1
digests = sha256
accuracy = secs:1
ordering = yes
tsa_name = yes
ess_cert_id_chain = no
ess_cert_id_alg = sha256
"""


def _certificate(subject: str, key, issuer_name, issuer_key, *, ca: bool) -> x509.Certificate:
    now = datetime.datetime.now(datetime.UTC)
    builder = (
        x509.CertificateBuilder()
        .subject_name(x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, subject)]))
        .issuer_name(issuer_name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - datetime.timedelta(days=1))
        .not_valid_after(now + datetime.timedelta(days=30))
        .add_extension(x509.BasicConstraints(ca=ca, path_length=None), critical=True)
    )
    if ca:
        builder = builder.add_extension(
            x509.KeyUsage(False, False, False, False, False, True, True, False, False), critical=True
        )
    else:
        builder = builder.add_extension(x509.ExtendedKeyUsage([ExtendedKeyUsageOID.TIME_STAMPING]), critical=True)
    return builder.sign(issuer_key, hashes.SHA256())


def _pem(path: Path, data: bytes) -> None:
    path.write_bytes(data)


@pytest.fixture
def tsa(tmp_path, settings):
    """A TSA on 127.0.0.1: a test CA, a TSA certificate under it, and openssl answering each query."""
    ca_key, tsa_key = ec.generate_private_key(ec.SECP256R1()), ec.generate_private_key(ec.SECP256R1())
    ca_name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "Test TSA root")])
    ca = _certificate("Test TSA root", ca_key, ca_name, ca_key, ca=True)
    tsa_certificate = _certificate("Test TSA", tsa_key, ca_name, ca_key, ca=False)
    pem = serialization.Encoding.PEM
    _pem(tmp_path / "ca.crt", ca.public_bytes(pem))
    _pem(tmp_path / "tsa.crt", tsa_certificate.public_bytes(pem))
    _pem(
        tmp_path / "tsa.key",
        tsa_key.private_bytes(pem, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()),
    )
    (tmp_path / "serial").write_text("01\n")
    config = tmp_path / "tsa.cnf"
    config.write_text(TSA_CONFIG.format(dir=tmp_path))
    answered = []

    class Handler(http.server.BaseHTTPRequestHandler):
        def do_POST(self):
            query = tmp_path / f"query-{len(answered)}.tsq"
            query.write_bytes(self.rfile.read(int(self.headers["Content-Length"])))
            reply = query.with_suffix(".tsr")
            subprocess.run(
                ["openssl", "ts", "-reply", "-config", str(config), "-queryfile", str(query), "-out", str(reply)],
                check=True,
                capture_output=True,
            )
            answered.append(query)
            data = reply.read_bytes()
            self.send_response(200)
            self.send_header("Content-Type", "application/timestamp-reply")
            self.send_header("Content-Length", str(len(data)))
            self.end_headers()
            self.wfile.write(data)

        def log_message(self, *args):
            pass

    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    settings.LEDGER_TSA_URL = f"http://127.0.0.1:{server.server_port}/"
    settings.LEDGER_TSA_CERTIFICATE_FILE = str(tmp_path / "ca.crt")
    yield answered
    server.shutdown()
    server.server_close()


def test_the_sequencer_has_each_new_head_time_stamped_and_the_check_verifies_it(tsa):
    append(1)
    sequence_ledger.delay().get()
    head = TreeHead.objects.get()
    assert head.tsa_token and len(tsa) == 1
    assert timestamp_verify(token=head.tsa_token, message=head_message(head))
    assert not timestamp_verify(token=head.tsa_token, message=head_message(head) + b"x")
    assert ledger_verify().ok
    sequence_ledger.delay().get()
    assert len(tsa) == 1, "a head is time-stamped once"


def test_a_swapped_time_stamp_is_found(tsa):
    append(1)
    sequence_ledger.delay().get()
    append(2)
    sequence_ledger.delay().get()
    first, second = TreeHead.objects.order_by("size")
    TreeHead.objects.filter(pk=second.pk).update(tsa_token=first.tsa_token)
    with translation.override("en"):
        result = ledger_verify()
    assert not result.ok
    assert "time-stamp" in result.reason
