"""The product deployed as it would be over several machines, here on one: two daphne web servers behind
nginx, two Celery workers and beat, PostgreSQL, Redis and an S3 object store (SeaweedFS), each a process of
its own sharing nothing but those services.

One matter goes from application to archive through nginx, whose round robin sends the requests to both
web servers in turn; a live event raised by a request to one web server reaches a browser connected to the
other; the worker rendering the dossier is killed mid-render and the dossier is rendered all the same, once.

Marked ``deployment``: it runs where PostgreSQL, Redis and nginx are (the PostgreSQL + Redis pass of
``make test`` in CI; ``scripts/system-packages`` installs nginx) and skips cleanly elsewhere.
"""

import datetime
import hashlib
import io
import os
import re
import shutil
import signal
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
from django.conf import settings
from PIL import Image, ImageDraw

from demo.seed import DEFAULT_PASSWORD
from tests.deployment.web import WebClient, form_values
from tests.installation import PYTHON, Installation, free_port, port_answers, wait_until
from tests.seaweed import seaweed_server

pytestmark = pytest.mark.deployment

NGINX = shutil.which("nginx") or "/usr/sbin/nginx"
PASSWORD = DEFAULT_PASSWORD
TITLE = "购置村级农机具（部署测试）"
# Fast enough for a test: publication sweeps every 2 s, a lost render is noticed within a few seconds.
QUICK = {
    "PUBLICATION_SWEEP_SECONDS": "2",
    "JOB_LEASE_SECONDS": "4",
    "JOB_HEARTBEAT_SECONDS": "1",
    "JOB_SWEEP_SECONDS": "2",
    "REDIS_VISIBILITY_TIMEOUT": "8",
    # This test is about processes and machines; the township's second factor has tests of its own.
    "MFA_REQUIRED": "0",
    # The test finds the worker that received the dossier's job by its log line ("received"), an INFO line.
    "WORKER_LOG_LEVEL": "INFO",
}

NGINX_CONF = """
worker_processes 1;
daemon off;
pid {folder}/nginx.pid;
error_log {folder}/nginx-error.log warn;
events {{ worker_connections 256; }}
http {{
  include /etc/nginx/mime.types;
  access_log {folder}/nginx-access.log;
  client_body_temp_path {folder}/nginx-body;
  proxy_temp_path {folder}/nginx-proxy;
  fastcgi_temp_path {folder}/nginx-fastcgi;
  uwsgi_temp_path {folder}/nginx-uwsgi;
  scgi_temp_path {folder}/nginx-scgi;
  client_max_body_size 25m;
  map $http_upgrade $connection_upgrade {{ default upgrade; '' close; }}
  upstream both {{ server 127.0.0.1:{web_a}; server 127.0.0.1:{web_b}; }}
  upstream only_a {{ server 127.0.0.1:{web_a}; }}
  upstream only_b {{ server 127.0.0.1:{web_b}; }}
{servers}
}}
"""
NGINX_SERVER = """
  server {{
    listen 127.0.0.1:{port};
    location /static/ {{ alias {static}/; }}
    location / {{
      proxy_pass http://{upstream};
      proxy_http_version 1.1;
      proxy_set_header Host $http_host;
      proxy_set_header X-Forwarded-For $proxy_add_x_forwarded_for;
      proxy_set_header X-Forwarded-Proto $scheme;
      proxy_set_header Upgrade $http_upgrade;
      proxy_set_header Connection $connection_upgrade;
      proxy_read_timeout 300s;
      add_header X-Upstream $upstream_addr always;
    }}
  }}
"""


class Deployment:
    def __init__(self, installation: Installation, ports: dict):
        self.installation = installation
        self.ports = ports
        self.url = f"http://127.0.0.1:{ports['nginx']}"
        self.url_a = f"http://127.0.0.1:{ports['nginx_a']}"
        self.url_b = f"http://127.0.0.1:{ports['nginx_b']}"

    def one(self, sql: str, *parameters):
        rows = self.installation.query(sql, parameters)
        return rows[0] if rows else None


