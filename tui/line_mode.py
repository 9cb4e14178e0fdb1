"""`taletree write STORY`: the writing loop one line at a time, for plain terminals, screen
readers, SSH and scripts. A face over the writing core: it reads lines and prints.

A line of text joins the story; a line starting with / is a command (/help lists them). At a
terminal the prompt has history (kept per database) and completes commands and story titles,
and the branches are shown growing, one line each; otherwise commands are read line by line
and each branch is printed whole once done. Ctrl+C stops a generation without leaving; Ctrl+D
(or the end of the input) leaves. A command that fails prints one line, and the writing goes on.
"""

import hashlib
import shutil
import signal
import sys
import threading
import time
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, TextIO

from common.errors import UserError, one_line
from common.text import quoted, safe_line, safe_prose, shown_line, whole_number
from engine.settings import SETTING, model_shares
from story.export import EXPORTS
from story.lorebook import LoreEntry, flags, shown_keys, split_keys, where, with_field
from tui.core.bugs import bug_report
from tui.core.explore import ExploreDrained, ExploreSettings, Progress
from tui.core.generation import Notice
from tui.core.library import export_story
from tui.core.model_holder import ModelRequest
from tui.core.paths import config_dir
from tui.core.prompt import ContextReport, cache_line
from tui.core.session import Drained, WritingSession
from tui.core.settings import model_plans
from tui.display import local_time, offered_labels

if TYPE_CHECKING:
    from engine.backend import Backend

COMMANDS = {
    "/gen": "ask the model for N continuations",
    "/pick": "N: keep alternative N (of the last ones listed)",
    "/retry": "new alternatives in place of the last ones (those stay in the tree)",
    "/back": "back to the parent (undo)",
    "/forward": "forward again (redo)",
    "/siblings": "list the alternatives here (then /pick N)",
    "/tree": "[N]: the story as an indented outline (at most N lines, 200 unless given)",
    "/show": "the story so far",
    "/reroll": "N: a new alternative N in place of the one listed (that one stays in the tree)",
    "/explore": "[BUDGET] [DEPTH] [ask QUESTION]: search ahead for the best paths (/pick N)",
    "/ahead": "N: continue alternative N several ways without keeping it (/return goes back)",
    "/return": "back to the alternatives /ahead started from",
    "/passages": "the story's passages, numbered, for the commands below",
    "/edit": "N TEXT: change passage N where it stands (\\n: a new line; no TEXT: show it)",
    "/branch": "N TEXT: passage N edited as a new alternative beside it",
    "/history": "N: passage N's earlier texts (then /restore N R)",
    "/restore": "N R: bring back earlier text R of passage N",
    "/undo": "undo the last edit of a passage (again to redo it)",
    "/split": "N TEXT: cut passage N in two, just before TEXT",
    "/join": "N: join passage N to the passage above it",
    "/more": "[N]: the model writes more onto passage N (default: its last one)",
    "/lore": "the lorebook: list; add KEYS = TEXT; set ID FIELD VALUE; del ID; test",
    "/context": "what the model reads next, part by part, with its tokens (each model's)",
    "/models": "[MODEL*N KEY=VALUE …]: the models writing each step side by side (off: one)",
    "/set": "KEY VALUE: a setting for this story (no KEY: list them)",
    "/memory": "[TEXT]: show or set what the model always reads first",
    "/note": "[TEXT]: show or set the author's note",
    "/export": f"FORMAT [FILE]: {', '.join(EXPORTS)}, to the screen or a file",
    "/open": "STORY: write another story",
    "/help": "this list",
    "/quit": "leave (or Ctrl+D)",
}
ALIASES = {"n": "branches"}  # /set n 2
FRAME = 1 / 30
TREE_LINES = 200  # /tree prints at most this many lines unless asked for more
MAX_INDENT = 12  # levels shown by indentation; deeper lines say their depth instead
CHAIN_ENDS = 3  # nodes shown at each end of a longer run of nodes with one child each


