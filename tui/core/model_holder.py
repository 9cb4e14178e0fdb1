"""The models a story writes with: each reused while the settings ask for the same model on
the same device, loaded when first asked for, let go when no longer asked for.

Loading is slow, so it is split in three for a face that must stay responsive: `wants` says
whether a load is needed, `load` does it (in a worker thread; it touches nothing here) and
`loaded` takes the result back on the face's thread. Line mode simply waits (`load_now`).
"""

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from common.errors import UserError
from engine.footprint import free_memory, model_bytes

if TYPE_CHECKING:
    from engine.backend import Backend

ReportStage = Callable[[str], None]


@dataclass(frozen=True)
class ModelRequest:
    name: str  # what to load: a model folder, a cached hub id or a server's address
    label: str  # what the writer sees it called
    device: str  # auto, cpu, cuda, cuda:N, mps
    context_limit: int | None = None  # the most a GGUF model reads (None: not a GGUF model)


@dataclass(frozen=True)
class LoadOptions:
    """How models are loaded in this run (command-line flags): nothing unsafe by default."""

    dtype: str | None = None
    allow_pickle: bool = False
    trust_remote_code: bool = False
    api_key: str | None = field(default=None, repr=False)  # for a server; never shown


Loader = Callable[[ModelRequest, ReportStage], "Backend"]


def local_loader(options: LoadOptions) -> Loader:
    """Loads models in this process through the engine."""

    def load(request: ModelRequest, progress: ReportStage | None = None) -> "Backend":
        from engine.backend import load_backend

        return load_backend(
            request.name,
            label=request.label,
            device=None if request.device == "auto" else request.device,
            dtype=options.dtype,
            allow_pickle=options.allow_pickle,
            trust_remote_code=options.trust_remote_code,
            api_key=options.api_key,
            context_limit=request.context_limit,
            progress=progress,
        )

    return load


class ModelsDontFit(UserError):
    """The models asked for would take more memory than is free; says which to drop."""


def megabytes(size: int) -> str:
    return f"{size / 1e9:.1f} GB" if size >= 1e9 else f"{max(1, round(size / 1e6))} MB"


class ModelHolder:
    """The models a story's settings ask for (one, or a set writing side by side), each
    reused while it is asked for again and let go when it no longer is."""

    def __init__(
        self,
        loader: Loader,
        free: Callable[[], int | None] = free_memory,
        footprint: Callable[[str], int | None] = model_bytes,
    ):
        self.loader = loader
        self.free, self.footprint = free, footprint
        self.wanted: tuple[ModelRequest, ...] = ()  # loading, or loaded
        self.held: dict[ModelRequest, Backend] = {}
        self.stages: dict[ModelRequest, str] = {}  # loads under way: the stage each is at
        self.sizes: dict[ModelRequest, int | None] = {}  # each one's memory, as guessed
        self.failed = False  # the last load failed: "no model" rather than "no model yet"

    @property
    def backend(self) -> "Backend | None":
        """The first model asked for, once loaded (the one the settings screen describes)."""
        return self.held.get(self.wanted[0]) if self.wanted else None

    def backends(self) -> "list[Backend] | None":
        """Every model asked for, in order, once all are loaded; None before."""
        if not self.wanted or any(r not in self.held for r in self.wanted):
            return None
        return [self.held[r] for r in self.wanted]

    def named(self, name: str | None) -> "Backend | None":
        """The loaded model that calls itself `name` (the name its nodes keep)."""
        return next((b for b in self.held.values() if b.name == name), None)

    @property
    def loading(self) -> bool:
        return any(r in self.stages for r in self.wanted)

    @property
    def state(self) -> str:
        """What the models are doing, in a line: loading (and how far), or each one's name
        and (for several) the memory it holds."""
        if not self.wanted:
            return "no model" if self.failed else "no model yet"
        if len(self.wanted) == 1:
            request = self.wanted[0]
            if request in self.held:
                return self.held[request].name
            stage = self.stages.get(request, "")
            return f"loading {request.label}: {stage}" if stage else f"loading {request.label}…"
        shown = []
        for request in self.wanted:
            backend = self.held.get(request)
            if backend is None:
                stage = self.stages.get(request)
                shown.append(f"{request.label}: {stage or 'loading…'}")
            else:
                size = self.sizes.get(request)
                shown.append(backend.name + (f" {megabytes(size)}" if size else ""))
        return " + ".join(shown)

    def wants(self, requests: "Sequence[ModelRequest]") -> list[ModelRequest]:
        """Ask for these models; those that must be loaded now (neither held nor loading).
        A set that won't fit in the free memory is refused first, saying which to drop;
        models held and no longer asked for are let go."""
        requests = tuple(requests)
        to_load = [r for r in requests if r not in self.held and r not in self.stages]
        sizes = {r: self.footprint(r.name) for r in to_load}
        self.check_fits(requests, sizes)
        self.wanted = requests
        self.held = {r: b for r, b in self.held.items() if r in requests}
        self.sizes = {r: size for r, size in {**self.sizes, **sizes}.items() if r in requests}
        for request in to_load:
            self.stages[request] = ""
        return to_load

    def check_fits(self, requests: tuple, sizes: "dict[ModelRequest, int | None]") -> None:
        if len(requests) < 2:  # one model alone: loading it says whatever goes wrong
            return
        need, free = sum(size or 0 for size in sizes.values()), self.free()
        if free is None or need <= free:
            return
        largest = max(sizes, key=lambda r: sizes[r] or 0)
        raise ModelsDontFit(
            f"these models need about {megabytes(need)} and {megabytes(free)} is free: "
            f"drop {largest.label} ({megabytes(sizes[largest] or 0)}) from the models setting"
        )

    def load(self, request: ModelRequest, progress: ReportStage) -> "Backend":
        """The slow part: safe to run in a worker thread."""
        return self.loader(request, progress)

    def progress(self, request: ModelRequest, stage: str) -> None:
        if request in self.stages:
            self.stages[request] = stage

    def loaded(self, request: ModelRequest, backend: "Backend | None") -> bool:
        """A load's result (None: it failed). False when the model is no longer asked for."""
        self.stages.pop(request, None)
        if request not in self.wanted:
            return False
        if backend is None:
            self.wanted = tuple(r for r in self.wanted if r != request)
            self.failed = True
        else:
            self.held[request] = backend
        return True

    def load_now(
        self,
        requests: "Sequence[ModelRequest]",
        progress: ReportStage,
        told: "Callable[[ModelRequest, Backend | None], None] | None" = None,
    ) -> "list[Backend]":
        """The models asked for, loaded here and now, one after another, unless held; `told`
        hears of each load as it starts (None) and ends (its backend)."""
        for request in self.wants(requests):
            if told:
                told(request, None)
            try:
                backend = self.load(request, progress)
            except BaseException:
                self.loaded(request, None)
                raise
            self.loaded(request, backend)
            if told:
                told(request, backend)
        return [self.held[r] for r in requests]