@pytest.fixture(scope="module")
def deployment():
    if not (settings.DATABASE_URL and settings.REDIS_URL):
        pytest.skip("the deployment test needs PostgreSQL and Redis (DATABASE_URL and REDIS_URL)")
    if not Path(NGINX).exists():
        pytest.skip("the deployment test needs nginx (scripts/system-packages installs it)")
    with seaweed_server() as store:
        bucket = store.new_bucket()
        ports = {name: free_port() for name in ("web_a", "web_b", "nginx", "nginx_a", "nginx_b")}
        installation = Installation(
            redis_url=settings.REDIS_URL,
            postgres_url=settings.DATABASE_URL,
            extra_env={**QUICK, "STORAGE_URL": store.storage_url(bucket)},
        )
        static = installation.folder / "static"
        installation.env["STATIC_ROOT"] = str(static)
        try:
            installation.manage("migrate", "--noinput", "-v0")
            installation.manage("seed_demo", "-v0")
            installation.manage("collectstatic", "--noinput", "-v0")
            os.chmod(installation.folder, 0o755)  # nginx's workers read the static files
            for name in ("a", "b"):
                command = [
                    PYTHON,
                    "-m",
                    "daphne",
                    "--proxy-headers",
                    "-b",
                    "127.0.0.1",
                    "-p",
                    str(ports[f"web_{name}"]),
                ]
                installation.start(f"web_{name}", [*command, "project.asgi:application"])
            installation.start_worker("worker_1", pool="prefork")
            installation.start_worker("worker_2", pool="prefork")
            installation.start("beat", [PYTHON, "-m", "celery", "-A", "project", "beat", "-l", "info",
                                        "-s", str(installation.folder / "beat-schedule")])  # fmt: skip
            servers = "".join(
                NGINX_SERVER.format(port=ports[port], static=static, upstream=upstream)
                for port, upstream in (("nginx", "both"), ("nginx_a", "only_a"), ("nginx_b", "only_b"))
            )
            conf = installation.folder / "nginx.conf"
            conf.write_text(NGINX_CONF.format(folder=installation.folder, servers=servers, **ports))
            nginx = [NGINX, "-p", str(installation.folder), "-e", str(installation.folder / "nginx-error.log")]
            installation.start("nginx", [*nginx, "-c", str(conf)])
            for port in ports.values():
                assert wait_until(lambda port=port: port_answers(port), seconds=60), installation.log("nginx")
            yield Deployment(installation, ports)
        finally:
            installation.close()


# --- the scans an applicant uploads ------------------------------------------------------------------


def page_scan(number: int) -> bytes:
    page = Image.new("L", (1240, 1754), 255)
    draw = ImageDraw.Draw(page)
    for line in range(60):
        draw.rectangle((120, 120 + line * 25, 1000 - (line * 31 + number * 17) % 300, 132 + line * 25), fill=20)
    buffer = io.BytesIO()
    page.save(buffer, "PNG")
    return buffer.getvalue()


# --- driving the matter over HTTP ----------------------------------------------------------------------

STEP_ACTORS = {
    "propose": "sec_dh01",
    "check_by_township": "officer_dh",
    "approve_by_township": "leader_dh",
    "implement": "cashier_dh01",
}
MEETING_BODIES = {"deliberate": "two_committees", "review_by_party_members": "party_members"}


def matter_state(deployment: Deployment, matter_id: int):
    return deployment.one("SELECT next_step, status, member_body FROM flows_matter WHERE id = %s", matter_id)


def apply(deployment: Deployment, client: WebClient) -> int:
    client.login("sec_dh01", PASSWORD)
    form = client.get("/matters/new/asset_purchase/")
    assert form.status == 200
    quotations = [("东湖农机公司", "120000"), ("西山机械厂", "126000"), ("县农资公司", "131000")]
    fields = {
        "title": TITLE,
        "funding_source": "集体经营收入",
        "reason": "春耕生产需要",
        "chosen_supplier": "东湖农机公司",
        "total": "120000.00",
        "items-TOTAL_FORMS": "1",
        "items-INITIAL_FORMS": "0",
        "items-MIN_NUM_FORMS": "1",
        "items-MAX_NUM_FORMS": "1000",
        "items-0-name": "旋耕机",
        "items-0-category": "机器设备",
        "items-0-quantity": "2",
        "items-0-unit_price": "60000.00",
        "quotations-TOTAL_FORMS": str(len(quotations)),
        "quotations-INITIAL_FORMS": "0",
        "quotations-MIN_NUM_FORMS": "0",
        "quotations-MAX_NUM_FORMS": "1000",
    }
    for index, (supplier, amount) in enumerate(quotations):
        fields[f"quotations-{index}-supplier"] = supplier
        fields[f"quotations-{index}-amount"] = amount
    organizations = form_values(form.text, "organization")
    if organizations:
        fields["organization"] = organizations[0]
    files = [("files", f"报价单{n}.png", page_scan(n), "image/png") for n in range(1, 7)]
    answer = client.post("/matters/new/asset_purchase/", fields, files)
    assert answer.status == 302, answer.text[-2000:]
    return int(re.search(r"/matters/(\d+)/", answer.headers["location"]).group(1))