def outline(nodes: list, path: set[int], limit: int = TREE_LINES) -> list[str]:
    """The tree as an indented outline, bounded whatever its shape: indentation stops
    growing past MAX_INDENT levels, a long run of single children is cut in its middle, and
    after `limit` lines a last line says how much was left out."""
    children: dict[int | None, list] = {}
    for node in nodes:
        children.setdefault(node.parent_id, []).append(node)
    lines: list[str] = []
    printed = summarised = 0
    stack = [(node, 0) for node in reversed(children.get(None, []))]
    while stack and len(lines) < limit:
        node, depth = stack.pop()
        chain = [node]
        while len(children.get(chain[-1].id, [])) == 1:
            chain.append(children[chain[-1].id][0])
        for offset, item in enumerate(chain):
            if CHAIN_ENDS <= offset < len(chain) - CHAIN_ENDS and len(chain) > 2 * CHAIN_ENDS + 1:
                if offset == CHAIN_ENDS:
                    hidden = chain[CHAIN_ENDS:-CHAIN_ENDS]
                    on_path = (
                        " (the current path runs through them)"
                        if any(n.id in path for n in hidden)
                        else ""
                    )
                    lines.append(
                        f"{indent(depth + offset)}… {len(hidden):,} more, one below "
                        f"the other{on_path}"
                    )
                    summarised += len(hidden)
                continue
            if len(lines) >= limit:
                break
            mark = "*" if item.id in path else "-"
            preview = safe_line(item.text.strip())[:70] or "(empty)"
            lines.append(f"{indent(depth + offset)}{mark} {item.author}: {preview}")
            printed += 1
        stack.extend((kid, depth + len(chain)) for kid in reversed(children.get(chain[-1].id, [])))
    left = len(nodes) - summarised - printed
    if left > 0:
        lines.append(
            f"(… {left:,} more nodes not shown: the outline stops at {limit} lines; "
            f"/tree {limit * 5} shows more)"
        )
    return lines


def indent(depth: int) -> str:
    if depth <= MAX_INDENT:
        return "  " * depth
    return "  " * MAX_INDENT + f"[depth {depth}] "


