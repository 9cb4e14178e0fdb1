"""Loading a causal language model from a local folder or a Hugging Face hub id: always
offline, and safe by default.

- Nothing is downloaded at run time: a hub id is looked up in the local Hugging Face cache and
  loaded from there like a folder, or refused at once with one line saying how to fetch it.
- Only safetensors weights load, unless pickle is allowed (a pickle file can run code).
- A model's own code (an `auto_map` in its config or tokenizer config) never runs unless
  trust_remote_code is given; without it the model is refused by name, never prompted for.
"""

import json
import logging
import pickle
from collections.abc import Callable, Collection
from pathlib import Path
from typing import TYPE_CHECKING, Any

import torch

from common.errors import UserError
from engine.cpu_matmul import can_pack, pack_linear_layers, unpack_linear_layers
from engine.hf_model import HFModel, is_causal
from engine.internals import attention_of, kept_in_float32
from engine.kv_cache import ATTENTION
from engine.lstm import LSTMLanguageModel, LSTMModel, is_lstm_folder
from engine.settings import suggested_by_model

ReportStage = Callable[[str], None]  # told each stage of loading as it starts
log = logging.getLogger(__name__)
DTYPES = {"float32": torch.float32, "float16": torch.float16, "bfloat16": torch.bfloat16}


if TYPE_CHECKING:
    from engine.general import GeneralModel


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
        ggufs = [p.name for p in folder.glob("*.gguf")]
        if ggufs:  # (a folder with just one is opened as that GGUF file)
            raise ModelError(
                f"{folder} holds {len(ggufs)} GGUF files: pass the one to use "
                f"(--model {folder / sorted(ggufs)[0]}, say)"
            )
        raise ModelError(f"{folder} is not a model folder: it has no config.json")
    if any(folder.glob("*.safetensors")):
        check_vocabulary_claim(folder)
        return
    if any(folder.glob("*.bin")) or any(folder.glob("*.pt")):
        if allow_pickle:
            return
        raise ModelError(
            f"{folder} has only pickle weights (.bin), which can run code when loaded: convert "
            "them to safetensors, or pass --allow-pickle if you trust the source"
        )
    raise ModelError(f"{folder} has no model weights (model.safetensors)")


def safetensors_files(folder: Path) -> list[Path]:
    """The folder's safetensors files: those its index names, if it has one, else all."""
    index = folder / "model.safetensors.index.json"
    if index.is_file():
        names = sorted(set(json.loads(index.read_text(encoding="utf-8"))["weight_map"].values()))
        return [folder / name for name in names]
    return sorted(folder.glob("*.safetensors"))


def check_vocabulary_claim(folder: Path) -> None:
    """A config.json claiming a vocabulary that no weight has rows for is refused before
    anything is built for it: the converter padded a claim of 10^9 tokens out one by one (a
    hang), and transformers stopped with a size mismatch. Only the files' headers are read."""
    from safetensors import SafetensorError, safe_open

    try:
        config = json.loads((folder / "config.json").read_text(encoding="utf-8"))
    except (OSError, ValueError) as error:
        raise ModelError(f"{folder}'s config.json can't be read: {first_line(error)}") from error
    claimed = config.get("vocab_size") if isinstance(config, dict) else None
    if not isinstance(claimed, int) or isinstance(claimed, bool):
        return  # nothing claimed here: the model's own class checks what it reads
    largest = 0
    try:
        for file in safetensors_files(folder):
            with safe_open(str(file), framework="numpy") as tensors:
                for key in tensors.keys():  # noqa: SIM118 (a safe_open isn't a mapping)
                    largest = max(largest, *tensors.get_slice(key).get_shape(), 0)
    except (OSError, ValueError, KeyError, SafetensorError) as error:
        raise ModelError(f"{folder}'s weights can't be read: {first_line(error)}") from error
    if claimed < 1 or claimed > largest:
        raise ModelError(
            f"{folder}'s config.json claims a vocabulary of {claimed:,} tokens, but no weight "
            f"has that many rows (the largest has {largest:,}): the folder is damaged or "
            "mismatched, so get it again"
        )


def saved_generation_defaults(folder: Path) -> dict:
    try:
        saved = json.loads((folder / "generation_config.json").read_text())
    except (OSError, ValueError):
        return {}
    return suggested_by_model(saved)


def load_lstm(
    folder: Path, name: str, device: torch.device, dtype: torch.dtype, report: ReportStage
) -> LSTMModel:
    from transformers import AutoTokenizer

    report("tokenizer")
    try:
        tokenizer = AutoTokenizer.from_pretrained(
            str(folder), local_files_only=True, trust_remote_code=False
        )
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


def read_weights(
    folder: Path,
    device: torch.device,
    dtype: torch.dtype | None = None,
    keep_float32: Collection[str] = (),
) -> dict[str, torch.Tensor]:
    """A folder's safetensors weights, read tensor by tensor straight onto the device (not
    memory-mapped) and each cast to `dtype` as it arrives: nothing is held twice, on the host
    or on the device. Tensors of the modules named in `keep_float32` (those the model keeps
    in float32 whatever its dtype) are left as they are."""
    from safetensors import safe_open

    weights: dict[str, torch.Tensor] = {}
    for file in safetensors_files(folder):
        with safe_open(str(file), framework="pt", device=str(device), backend="pread") as tensors:
            for key in tensors.keys():  # noqa: SIM118 (a safe_open isn't a mapping)
                tensor = tensors.get_tensor(key)
                if (
                    dtype is not None
                    and tensor.is_floating_point()
                    and not any(module in key for module in keep_float32)
                ):
                    tensor = tensor.to(dtype)
                weights[key] = tensor
    return weights


