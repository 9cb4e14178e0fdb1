"""A model on a server as a Backend: the same stream of events as a local model.

N branches go out as one request asking for N choices where the server gives choice i the seed
S + i (llama.cpp, vLLM), else as N requests at once, each with its branch's seed; every request
streams in a thread of its own into one queue, and the stream below turns what arrives into
token and finish events with the same stop rule a local model's tokens go through.

Cancelling closes every request's connection at once (a server stops a request whose client
went away). A request that fails before anything arrives fails the whole stream in one line; a
branch cut off mid-way keeps what it wrote and ends with reason "error", said in one notice.
"""

import functools
import itertools
import math
import queue
import re
import socket
import threading
from collections.abc import Callable, Iterator, Sequence
from contextlib import suppress
from typing import Any

from engine import events
from engine.branches import DecodingBranch, take_token
from engine.chat_template import StoryFrame, TemplateError, frame_of, frame_or_raise
from engine.events import Event, NoticeEvent
from engine.reading import UnknownGenre
from engine.remote.client import ServerClient, ServerError
from engine.remote.dialects import VLLM, LlamaCpp, Piece, checked_piece
from engine.remote.servers import (
    NoChatTemplate,
    ServerTokens,
    TextPieces,
    detect,
    split_address,
)
from engine.request import GenerationRequest
from engine.settings import SamplingSettings
from engine.stopping import StopRule
from engine.window import fit_window

TOKEN_NAME = re.compile(r"<[^<>\s]+>")  # a special token's name, as templates spell them
POLL = 0.05  # seconds between looks at the cancel flag while waiting for a server
SEED_RANGE = 2**31  # seeds stay below this, with room for S + i (llama.cpp's are 32-bit)


def literal_pieces(text: str, is_token_name: Callable[[str], bool]) -> list[str]:
    """The text cut after the "<" of each special token's name in it."""
    cuts = [m.start() + 1 for m in TOKEN_NAME.finditer(text) if is_token_name(m.group())]
    bounds = [0, *cuts, len(text)]
    return [text[start:end] for start, end in itertools.pairwise(bounds) if start < end]


class ServerRequest:
    """One streaming request, read in a thread of its own into the stream's queue."""

    def __init__(
        self, backend: "ServerBackend", first: int, count: int, body: dict, inbox: queue.Queue
    ):
        self.backend, self.first, self.count, self.body, self.inbox = (
            backend,
            first,
            count,
            body,
            inbox,
        )
        self.closed = threading.Event()
        self.received = False  # something arrived: a failure now cuts branches off
        self.response: Any = None
        self.thread = threading.Thread(target=self.run, name="server-request", daemon=True)

    @property
    def branches(self) -> range:
        """The stream's branches this request writes."""
        return range(self.first, self.first + self.count)

    def run(self) -> None:
        dialect = self.backend.dialect
        try:
            with self.backend.client.stream(
                dialect.path,
                self.body,
                at_root=dialect.at_root,
                framing=dialect.framing,
                on_retry=lambda line: self.inbox.put(("notice", self, line)),
            ) as (response, answers):
                self.response = response
                if self.closed.is_set():
                    return
                for answer in answers:
                    for piece in dialect.pieces(answer):
                        self.inbox.put(("piece", self, checked_piece(piece, self.count)))
            self.inbox.put(("ended", self, None))
        except Exception as error:  # handed to the stream, which decides what it means
            self.inbox.put(
                ("ended", self, None) if self.closed.is_set() else ("failed", self, error)
            )

    def close(self) -> None:
        """Stop reading and drop the connection, even while a read waits: the server sees its
        client gone and stops generating."""
        self.closed.set()
        stream = self.response.extensions.get("network_stream") if self.response else None
        connection = stream.get_extra_info("socket") if stream is not None else None
        if connection is not None:
            with suppress(OSError):
                connection.shutdown(socket.SHUT_RDWR)


