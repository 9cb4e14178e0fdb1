"""`taletree write STORY`: the writing loop one line at a time, for plain terminals, screen
readers, SSH and scripts.

A line of text joins the story; a line starting with / is a command (/help lists them). At a
terminal the prompt has history (kept per database) and completes commands and story titles,
and the branches are shown growing, one line each; otherwise commands are read line by line
and each branch is printed whole once done. Ctrl+C stops a generation without leaving; Ctrl+D
(or the end of the input) leaves.
"""

import hashlib
import shutil
import signal
import sys
import threading
import time
from collections.abc import Callable
from dataclasses import asdict
from typing import TYPE_CHECKING, TextIO

from engine.events import FinishEvent, TokenEvent
from story.errors import StoryError
from story.models import Node, NodeDraft
from tui.config import config_dir
from tui.generation import Branch, Failed, Generation, Retrying, joined, store_branches
from tui.model_session import ModelSession, build_prompt, load_session
from tui.preferences import (
    Config,
    PreferenceError,
    WritingSettings,
    field_types,
    settings_from,
    story_settings,
)
from tui.terminal_text import safe_line, safe_prose

if TYPE_CHECKING:
    from story.store import Store

COMMANDS = {
    "/gen": "ask the model for N continuations",
    "/pick": "N: keep alternative N (of the last ones listed)",
    "/retry": "new alternatives in place of the last ones (those stay in the tree)",
    "/back": "back to the parent (undo)",
    "/forward": "forward again (redo)",
    "/siblings": "list the alternatives here (then /pick N)",
    "/tree": "the whole story as an indented outline",
    "/show": "the story so far",
    "/set": "KEY VALUE: a setting for this story (no KEY: list them)",
    "/memory": "[TEXT]: show or set what the model always reads first",
    "/note": "[TEXT]: show or set the author's note",
    "/export": "FORMAT [FILE]: md, txt, json or twee, to the screen or a file",
    "/open": "STORY: write another story",
    "/help": "this list",
    "/quit": "leave (or Ctrl+D)",
}
FRAME = 1 / 30


class LineError(Exception):
    """A command the writer can fix; nothing was changed."""