def perform(client: WebClient, matter_id: int, username: str, decision: str, opinion: str) -> None:
    client.login(username, PASSWORD)
    page = client.get(f"/matters/{matter_id}/").text
    take = re.search(r'action="(/tasks/\d+/take/)"', page)
    if take:
        assert client.post(take.group(1), {}).status == 302
        page = client.get(f"/matters/{matter_id}/").text
    action = re.search(r'action="(/tasks/\d+/perform/)"', page)
    assert action, f"{username} has nothing to do on matter {matter_id}"
    answer = client.post(action.group(1), {"decision": decision, "opinion": opinion})
    assert answer.status == 302, answer.text[-2000:]


def hold_meeting(client: WebClient, matter_id: int, body: str) -> None:
    client.login("sup_dh01", PASSWORD)
    form = client.get(f"/meetings/new/?body={body}").text
    attendees = form_values(form, "attendees")
    fields = {
        "body": body,
        "held_on": datetime.datetime.now(ZoneInfo(settings.TIME_ZONE)).date().isoformat(),
        "place": "村委会会议室",
        "chair": "监委会主任",
        "minutes": "会议讨论并表决购置事项",
        "attendees": attendees,
        f"m{matter_id}-on_agenda": "on",
        f"m{matter_id}-votes_for": str(len(attendees)),
        f"m{matter_id}-votes_against": "0",
        f"m{matter_id}-votes_abstain": "0",
    }
    organizations = form_values(form, "organization")
    if organizations:
        fields["organization"] = organizations[0]
    answer = client.post("/meetings/new/", fields)
    assert answer.status == 302, answer.text[-2000:]


def announce_meeting(deployment: Deployment, client: WebClient, body: str) -> None:
    """A members' assembly has its notice on the board 10 days ahead: posted, then its dates moved back."""
    if body != "member_assembly":
        return
    client.login("sup_dh01", PASSWORD)
    today = datetime.datetime.now(ZoneInfo(settings.TIME_ZONE)).date()
    fields = {
        "body": body,
        "meets_at": f"{today + datetime.timedelta(days=10)}T23:00",
        "place": "村委会会议室",
        "agenda": "审议购置事项",
    }
    answer = client.post("/meetings/notices/new/", fields)
    assert answer.status == 302, answer.text[-2000:]
    deployment.installation.query(
        "UPDATE flows_meetingnotice SET posted_at = posted_at - interval '10 days', "
        "meets_at = meets_at - interval '10 days'",
        (),
    )


def let_publication_end(deployment: Deployment, matter_id: int, step: str) -> None:
    """Move the period's end (not the clock); beat's sweep and a worker close it."""
    deployment.installation.query(
        "UPDATE flows_notice SET ends_at = now() - interval '1 second' WHERE matter_id = %s AND closed_at IS NULL",
        (matter_id,),
    )
    assert wait_until(lambda: matter_state(deployment, matter_id)[0] != step, seconds=60), "publication never closed"


def drive(deployment: Deployment, client: WebClient, matter_id: int, *, until: str) -> str:
    """Carry the matter from step to step, each by its holder, until it waits at ``until`` (or is archived)."""
    for _ in range(20):
        step, status, member_body = matter_state(deployment, matter_id)
        if step == until or status == "archived":
            return step
        if step in MEETING_BODIES or step == "resolve_by_members":
            announce_meeting(deployment, client, MEETING_BODIES.get(step, member_body))
            hold_meeting(client, matter_id, MEETING_BODIES.get(step, member_body))
        elif step in ("publish_resolution", "publish_result"):
            let_publication_end(deployment, matter_id, step)
        elif step == "implement":
            perform(client, matter_id, STEP_ACTORS[step], "done", "合同已签订，货款已支付")
        else:
            perform(client, matter_id, STEP_ACTORS[step], "agree", "同意")
    raise AssertionError(f"matter {matter_id} stuck at {step}")