def load_transformers(
    folder: Path,
    name: str,
    *,
    device: torch.device | None = None,
    dtype: torch.dtype | None = None,
    allow_pickle: bool = False,
    trust_remote_code: bool = False,
    report: ReportStage | None = None,
    **model_options: Any,
) -> tuple[Any, Any]:
    """(tokenizer, model) of a checked transformers causal model folder, on `device` (the
    CPU if None) in `dtype`; every problem with the model is a one-line ModelError."""
    from transformers import AutoConfig, AutoModelForCausalLM, AutoTokenizer, GenerationConfig
    from transformers.models.auto.modeling_auto import MODEL_FOR_CAUSAL_LM_MAPPING

    report = report or (lambda stage: None)
    options = {"local_files_only": True, "trust_remote_code": trust_remote_code}
    report("tokenizer")
    try:
        tokenizer = AutoTokenizer.from_pretrained(str(folder), **options)
        report("weights")
        if any(folder.glob("*.safetensors")) and not trust_remote_code:
            config = AutoConfig.from_pretrained(str(folder), **options)
            if type(config) not in MODEL_FOR_CAUSAL_LM_MAPPING:
                raise ModelError(
                    f"{name} is not a causal language model (it is a {config.model_type} model)"
                )
            model_class = MODEL_FOR_CAUSAL_LM_MAPPING[type(config)]
            keep = kept_in_float32(model_class)
            weights = read_weights(folder, device or torch.device("cpu"), dtype, keep)
            model = model_class.from_pretrained(
                None, config=config, state_dict=weights, dtype=dtype, **model_options
            )
            del weights  # the model holds the very tensors: let go of the name
            # from_pretrained(None, …) reads no generation_config.json: the chosen sampling
            # settings come from it.
            if (folder / "generation_config.json").is_file():
                model.generation_config = GenerationConfig.from_pretrained(str(folder), **options)
        else:
            model = AutoModelForCausalLM.from_pretrained(
                str(folder),
                dtype=dtype,
                use_safetensors=None if allow_pickle else True,
                **options,
                **model_options,
            )
            model.to(device or "cpu")
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
    except RuntimeError as error:  # a weight whose shape isn't the one config.json makes
        if "ignore_mismatched_sizes" not in str(error) and "size mismatch" not in str(error):
            raise
        raise ModelError(
            f"{name}'s weights don't have the shapes its config.json gives them: the folder is "
            "damaged or mismatched, so get it again"
        ) from error
    return tokenizer, model


def load_model(
    name: str,
    *,
    device: str | None = None,
    dtype: str | None = None,
    allow_pickle: bool = False,
    trust_remote_code: bool = False,
    progress: ReportStage | None = None,
) -> "HFModel | GeneralModel | LSTMModel":
    """Load a model folder or a cached hub id, reporting each stage to `progress`. A
    transformers model takes the fast shared-prefix path when it serves the model exactly,
    else the general path; `.serving_path` says which."""
    from transformers.utils import logging as hf_logging

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
        folder,
        name,
        device=target,
        dtype=torch_dtype,
        allow_pickle=allow_pickle,
        trust_remote_code=trust_remote_code,
        report=report,
    )
    model.eval()
    packed = can_pack(model) and pack_linear_layers(model) > 0
    report("checking")
    try:
        chosen = choose_path(model, tokenizer, name)
    except ModelError:
        if not packed:
            raise
        unpack_linear_layers(model)  # a model that reads its layers' weights itself (Mamba)
        chosen = choose_path(model, tokenizer, name)
    report("ready")
    return chosen


def choose_path(model: Any, tokenizer: Any, name: str) -> "HFModel | GeneralModel":
    """The fast path if it gives the model's own numbers; else the general path with the
    model's own cache if that does; else the general path reading every step whole. A model
    that runs on none of them is refused by name."""
    from engine.general import GeneralModel

    kind = getattr(model.config, "model_type", None) or type(model).__name__
    try:
        causal = is_causal(model)
    except Exception as error:  # the model can't even read a few tokens
        raise refusal(name, kind, error) from error
    if not causal:
        raise ModelError(
            f"{name} can't be served: {kind} models are not causal (what one "
            "predicts at a point depends on the text after it)"
        )
    native = attention_of(model)
    model.set_attn_implementation(ATTENTION)  # a model outside the registry keeps its own
    if attention_of(model) == ATTENTION:
        fast = HFModel(model, tokenizer, name)
        if (why_not_fast := fast.why_not_exact()) is None:
            return fast
        model.set_attn_implementation(native)
    else:
        why_not_fast = f"can't reach its attention ({native})"
    log.info("%s takes the general path: the fast path %s", name, why_not_fast)
    problem: Exception | None = None
    for remembers in (True, False):
        try:
            general = GeneralModel(model, tokenizer, name, remembers=remembers)
            if general.serves_exactly():
                general.serving_path += f" (the fast path {why_not_fast})"
                return general
        except Exception as error:  # the model itself can't run: refused below, by name
            problem = error
    raise refusal(name, kind, problem)


def refusal(name: str, kind: str, problem: Exception | None) -> ModelError:
    why = f"{type(problem).__name__}: {first_line(problem)}" if problem else "its numbers vary"
    return ModelError(f"{name} can't be served: Taletree can't run {kind} models ({why})")


def first_line(error: Exception) -> str:
    return str(error).strip().splitlines()[0] if str(error).strip() else type(error).__name__