class LineWriter:
    def __init__(
        self,
        store: "Store",
        story_id: int,
        out: TextIO,
        config: Config,
        model: str | None = None,
        live: bool = False,
        session_loader: Callable[..., ModelSession] = load_session,
    ):
        self.store, self.story_id, self.out = store, story_id, out
        self.config, self.cli_model, self.live = config, model, live
        self.session_loader = session_loader
        self.session: ModelSession | None = None
        self.session_key: tuple[str, str] | None = None
        self.offered: list[Node | None] = []
        self.offered_parent: int | None = None
        self.show = safe_prose if live else (lambda text: text)

    # ------------------------------------------------------------------------------ basics

    def say(self, text: str = "") -> None:
        self.out.write(text + "\n")
        self.out.flush()

    def settings(self) -> WritingSettings:
        saved = self.store.story(self.story_id).settings
        return story_settings(self.config.writing, saved, self.cli_model)

    def model(self) -> ModelSession:
        settings = self.settings()
        name, label = settings.model_source()
        key = (name, settings.device)
        if self.session is None or key != self.session_key:
            self.say(f"(loading {label}…)")
            self.session = self.session_loader(name, settings.device, label, lambda stage: None)
            self.session_key = key
        return self.session

    def handle(self, line: str) -> bool:
        """One line of input; False when the writer leaves."""
        line = line.rstrip("\r\n")
        if not line.strip():
            return True
        if not line.startswith("/"):
            self.add_text(line)
            return True
        command, _, rest = line.strip().partition(" ")
        if command in ("/quit", "/exit"):
            return False
        method = getattr(self, "cmd_" + command[1:], None) if command in COMMANDS else None
        try:
            if method is None:
                raise LineError(f"unknown command {command}: /help lists the commands")
            method(rest.strip())
        except (LineError, StoryError, PreferenceError) as error:
            self.say(f"! {error}")
        return True

    def add_text(self, text: str) -> None:
        tip = self.store.tip(self.story_id)
        self.store.append(tip.id, NodeDraft(joined(tip.text, text)))
        self.offered = []

    # ---------------------------------------------------------------------------- writing

    def cmd_gen(self, rest: str) -> None:
        self.generate(self.store.story(self.story_id).tip_id)

    def cmd_retry(self, rest: str) -> None:
        if self.offered_parent is None:
            raise LineError("nothing to retry yet: /gen asks for alternatives")
        self.store.move_tip(self.offered_parent)
        self.generate(self.offered_parent)

    def generate(self, parent_id: int) -> None:
        session = self.model()
        settings = self.settings()
        sampling = settings.sampling(session.defaults())
        prompt = build_prompt(session, self.store, parent_id, sampling)
        generation = Generation(session, prompt, settings.branches, sampling, settings.seed)
        branches = [Branch() for _ in range(settings.branches)]
        worker = threading.Thread(target=generation.run, name="generation", daemon=True)
        # Ctrl+C stops the model, not the program: the branches keep what they wrote.
        previous = signal.signal(signal.SIGINT, lambda *_: generation.cancel.set())
        shown = 0
        try:
            worker.start()
            while True:
                ended = generation.finished.is_set()
                for item in generation.drain():
                    if isinstance(item, TokenEvent | FinishEvent):
                        branches[item.branch].apply(item)
                    elif isinstance(item, Retrying):
                        self.say(f"(out of memory: trying again with {item.branches} branches)")
                        branches = [Branch() for _ in range(item.branches)]
                    elif isinstance(item, Failed):
                        self.say(f"! the model stopped: {item.error}")
                if self.live:
                    shown = self.draw_lines(branches, shown)
                if ended:
                    break
                time.sleep(FRAME)
        finally:
            signal.signal(signal.SIGINT, previous)
            worker.join()
        if self.live:
            self.erase(shown)
        if generation.cancel.is_set():
            self.say("(stopped)")
        store_branches(self.store, parent_id, branches, session.name, sampling)
        self.offered = [self.store.node(b.node_id) if b.node_id else None for b in branches]
        self.offered_parent = parent_id
        for number, branch in enumerate(branches, 1):
            self.say(f"[{number}]{self.show(branch.text)}")
        self.say("(/pick N keeps one, /retry asks again)")

    def draw_lines(self, branches: list[Branch], shown: int) -> int:
        """One line per branch, redrawn in place: the end of each as it grows."""
        width = shutil.get_terminal_size().columns - 6
        self.erase(shown)
        for number, branch in enumerate(branches, 1):
            tail = safe_line(branch.text)[-width:]
            self.out.write(f"[{number}] {tail}\n")
        self.out.flush()
        return len(branches)

    def erase(self, lines: int) -> None:
        if lines:
            self.out.write(f"\x1b[{lines}F\x1b[J")  # up to the first line, clear below

    def cmd_pick(self, rest: str) -> None:
        if not rest.isdigit() or not 1 <= int(rest) <= len(self.offered):
            listed = f"1 to {len(self.offered)}" if self.offered else "none listed yet (/gen)"
            raise LineError(f"/pick takes the number of an alternative: {listed}")
        node = self.offered[int(rest) - 1]
        if node is None:
            raise LineError(f"alternative {rest} wrote nothing")
        self.store.move_tip(node.id)
        self.offered = []
        self.say(f"kept {rest}.")

    # ----------------------------------------------------------------------------- moving

    def cmd_back(self, rest: str) -> None:
        self.step("parent", "at the opening already")

    def cmd_forward(self, rest: str) -> None:
        self.step("child", "nothing further down")

    def step(self, direction: str, at_end: str) -> None:
        node = self.store.step(self.story_id, direction)
        if node is None:
            raise LineError(at_end)
        self.say(f"now at: …{self.show(node.text[-70:])}")

    def cmd_siblings(self, rest: str) -> None:
        tip = self.store.tip(self.story_id)
        siblings = self.store.siblings(tip.id)
        self.offered, self.offered_parent = list(siblings), tip.parent_id
        for number, node in enumerate(siblings, 1):
            mark = "*" if node.id == tip.id else " "
            self.say(f"{mark}[{number}] {node.author}: {self.show(node.text.strip())}")

    def cmd_tree(self, rest: str) -> None:
        tree = self.store.story_tree(self.story_id)
        path = {n.id for n in self.store.path(tree.tip_id)}
        depth: dict[int | None, int] = {None: -1}
        children: dict[int | None, list[Node]] = {}
        for node in tree.nodes:
            children.setdefault(node.parent_id, []).append(node)
        stack = list(reversed(children.get(None, [])))
        while stack:
            node = stack.pop()
            depth[node.id] = depth[node.parent_id] + 1
            mark = "*" if node.id in path else "-"
            preview = safe_line(node.text.strip())[:70] or "(empty)"
            self.say(f"{'  ' * depth[node.id]}{mark} {node.author}: {preview}")
            stack.extend(reversed(children.get(node.id, [])))

    def cmd_show(self, rest: str) -> None:
        self.say(self.show(self.store.path_text(self.store.story(self.story_id).tip_id)))

    # --------------------------------------------------------------------------- settings

    def cmd_set(self, rest: str) -> None:
        if not rest:
            for name, value in asdict(self.settings()).items():
                self.say(f"{name} = {'(default)' if value is None else value}")
            return
        key, _, value = rest.partition(" ")
        key = {"n": "branches"}.get(key, key)
        if key not in field_types():
            raise LineError(f"no setting {key!r}: /set lists them")
        chosen = settings_from({key: value}, self.settings())
        self.store.save_settings(self.story_id, chosen.changed(self.config.writing) or None)
        self.say(f"{key} = {getattr(chosen, key)}")

    def cmd_memory(self, rest: str) -> None:
        self.story_field("memory", rest)

    def cmd_note(self, rest: str) -> None:
        self.story_field("note", rest)

    def story_field(self, name: str, value: str) -> None:
        if value:
            self.store.update_story(self.story_id, **{name: value})
        current = getattr(self.store.story(self.story_id), name)
        self.say(f"{name}: {self.show(current)}" if current else f"{name}: (none)")

    def cmd_export(self, rest: str) -> None:
        from pathlib import Path

        from story.export import FORMATS, render
        from tui.cli import CommandError, write_atomically

        fmt, _, target = rest.partition(" ")
        if fmt not in FORMATS:
            raise LineError(f"/export takes a format: {', '.join(FORMATS)}")
        text = render(self.store.story_tree(self.story_id), fmt)
        if not target:
            self.out.write(self.show(text))
            return
        try:
            write_atomically(Path(target.strip()).expanduser(), text)
        except (CommandError, OSError) as error:
            raise LineError(f"{target} can't be written ({error})") from None
        self.say(f"exported as {fmt} to {target}")

    def cmd_open(self, rest: str) -> None:
        story = self.store.find_story(rest)
        self.story_id, self.offered, self.offered_parent = story.id, [], None
        self.say(f"writing {story.title!r}")

    def cmd_help(self, rest: str) -> None:
        self.say("Type text to add it to the story. Commands:")
        for command, text in COMMANDS.items():
            self.say(f"  {command:<10} {text}")


