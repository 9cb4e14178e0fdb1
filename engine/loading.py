"""Loading a causal language model from a local folder or a Hugging Face hub id: always
offline, and safe by default.

- Nothing is downloaded at run time: a hub id is looked up in the local Hugging Face cache and
  loaded from there like a folder, or refused at once with one line saying how to fetch it.
- Only safetensors weights load, unless pickle is allowed (a pickle file can run code).
- A model's own code (an `auto_map` in its config or tokenizer config) never runs unless
  trust_remote_code is given; without it the model is refused by name, never prompted for.
"""

import json
import pickle
from collections.abc import Callable
from pathlib import Path
from typing import Any

import torch

from common.errors import UserError
from engine.hf_model import HFModel
from engine.lstm import LSTMLanguageModel, LSTMModel, is_lstm_folder
from engine.settings import suggested_by_model

ReportStage = Callable[[str], None]  # told each stage of loading as it starts
DTYPES = {"float32": torch.float32, "float16": torch.float16, "bfloat16": torch.bfloat16}


class ModelError(UserError):
    """The model can't be loaded; the message says why and what to do, in one line."""


def pick_device(requested: str | None = None) -> torch.device:
    if requested:
        try:
            device = torch.device(requested)
        except RuntimeError as error:
            raise ModelError(
                f"unknown device {requested!r}: use cpu, cuda, cuda:N or mps"
            ) from error
        if device.type == "cuda" and not torch.cuda.is_available():
            raise ModelError("CUDA was asked for but no CUDA GPU is available: use --device cpu")
        if device.type == "mps" and not torch.backends.mps.is_available():
            raise ModelError("MPS was asked for but is not available here: use --device cpu")
        return device
    if torch.cuda.is_available():
        return torch.device("cuda")
    if torch.backends.mps.is_available():
        return torch.device("mps")
    return torch.device("cpu")


def pick_dtype(device: torch.device, requested: str | None = None) -> torch.dtype:
    if requested:
        if requested not in DTYPES:
            raise ModelError(f"unknown dtype {requested!r}: use one of {', '.join(DTYPES)}")
        return DTYPES[requested]
    if device.type == "cuda":
        return torch.bfloat16 if torch.cuda.is_bf16_supported() else torch.float16
    if device.type == "mps":
        return torch.float16
    return torch.float32


def model_folder(name: str) -> Path:
    """The folder a model loads from: the given folder, or a hub id's snapshot in the local
    Hugging Face cache (never downloaded)."""
    local = Path(name).expanduser()
    if local.exists() or name.startswith((".", "/", "~")) or name.count("/") > 1:
        return local
    from huggingface_hub import snapshot_download
    from huggingface_hub.errors import HFValidationError, LocalEntryNotFoundError

    try:
        return Path(snapshot_download(name, local_files_only=True))
    except HFValidationError as error:
        raise ModelError(f"{name} is neither a model folder nor a hub id") from error
    except (LocalEntryNotFoundError, OSError) as error:
        raise ModelError(
            f"{name} is not in the local Hugging Face cache, and Taletree never downloads: "
            f"fetch it where there is a network (`hf download {name}`), or pass a model folder"
        ) from error


def refuse_remote_code(folder: Path, name: str) -> None:
    """A model that brings its own code is refused unless that code is trusted."""
    for config in ("config.json", "tokenizer_config.json"):
        try:
            settings = json.loads((folder / config).read_text(encoding="utf-8"))
        except (OSError, ValueError):
            continue
        if isinstance(settings, dict) and settings.get("auto_map"):
            raise ModelError(
                f"{name} comes with its own code (auto_map in {config}), which Taletree runs "
                "only when asked: pass --trust-remote-code if you trust its source"
            )


def check_folder(folder: Path, allow_pickle: bool) -> None:
    if not folder.is_dir():
        raise ModelError(f"{folder} is not a folder: pass a model folder or a hub id")
    if not (folder / "config.json").is_file():
        raise ModelError(f"{folder} is not a model folder: it has no config.json")
    if any(folder.glob("*.safetensors")):
        return
    if any(folder.glob("*.bin")) or any(folder.glob("*.pt")):
        if allow_pickle:
            return
        raise ModelError(
            f"{folder} has only pickle weights (.bin), which can run code when loaded: convert "
            "them to safetensors, or pass --allow-pickle if you trust the source"
        )
    raise ModelError(f"{folder} has no model weights (model.safetensors)")


