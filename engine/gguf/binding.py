"""llama.cpp's C API through llama-cpp-python's low-level bindings (which mirror llama.h).

The binding is an optional extra: without it, opening a GGUF file is one line saying how to
install it. llama.cpp logs to stderr by default, which would garble a terminal face; here its
log goes to a buffer instead, and the first error it logged explains a failure in one line.
"""

import atexit
import ctypes
import functools
import re
import threading
from types import ModuleType

from common.errors import UserError
from engine.internals import close_llama_cpp_null_files

VERSION = "0.3.36"  # the llama-cpp-python release the tests build (tests/servers and tools/)
INSTALL_HINT = "install it with `make gguf` (or pip install 'taletree[gguf]')"
ERROR_LEVEL = 4  # GGML_LOG_LEVEL_ERROR
WARNING_LEVEL = 3


class BindingMissing(UserError):
    """llama.cpp's Python binding isn't installed."""


class LlamaLog:
    """What llama.cpp logged: its errors and warnings, kept to explain a failure."""

    def __init__(self) -> None:
        self.lock = threading.Lock()
        self.problems: list[tuple[int, int, str]] = []  # the last few: number, level, line
        self.count = 0  # how many were ever logged

    def write(self, level: int, text: bytes) -> None:
        line = text.decode("utf-8", errors="replace").strip()
        if level in (ERROR_LEVEL, WARNING_LEVEL) and line:
            with self.lock:
                self.problems = [*self.problems[-19:], (self.count, level, line)]
                self.count += 1

    def mark(self) -> int:
        with self.lock:
            return self.count

    def reason(self, since: int, otherwise: str) -> str:
        """Why something failed, from the first error logged after `mark()` returned `since`
        (llama.cpp logs the cause first, then each caller's "failed"; a warning before it, such
        as a missing newline token, is not why), without the names of the functions that
        logged it."""
        with self.lock:
            fresh = [(level, line) for number, level, line in self.problems if number >= since]
        if not fresh:
            return otherwise
        _, first = min(fresh, key=lambda problem: problem[0] != ERROR_LEVEL)
        return re.sub(r"^(\w+: )+(error loading model: )?", "", first).rstrip(".")


LOG = LlamaLog()


@functools.cache
def llama() -> ModuleType:
    """The binding's low-level module, set up once: its log captured, its backends loaded."""
    try:
        import llama_cpp.llama_cpp as lib
    except ImportError as error:
        raise BindingMissing(
            f"GGUF models run on llama.cpp, whose Python binding isn't installed: {INSTALL_HINT}"
        ) from error
    except (OSError, RuntimeError) as error:  # the package is there, its library won't load
        raise BindingMissing(
            f"llama.cpp's library can't be loaded ({str(error).strip().splitlines()[0]}): "
            f"reinstall it with `make gguf`"
        ) from error

    @lib.llama_log_callback
    def log(level: int, text: bytes, user_data: ctypes.c_void_p) -> None:
        LOG.write(level, text or b"")

    atexit.register(close_llama_cpp_null_files)
    lib.llama_log_set(log, ctypes.c_void_p(0))
    llama.log_callback = log  # type: ignore[attr-defined]  # ctypes frees an unreferenced one
    lib.llama_backend_init()
    return lib