# --- the live event and the killed worker ---------------------------------------------------------------


def leader_watches_the_inbox(browser, deployment: Deployment):
    """leader_dh's inbox open in a browser connected to web server B only, its socket up."""
    from playwright.sync_api import expect

    page = browser.new_context(locale="zh-CN").new_page()
    page.set_default_timeout(20000)
    page.goto(f"{deployment.url_b}/accounts/login/")
    page.fill("#id_username", "leader_dh")
    page.fill("#id_password", PASSWORD)
    page.click("button[type=submit]")
    page.wait_for_url(f"{deployment.url_b}/")
    expect(page.locator("body")).to_have_attribute("data-live-mode", "socket")
    return page


def rendering_worker(deployment: Deployment) -> str:
    """The worker that received the dossier's job (the other has not seen it)."""
    received = re.compile(r"render_document\[[^\]]+\] received")
    names = [name for name in ("worker_1", "worker_2") if received.search(deployment.installation.log(name))]
    assert len(names) == 1, names
    return names[0]


def test_a_matter_across_two_web_servers_two_workers_and_beat(deployment, browser):
    from playwright.sync_api import expect

    client = WebClient(deployment.url)
    matter_id = apply(deployment, client)
    drive(deployment, client, matter_id, until="check_by_township")

    # A browser on web server B; the officer's decision goes to web server A. The event crosses by Redis.
    page = leader_watches_the_inbox(browser, deployment)
    officer = WebClient(deployment.url_a)
    perform(officer, matter_id, "officer_dh", "agree", "材料齐全，符合规定")
    assert set(officer.answered_by) == {f"127.0.0.1:{deployment.ports['web_a']}"}
    expect(page.locator("#live-toasts .live-toast[data-kind=task_new]")).to_have_count(1)
    expect(page.locator(f'#inbox-live a[href="/matters/{matter_id}/"]')).to_have_count(1)
    page.context.close()

    # On to the archive. Find the dossier's job on its worker and kill that worker outright.
    drive(deployment, client, matter_id, until="")
    _step, status, _body = matter_state(deployment, matter_id)
    assert status == "archived"
    document = "SELECT id, status, attempts, sha256 FROM documents_rendereddocument WHERE matter_id = %s"
    rendering = wait_until(
        lambda: (row := deployment.one(document, matter_id)) and row[1] == "rendering" and row, 120, 0.05
    )
    assert rendering, deployment.installation.log("worker_1") + deployment.installation.log("worker_2")
    deployment.installation.kill(rendering_worker(deployment), signal.SIGKILL)
    assert deployment.one(document, matter_id)[1] == "rendering", "the dossier was done before its worker was killed"

    done = wait_until(lambda: (row := deployment.one(document, matter_id)) and row[1] == "done" and row, 120, 0.2)
    assert done, deployment.installation.log("worker_1") + deployment.installation.log("worker_2")
    document_id, _status, attempts, sha256 = done
    assert attempts == 2
    # The request is logged when made; the rendered dossier once, however many workers tried it.
    ledger = (
        "SELECT COUNT(*) FROM documents_ledgerentry WHERE kind = 'dossier' AND object_id = %s"
        " AND payload -> 'fields' ->> 'sha256' = %s"
    )
    assert deployment.one(ledger, str(document_id), sha256)[0] == 1

    # The inspector opens the volume through nginx: it comes from the object store, as fingerprinted.
    inspector = WebClient(deployment.url)
    inspector.login("inspector", PASSWORD)
    volume = inspector.get(f"/documents/rendered/{document_id}/pdf/")
    assert volume.status == 200 and hashlib.sha256(volume.body).hexdigest() == sha256

    # Round robin: the journey's requests went to both web servers.
    web_servers = {f"127.0.0.1:{deployment.ports['web_a']}", f"127.0.0.1:{deployment.ports['web_b']}"}
    assert set(client.answered_by) == web_servers
    assert all(first != second for first, second in zip(client.answered_by, client.answered_by[1:], strict=False))