class LineWriter:
    def __init__(self, session: WritingSession, out: TextIO, live: bool = False):
        self.session, self.out, self.live = session, out, live
        self.show = safe_prose if live else (lambda text: text)
        self.bugs = 0  # unexpected errors met: the exit code says so at the end

    def say(self, text: str = "") -> None:
        self.out.write(text + "\n")
        self.out.flush()

    def handle(self, line: str) -> bool:
        """One line of input; False when the writer leaves. Whatever fails, the writer gets
        one line, and the writing goes on."""
        line = line.rstrip("\r\n")
        if not line.strip():
            return True
        command, _, rest = line.strip().partition(" ")
        if command in ("/quit", "/exit"):
            return False
        try:
            if not line.startswith("/"):
                self.session.add_text(line)
            elif command in COMMANDS:
                getattr(self, "cmd_" + command[1:])(rest.strip())
            else:
                raise UserError(f"unknown command {command}: /help lists the commands")
        except UserError as error:
            self.say(f"! {one_line(error)}")
        except Exception as error:
            self.bugs += 1
            self.say(f"! {bug_report(error, f'taletree write: {command}')}")
        return True

    # ------------------------------------------------------------------------------ writing

    def cmd_gen(self, rest: str) -> None:
        self.generate(self.session.start_generation)

    def cmd_retry(self, rest: str) -> None:
        if self.session.retry_parent is None:
            raise UserError("nothing to retry yet: /gen asks for alternatives")
        self.generate(self.session.regenerate)

    def load_model(self) -> None:
        """The story's models, loaded here (saying so) unless they already are."""
        session = self.session
        settings = {plan.request: plan.settings for plan in session.plans()}

        def told(request: ModelRequest, backend: "Backend | None") -> None:
            if backend is None:
                self.say(f"(loading {request.label}…)")
                return
            named = f"{request.label}: " if len(settings) > 1 else ""
            self.say(
                f"(ready: {named}{shown_line(backend.device)}, {backend.serving_path}, "
                f"{session.reading_shown(backend, settings[request])})"
            )

        session.load_models(told)

    def generate(self, start: Callable) -> None:
        session = self.session
        self.load_model()
        generation = start()
        shown = 0

        def frame() -> bool:
            nonlocal shown, drained
            drained = session.drain()
            if drained.notices and self.live:
                self.erase(shown)  # the live lines go below the notices, not through them
                shown = 0
            self.tell(drained.notices)
            if self.live:
                shown = self.draw_lines(shown)
            return drained.ended

        drained = Drained()
        run_worker(generation.run, generation.cancel, frame)
        if self.live:
            self.erase(shown)
        if generation.cancel.is_set():
            self.say("(stopped)")
        if drained.extended:
            self.say(f"(more:){self.show(session.branches[0].text if session.branches else '')}")
            return
        self.list_branches()
        self.say("(/pick N keeps one, /retry asks again)")

    def tell(self, notices: list[Notice]) -> None:
        for notice in notices:
            text = shown_line(notice.text)
            self.say(f"! {text}" if notice.severity == "error" else f"({text})")

    def cmd_explore(self, rest: str) -> None:
        settings = explore_settings(rest)
        session = self.session
        self.load_model()
        exploration = session.explore(settings)

        def frame() -> bool:
            nonlocal drained
            drained = session.drain_exploration()
            self.tell(drained.notices)
            if drained.progress is not None and self.live:
                self.out.write(f"\r{progress_line(drained.progress)}\x1b[K")
                self.out.flush()
            return drained.ended

        drained = ExploreDrained()
        run_worker(exploration.run, exploration.cancel, frame)
        if self.live:
            self.out.write("\r\x1b[K")
        done = f"{exploration.expansions} of {settings.budget} expansions"
        stopped = ", stopped" if exploration.cancel.is_set() else ""
        self.say(f"(explored: {done}, {len(exploration.nodes)} passages{stopped})")
        for number, path in enumerate(drained.paths, 1):
            passages = f"{len(path.node_ids)} passage{'s' if len(path.node_ids) > 1 else ''}"
            self.say(f"[{number}] (score {path.score:.2f}, {passages}){self.show(path.text)}")
        if drained.paths:
            self.say("(/pick N keeps a whole path; every explored passage stays in the tree)")

    def draw_lines(self, shown: int) -> int:
        """One line per branch, redrawn in place: the end of each as it grows."""
        width = shutil.get_terminal_size().columns - 6
        self.erase(shown)
        branches = self.session.branches
        for label, branch in zip(self.branch_labels(), branches, strict=True):
            self.out.write(f"{label} {safe_line(branch.text)[-width:]}\n")
        self.out.flush()
        return len(branches)

    def erase(self, lines: int) -> None:
        if lines:
            self.out.write(f"\x1b[{lines}F\x1b[J")  # up to the first line, clear below

    def cmd_pick(self, rest: str) -> None:
        count = len(self.session.branches)
        if not rest.isdigit() or not 1 <= int(rest) <= count:
            listed = f"1 to {count}" if count else "none listed yet (/gen)"
            raise UserError(f"/pick takes the number of an alternative: {listed}")
        self.session.keep(int(rest) - 1)
        self.say(f"kept {rest}.")

    # ------------------------------------------------------------------------------- moving

    def cmd_back(self, rest: str) -> None:
        self.step("parent", "at the opening already")

    def cmd_forward(self, rest: str) -> None:
        self.step("child", "nothing further down")

    def step(self, direction: str, at_end: str) -> None:
        node = self.session.step(direction)
        if node is None:
            raise UserError(at_end)
        self.say(f"now at: …{self.show(node.text[-70:])}")

    def cmd_siblings(self, rest: str) -> None:
        tip = self.session.tip()
        for number, node in enumerate(self.session.offer_siblings(), 1):
            mark = "*" if node.id == tip.id else " "
            self.say(f"{mark}[{number}] {node.author}: {self.show(node.text.strip())}")

    def cmd_tree(self, rest: str) -> None:
        if rest and not (rest.isdigit() and int(rest) > 0):
            raise UserError("/tree takes the most lines to print, a whole number: /tree 500")
        session = self.session
        nodes = session.tree().nodes
        path = {n.id for n in session.path()}
        for line in outline(nodes, path, int(rest) if rest else TREE_LINES):
            self.say(line)

    def cmd_show(self, rest: str) -> None:
        self.say(self.show("".join(node.text for node in self.session.path())))

    # -------------------------------------------------------------------- steering one

    def cmd_reroll(self, rest: str) -> None:
        self.generate(lambda: self.session.reroll(self.branch_number(rest, "/reroll") - 1))

    def cmd_ahead(self, rest: str) -> None:
        self.generate(lambda: self.session.look_ahead(self.branch_number(rest, "/ahead") - 1))

    def cmd_return(self, rest: str) -> None:
        if not self.session.back_from_look_ahead():
            raise UserError("not looking ahead: /ahead N continues alternative N")
        self.list_branches()

    def cmd_more(self, rest: str) -> None:
        node_id = self.passage(rest).id if rest else self.session.last_model_node()
        self.generate(lambda: self.session.more(node_id))

    def branch_number(self, rest: str, command: str) -> int:
        count = len(self.session.branches)
        if not rest.isdigit() or not 1 <= int(rest) <= count:
            listed = f"1 to {count}" if count else "none listed yet (/gen)"
            raise UserError(f"{command} takes the number of an alternative: {listed}")
        return int(rest)

    def list_branches(self) -> None:
        for label, branch in zip(self.branch_labels(), self.session.branches, strict=True):
            self.say(f"{label}{self.show(branch.text)}")

    def branch_labels(self) -> list[str]:
        """[N] for each branch on offer, or where several models write, [N · model]."""
        return [
            f"[{number} · {safe_line(model)}]" if model else f"[{number}]"
            for number, model in enumerate(offered_labels(self.session), 1)
        ]

    # ---------------------------------------------------------------- passages in place

    def passage(self, number: str, command: str = "this command"):
        """Passage N of the current path (from 1, the opening)."""
        path = self.session.path()
        if not number.isdigit() or not 1 <= int(number) <= len(path):
            raise UserError(
                f"{command} takes a passage number from 1 to {len(path)} (/passages lists them)"
            )
        return path[int(number) - 1]

    def cmd_passages(self, rest: str) -> None:
        for number, node in enumerate(self.session.path(), 1):
            preview = safe_line(node.text.strip())[:70] or "(empty)"
            self.say(f"[{number}] {node.author}: {preview}")

    def cmd_edit(self, rest: str) -> None:
        number, _, text = rest.partition(" ")
        node = self.passage(number, "/edit")
        if not text:
            self.say(self.show(node.text))
            return
        self.session.revise(node.id, same_lead(node.text, unescape(text)))
        self.say(f"passage {number} changed (/undo brings the old text back)")

    def cmd_branch(self, rest: str) -> None:
        number, _, text = rest.partition(" ")
        node = self.passage(number, "/branch")
        if not text:
            raise UserError("/branch takes the passage's new text: /branch N TEXT")
        self.session.edit_as_branch(node.id, same_lead(node.text, unescape(text)))
        self.say(f"passage {number} edited as a new alternative; you stand on it")

    def cmd_history(self, rest: str) -> None:
        node = self.passage(rest, "/history")
        revisions = self.session.revisions(node.id)
        if not revisions:
            self.say(f"passage {rest} has not been edited")
        for number, revision in enumerate(revisions, 1):
            preview = safe_line(revision.text.strip())[:60] or "(empty)"
            self.say(f"[{number}] until {local_time(revision.replaced)}: {preview}")

    def cmd_restore(self, rest: str) -> None:
        number, _, which = rest.partition(" ")
        revisions = self.session.revisions(self.passage(number, "/restore").id)
        if not which.isdigit() or not 1 <= int(which) <= len(revisions):
            raise UserError(
                f"/restore N R takes a revision R of passage N: /history {number} lists them"
            )
        self.session.restore(revisions[int(which) - 1].id)
        self.say(f"passage {number} restored")

    def cmd_undo(self, rest: str) -> None:
        node = self.session.undo_edit()
        self.say(f"undone: …{self.show(node.text[-70:])}")

    def cmd_split(self, rest: str) -> None:
        number, _, before = rest.partition(" ")
        node = self.passage(number, "/split")
        at = node.text.find(unescape(before)) if before else -1
        if at <= 0:
            raise UserError(
                f"/split N TEXT cuts passage {number} before TEXT, which must be in "
                "it, after its start"
            )
        self.session.split(node.id, at)
        self.say(f"passage {number} split in two")

    def cmd_join(self, rest: str) -> None:
        self.session.merge(self.passage(rest, "/join").id)
        self.say(f"passage {rest} joined to the one above it")

    # ---------------------------------------------------------------------------- lorebook

    def cmd_lore(self, rest: str) -> None:
        action, _, args = rest.partition(" ")
        session = self.session
        if not action:
            entries = session.lore()
            if not entries:
                self.say("the lorebook is empty: /lore add KEYS = TEXT")
            for entry in entries:
                self.say(describe_entry(entry))
        elif action == "add":
            keys, separator, text = args.partition("=")
            if not separator:
                raise UserError("/lore add takes KEYS = TEXT: /lore add Mara, keeper = Mara …")
            entry = session.save_lore(LoreEntry(split_keys(keys), unescape(text.strip())))
            self.say(f"added {describe_entry(entry)}")
        elif action == "set":
            entry_id, _, change = args.partition(" ")
            field, _, value = change.partition(" ")
            value = unescape(value) if field == "text" else value
            entry = with_field(self.lore_entry(entry_id), field, value)
            self.say(f"now {describe_entry(session.save_lore(entry))}")
        elif action in ("del", "delete"):
            session.delete_lore(self.lore_entry(args).id)  # type: ignore[arg-type]
            self.say(f"deleted lore entry {args}")
        elif action == "test":
            found = session.lore_test()
            if not found:
                self.say("no entry fires at the story's end")
            for item in found:
                self.say(f"fires: {describe_entry(item.entry)} (on {item.key!r})")
        else:
            raise UserError(f"unknown /lore {action}: /lore, add, set, del or test")

    def lore_entry(self, entry_id: str) -> LoreEntry:
        entries = {str(e.id): e for e in self.session.lore()}
        if entry_id not in entries:
            raise UserError(f"there is no lore entry {entry_id!r}: /lore lists them")
        return entries[entry_id]

    def cmd_context(self, rest: str) -> None:
        self.load_model()  # what the model reads is counted in its tokens
        reports = self.session.context_reports()
        for model, report in reports:
            if len(reports) > 1:
                self.say(f"{safe_line(model)}:")
            for line in describe_context(report):
                self.say(line)

    def cmd_models(self, rest: str) -> None:
        """/models lists the set; /models A*2 B*2 … sets it; /models off leaves one model."""
        if rest:
            self.session.set_setting("models", "" if rest.strip() == "off" else rest)
        settings = self.session.settings()
        plans = model_plans(settings)
        if len(plans) == 1:
            self.say(f"(one model writes every branch: {plans[0].request.label})")
            return
        for plan, share in zip(plans, model_shares(settings["models"]), strict=True):
            shown = "".join(f" {k}={v}" for k, v in share.settings.items())
            branches = f"{plan.branches} branch{'es' if plan.branches > 1 else ''}"
            self.say(f"{plan.request.label}: {branches}{safe_line(shown)}")
        self.say("(/gen asks them all; /models off goes back to one)")

    # ----------------------------------------------------------------------------- settings

    def cmd_set(self, rest: str) -> None:
        if not rest:
            for name, value in self.session.settings().items():
                blank = value is None or value == ""
                self.say(f"{name} = {f'({SETTING[name].blank})' if blank else value}")
            return
        key, _, value = rest.partition(" ")
        key = ALIASES.get(key, key)
        if key not in SETTING:
            raise UserError(f"no setting {key!r}: /set lists them")
        self.say(f"{key} = {self.session.set_setting(key, value)}")

    def cmd_memory(self, rest: str) -> None:
        self.story_field("memory", rest)

    def cmd_note(self, rest: str) -> None:
        self.story_field("note", rest)

    def story_field(self, name: str, value: str) -> None:
        if value:
            self.session.set_story_field(name, value)
        current = getattr(self.session.story(), name)
        self.say(f"{name}: {self.show(current)}" if current else f"{name}: (none)")

    def cmd_export(self, rest: str) -> None:
        fmt, _, target = rest.partition(" ")
        if fmt not in EXPORTS:
            raise UserError(f"/export takes a format: {', '.join(EXPORTS)}")
        session = self.session
        path = Path(target.strip()) if target.strip() else None
        text = export_story(session.store, session.story().id, fmt, path)
        if path is None:
            self.out.write(self.show(text))
        else:
            self.say(f"exported as {fmt} to {path}")

    def cmd_open(self, rest: str) -> None:
        story = self.session.open_story(rest)
        self.say(f"writing {quoted(story.title)}")

    def cmd_help(self, rest: str) -> None:
        self.say("Type text to add it to the story. Commands:")
        for command, text in COMMANDS.items():
            self.say(f"  {command:<10} {text}")


