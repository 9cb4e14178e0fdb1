"""Engine speed, as ratios measured side by side in one run: `python -m bench.engine --json`.

The model is a randomly initialised GPT-2 of the 124M geometry (speed doesn't depend on the
weights): fp32 on the CPU with the machine's threads, bf16 on CUDA when there is a GPU. Its
tokenizer is a synthetic word-level vocabulary of the same size, so detokenizing costs what it
does in real use. Contexts are token ids.
"""

import argparse
import itertools
import json
import random
import statistics
import threading
import time

import torch

from engine.cpu_matmul import can_pack, pack_linear_layers
from engine.events import FinishEvent, TokenEvent
from engine.generate import generate
from engine.hf_model import HFModel
from engine.request import GenerationRequest
from engine.settings import SamplingSettings

VOCAB = 50257


def build_models(device: torch.device) -> tuple[HFModel, "torch.nn.Module"]:
    """(Taletree's engine on the model, a plain Hugging Face copy with the same weights): the
    baselines run on the plain copy, as a Hugging Face user would."""
    import copy

    from tokenizers import Tokenizer, decoders, models, pre_tokenizers
    from transformers import GPT2Config, GPT2LMHeadModel, PreTrainedTokenizerFast

    import engine.kv_cache  # noqa: F401  (registers the attention function)

    words = {f"w{i}": i for i in range(VOCAB - 1)} | {"<|endoftext|>": VOCAB - 1}
    core = Tokenizer(models.WordLevel(words, unk_token="<|endoftext|>"))
    core.pre_tokenizer = pre_tokenizers.WhitespaceSplit()
    core.decoder = decoders.WordPiece(prefix="##")  # joins words with spaces
    tokenizer = PreTrainedTokenizerFast(tokenizer_object=core, eos_token="<|endoftext|>")
    torch.manual_seed(0)
    dtype = torch.bfloat16 if device.type == "cuda" else torch.float32
    plain = GPT2LMHeadModel(GPT2Config()).to(device=device, dtype=dtype).eval()
    ours = copy.deepcopy(plain)
    ours.set_attn_implementation("taletree")
    if can_pack(ours):
        pack_linear_layers(ours)
    return HFModel(ours, tokenizer, "random-gpt2-124m"), plain


def processor() -> dict[str, object]:
    """Which processor a figure came from: its name, the vector instructions it has that
    matter here, and the ones PyTorch's kernels use (ATEN_CPU_CAPABILITY can lower them)."""
    flags: set[str] = set()
    name = "unknown"
    try:
        with open("/proc/cpuinfo", encoding="utf-8") as cpuinfo:
            for line in cpuinfo:
                key, _, value = line.partition(":")
                if key.strip() == "model name":
                    name = value.strip()
                elif key.strip() == "flags":
                    flags = set(value.split())
                    break
    except OSError:
        pass
    wanted = ("avx2", "fma", "avx512f", "avx512bw", "avx512_vnni", "avx512_bf16", "amx_tile")
    return {
        "cpu": name,
        "cpu_flags": [flag for flag in wanted if flag in flags],
        "torch_cpu_capability": torch.backends.cpu.get_cpu_capability(),
    }


def context(length: int, seed: int = 1) -> list[int]:
    rng = random.Random(seed)
    return [rng.randrange(VOCAB - 1) for _ in range(length)]


# A common writer's preset; the Hugging Face baselines sample with the same settings.
SAMPLING = {"temperature": 0.8, "top_k": 50, "top_p": 0.95}


def settings(tokens: int) -> SamplingSettings:
    return SamplingSettings(max_new_tokens=tokens, ban_end_of_text=True, **SAMPLING)


def sync(device: torch.device) -> None:
    if device.type == "cuda":
        torch.cuda.synchronize()


def step_time(model: HFModel, ids: list[int], branches: int, steps: int = 24) -> float:
    """Median seconds per decoding step (sampling and detokenizing included)."""
    model.cache.crop_to(0)
    stamps = []
    for event in generate(model, GenerationRequest(ids, branches, settings(steps), seed=3)):
        if isinstance(event, TokenEvent) and event.branch == 0:
            sync(model.device)
            stamps.append(time.perf_counter())
    gaps = [b - a for a, b in itertools.pairwise(stamps[2:])]  # skip warm-up steps
    return statistics.median(gaps)


def hf_step_time(hf, ids: list[int], branches: int, steps: int = 24) -> float:
    """The same with Hugging Face's own cache: the prompt expanded to N rows, DynamicCache."""
    from transformers import DynamicCache

    device = hf.device
    with torch.inference_mode():
        cache = DynamicCache(config=hf.config)
        batch = torch.tensor([ids] * branches, device=device)
        logits = hf(batch, cache=cache, use_cache=True).logits[:, -1]
        gaps = []
        for _ in range(steps):
            started = time.perf_counter()
            tokens = torch.multinomial(logits.float().softmax(-1), 1)
            logits = hf(tokens, cache=cache, use_cache=True).logits[:, -1]
            tokens.cpu()
            sync(device)
            gaps.append(time.perf_counter() - started)
    return statistics.median(gaps[2:])


