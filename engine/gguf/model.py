"""A GGUF model on llama.cpp, as one more model kind under the one generate loop.

The story lives in sequence 0 of llama.cpp's KV cache between requests: a new request keeps the
longest common prefix and decodes only what changed. N branches are sequences 1..N; copying
sequence 0 into them shares the story's cells (llama.cpp's sequence copy tags the same cells
with more sequence ids, it does not duplicate them), and each step is one `llama_decode` of a
batch holding each branch's token in its own sequence. The branches' cells are dropped when the
generation ends. The loop gets each branch's logits back and samples them itself, so seeds,
stop rules, penalties and token records behave as they do for every other model kind.

The cache is allocated for what the story needs, not the whole window, and grows (by
doubling, which rebuilds it once) when a story or a request outgrows it.
"""

import contextlib
import ctypes
import os
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import torch

from common.errors import UserError
from engine.gguf.binding import LOG, llama
from engine.gguf.vocab import VocabTokenizer

BATCH = 512  # tokens per llama_decode while prefilling
STORY = 0  # the story's sequence; branches are 1..N, and the scratch sequence comes after them
MIN_CELLS = 512
SEQUENCES = 10  # made room for at first: the story, 8 branches and a scratch sequence
KV_BYTES = 2  # llama.cpp's cache holds keys and values as f16


class GGUFError(UserError):
    """A GGUF file that can't be opened or served; the message says why and what to do."""


@dataclass(frozen=True)
class Placement:
    gpu_layers: int  # layers offloaded to a GPU (0: all on the CPU)
    threads: int
    shown: str  # where it runs, as the writer sees it


def physical_cores() -> int:
    """Cores this process may use, counting each physical core once (llama.cpp gains nothing
    from a core's second hardware thread)."""
    usable = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count()
    try:
        info = Path("/proc/cpuinfo").read_text()
    except OSError:
        return usable or 1
    cores, physical = set(), "0"
    for line in info.splitlines():
        key, _, value = line.partition(":")
        if key.strip() == "physical id":
            physical = value.strip()
        elif key.strip() == "core id":
            cores.add((physical, value.strip()))
    return max(1, min(usable or 1, len(cores) or usable or 1))


def placement(device: str | None) -> Placement:
    """Every layer on the GPU when llama.cpp was built with a GPU backend (unless the CPU is
    asked for), else the CPU with its physical cores."""
    lib = llama()
    if device not in (None, "auto", "cpu") and not device.startswith(("cuda", "gpu", "mps")):
        raise GGUFError(f"unknown device {device!r}: use cpu, or a GPU (cuda, mps)")
    offload = lib.llama_supports_gpu_offload()
    if device not in (None, "auto", "cpu") and not offload:
        raise GGUFError(
            f"a GPU ({device}) was asked for, but this llama.cpp build runs only on the CPU: "
            "use --device cpu, or build the binding with a GPU backend"
        )
    threads = physical_cores()
    if offload and device != "cpu":
        return Placement(gpu_layers=999, threads=threads, shown="gpu")
    return Placement(gpu_layers=0, threads=threads, shown="cpu")


def free_memory() -> int | None:
    """Bytes the system can still give this process (MemAvailable), if it says."""
    try:
        for line in Path("/proc/meminfo").read_text().splitlines():
            if line.startswith("MemAvailable:"):
                return int(line.split()[1]) * 1024
    except (OSError, ValueError, IndexError):
        pass
    return None


def checked_file(path: Path) -> None:
    if not path.is_file():
        raise GGUFError(f"{path} is not a file: pass a .gguf model file")
    with path.open("rb") as file:
        magic = file.read(4)
    if magic != b"GGUF":
        raise GGUFError(
            f"{path} is not a GGUF file (it doesn't start with GGUF's signature): pass a model "
            "file from llama.cpp, or convert a model folder with `taletree convert`"
        )


def load_gguf(
    path: Path, *, device: str | None = None, context_limit: int | None = None, report=None
) -> "LlamaCppModel":
    """Open a GGUF file on llama.cpp; every problem with it is one line (GGUFError)."""
    report = report or (lambda stage: None)
    checked_file(path)
    lib = llama()
    where = placement(device)
    report("weights")
    params = lib.llama_model_default_params()
    params.n_gpu_layers = where.gpu_layers
    mark = LOG.mark()
    model = lib.llama_model_load_from_file(str(path).encode(), params)
    if not model:
        why = LOG.reason(mark, "it may be cut short, or of an architecture it doesn't know")
        raise GGUFError(f"{path.name} can't be loaded by llama.cpp: {why}")
    report("tokenizer")
    try:
        loaded = LlamaCppModel(model, path, where, context_limit)
    except BaseException:
        lib.llama_model_free(model)
        raise
    report("ready")
    return loaded


