"""`taletree generate`: samples from a model, like gpt-2-simple's generate.

N samples are made B at a time (B branches of one request share the prompt's cache). On a
terminal, samples stream as they are written: the first of a batch live, the others as soon as
their turn comes. Each sample's seed comes from --seed and its number alone, so the same seed
gives the same samples whatever the batch size.

Several models (--model A --model B, up to four) share the samples: the first model writes the
first share, and so on; a batch that spans two models has both write at once, side by side
(engine/together.py). Each sample names its model (in JSON, and above its text).
"""

import argparse
import itertools
import json
import secrets
import sys
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any, TextIO

from common.errors import EXIT_USER_ERROR, UserError
from common.text import NAME_LIMIT, shown_line

SEPARATOR = "=" * 20
SAMPLE_TOKENS = 200  # the length of a sample, unless --max-new-tokens or the model says otherwise
MAX_SAMPLES = 10_000  # -n: a run that ends in hours, not months
MAX_BATCH = 64  # --batch-size: each sample of a batch holds its own cache
# --prompt-file: a model reads a few thousand tokens of it at most; 16 MiB is a long novel, and
# a bound keeps /dev/zero or a runaway file from filling memory.
MAX_PROMPT_BYTES = 16 * 2**20


def sampling_of(args: argparse.Namespace, model_defaults: dict[str, Any]):
    from engine.settings import SETTINGS, sampling_settings

    chosen = {s.name: getattr(args, s.name, None) for s in SETTINGS}
    stop = {"stop_strings": (args.truncate,)} if args.truncate else {}
    return sampling_settings(chosen, {"max_new_tokens": SAMPLE_TOKENS, **model_defaults}, **stop)


def prompt_of(args: argparse.Namespace) -> str:
    return read_prompt_file(args.prompt_file) if args.prompt_file else args.prompt or ""


def read_prompt_file(name: str) -> str:
    """At most MAX_PROMPT_BYTES of UTF-8 text, from a file or a pipe (`<(...)`, /dev/stdin).
    It is opened without waiting, so a FIFO that nothing writes to is said at once instead of
    hanging; a pipe is then read as it is written."""
    import fcntl
    import os
    import stat

    try:
        fd = os.open(name, os.O_RDONLY | os.O_NONBLOCK)
        try:
            fcntl.fcntl(fd, fcntl.F_SETFL, fcntl.fcntl(fd, fcntl.F_GETFL) & ~os.O_NONBLOCK)
            with os.fdopen(fd, "rb", closefd=False) as file:
                data = file.read(MAX_PROMPT_BYTES + 1)
            regular = stat.S_ISREG(os.fstat(fd).st_mode)
        finally:
            os.close(fd)
    except OSError as error:
        raise UserError(f"{name} can't be read ({error.strerror}): pass a text file") from error
    if len(data) > MAX_PROMPT_BYTES:
        raise UserError(
            f"{name} is over {MAX_PROMPT_BYTES // 2**20} MiB: the model reads only the end of a "
            "story, so pass the last part of it"
        )
    if not data and not regular:
        raise UserError(f"{name} gave no text (nothing writes to it?): pass a text file")
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError as error:
        raise UserError(
            f"{name} isn't UTF-8 text (byte {error.start:,} is not): save it as UTF-8"
        ) from error