def history_file(store: "Store"):
    from prompt_toolkit.history import FileHistory

    digest = hashlib.sha1(str(store.db_path).encode()).hexdigest()[:16]
    folder = config_dir() / "history"
    folder.mkdir(parents=True, exist_ok=True)
    return FileHistory(str(folder / f"{digest}.txt"))


def prompt_reader(writer: LineWriter, **io) -> Callable[[], str]:
    """A prompt-toolkit prompt: history per database, completion of commands and titles."""
    from prompt_toolkit import PromptSession
    from prompt_toolkit.completion import WordCompleter

    titles = [s.title for s in writer.store.list_stories()]
    completer = WordCompleter([*COMMANDS, *titles, *field_types()], sentence=True)
    session = PromptSession(history=history_file(writer.store), completer=completer, **io)
    return lambda: session.prompt("> ")


def run(writer: LineWriter, read: Callable[[], str]) -> None:
    title = writer.store.story(writer.story_id).title
    writer.say(f"writing {title!r}: type text, or /help")
    tip = writer.store.tip(writer.story_id)
    offered = [c for c in writer.store.children(tip.id) if c.author == "model"]
    writer.offered, writer.offered_parent = list(offered), tip.id if offered else None
    while True:
        try:
            line = read()
        except KeyboardInterrupt:
            continue  # Ctrl+C at the prompt clears the line
        except EOFError:
            break
        if not writer.handle(line):
            break


def read_lines(stream: TextIO) -> Callable[[], str]:
    def read() -> str:
        line = stream.readline()
        if not line:
            raise EOFError
        return line

    return read


def main(store: "Store", story_id: int, config: Config, model: str | None) -> None:
    interactive = sys.stdin.isatty() and sys.stdout.isatty()
    writer = LineWriter(store, story_id, sys.stdout, config, model, live=interactive)
    run(writer, prompt_reader(writer) if interactive else read_lines(sys.stdin))