class ServerBackend:
    def __init__(
        self,
        address: str,
        *,
        api_key: str | None = None,
        progress: Callable[[str], None] | None = None,
        transport: Any = None,
    ):
        report = progress or (lambda stage: None)
        base, wanted = split_address(address)
        report("connecting")
        self.client = ServerClient(base, api_key, transport)
        try:
            served = detect(self.client, wanted)
        except BaseException:
            self.client.close()  # a refused address leaves no connection open behind it
            raise
        self.dialect, self.model, self.window = served.dialect, served.model, served.window
        self.counter = ServerTokens(self.client, served) if self.dialect.gives_ids else TextPieces()
        # What every node it writes keeps: the server, and the model it serves.
        where = self.client.root if self.dialect.at_root else self.client.base
        self.name = f"{where}#{self.model}"
        self.device = "server"
        self.serving_path = self.dialect.kind
        self.warned: set[str] = set()  # each setting it can't honour is said once
        report("ready")

    # ------------------------------------------------------------------ what a backend says

    @functools.lru_cache(maxsize=256)  # noqa: B019 (one backend lives as long as the app)
    def token_ids(self, text: str) -> tuple[int, ...]:
        if not isinstance(self.dialect, VLLM):
            return tuple(self.counter.encode(text))
        # vLLM reads a special token's name in any text as that token: a story that spells one
        # (`<|im_end|>`) would end the turn. Cut each such name after its "<", so it is text.
        return tuple(
            t
            for piece in literal_pieces(text, self.is_token_name)
            for t in self.counter.encode(piece)
        )

    def is_token_name(self, name: str) -> bool:
        return len(self.frame_ids(name)) == 1

    def tokenize(self, text: str) -> list[int]:
        return list(self.token_ids(text))

    def cached_prefix(self, ids: Sequence[int]) -> None:
        return None  # what a server keeps is its own business

    def token_text(self, token_id: int) -> str:
        return self.counter.decode([token_id])

    @functools.lru_cache(maxsize=64)  # noqa: B019 (the same few pieces every turn)
    def frame_ids(self, text: str) -> tuple[int, ...]:
        if isinstance(self.counter, ServerTokens) and self.renders_templates:
            return tuple(self.counter.encode(text, parse_special=True))
        return self.token_ids(text)

    def tokenize_frame(self, text: str) -> list[int]:
        return list(self.frame_ids(text))

    @property
    def renders_templates(self) -> bool:
        """llama-server and vLLM render their model's chat template themselves."""
        return isinstance(self.dialect, LlamaCpp | VLLM)

    @functools.cache  # noqa: B019 (asked once per connection, which lives with the app)
    def frame_or_error(self) -> StoryFrame | TemplateError | None:
        if not self.renders_templates or not isinstance(self.counter, ServerTokens):
            return None  # the story goes as text, and the server reads it raw

        def render(messages: list[dict]) -> str:
            try:
                return self.counter.render(messages)
            except ServerError as error:
                raise TemplateError(f"{error}", refused=error.status in (400, 500)) from None

        try:
            frame = frame_of(render)
        except NoChatTemplate:
            return None
        except TemplateError as error:
            return error
        return frame if self.has_tokens_of(frame) else None

    def has_tokens_of(self, frame: StoryFrame) -> bool:
        """Whether each token the frame names (`<|im_start|>`) is one token of the model's own:
        a model without a template of its own gets llama-server's stand-in, whose names its
        vocabulary lacks, and reads raw."""
        names = set(TOKEN_NAME.findall(frame.opening + frame.after_system + frame.after_user))
        return all(len(self.tokenize_frame(name)) == 1 for name in names)

    def story_frame(self) -> StoryFrame | None:
        return frame_or_raise(self.frame_or_error())

    def generation_defaults(self) -> dict[str, Any]:
        return {}  # every setting is sent: a server's own defaults differ from one to another

    def genres(self) -> list[str]:
        return []

    def genre_prefix(self, genre: str | None) -> list[int]:
        if genre:
            raise UnknownGenre(f"{self.name} has no genre tokens Taletree knows")
        return []

    def branch_seeds(self, seed: int, count: int) -> list[int]:
        """Consecutive seeds: choice i of one request with seed S is what seed S + i gives."""
        base = seed % SEED_RANGE
        return [base + i for i in range(count)]

    # ------------------------------------------------------------------------- the stream

    def answer_logprobs(
        self, prompts: Sequence[Sequence[int]], answers: Sequence[int]
    ) -> list[list[float]]:
        """log p(answer | prompt) for each answer token after each prompt, as far as the
        server says: one greedy token asked for, and its top alternatives read. An answer
        below them all counts as half as likely as the least of them."""
        return [self.answers_after(ids, answers) for ids in prompts]

    def answers_after(self, ids: Sequence[int], answers: Sequence[int]) -> list[float]:
        settings = SamplingSettings(
            max_new_tokens=1, temperature=0.0, stop_mode="tokens", top_alternatives=20
        )
        answered = self.stream(GenerationRequest(ids, 1, settings))
        tops = [e.top for e in answered if isinstance(e, events.TokenEvent)]
        if not tops or not tops[0]:
            raise ServerError(
                f"{self.name} gives no token probabilities: its answer can't be read (use "
                "the likely scorer with this server)"
            )
        top = dict(tops[0])
        floor = min(top.values()) / 2
        return [math.log(top.get(answer, floor)) for answer in answers]

    def close(self) -> None:
        """Drop the connections kept open to the server."""
        self.client.close()

    def stream(
        self, request: GenerationRequest, cancel: threading.Event | None = None
    ) -> Iterator[Event]:
        settings = request.settings
        seeds = request.branch_seeds(self.branch_seeds, 31)
        ids = fit_window(list(request.ids), self.window, settings.max_new_tokens, request.keep)
        prompt = ids if self.dialect.gives_ids else self.counter.decode(ids)
        yield from self.warnings(settings)
        states = [DecodingBranch(i, s, StopRule(settings)) for i, s in enumerate(seeds)]
        inbox: queue.Queue = queue.Queue()
        requests: list[ServerRequest] = []

        def send(first: int, count: int) -> None:
            body = self.dialect.body(self.model, prompt, settings, seeds[first], count)
            sent = ServerRequest(self, first, count, body, inbox)
            requests.append(sent)
            sent.thread.start()

        for first, count in self.requests_for(seeds):
            send(first, count)
        try:
            while not all(branch.finished for branch in states):
                if cancel is not None and cancel.is_set():
                    for branch in states:
                        if not branch.finished:
                            yield branch.finish(events.CANCELLED, branch.pending())
                    return
                try:
                    kind, sent, item = inbox.get(timeout=POLL)
                except queue.Empty:
                    continue
                if kind == "notice":
                    yield NoticeEvent(item)
                elif kind == "piece":
                    sent.received = True
                    branch = states[sent.first + item.index]
                    if not branch.finished:
                        yield from self.take(branch, item, settings)
                    if all(states[i].finished for i in sent.branches):
                        sent.close()  # nothing more is wanted from it
                else:
                    yield from self.ended(sent, item, states, requests, send)
        finally:
            for sent in requests:
                sent.close()

    def requests_for(self, seeds: list[int]) -> list[tuple[int, int]]:
        """(first branch, how many) of each request: runs of consecutive seeds share one."""
        groups, first = [], 0
        while first < len(seeds):
            count = 1
            while (
                first + count < len(seeds)
                and count < self.dialect.most_choices
                and seeds[first + count] == seeds[first] + count
            ):
                count += 1
            groups.append((first, count))
            first += count
        return groups

    def take(
        self, branch: DecodingBranch, piece: Piece, settings: SamplingSettings
    ) -> Iterator[Event]:
        if piece.text or piece.token_id != events.NO_TOKEN:
            # (vLLM adds the chosen token to the alternatives when it isn't among them.)
            top = piece.top[: settings.top_alternatives]
            yield from take_token(branch, piece.text, piece.token_id, piece.logprob, top, settings)
        if piece.finish is not None and not branch.finished:
            yield branch.finish(piece.finish, branch.pending())

    def ended(
        self,
        request: ServerRequest,
        error: Exception | None,
        states: list[DecodingBranch],
        requests: list[ServerRequest],
        send: Callable[[int, int], None],
    ) -> Iterator[Event]:
        """A request is over: it ended, or failed. Its branches still open are cut off."""
        open_branches = [states[i] for i in request.branches if not states[i].finished]
        if error is not None and not request.received:
            if request.count > 1 and getattr(error, "status", None) == 400:
                # Refused as one request (more choices than the server allows at once):
                # each branch on its own instead.
                for i in request.branches:
                    send(i, 1)
                return
            if not any(r.received for r in requests):
                raise (
                    error
                    if isinstance(error, ServerError)
                    else ServerError(f"{self.client.root} failed: {error}")
                )
        if not open_branches:
            return
        numbers = ", ".join(str(b.index + 1) for b in open_branches)
        why = str(error) if error is not None else "the server ended it without saying why"
        for branch in open_branches:
            yield branch.finish(events.ERROR, branch.pending())
        yield NoticeEvent(f"branch {numbers} cut off, keeping what it wrote: {why}")

    def warnings(self, settings: SamplingSettings) -> Iterator[NoticeEvent]:
        new = [name for name in self.dialect.unhonoured(settings) if name not in self.warned]
        self.warned.update(new)
        if new:
            yield NoticeEvent(self.dialect.warning(new))