class Printer:
    """Shows samples in order while their branches grow side by side."""

    def __init__(self, out: TextIO, live: bool, include: str, as_json: bool, safe):
        self.out, self.live, self.include, self.as_json, self.safe = (
            out,
            live,
            include,
            as_json,
            safe,
        )
        self.number = 0  # samples printed so far
        self.mid_line = False  # whether the terminal's cursor is after a sample's text

    def start_batch(self, models: list[str], labelled: bool = False) -> None:
        """A batch of samples, one per model named (in order), each sample headed by its
        model's name when `labelled` (several models write)."""
        self.models, self.labelled = models, labelled
        self.buffers = [""] * len(models)
        self.done: dict[int, Any] = {}
        self.showing = 0  # the branch being shown live
        self.shown = 0  # characters of it already written
        if self.live and not self.as_json:
            self.begin_sample()

    def begin_sample(self) -> None:
        if self.number + self.showing > 0:
            self.out.write(f"\n{SEPARATOR}\n")
        self.write_live(self.label(self.showing) + self.safe(self.include))

    def label(self, branch: int) -> str:
        return f"[{shown_line(self.models[branch], NAME_LIMIT)}]\n" if self.labelled else ""

    def write_live(self, text: str) -> None:
        if text:
            self.out.write(text)
            self.mid_line = not text.endswith("\n")

    def interrupt(self) -> None:
        """Before a notice on stderr: a sample's line growing on the terminal is ended first,
        so the notice gets a line of its own (the sample goes on below it)."""
        if self.live and not self.as_json and self.mid_line:
            self.out.write("\n")
            self.out.flush()
            self.mid_line = False

    def delta(self, branch: int, text: str) -> None:
        self.buffers[branch] += text
        if self.live and not self.as_json and branch == self.showing:
            self.flush_live()

    def flush_live(self) -> None:
        text = self.buffers[self.showing]
        self.write_live(self.safe(text[self.shown :]))
        self.out.flush()
        self.shown = len(text)

    def finish(self, event: Any) -> None:
        self.done[event.branch] = event
        self.buffers[event.branch] = event.text
        while self.showing in self.done:
            self.emit(self.done[self.showing])
            self.showing += 1
            self.shown = 0
            if self.live and not self.as_json and self.showing < len(self.buffers):
                self.begin_sample()
                self.flush_live()

    def emit(self, event: Any) -> None:
        number = self.number + event.branch
        if self.as_json:
            record = {
                "sample": number,
                "text": self.include + event.text,
                "tokens": len(event.token_ids),
                "finish_reason": event.reason,
                "seed": event.seed,
                "model": self.models[event.branch],
            }
            self.out.write(json.dumps(record, ensure_ascii=False) + "\n")
        elif self.live:
            self.flush_live()
        else:
            if number > 0:
                self.out.write(f"\n{SEPARATOR}\n")
            self.out.write(self.label(event.branch) + self.include + event.text)
        self.out.flush()

    def end_batch(self) -> None:
        self.number += len(self.buffers)


def progress_line(done: int, total: int, tokens: int, started: float) -> str:
    elapsed = max(time.perf_counter() - started, 1e-9)
    width = 24
    filled = int(width * done / total)
    rate = tokens / elapsed
    left = elapsed / done * (total - done) if done else 0.0
    return (
        f"\r[{'#' * filled}{'.' * (width - filled)}] {done}/{total} samples  "
        f"{rate:.1f} tok/s  {left:.0f}s left "
    )


def describe(backend: Any, context_limit: int, prompt_tokens: int, reading: str) -> str:
    """How the model runs, for --verbose."""
    reads = (
        f"a window of {backend.window:,} tokens"
        if backend.window
        else f"no window of its own, so it reads up to {context_limit:,} tokens (--context-limit)"
    )
    name = shown_line(backend.name, NAME_LIMIT)
    return (
        f"{name}: {backend.device}, {backend.serving_path}, with {reads}; the prompt is "
        f"{prompt_tokens:,} tokens, read as {reading}"
    )


@dataclass
class SampleWriter:
    """One model of the run, ready to write: what it reads and how it samples."""

    backend: Any
    settings: Any
    ids: list[int]
    keep: int
    seeds: list[int]  # sample s's seed, should this model write it


def model_names(args: argparse.Namespace) -> list[str]:
    """The models named with --model (each once, at most MAX_MODELS), or the default."""
    from engine.named_models import chosen_name
    from engine.settings import MAX_MODELS

    given = args.model if isinstance(args.model, list) else [args.model or ""]
    names = [chosen_name(name) for name in given]
    if len(names) > MAX_MODELS:
        raise UserError(f"{len(names)} models named: at most {MAX_MODELS} write side by side")
    twice = next((name for i, name in enumerate(names) if name in names[:i]), None)
    if twice is not None:
        raise UserError(f"--model {shown_line(twice)} is named twice: name each model once")
    if args.n < len(names):
        raise UserError(f"-n {args.n} is fewer samples than the {len(names)} models: ask for more")
    return names


