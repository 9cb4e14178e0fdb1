"""Loading a causal language model from a local folder or a Hugging Face hub id, offline-first
and safe by default: safetensors only, no remote code."""

import json
import os
from collections.abc import Callable
from pathlib import Path

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


def offline() -> bool:
    return os.environ.get("HF_HUB_OFFLINE", "").strip().lower() in ("1", "true", "yes", "on")


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
            "them to safetensors, or allow pickle if you trust the source"
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
        tokenizer = AutoTokenizer.from_pretrained(str(folder), local_files_only=True)
        report("weights")
        model = LSTMLanguageModel.load(folder).to(dtype=dtype)
    except (OSError, ValueError, RuntimeError, TypeError) as error:
        raise ModelError(f"{name} can't be loaded: {first_line(error)}") from error
    report("device")
    lstm = LSTMModel(model, tokenizer, name, device, saved_generation_defaults(folder))
    report("ready")
    return lstm


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
    from transformers import AutoModelForCausalLM, AutoTokenizer
    from transformers.utils import logging as hf_logging

    import engine.kv_cache  # noqa: F401  (registers the shared-prefix attention)

    # Progress goes through `progress`; Hugging Face's own bars and notices would garble a UI.
    hf_logging.set_verbosity_error()
    hf_logging.disable_progress_bar()

    report = progress or (lambda stage: None)
    target = pick_device(device)
    torch_dtype = pick_dtype(target, dtype)
    local = Path(name).expanduser()
    is_local = local.exists() or name.startswith((".", "/", "~"))
    if is_local:
        check_folder(local, allow_pickle)
        if is_lstm_folder(local):
            return load_lstm(local, name, target, torch_dtype, report)
        source = str(local)
    else:
        source = name
    options = {
        "trust_remote_code": trust_remote_code,
        "local_files_only": is_local or offline(),
    }
    report("tokenizer")
    try:
        tokenizer = AutoTokenizer.from_pretrained(source, **options)
        report("weights")
        model = AutoModelForCausalLM.from_pretrained(
            source,
            dtype=torch_dtype,
            use_safetensors=None if allow_pickle else True,
            attn_implementation="taletree",
            **options,
        )
    except ValueError as error:
        if "Unrecognized configuration class" in str(error) or "Unrecognized model" in str(error):
            raise ModelError(
                f"{name} is not a causal language model ({first_line(error)})"
            ) from error
        raise ModelError(f"{name} can't be loaded: {first_line(error)}") from error
    except OSError as error:
        if is_local:
            raise ModelError(f"{name} can't be loaded: {first_line(error)}") from error
        why = "HF_HUB_OFFLINE=1 is set" if offline() else "the hub can't be reached"
        raise ModelError(
            f"{name} is not in the local Hugging Face cache and {why}: fetch it where there is "
            f"a network (`hf download {name}`), or pass a local model folder"
        ) from error
    report("device")
    model.to(target)
    model.eval()
    report("ready")
    return HFModel(model, tokenizer, name)


def first_line(error: Exception) -> str:
    return str(error).strip().splitlines()[0] if str(error).strip() else type(error).__name__