def run_worker(
    work: Callable[[], None], cancel: threading.Event, frame: Callable[[], bool]
) -> None:
    """Run the model's work in a thread, calling `frame` about 30 times a second until it says
    the work has ended. Ctrl+C stops the model, not the program: what it wrote stays."""
    worker = threading.Thread(target=work, name="model", daemon=True)
    previous = signal.signal(signal.SIGINT, lambda *_: cancel.set())
    try:
        worker.start()
        while not frame():
            time.sleep(FRAME)
    finally:
        signal.signal(signal.SIGINT, previous)
        worker.join()


def explore_settings(rest: str) -> ExploreSettings:
    """/explore [BUDGET] [DEPTH], or /explore [BUDGET] [DEPTH] ask QUESTION."""
    numbers, asks, question = rest.partition("ask")
    if asks and not question.strip():
        raise UserError("/explore ask takes a yes/no question: /explore ask Is Mira still acting?")
    given = numbers.split()
    if len(given) > 2 or any(whole_number(n) is None for n in given):
        raise UserError("/explore takes a budget and a depth, whole numbers: /explore 12 3")
    defaults = ExploreSettings()
    budget = int(given[0]) if given else defaults.budget
    depth = int(given[1]) if len(given) > 1 else defaults.depth
    return ExploreSettings(depth, budget, question.strip() or None)


