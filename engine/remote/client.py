"""Talking to a server over HTTP: JSON calls and streamed events through one httpx client, a
busy server retried with backoff, and every failure a writer meets turned into one line that
says what to do, never with the API key in it."""

import json
import os
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager, suppress
from typing import Any
from urllib.parse import urlsplit

import httpx

from common.errors import UserError
from common.text import shown_line
from engine.remote import KEY_VARIABLE, STREAM_LIMIT_VARIABLE

CONNECT_TIMEOUT = 10.0  # seconds to reach the server
READ_TIMEOUT = 300.0  # seconds of silence allowed: a long prompt can take minutes to read
# Seconds one streamed answer may take in all: silence is timed above, but a server that sends
# keep-alives or empty events forever never falls silent. Generous: an hour (settable).
STREAM_LIMIT = 3600.0
RETRIES = 4  # a busy server (429, 503) is asked again this many times
BACKOFF = 1.0  # seconds before the first retry, doubled each time (or the server's Retry-After)
SAID_LIMIT = 240  # characters of what a server said that an error or a notice quotes
SECRET_PIECE = 6  # this many of the API key's characters in a row are hidden like the whole
Retried = Callable[[str], None]  # told, in one line, each time a busy server is waited for


class ServerError(UserError):
    """The server can't be used: one line naming the problem and what to do."""

    def __init__(self, message: str, status: int | None = None):
        super().__init__(message)
        self.status = status  # the HTTP status it answered with, if it answered


class Busy(ServerError):
    """The server is overloaded (429, 503) even after the retries."""


def origin(url: str) -> str:
    """scheme://host:port of a URL, without any user name or password in it."""
    parts = urlsplit(url)
    host = parts.hostname or ""
    host = f"[{host}]" if ":" in host else host
    return f"{parts.scheme}://{host}" + (f":{parts.port}" if parts.port else "")


class ServerClient:
    """One server: its API base (…/v1) and its root, with the API key on every request."""

    def __init__(
        self,
        base_url: str,
        api_key: str | None = None,
        transport: httpx.BaseTransport | None = None,
    ):
        """`transport` replaces the network (tests replay recorded answers through it)."""
        self.base = base_url.rstrip("/")
        self.root = origin(base_url)
        self.has_key = bool(api_key)
        self.secret = api_key or ""
        headers = {"Authorization": f"Bearer {api_key}"} if api_key else {}
        timeout = httpx.Timeout(READ_TIMEOUT, connect=CONNECT_TIMEOUT)
        self.http = httpx.Client(headers=headers, timeout=timeout, transport=transport)

    def url(self, path: str, at_root: bool) -> str:
        return (self.root if at_root else self.base) + path

    def get(self, path: str, *, at_root: bool = False) -> Any:
        return self.call("GET", path, None, at_root)

    def post(self, path: str, body: dict, *, at_root: bool = False) -> Any:
        return self.call("POST", path, body, at_root)

    def call(
        self,
        method: str,
        path: str,
        body: dict | None,
        at_root: bool,
        on_retry: Retried | None = None,
    ) -> Any:
        url = self.url(path, at_root)
        for attempt in range(RETRIES + 1):
            try:
                response = self.http.request(method, url, json=body)
            except httpx.HTTPError as error:
                raise self.failure(error) from None
            if response.status_code in (429, 503) and attempt < RETRIES:
                self.wait(response, attempt, on_retry)
                continue
            self.check(response)
            try:
                return response.json()
            except ValueError:
                raise ServerError(
                    f"{self.root}{path} answered with something that isn't JSON: "
                    "is this an OpenAI-compatible server?"
                ) from None
        raise AssertionError("unreachable")

    @contextmanager
    def stream(
        self,
        path: str,
        body: dict,
        *,
        at_root: bool = False,
        framing: str = "sse",
        on_retry: Retried | None = None,
    ) -> Iterator[tuple[httpx.Response, Iterator[dict]]]:
        """A streamed request: (the response, to close it early; its events as JSON objects).
        framing: "sse" (server-sent events, `data: {…}` lines up to `data: [DONE]`) or
        "ndjson" (one JSON object a line, as Ollama sends). A busy server is asked again,
        each wait told to `on_retry`; a connection lost mid-way is a ServerError."""
        url = self.url(path, at_root)
        for attempt in range(RETRIES + 1):
            try:
                with self.http.stream("POST", url, json=body) as response:
                    if response.status_code in (429, 503) and attempt < RETRIES:
                        response.read()
                        self.wait(response, attempt, on_retry)
                        continue
                    if response.is_error:
                        response.read()
                        self.check(response)
                    lines = self.within_limit(response.iter_lines())
                    framed = sse_events(lines) if framing == "sse" else json_lines(lines)
                    try:
                        yield response, framed
                    except ServerError as error:
                        # Raised while the answer was read (an error the server sent in it, an
                        # event or a piece that makes no sense): quoted fit to show, the key out.
                        raise ServerError(self.said(str(error)), error.status) from None
                    return
            except httpx.HTTPError as error:
                raise self.failure(error) from None

    def within_limit(self, lines: Iterator[str]) -> Iterator[str]:
        """A stream's lines until it has taken longer than the stream limit in all."""
        limit = stream_limit()
        deadline = time.monotonic() + limit
        for line in lines:
            if time.monotonic() > deadline:
                raise ServerError(
                    f"{self.root} kept one answer going for over {limit:.0f} s "
                    f"without finishing it: given up ({STREAM_LIMIT_VARIABLE} "
                    "sets how long to wait)"
                )
            yield line

    def wait(self, response: httpx.Response, attempt: int, on_retry: Retried | None) -> None:
        delay = BACKOFF * 2**attempt
        with suppress(ValueError):
            delay = max(delay, min(float(response.headers.get("retry-after", 0)), 60.0))
        if on_retry is not None:
            on_retry(
                f"the server is busy ({response.status_code}): trying again in "
                f"{delay:.0f} s ({attempt + 1} of {RETRIES})"
            )
        time.sleep(delay)

    def check(self, response: httpx.Response) -> None:
        """A failed response as one line."""
        status = response.status_code
        if not response.is_error:
            return
        said = self.said(server_message(response))
        if status in (401, 403):
            what = "refused the API key" if self.has_key else "needs an API key"
            raise ServerError(
                f"{self.root} {what} ({status}: {said}): set {KEY_VARIABLE}, or "
                "api_key under [server] in config.toml",
                status,
            )
        if status in (429, 503):
            raise Busy(
                f"{self.root} is still busy after {RETRIES} retries ({status}: {said}): "
                "try again later, or ask for fewer branches",
                status,
            )
        raise ServerError(f"{self.root} refused the request ({status}: {said})", status)

    def failure(self, error: httpx.HTTPError) -> ServerError:
        """A failure to reach the server, or a connection lost, as one line."""
        text = self.said(str(error)) or type(error).__name__
        host = urlsplit(self.root).hostname
        if isinstance(error, httpx.ConnectTimeout):
            return ServerError(
                f"{self.root} did not answer within {CONNECT_TIMEOUT:.0f} s: is "
                "the address right, and the server up?"
            )
        if isinstance(error, httpx.ReadTimeout):
            return ServerError(
                f"{self.root} sent nothing for {READ_TIMEOUT:.0f} s: the server may be overloaded"
            )
        if isinstance(error, httpx.ConnectError):
            unknown = ("Name or service not known", "name resolution", "nodename", "getaddrinfo")
            if any(words in text for words in unknown):
                return ServerError(f"{host} is not a known host name: check the URL")
            return ServerError(f"nothing answers at {self.root} ({text}): is the server running?")
        return ServerError(f"the connection to {self.root} failed ({text})")

    def said(self, text: str, limit: int = SAID_LIMIT) -> str:
        """Text from a server or an error, fit to show: the API key taken out of it first, and
        any part of it (a server may echo what it was sent, or only its tail), then one line,
        shown literally, cut to `limit`."""
        return shown_line(without_secret(text, self.secret), limit)

    def close(self) -> None:
        self.http.close()


