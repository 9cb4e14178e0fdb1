"""One model held at a time: reused while the settings ask for the same model on the same
device, loaded anew when they change.

Loading is slow, so it is split in three for a face that must stay responsive: `wants` says
whether a load is needed, `load` does it (in a worker thread; it touches nothing here) and
`loaded` takes the result back on the face's thread. Line mode simply waits (`load_now`).
"""

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

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


class ModelHolder:
    def __init__(self, loader: Loader):
        self.loader = loader
        self.request: ModelRequest | None = None  # the model wanted: loading, or loaded
        self.backend: Backend | None = None
        self.state = "no model yet"  # what to show while there is no backend

    @property
    def loading(self) -> bool:
        return self.request is not None and self.backend is None

    def wants(self, request: ModelRequest) -> bool:
        """Ask for a model; True when it must be loaded (it is neither held nor loading)."""
        if request == self.request:
            return False
        self.request, self.backend = request, None
        self.state = f"loading {request.label}…"
        return True

    def load(self, request: ModelRequest, progress: ReportStage) -> "Backend":
        """The slow part: safe to run in a worker thread."""
        return self.loader(request, progress)

    def progress(self, request: ModelRequest, stage: str) -> None:
        if request == self.request and self.backend is None:
            self.state = f"loading {request.label}: {stage}"

    def loaded(self, request: ModelRequest, backend: "Backend | None") -> bool:
        """A load's result (None: it failed). False when a later request overtook it."""
        if request != self.request:
            return False
        if backend is None:
            self.request, self.state = None, "no model"
        self.backend = backend
        return True

    def load_now(self, request: ModelRequest, progress: ReportStage) -> "Backend":
        """The model asked for, loaded here and now unless it is held already."""
        if not self.wants(request) and self.backend is not None:
            return self.backend
        try:
            backend = self.load(request, progress)
        except BaseException:
            self.loaded(request, None)
            raise
        self.loaded(request, backend)
        return backend