def progress_line(progress: Progress) -> str:
    left = progress.seconds_left
    time_left = f", about {left:.0f} s left" if left is not None else ""
    done = f"{progress.expansions} of {progress.budget} expansions"
    return f"exploring: {done}, {progress.passages} passages{time_left}"


def unescape(text: str) -> str:
    """A line's text with \\n as a line break (line mode reads one line at a time)."""
    return text.replace("\\n", "\n")


def same_lead(old: str, new: str) -> str:
    """A line typed to replace a passage keeps the passage's leading space (the space that
    joins it to the passage before), unless it brings its own."""
    lead = old[: len(old) - len(old.lstrip())]
    return new if new[:1].isspace() else lead + new


def describe_entry(entry: LoreEntry) -> str:
    keys = shown_keys(entry) or "(no keys)"
    shown = ", ".join([f"rank {entry.rank}", where(entry), *flags(entry)])
    return f"#{entry.id} [{safe_line(keys)}] {shown}: {safe_line(entry.text)[:60]}"


def describe_context(report: ContextReport) -> list[str]:
    """The context view's content as lines: each part with its tokens, and what was cut."""
    share = f" ({report.share:.0%} of the {report.window:,}-token window)" if report.window else ""
    lines = [f"what the model reads next: {report.tokens} tokens{share}"]
    if report.cached:
        lines.append(f"  ({cache_line(report)})")
    for row in report.rows:
        lines.append(f"  {row.tokens:>6}  {row.label}: {safe_line(row.text.strip())[:60]}")
    lines += [f"  ({note})" for note in report.notes]
    return lines


