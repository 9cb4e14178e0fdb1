"""Training a small GPT-2 or an LSTM on a corpus: one readable loop in the nanoGPT manner.

    stream  = every training story as <BOS> <genre> text <EOS>, one after another
    each step: a batch of windows of the stream, each from a story's start (anywhere in a
               story longer than the window), next-token loss, AdamW, clipped; a batch whose
               activations don't fit in memory goes through the model a few rows at a time
    every `checkpoint_every` steps and on Ctrl+C: a checkpoint in OUT.training/
    each epoch: the held-out score
    at the end: the model folder, written beside OUT and renamed into place when complete

A batch depends only on (seed, step), so a resumed run sees the batches it would have seen.
"""

import contextlib
import json
import math
import os
import shutil
import signal
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

import torch
from torch import nn

from engine.hf_model import window_of
from engine.lstm import LSTMConfig, LSTMLanguageModel
from engine.reading import BOS, EOS, genre_token
from engine.scoring import windowed_logprobs
from engine.training import induction
from engine.training.data import TrainingError, TrainingText, genres_of, split_held_out
from engine.training.evaluate import Evaluation, evaluate
from engine.training.following import Following
from engine.training.settings import TrainSettings
from engine.training.tokenizers import encode_story, train_bpe, train_chars, train_words


@dataclass
class TrainingProgress:
    step: int
    total_steps: int | None
    loss: float
    tokens_per_second: float
    seconds_left: float | None
    epoch: float
    evaluation: Evaluation | None = None


@dataclass
class TrainResult:
    folder: Path
    steps: int
    seconds: float
    evaluation: Evaluation
    parameters: int
    losses: list[tuple[int, float]] = field(default_factory=list)
    following: Following | None = None  # measured once the model is finished


class TrainingInterrupted(Exception):
    """Ctrl+C: a checkpoint was saved; --resume continues from it."""

    def __init__(self, step: int, folder: Path):
        super().__init__(
            f"stopped at step {step}: a checkpoint is saved in {folder}; continue with --resume"
        )
        self.step, self.folder = step, folder


@contextlib.contextmanager
def stop_on_ctrl_c() -> Iterator[threading.Event]:
    """While training, Ctrl+C sets an event the loop checks between steps, instead of
    interrupting whatever runs at that moment (a C kernel, a checkpoint being written)."""
    stop = threading.Event()
    if threading.current_thread() is not threading.main_thread():
        yield stop
        return
    previous = signal.signal(signal.SIGINT, lambda *_: stop.set())
    try:
        yield stop
    finally:
        signal.signal(signal.SIGINT, previous)


def working_folder(out: Path) -> Path:
    return out.with_name(out.name + ".training")


def build_tokenizer(stories: list[TrainingText], settings: TrainSettings, base_tokenizer=None):
    genres = genres_of(stories)
    if base_tokenizer is not None:  # fine-tuning: keep the model's tokenizer, add ours
        extra = [
            t for t in (BOS, EOS, *map(genre_token, genres)) if t not in base_tokenizer.get_vocab()
        ]
        base_tokenizer.add_special_tokens({"additional_special_tokens": extra})
        base_tokenizer.bos_token, base_tokenizer.eos_token = BOS, EOS
        return base_tokenizer
    if settings.arch != "lstm":
        return train_bpe(stories, genres, settings.vocab_size)
    if settings.level == "char":
        return train_chars(stories, genres)
    return train_words(stories, genres, settings.vocab_size)


def build_model(settings: TrainSettings, tokenizer, base_model=None) -> nn.Module:
    torch.manual_seed(settings.seed)
    if base_model is not None:
        base_model.resize_token_embeddings(len(tokenizer))
        base_model.config.bos_token_id = tokenizer.bos_token_id
        base_model.config.eos_token_id = tokenizer.eos_token_id
        return base_model
    if settings.arch == "lstm":
        return LSTMLanguageModel(
            LSTMConfig(
                vocab_size=len(tokenizer),
                level=settings.level,
                embedding=settings.embedding,
                hidden=settings.hidden,
                layers=settings.lstm_layers,
                dropout=settings.dropout,
            )
        )
    if settings.arch == "llama":
        return llama(settings, tokenizer)
    from transformers import GPT2Config, GPT2LMHeadModel

    config = GPT2Config(
        vocab_size=len(tokenizer),
        n_positions=settings.context,
        n_embd=settings.width,
        n_layer=settings.layers,
        n_head=settings.heads,
        resid_pdrop=settings.dropout,
        embd_pdrop=settings.dropout,
        attn_pdrop=settings.dropout,
        bos_token_id=tokenizer.bos_token_id,
        eos_token_id=tokenizer.eos_token_id,
    )
    return GPT2LMHeadModel(config)


