"""A small HTTP client for driving the product as a browser would (forms, CSRF, uploads), standard library only."""

import re
import uuid
from dataclasses import dataclass
from http.cookiejar import CookieJar
from urllib.error import HTTPError
from urllib.parse import urlencode, urljoin
from urllib.request import HTTPCookieProcessor, HTTPRedirectHandler, Request, build_opener


class _NoRedirect(HTTPRedirectHandler):
    def redirect_request(self, *args, **kwargs):
        return None


@dataclass
class Response:
    status: int
    url: str
    headers: dict
    body: bytes

    @property
    def text(self) -> str:
        return self.body.decode("utf-8", errors="replace")

    @property
    def upstream(self) -> str:
        """Which web server behind nginx answered (nginx adds X-Upstream)."""
        return self.headers.get("x-upstream", "")


class WebClient:
    def __init__(self, base_url: str):
        self.base_url = base_url
        self.cookies = CookieJar()
        self.opener = build_opener(HTTPCookieProcessor(self.cookies), _NoRedirect())
        self.answered_by: list[str] = []

    def _send(self, request: Request) -> Response:
        try:
            with self.opener.open(request, timeout=60) as answer:
                response = Response(
                    answer.status, answer.url, {k.lower(): v for k, v in answer.headers.items()}, answer.read()
                )
        except HTTPError as error:
            response = Response(error.code, error.url, {k.lower(): v for k, v in error.headers.items()}, error.read())
        if response.upstream:
            self.answered_by.append(response.upstream)
        return response

    def get(self, path: str, follow: bool = True) -> Response:
        response = self._send(Request(urljoin(self.base_url, path)))
        while follow and response.status in (301, 302, 303) and "location" in response.headers:
            response = self._send(Request(urljoin(self.base_url, response.headers["location"])))
        return response

    def csrf_token(self) -> str:
        for cookie in self.cookies:
            if cookie.name == "csrftoken":
                return cookie.value
        raise AssertionError("no CSRF cookie: GET a page with a form first")

    def post(self, path: str, fields: dict, files: list[tuple[str, str, bytes, str]] = ()) -> Response:
        """POST a form (``files``: (field, file name, content, type)); the answer itself, not where it redirects."""
        fields = {**fields, "csrfmiddlewaretoken": self.csrf_token()}
        url = urljoin(self.base_url, path)
        if files:
            boundary = uuid.uuid4().hex
            body = _multipart(boundary, fields, files)
            headers = {"Content-Type": f"multipart/form-data; boundary={boundary}"}
        else:
            body = urlencode(fields, doseq=True).encode()
            headers = {"Content-Type": "application/x-www-form-urlencoded"}
        headers["Referer"] = url
        return self._send(Request(url, data=body, headers=headers, method="POST"))

    def login(self, username: str, password: str) -> None:
        self.cookies.clear()
        self.get("/accounts/login/")
        answer = self.post("/accounts/login/", {"username": username, "password": password})
        assert answer.status == 302, f"{username} could not log in ({answer.status})"


def _multipart(boundary: str, fields: dict, files) -> bytes:
    parts = []
    for name, value in fields.items():
        for item in value if isinstance(value, list | tuple) else [value]:
            parts.append(f'--{boundary}\r\nContent-Disposition: form-data; name="{name}"\r\n\r\n{item}\r\n'.encode())
    for field, filename, content, content_type in files:
        head = (
            f'--{boundary}\r\nContent-Disposition: form-data; name="{field}"; filename="{filename}"\r\n'
            f"Content-Type: {content_type}\r\n\r\n"
        )
        parts.append(head.encode() + content + b"\r\n")
    parts.append(f"--{boundary}--\r\n".encode())
    return b"".join(parts)


def form_values(html: str, name: str) -> list[str]:
    """The values of the inputs called ``name`` (checkboxes of a roster, options of a select)."""
    inputs = re.findall(rf'<input[^>]*name="{re.escape(name)}"[^>]*>', html)
    values = [re.search(r'value="([^"]*)"', tag).group(1) for tag in inputs if 'value="' in tag]
    if values:
        return values
    select = re.search(rf'<select[^>]*name="{re.escape(name)}"[^>]*>(.*?)</select>', html, re.S)
    return re.findall(r'<option value="([^"]+)"', select.group(1)) if select else []