def without_secret(text: str, secret: str, piece: int = SECRET_PIECE) -> str:
    """`text` with every run of `piece` or more characters of `secret` in a row (as they
    stand in it) replaced by "***": a part of a key narrows the key."""
    if not secret:
        return text
    if len(secret) <= piece:
        return text.replace(secret, "***")
    pieces = {secret[i : i + piece] for i in range(len(secret) - piece + 1)}
    hidden = [False] * len(text)
    for start in range(len(text) - piece + 1):
        if text[start : start + piece] in pieces:
            hidden[start : start + piece] = [True] * piece
    kept, previous = [], False
    for character, gone in zip(text, hidden, strict=True):
        if not gone:
            kept.append(character)
        elif not previous:
            kept.append("***")
        previous = gone
    return "".join(kept)


def stream_limit() -> float:
    """How long one streamed answer may take: STREAM_LIMIT, or the environment's setting."""
    given = os.environ.get(STREAM_LIMIT_VARIABLE)
    if not given:
        return STREAM_LIMIT
    try:
        limit = float(given)
    except ValueError:
        limit = -1.0
    if not 0 < limit < float("inf"):
        raise ServerError(
            f"{STREAM_LIMIT_VARIABLE} should be a number of seconds above 0, "
            f"not {shown_line(given, 40)!r}"
        )
    return limit


def server_message(response: httpx.Response) -> str:
    """What a failed response says: the OpenAI-style error message, or its text (whole: it is
    cut only once the key is out of it)."""
    try:
        data = response.json()
    except ValueError:
        return response.text or response.reason_phrase
    if isinstance(data, dict):
        error = data.get("error", data.get("detail", data.get("message")))
        if isinstance(error, dict):
            error = error.get("message", error)
        if error:
            return str(error)
    return str(data)


def sse_events(lines: Iterator[str]) -> Iterator[dict]:
    """The JSON objects of server-sent events, up to `data: [DONE]`. Comments (`:` pings),
    event names and blank lines are skipped; an error object ends the stream as a
    ServerError."""
    for line in lines:
        if not line.startswith("data:"):
            continue
        payload = line[5:].strip()
        if payload == "[DONE]":
            return
        yield checked_event(payload)


def json_lines(lines: Iterator[str]) -> Iterator[dict]:
    for line in lines:
        if line.strip():
            yield checked_event(line)


def checked_event(payload: str) -> dict:
    try:
        event = json.loads(payload)
    except ValueError:
        raise ServerError(f"the server sent an event that isn't JSON: {payload!r}") from None
    if not isinstance(event, dict):
        raise ServerError(f"the server sent an event that isn't an object: {payload!r}")
    if event.get("error"):
        error = event["error"]
        message = error.get("message", error) if isinstance(error, dict) else error
        raise ServerError(f"the server stopped with an error: {message}")
    return event