def history_file(db_path: Path):
    from prompt_toolkit.history import FileHistory

    digest = hashlib.sha1(str(db_path).encode()).hexdigest()[:16]
    folder = config_dir() / "history"
    folder.mkdir(parents=True, exist_ok=True)
    return FileHistory(str(folder / f"{digest}.txt"))


def prompt_reader(writer: LineWriter, **io) -> Callable[[], str]:
    """A prompt-toolkit prompt: history per database, completion of commands and titles."""
    from prompt_toolkit import PromptSession
    from prompt_toolkit.completion import WordCompleter

    store = writer.session.store
    titles = [s.title for s in store.list_stories()]
    completer = WordCompleter([*COMMANDS, *titles, *SETTING], sentence=True)
    prompt = PromptSession(history=history_file(store.db_path), completer=completer, **io)
    return lambda: prompt.prompt("> ")


def run(writer: LineWriter, read: Callable[[], str]) -> None:
    writer.say(f"writing {quoted(writer.session.story().title)}: type text, or /help")
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


def main(session: WritingSession) -> int:
    """The exit code: 1 when a bug was met on the way, else 0."""
    interactive = sys.stdin.isatty() and sys.stdout.isatty()
    writer = LineWriter(session, sys.stdout, live=interactive)
    run(writer, prompt_reader(writer) if interactive else read_lines(sys.stdin))
    return 1 if writer.bugs else 0
