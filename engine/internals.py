"""The private names of transformers, torch and llama-cpp-python that Taletree reads, all in
this one module.

Each has no public equivalent in the versions pinned here; tests/test_internals.py checks that
every one is still where it is read from, so an upgrade that moves one fails there, by name,
rather than somewhere deep in loading or decoding.
"""

from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    import torch


def attention_of(model: Any) -> str:
    """The attention function a transformers model runs under: set through the public
    `set_attn_implementation`, read back only from its config's private field."""
    return model.config._attn_implementation


def kept_in_float32(model_class: Any) -> set[str]:
    """The modules a transformers model class keeps in float32 whatever dtype it loads in
    (what `from_pretrained` does itself when it reads the weights)."""
    return {
        *(model_class._keep_in_fp32_modules or ()),
        *(model_class._keep_in_fp32_modules_strict or ()),
    }


def has_packed_matmul() -> bool:
    """Whether this torch has oneDNN's matmul over a packed weight (engine/cpu_matmul.py)."""
    import torch

    return torch.backends.mkldnn.is_available() and hasattr(torch.ops.mkldnn, "_linear_pointwise")


def packed_weight(weight: "torch.Tensor") -> "torch.Tensor":
    """A linear layer's weight in oneDNN's blocked layout, for any number of rows: the op
    PyTorch's own compiler packs weights with."""
    import torch

    return torch.ops.mkldnn._reorder_linear_weight(weight.detach().contiguous(), None)


def packed_linear(x: "torch.Tensor", weight: "torch.Tensor", bias: "torch.Tensor | None"):
    """x @ weight.T + bias over a weight from packed_weight."""
    import torch

    return torch.ops.mkldnn._linear_pointwise(x.contiguous(), weight, bias, "none", [], "")


def close_llama_cpp_null_files() -> None:
    """llama-cpp-python opens two /dev/null files when it is imported, for a context manager
    of its high-level API that Taletree never uses, and never closes them: closed at exit, so
    Python doesn't report them unclosed."""
    from llama_cpp import _utils

    _utils.outnull_file.close()
    _utils.errnull_file.close()