def llama(settings: TrainSettings, tokenizer) -> nn.Module:
    """GPT-2's shape with rotary positions: attending to the token before, which copying a
    name on needs, is the same at every position. With start "induction" it starts out with an
    induction circuit wired in (engine/training/induction.py), so that it copies the writer's
    names within minutes of training rather than never."""
    from transformers import LlamaConfig, LlamaForCausalLM

    config = LlamaConfig(
        vocab_size=len(tokenizer),
        hidden_size=settings.width,
        intermediate_size=64 * round(settings.width * 8 / 3 / 64),
        num_hidden_layers=settings.layers,
        num_attention_heads=settings.heads,
        num_key_value_heads=settings.heads,
        max_position_embeddings=settings.context,
        attention_dropout=settings.dropout,
        tie_word_embeddings=True,
        bos_token_id=tokenizer.bos_token_id,
        eos_token_id=tokenizer.eos_token_id,
    )
    if settings.start != "induction":
        return LlamaForCausalLM(config)
    config.attention_bias = True  # the first head's look back is in its biases
    config.rope_parameters = {"rope_type": "default", "rope_theta": induction.ROPE_THETA}
    model = LlamaForCausalLM(config)
    induction.wire_induction(model)
    return model


def logits(model: nn.Module, ids: torch.Tensor) -> torch.Tensor:
    if isinstance(model, LSTMLanguageModel):
        return model(ids)[0]
    return model(input_ids=ids, use_cache=False).logits


def batch(
    stream: torch.Tensor,
    story_starts: torch.Tensor,
    settings: TrainSettings,
    context: int,
    step: int,
    device,
):
    """Rows of context + 1 tokens, each from where a story starts, so a story is trained the way
    a writer's is written: from its `<BOS> <genre>`, its genre and opening in view. (Windows
    from anywhere in the stream mostly began mid-story, without either: in 400 steps the demo
    recipe scored 0.3914 held-out bits per character from them against 0.2462, and kept to the
    asked genre and the opening's people less.) A story longer than a row starts one anywhere
    in it. A row's story is a random token's, so every token is about as likely to be trained
    as any other."""
    generator = torch.Generator().manual_seed(settings.seed * 1_000_003 + step)
    tokens = torch.randint(0, len(stream), (settings.batch_size,), generator=generator)
    story = torch.searchsorted(story_starts, tokens, right=True) - 1
    ends = torch.cat([story_starts[1:], torch.tensor([len(stream)])])
    spare = (ends[story] - story_starts[story] - (context + 1)).clamp(min=0)
    offsets = (torch.rand(settings.batch_size, generator=generator) * (spare + 1)).long()
    starts = (story_starts[story] + offsets).clamp(max=len(stream) - context - 1)
    rows = torch.stack([stream[s : s + context + 1] for s in starts.tolist()]).to(device)
    return rows[:, :-1], rows[:, 1:]