def ours_wall(model: HFModel, ids: list[int], branches: int, tokens: int) -> float:
    model.cache.crop_to(0)  # cold: the baselines have no cache either
    started = time.perf_counter()
    finished = [
        e
        for e in generate(model, GenerationRequest(ids, branches, settings(tokens), seed=5))
        if isinstance(e, FinishEvent)
    ]
    sync(model.device)
    assert all(len(f.token_ids) == tokens for f in finished)
    return time.perf_counter() - started


def hf_generate_wall(hf, ids: list[int], branches: int, tokens: int) -> float:
    prompt = torch.tensor([ids], device=hf.device)
    started = time.perf_counter()
    with torch.inference_mode():
        hf.generate(
            prompt,
            attention_mask=torch.ones_like(prompt),
            do_sample=True,
            **SAMPLING,
            max_new_tokens=tokens,
            min_new_tokens=tokens,
            num_return_sequences=branches,
            pad_token_id=VOCAB - 1,
        )
    sync(hf.device)
    return time.perf_counter() - started


def hf_streamer_wall(hf, tokenizer, ids: list[int], branches: int, tokens: int) -> float:
    """N sequential generate() runs, each streamed with TextIteratorStreamer: how a tool that
    streams with Hugging Face alone gets N alternatives."""
    from transformers import TextIteratorStreamer

    prompt = torch.tensor([ids], device=hf.device)
    started = time.perf_counter()
    for _ in range(branches):
        streamer = TextIteratorStreamer(tokenizer, skip_prompt=True)
        kwargs = dict(
            inputs=prompt,
            attention_mask=torch.ones_like(prompt),
            do_sample=True,
            **SAMPLING,
            max_new_tokens=tokens,
            min_new_tokens=tokens,
            streamer=streamer,
            pad_token_id=VOCAB - 1,
        )
        worker = threading.Thread(target=lambda kw=kwargs: hf.generate(**kw))
        with torch.inference_mode():
            worker.start()
            for _text in streamer:
                pass
            worker.join()
    return time.perf_counter() - started


def first_token_time(model: HFModel, ids: list[int]) -> float:
    started = time.perf_counter()
    for event in generate(model, GenerationRequest(ids, 4, settings(2), seed=7)):
        if isinstance(event, TokenEvent):
            sync(model.device)
            return time.perf_counter() - started
    raise RuntimeError("no token")


def warm_ttft(model: HFModel, story: list[int], appended: list[int]) -> tuple[float, float]:
    """(time to first token after appending to a warm story, the same from a cold cache)."""
    warm, cold = [], []
    for _ in range(3):
        model.cache.crop_to(0)
        first_token_time(model, story)  # the story as the writer left it: cache warm
        warm.append(first_token_time(model, story + appended))
        model.cache.crop_to(0)
        cold.append(first_token_time(model, story + appended))
    return statistics.median(warm), statistics.median(cold)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--json", action="store_true", help="print one JSON object (default)")
    parser.add_argument("--device", default="cuda" if torch.cuda.is_available() else "cpu")
    args = parser.parse_args()
    device = torch.device(args.device)
    model, plain = build_models(device)
    short, long = context(100), context(900)
    figures: dict[str, object] = {
        "device": torch.cuda.get_device_name() if device.type == "cuda" else "cpu",
        "dtype": str(model.dtype).removeprefix("torch."),
        "threads": torch.get_num_threads(),
        **processor(),
    }
    step_time(model, short, 1)  # warm-up
    for label, ids in (("100", short), ("900", long)):
        one, four = step_time(model, ids, 1), step_time(model, ids, 4)
        hf_one, hf_four = hf_step_time(plain, ids, 1), hf_step_time(plain, ids, 4)
        figures[f"step_ms_n1_ctx{label}"] = round(one * 1000, 2)
        figures[f"step_ms_n4_ctx{label}"] = round(four * 1000, 2)
        figures[f"branch_cost_4_ctx{label}"] = round(four / one, 3)
        figures[f"hf_cache_branch_cost_4_ctx{label}"] = round(hf_four / hf_one, 3)
    ours = min(ours_wall(model, short, 4, 64) for _ in range(2))
    baseline = min(hf_generate_wall(plain, short, 4, 64) for _ in range(2))
    streamed = hf_streamer_wall(plain, model.tokenizer, short, 4, 64)
    figures["vs_hf_generate_4"] = round(ours / baseline, 3)
    figures["vs_hf_streamer_sequential_4"] = round(ours / streamed, 3)
    warm, cold = warm_ttft(model, long, context(20, seed=2))
    figures["warm_ttft_ms"] = round(warm * 1000, 2)
    figures["cold_ttft_ms"] = round(cold * 1000, 2)
    figures["warm_ttft"] = round(warm / cold, 3)
    for branches in (1, 4):
        rate_short = 1 / step_time(model, short, branches)
        rate_long = 1 / step_time(model, long, branches)
        figures[f"long_context_decode_n{branches}"] = round(rate_long / rate_short, 3)
    figures["targets"] = {
        "branch_cost_4_ctx100": "<= 1.5 (cpu), <= 1.3 (gpu)",
        "branch_cost_4_ctx900": "<= 2.0 (cpu), <= 1.3 (gpu)",
        "vs_hf_generate_4": "<= 0.6",
        "vs_hf_streamer_sequential_4": "<= 0.3",
        "warm_ttft": "<= 0.1",
        "long_context_decode": ">= 0.8",
    }
    print(json.dumps(figures))


if __name__ == "__main__":
    main()