def saved_generation_defaults(folder: Path) -> dict:
    try:
        saved = json.loads((folder / "generation_config.json").read_text())
    except (OSError, ValueError):
        return {}
    return suggested_by_model(saved)


def load_lstm(folder: Path, name: str, device: torch.device, dtype: torch.dtype,
              report: ReportStage) -> LSTMModel:  # fmt: skip
    from transformers import AutoTokenizer

    report("tokenizer")
    try:
        tokenizer = AutoTokenizer.from_pretrained(str(folder), local_files_only=True,
                                                  trust_remote_code=False)  # fmt: skip
        report("weights")
        model = LSTMLanguageModel.load(folder).to(dtype=dtype)
    except (OSError, ValueError, RuntimeError, TypeError) as error:
        raise ModelError(f"{name} can't be loaded: {first_line(error)}") from error
    report("device")
    lstm = LSTMModel(model, tokenizer, name, device, saved_generation_defaults(folder))
    report("ready")
    return lstm


def checked_folder(name: str, *, allow_pickle: bool, trust_remote_code: bool) -> Path:
    """The folder of a model folder or cached hub id, once it is known safe to load."""
    folder = model_folder(name)
    check_folder(folder, allow_pickle)
    if not trust_remote_code:
        refuse_remote_code(folder, name)
    return folder


def load_transformers(folder: Path, name: str, *, dtype: Any = None, allow_pickle: bool = False,
                      trust_remote_code: bool = False, report: ReportStage | None = None,
                      **model_options: Any) -> tuple[Any, Any]:  # fmt: skip
    """(tokenizer, model) of a checked transformers causal model folder; every problem with
    the model is a one-line ModelError."""
    from transformers import AutoModelForCausalLM, AutoTokenizer

    report = report or (lambda stage: None)
    options = {"local_files_only": True, "trust_remote_code": trust_remote_code}
    report("tokenizer")
    try:
        tokenizer = AutoTokenizer.from_pretrained(str(folder), **options)
        report("weights")
        model = AutoModelForCausalLM.from_pretrained(
            str(folder), dtype=dtype, use_safetensors=None if allow_pickle else True,
            **options, **model_options,
        )  # fmt: skip
    except pickle.UnpicklingError as error:
        raise ModelError(
            f"{name}'s pickle weights hold more than weights, so torch refused to load them "
            f"({first_line(error)}): use a safetensors copy from a source you trust"
        ) from error
    except ValueError as error:
        if "Unrecognized configuration class" in str(error) or "Unrecognized model" in str(error):
            raise ModelError(
                f"{name} is not a causal language model ({first_line(error)})"
            ) from error
        raise ModelError(f"{name} can't be loaded: {first_line(error)}") from error
    except OSError as error:
        raise ModelError(f"{name} can't be loaded: {first_line(error)}") from error
    return tokenizer, model


def load_model(
    name: str,
    *,
    device: str | None = None,
    dtype: str | None = None,
    allow_pickle: bool = False,
    trust_remote_code: bool = False,
    progress: ReportStage | None = None,
) -> HFModel | LSTMModel:
    """Load a model folder or a cached hub id, reporting each stage to `progress`."""
    from transformers.utils import logging as hf_logging

    import engine.kv_cache  # noqa: F401  (registers the shared-prefix attention)

    # Progress goes through `progress`; Hugging Face's own bars and notices would garble a UI.
    hf_logging.set_verbosity_error()
    hf_logging.disable_progress_bar()

    report = progress or (lambda stage: None)
    target = pick_device(device)
    torch_dtype = pick_dtype(target, dtype)
    folder = checked_folder(name, allow_pickle=allow_pickle, trust_remote_code=trust_remote_code)
    if is_lstm_folder(folder):
        return load_lstm(folder, name, target, torch_dtype, report)
    tokenizer, model = load_transformers(
        folder, name, dtype=torch_dtype, allow_pickle=allow_pickle,
        trust_remote_code=trust_remote_code, report=report, attn_implementation="taletree",
    )  # fmt: skip
    report("device")
    model.to(target)
    model.eval()
    report("ready")
    return HFModel(model, tokenizer, name)


def first_line(error: Exception) -> str:
    return str(error).strip().splitlines()[0] if str(error).strip() else type(error).__name__