def activation_budget() -> int:
    """Bytes that one pass's saved activations may take: a quarter of the machine's memory,
    at most 8 GiB (what is left holds the weights, the optimizer's state and everything else)."""
    try:
        memory = os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES")
    except (ValueError, OSError, AttributeError):
        memory = 16 * 2**30
    return min(8 * 2**30, memory // 4)


def activation_bytes_per_token(model: nn.Module, context: int) -> int:
    """About what training keeps of each token for the backward pass, in float32: per layer a
    dozen tensors of the model's width, four of its MLP's and two rows of attention weights
    (attention on the CPU keeps them whole); then the logits three times over (the logits,
    their log-softmax and its gradient). For SmolLM2-135M at 512 tokens that is about 3.1 MB a
    token: batch 16 x 512 wanted some 25 GB, and the kernel killed it at 24."""
    config = model.config
    if isinstance(model, LSTMLanguageModel):
        layers, per_layer = config.layers, 8 * config.hidden  # its four gates, in and out
    else:
        hidden = config.hidden_size
        mlp = getattr(config, "intermediate_size", None) or getattr(config, "n_inner", None)
        layers = config.num_hidden_layers
        per_layer = 12 * hidden + 4 * (mlp or 4 * hidden) + 2 * config.num_attention_heads * context
    return 4 * (layers * per_layer + 3 * config.vocab_size)


def rows_per_pass(model: nn.Module, batch_size: int, context: int, budget: int) -> int:
    """How many of a batch's rows go through the model at once: all of them when their
    activations fit the budget, else as many as do (at least one). The step is the same either
    way (each pass's gradient is added in, weighted by its share of the rows), only its peak
    memory differs."""
    per_row = activation_bytes_per_token(model, context) * context
    return max(1, min(batch_size, budget // per_row))


def learning_rate(settings: TrainSettings, done: float) -> float:
    """Warm up over the first 5%, then a cosine down to a tenth. `done` runs 0 → 1."""
    if done < 0.05:
        return settings.learning_rate * max(done / 0.05, 0.02)
    return settings.learning_rate * (0.1 + 0.45 * (1 + math.cos(math.pi * min(done, 1.0))))


class Trainer:
    def __init__(
        self,
        stories: list[TrainingText],
        out: Path,
        settings: TrainSettings,
        *,
        from_model: str | None = None,
        allow_pickle: bool = False,
        trust_remote_code: bool = False,
        resume: bool = False,
        overwrite: bool = False,
        progress: Callable[[TrainingProgress], None] | None = None,
    ):
        settings.check()
        self.out, self.work = out, working_folder(out)
        if out.exists() and not overwrite:
            raise TrainingError(f"{out} exists: choose another --out, or pass --overwrite")
        if from_model and settings.start != "random":
            raise TrainingError("--start is for a model trained anew, not one given by --from")
        if resume and not (self.work / "checkpoint" / "state.json").is_file():
            raise TrainingError(f"there is no checkpoint to resume in {self.work}")
        if not resume and self.work.exists():
            raise TrainingError(
                f"{self.work} holds an unfinished run: continue it with --resume, or delete it"
            )
        self.settings, self.resume, self.report = settings, resume, progress or (lambda p: None)
        self.training, self.held_out = split_held_out(stories)
        self.from_model = from_model
        self.load_options = {"allow_pickle": allow_pickle, "trust_remote_code": trust_remote_code}
        from engine.loading import pick_device

        self.device = pick_device(settings.device)

    # ------------------------------------------------------------------ setting up
    def prepare(self) -> None:
        from transformers.utils import logging as hf_logging

        hf_logging.set_verbosity_error()
        hf_logging.disable_progress_bar()
        base_model = base_tokenizer = None
        if self.resume:
            from transformers import AutoTokenizer

            self.tokenizer = AutoTokenizer.from_pretrained(
                str(self.work), local_files_only=True, trust_remote_code=False
            )
            saved = json.loads((self.work / "checkpoint" / "state.json").read_text())
            if saved["settings"]["arch"] != self.settings.arch:
                raise TrainingError(
                    f"the checkpoint in {self.work} is for {saved['settings']['arch']}, "
                    f"not {self.settings.arch}"
                )
            self.settings = TrainSettings(
                **{
                    **saved["settings"],
                    "device": self.settings.device,
                    "steps": self.settings.steps or saved["settings"]["steps"],
                    "minutes": self.settings.minutes,
                }
            )
        elif self.from_model:
            from engine.loading import ModelError, checked_folder, load_transformers
            from engine.named_models import local_source

            try:
                # `default`: the default model's folder (made now if it isn't yet)
                source = local_source(self.from_model, lambda stage: None)
                folder = checked_folder(source, **self.load_options)
                base_tokenizer, base_model = load_transformers(
                    folder, self.from_model, **self.load_options
                )
            except ModelError as error:
                raise TrainingError(f"--from {self.from_model}: {error}") from error
        if not self.resume:
            self.tokenizer = build_tokenizer(self.training, self.settings, base_tokenizer)
        self.model = build_model(self.settings, self.tokenizer, base_model).to(self.device)
        # A transformer's position limit, however its config names it (GPT-2's n_positions, a
        # Llama's max_position_embeddings): held-out stories are scored within it, as eval does.
        self.window = window_of(self.model.config)  # an LSTM's config names none: no limit
        encoded = [encode_story(self.tokenizer, s) for s in self.training]
        stream = [t for ids in encoded for t in ids]
        if len(stream) < 3:
            raise TrainingError("the corpus is too small to train on: give more text")
        self.stream = torch.tensor(stream)
        lengths = torch.tensor([0, *(len(ids) for ids in encoded[:-1])])
        self.story_starts = torch.cumsum(lengths, 0)
        self.context = min(self.settings.context, len(stream) - 1, self.window or 10**9)
        self.steps_per_epoch = max(1, len(stream) // (self.settings.batch_size * self.context))
        self.rows_per_pass = rows_per_pass(
            self.model, self.settings.batch_size, self.context, activation_budget()
        )
        self.optimizer = torch.optim.AdamW(
            self.model.parameters(),
            lr=self.settings.learning_rate,
            betas=(0.9, 0.95),
            weight_decay=0.01,
        )
        self.step, self.elapsed, self.losses = 0, 0.0, []
        self.evaluations: list[tuple[int, Evaluation]] = []
        if self.resume:
            self.load_checkpoint()
        else:
            self.work.mkdir(parents=True)
            self.tokenizer.save_pretrained(self.work)

    @property
    def total_steps(self) -> int | None:
        s = self.settings
        if s.steps:
            return s.steps
        if s.epochs:
            return max(1, math.ceil(s.epochs * self.steps_per_epoch))
        return None if s.minutes else self.steps_per_epoch

    # ------------------------------------------------------------------ checkpoints
    def save_checkpoint(self) -> None:
        from safetensors.torch import save_model

        staging = self.work / "checkpoint.new"
        shutil.rmtree(staging, ignore_errors=True)
        staging.mkdir()
        save_model(self.model, str(staging / "model.safetensors"))
        torch.save(self.optimizer.state_dict(), staging / "optimizer.pt")
        state = {
            "step": self.step,
            "elapsed": self.elapsed,
            "losses": self.losses,
            "evaluations": [[s, asdict(e)] for s, e in self.evaluations],
            "settings": asdict(self.settings),
        }
        (staging / "state.json").write_text(json.dumps(state))
        final = self.work / "checkpoint"
        old = self.work / "checkpoint.old"
        if final.exists():
            final.rename(old)
        staging.rename(final)
        shutil.rmtree(old, ignore_errors=True)

    def load_checkpoint(self) -> None:
        from safetensors.torch import load_model

        folder = self.work / "checkpoint"
        try:
            state = json.loads((folder / "state.json").read_text())
            load_model(self.model, str(folder / "model.safetensors"), device=str(self.device))
            self.optimizer.load_state_dict(torch.load(folder / "optimizer.pt", weights_only=True))
            self.step, self.elapsed = int(state["step"]), float(state["elapsed"])
            self.losses = [tuple(x) for x in state["losses"]]
            self.evaluations = [(s, Evaluation(**e)) for s, e in state["evaluations"]]
        except Exception as error:
            raise TrainingError(
                f"the checkpoint in {folder} is damaged ({str(error).splitlines()[0][:120]}): "
                f"delete {self.work} to start over"
            ) from error

    # ------------------------------------------------------------------ the loop
    def score(self) -> Evaluation:
        self.model.eval()
        with torch.inference_mode():

            def logits_of(ids: list[int]) -> torch.Tensor:
                return logits(self.model, torch.tensor([ids], device=self.device))[0].float()

            result = evaluate(
                lambda ids: windowed_logprobs(logits_of, ids, self.window, self.device),
                self.tokenizer,
                self.held_out,
            )
        self.model.train()
        return result

    def run(self) -> TrainResult:
        self.prepare()
        total = self.total_steps
        autocast = (
            torch.autocast("cuda", dtype=torch.bfloat16)
            if self.device.type == "cuda"
            else torch.autocast("cpu", enabled=False)
        )
        self.model.train()
        started = time.perf_counter() - self.elapsed
        with stop_on_ctrl_c() as stop:
            try:
                self.train_steps(stop, total, autocast, started)
            except KeyboardInterrupt:
                stop.set()
            if stop.is_set():
                self.elapsed = time.perf_counter() - started
                self.save_checkpoint()
                raise TrainingInterrupted(self.step, self.work)
        self.elapsed = time.perf_counter() - started
        self.save_checkpoint()  # whatever fails from here on, --resume picks up at the end
        evaluation = self.score()
        return TrainResult(
            self.out,
            self.step,
            self.elapsed,
            evaluation,
            sum(p.numel() for p in self.model.parameters()),
            self.losses,
        )

    def train_steps(
        self, stop: threading.Event, total: int | None, autocast: Any, started: float
    ) -> None:
        """Train until the step budget or time is spent, or Ctrl+C asks to stop (checked
        between steps, so a checkpoint is always of a whole step)."""
        settings = self.settings
        tokens_seen, window_start = 0, time.perf_counter()
        while (total is None or self.step < total) and not stop.is_set():
            self.elapsed = time.perf_counter() - started
            done = max(
                self.step / total if total else 0.0,
                self.elapsed / (settings.minutes * 60) if settings.minutes else 0.0,
            )
            if settings.minutes and self.elapsed >= settings.minutes * 60:
                break
            for group in self.optimizer.param_groups:
                group["lr"] = learning_rate(settings, done)
            # Dropout too depends only on (seed, step): a resumed run repeats the same steps.
            torch.manual_seed(settings.seed * 1_000_003 + self.step)
            x, y = batch(
                self.stream, self.story_starts, settings, self.context, self.step, self.device
            )
            self.optimizer.zero_grad(set_to_none=True)
            value = 0.0
            passes = zip(x.split(self.rows_per_pass), y.split(self.rows_per_pass), strict=True)
            for inputs, targets in passes:
                share = len(inputs) / len(x)
                with autocast:
                    out = logits(self.model, inputs)
                loss = nn.functional.cross_entropy(
                    out.float().reshape(-1, out.shape[-1]), targets.reshape(-1)
                )
                (loss * share).backward()
                value += loss.item() * share
                del out, loss  # nothing of this pass is held while the next one runs
            nn.utils.clip_grad_norm_(self.model.parameters(), 1.0)
            self.optimizer.step()
            self.step += 1
            tokens_seen += x.numel()
            self.losses.append((self.step, round(value, 4)))
            evaluation = None
            if self.step % self.steps_per_epoch == 0:
                evaluation = self.score()
                self.evaluations.append((self.step, evaluation))
            if self.step % settings.checkpoint_every == 0:
                self.elapsed = time.perf_counter() - started
                self.save_checkpoint()
            rate = tokens_seen / max(time.perf_counter() - window_start, 1e-9)
            self.report(
                TrainingProgress(
                    self.step,
                    total,
                    value,
                    rate,
                    self.seconds_left(total, started),
                    self.step / self.steps_per_epoch,
                    evaluation,
                )
            )

    def seconds_left(self, total: int | None, started: float) -> float | None:
        """The sooner of the time budget's end and the step count's, as far as known."""
        elapsed = time.perf_counter() - started
        estimates = []
        if self.settings.minutes:
            estimates.append(max(self.settings.minutes * 60 - elapsed, 0.0))
        if total and self.step:
            estimates.append(elapsed / self.step * (total - self.step))
        return min(estimates) if estimates else None

    # ------------------------------------------------------------------ the result
    def save(self, folder: Path, defaults: dict[str, Any]) -> None:
        """The model as a folder the engine (and AutoModelForCausalLM, for GPT-2) loads."""
        folder.mkdir(parents=True)
        self.model.eval()
        if isinstance(self.model, LSTMLanguageModel):
            self.model.save(folder)
            (folder / "generation_config.json").write_text(json.dumps(defaults, indent=2) + "\n")
        else:
            from transformers import GenerationConfig

            self.model.generation_config = GenerationConfig(
                do_sample=True,
                bos_token_id=self.tokenizer.bos_token_id,
                eos_token_id=self.tokenizer.eos_token_id,
                **defaults,
            )
            self.model.save_pretrained(folder)
        self.tokenizer.save_pretrained(folder)

    def finish(self, staging: Path) -> Path:
        """Move the finished folder into place and drop the working folder."""
        if self.out.exists():
            shutil.rmtree(self.out)
        staging.rename(self.out)
        shutil.rmtree(self.work, ignore_errors=True)
        return self.out