def owners(samples: int, models: int) -> list[int]:
    """Which model writes each sample: the first model the first share, and so on; the first
    models take one more where the samples don't divide evenly."""
    shares = [samples // models + (m < samples % models) for m in range(models)]
    return [m for m, share in enumerate(shares) for _ in range(share)]


def cmd_generate(args: argparse.Namespace) -> int:
    from common.text import safe_prose
    from engine.events import ERROR, FinishEvent, NoticeEvent
    from engine.request import GenerationRequest
    from engine.settings import SETTING
    from engine.together import Part, stream_together

    names = model_names(args)
    prompt = prompt_of(args)
    if args.to_file is not None:  # said now, not after the samples are made
        from story.files import writable

        writable(Path(args.to_file), replace=True)
    context_limit = args.context_limit or SETTING["context_limit"].default
    seed = args.seed if args.seed is not None else secrets.randbits(63)
    writers = [sample_writer(args, name, prompt, context_limit, seed) for name in names]
    owner = owners(args.n, len(writers))

    to_file = args.to_file is not None
    out: TextIO = sys.stdout
    if to_file:
        import io

        out = io.StringIO()
    live = not to_file and sys.stdout.isatty()
    safe = safe_prose if live else (lambda text: text)
    include = prompt if args.include_prefix else ""
    labelled = len(writers) > 1
    printer = Printer(out, live=live, include=include, as_json=args.json, safe=safe)
    started, tokens, done, cut_off = time.perf_counter(), 0, 0, 0
    for first in range(0, args.n, args.batch_size):
        batch = range(first, min(first + args.batch_size, args.n))
        parts = []
        for model, samples in itertools.groupby(batch, key=owner.__getitem__):
            writer, numbers = writers[model], list(samples)
            seeds = [writer.seeds[number] for number in numbers]
            request = GenerationRequest(
                writer.ids, len(numbers), writer.settings, seeds=seeds, keep=writer.keep
            )
            parts.append(Part(writer.backend, request))
        models = [part.backend.name for part in parts for _ in range(part.request.branches)]
        printer.start_batch(models, labelled)
        for event in stream_together(parts):
            if isinstance(event, NoticeEvent):
                printer.interrupt()
                sys.stderr.write(f"taletree: {shown_line(event.text)}\n")
            elif isinstance(event, FinishEvent):
                cut_off += event.reason == ERROR
                if event.delta:
                    printer.delta(event.branch, event.delta)
                printer.finish(event)
                tokens += len(event.token_ids)
                done += 1
                if to_file:
                    sys.stderr.write(progress_line(done, args.n, tokens, started))
                    sys.stderr.flush()
            else:
                printer.delta(event.branch, event.delta)
        printer.end_batch()
    if not args.json and not to_file:
        out.write("\n")
    if to_file:
        from story.files import write_atomically

        text = out.getvalue()  # type: ignore[attr-defined]
        write_atomically(Path(args.to_file), text if text.endswith("\n") else text + "\n")
        sys.stderr.write(f"\nwrote {args.n} samples to {args.to_file}\n")
    return EXIT_USER_ERROR if cut_off else 0


def sample_writer(
    args: argparse.Namespace, name: str, prompt: str, context_limit: int, seed: int
) -> SampleWriter:
    """A model loaded, with the prompt read its way and its own seeds for every sample."""
    from assets import DEMO_MODEL
    from engine.named_models import DEMO, shown_name
    from engine.reading import prompt_ids, reading_for
    from engine.remote import is_server_address
    from engine.smollm2 import INSTALL
    from tui.core.config_file import read_config
    from tui.core.model_holder import LoadOptions, ModelRequest, local_loader

    if name == DEMO and not DEMO_MODEL.exists():
        raise UserError(
            "the bundled demo model isn't built yet and the default model isn't installed: "
            f"pass --model (a model folder, a GGUF file or a cached hub id), `{INSTALL}`, or "
            "build the demo model with `make demo-model`"
        )
    options = LoadOptions(
        dtype=args.dtype,
        allow_pickle=args.allow_pickle,
        trust_remote_code=args.trust_remote_code,
        api_key=read_config().server_key() if is_server_address(name) else None,
    )
    request = ModelRequest(name, shown_name(name), args.device or "auto", context_limit)
    backend = local_loader(options)(request)
    settings = sampling_of(args, backend.generation_defaults())
    reading = reading_for(backend, args.prompt_mode or "auto")
    ids, keep = prompt_ids(backend, reading, prompt, args.genre)
    if backend.window is None:  # the model reads any length: --context-limit bounds it
        from engine.window import fit_window

        ids = fit_window(ids, context_limit, settings.max_new_tokens, keep=keep)
    if args.verbose:
        sys.stderr.write(describe(backend, context_limit, len(ids), reading.shown) + "\n")
    return SampleWriter(backend, settings, ids, keep, backend.branch_seeds(seed, args.n))