class LlamaCppModel:
    """The engine's interface over llama.cpp: prefill, then one decode for all branches."""

    def __init__(self, model: Any, path: Path, where: Placement, context_limit: int | None):
        self.lib = lib = llama()
        self.model = model
        self.path = path
        self.placement = where
        self.tokenizer = VocabTokenizer(lib.llama_model_get_vocab(model))
        template = lib.llama_model_chat_template(model, None)
        self.tokenizer.chat_template = template.decode("utf-8", "replace") if template else None
        self.device = torch.device("cpu")  # where the loop samples: the logits come back here
        self.vocab_size = len(self.tokenizer)
        self.eos_ids = self.tokenizer.end_ids
        self.quantization = self.describe().split(" ", 2)[-1].removeprefix("all ")
        self.serving_path = f"llama.cpp, {self.quantization}"
        # The file's context length, or the writer's limit where lower (a file that gives
        # none reads what the limit allows, like any model without a window).
        limits = [n for n in (lib.llama_model_n_ctx_train(model), context_limit) if n and n > 0]
        self.window: int | None = min(limits) if limits else None
        self.check_memory()
        self.suggested: dict[str, Any] = {}  # sampling settings chosen for it, if any
        self.context: Any = None
        self.cells = 0  # the cache's size, in tokens
        self.sequences = 0  # how many sequences it holds
        self.batch: Any = None
        self.ids: list[int] = []  # the story sequence 0 holds
        self.last_logits: torch.Tensor | None = None
        self.branches = 0
        self.position = 0  # where the branches' next tokens go

    def describe(self) -> str:
        text = ctypes.create_string_buffer(256)
        self.lib.llama_model_desc(self.model, text, len(text))
        return text.value.decode("utf-8", errors="replace")

    def generation_defaults(self) -> dict[str, Any]:
        return self.suggested

    def token_bytes(self) -> int:
        """Cache bytes per token: keys and values for every layer."""
        lib, model = self.lib, self.model
        heads = max(1, lib.llama_model_n_head(model))
        head_size = lib.llama_model_n_embd(model) // heads
        return (
            2
            * lib.llama_model_n_layer(model)
            * lib.llama_model_n_head_kv(model)
            * head_size
            * KV_BYTES
        )

    def check_memory(self) -> None:
        """A window whose cache can't fit in the memory left is refused now, saying what fits,
        rather than failing once the story grows into it."""
        free = free_memory()
        if (
            self.window is None
            or self.placement.gpu_layers
            or free is None
            or self.lib.llama_model_is_recurrent(self.model)
        ):
            return
        needed = self.window * self.token_bytes()
        if needed > free:
            fits = free // self.token_bytes()
            raise GGUFError(
                f"{self.path.name}'s window of {self.window:,} tokens needs {needed / 2**30:.1f} "
                f"GiB for its cache and {free / 2**30:.1f} GiB is free: at most {fits:,} tokens "
                f"fit, so set the context limit lower (--context-limit {fits // 2})"
            )

    # ------------------------------------------------------------------------ the cache

    def ensure_room(self, cells: int, sequences: int) -> None:
        """A cache of at least `cells` tokens over `sequences` sequences; rebuilding one
        forgets the story (the next prefill decodes it again)."""
        if self.context is not None and cells <= self.cells and sequences <= self.sequences:
            return
        lib = self.lib
        self.close_context()
        params = lib.llama_context_default_params()
        params.n_ctx = max(MIN_CELLS, cells, 2 * self.cells)
        params.n_batch = params.n_ubatch = BATCH
        params.n_seq_max = max(sequences, self.sequences)
        params.kv_unified = True  # every sequence draws on one pool of cells: shared story
        params.n_threads = params.n_threads_batch = self.placement.threads
        params.no_perf = True
        mark = LOG.mark()
        context = lib.llama_init_from_model(self.model, params)
        if not context:
            why = LOG.reason(mark, "not enough memory")
            raise GGUFError(
                f"llama.cpp can't make a cache of {params.n_ctx:,} tokens for {self.path.name} "
                f"({why}): set the context limit lower"
            )
        self.context, self.cells, self.sequences = context, params.n_ctx, params.n_seq_max
        self.batch = lib.llama_batch_init(BATCH, 0, 1)
        self.ids, self.last_logits = [], None

    def close_context(self) -> None:
        if self.context is not None:
            self.lib.llama_batch_free(self.batch)
            self.lib.llama_free(self.context)
            self.context = self.batch = None

    def close(self) -> None:
        self.close_context()
        if self.model is not None:
            self.lib.llama_model_free(self.model)
            self.model = None

    def __del__(self) -> None:
        with contextlib.suppress(Exception):  # at exit the binding may already be gone
            self.close()

    @property
    def memory(self) -> Any:
        return self.lib.llama_get_memory(self.context)

    def run(self, tokens: Sequence[tuple[int, int, int, bool]]) -> int:
        """One llama_decode of (token, position, sequence, wants logits) entries; the number
        of logit rows it made."""
        batch = self.batch
        for i, (token, position, sequence, wanted) in enumerate(tokens):
            batch.token[i] = token
            batch.pos[i] = position
            batch.n_seq_id[i] = 1
            batch.seq_id[i][0] = sequence
            batch.logits[i] = wanted
        batch.n_tokens = len(tokens)
        mark = LOG.mark()
        status = self.lib.llama_decode(self.context, batch)
        if status != 0:
            why = LOG.reason(mark, f"status {status}")
            raise RuntimeError(f"llama.cpp could not decode a batch ({why})")
        return sum(wanted for *_, wanted in tokens)

    def logits(self, rows: int) -> torch.Tensor:
        """The last decode's logit rows, copied out of llama.cpp into a tensor [rows, vocab]."""
        pointer = self.lib.llama_get_logits(self.context)
        floats = (ctypes.c_float * (rows * self.vocab_size)).from_address(
            ctypes.addressof(pointer.contents)
        )
        return torch.frombuffer(floats, dtype=torch.float32).view(rows, self.vocab_size).clone()

    def feed(self, ids: Sequence[int], start: int, sequence: int) -> torch.Tensor:
        """Decode `ids` into `sequence` from position `start`, in batches; the last token's
        logits."""
        for begin in range(0, len(ids), BATCH):
            chunk = ids[begin : begin + BATCH]
            last = begin + len(chunk) == len(ids)
            entries = [
                (token, start + begin + i, sequence, last and i == len(chunk) - 1)
                for i, token in enumerate(chunk)
            ]
            self.run(entries)
        return self.logits(1)[0]

    # ------------------------------------------------------------------------ the loop's side

    def cached_prefix(self, ids: Sequence[int]) -> int:
        """How many of these tokens sequence 0 holds already: a prefill reads the rest."""
        return common_prefix(self.ids, ids)

    def prefill(self, ids: Sequence[int]) -> torch.Tensor:
        ids = list(ids)
        if not ids:
            raise ValueError("the context is empty: give at least one token")
        self.ensure_room(len(ids), SEQUENCES)
        if ids == self.ids and self.last_logits is not None:
            return self.last_logits
        keep = common_prefix(self.ids, ids)
        keep = min(keep, len(ids) - 1)  # the last token is decoded again for its logits
        if not self.lib.llama_memory_seq_rm(self.memory, STORY, keep, -1):
            self.lib.llama_memory_seq_rm(self.memory, STORY, -1, -1)  # (a recurrent model)
            keep = 0
        self.ids = []
        self.last_logits = self.feed(ids[keep:], keep, STORY)
        self.ids = ids
        return self.last_logits

    def start_branches(self, count: int, max_new_tokens: int) -> None:
        needed = len(self.ids) + count * max_new_tokens
        if needed > self.cells or count + 2 > self.sequences:
            story = self.ids
            self.ensure_room(needed, count + 2)  # the branches, the story and a scratch one
            self.prefill(story)
        for branch in range(1, count + 1):
            self.lib.llama_memory_seq_cp(self.memory, STORY, branch, -1, -1)
        self.branches, self.position = count, len(self.ids)

    def decode(self, tokens: torch.Tensor) -> torch.Tensor:
        entries = [
            (int(token), self.position, branch + 1, True) for branch, token in enumerate(tokens)
        ]
        self.position += 1
        return self.logits(self.run(entries))

    def end_branches(self) -> None:
        if self.context is not None:
            for branch in range(1, self.branches + 1):
                self.lib.llama_memory_seq_rm(self.memory, branch, -1, -1)
        self.branches = 0

    # ------------------------------------------------------------------------ scoring

    def next_logprobs(self, prompts: Sequence[Sequence[int]]) -> torch.Tensor:
        """log p(token | prompt) for every token, a row per prompt, in a scratch sequence that
        shares the story's cells as far as a prompt agrees with it: the story and branches stay
        as they are."""
        rows = []
        for prompt in prompts:
            prompt = list(prompt)
            self.ensure_room(len(self.ids) + len(prompt), SEQUENCES)
            scratch = self.sequences - 1  # above every branch (start_branches leaves it free)
            shared = min(common_prefix(self.ids, prompt), len(prompt) - 1)
            if shared:
                self.lib.llama_memory_seq_cp(self.memory, STORY, scratch, 0, shared)
            try:
                rows.append(self.feed(prompt[shared:], shared, scratch).log_softmax(-1))
            finally:
                self.lib.llama_memory_seq_rm(self.memory, scratch, -1, -1)
        return torch.stack(rows)


def common_prefix(a: Sequence[int], b: Sequence[int]) -> int:
    n = 0
    for x, y in zip(a, b, strict=False):
        if x != y:
            break
        n += 1
    return n
