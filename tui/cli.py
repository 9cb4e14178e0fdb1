"""The `taletree` command line.

Importing this module must stay cheap: `taletree --help` answers at once. Commands import what
they need (the store, and later torch or Textual) inside their own functions.
"""

import argparse
import os
import sys
import tempfile
from collections.abc import Callable
from datetime import datetime
from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from story.store import Store

EXIT_BAD_INPUT = 2
EXPORT_SUFFIXES = {".md": "md", ".txt": "txt", ".json": "json", ".twee": "twee", ".tw": "twee"}


class CommandError(Exception):
    """A one-line problem with what the writer asked for; exit code 2."""


def open_store(args: argparse.Namespace) -> "Store":
    from story.database import database_path
    from story.store import Store

    return Store.open(database_path(getattr(args, "db", None)))


def when(stamp: str) -> str:
    """An ISO time stored in UTC, shown in local time to the minute."""
    return datetime.fromisoformat(stamp).astimezone().strftime("%Y-%m-%d %H:%M")


def cmd_path(args: argparse.Namespace) -> None:
    from story.database import database_path
    from tui.preferences import config_path

    print(f"database  {database_path(getattr(args, 'db', None))}")
    print(f"config    {config_path()}")


def cmd_list(args: argparse.Namespace) -> None:
    from tui.terminal_text import safe_line

    with open_store(args) as store:
        stories = store.list_stories()
        if not stories:
            print(f"no stories yet in {store.db_path}: `taletree new TITLE` starts one")
            return
        width = max(5, *(len(safe_line(s.title)) for s in stories))
        width = min(width, 48)
        print(f"{'ID':>5}  {'TITLE':<{width}}  {'NODES':>6}  LAST EDITED")
        for s in stories:
            title = safe_line(s.title)
            title = title if len(title) <= width else title[: width - 1] + "…"
            print(f"{s.id:>5}  {title:<{width}}  {s.nodes:>6}  {when(s.updated)}")


def cmd_show(args: argparse.Namespace) -> None:
    from tui.terminal_text import safe_prose

    with open_store(args) as store:
        story = store.find_story(args.story)
        text = store.path_text(story.tip_id)
    text = text if text.endswith("\n") or not text else text + "\n"
    sys.stdout.write(safe_prose(text) if sys.stdout.isatty() else text)


def cmd_search(args: argparse.Namespace) -> None:
    from tui.terminal_text import safe_line

    # Private-use characters mark the matches, so they survive safe_line() and can then be
    # turned into bold (on a terminal) or dropped.
    marks = ("\ue000", "\ue001")
    bold = ("\x1b[1m", "\x1b[0m") if sys.stdout.isatty() else ("", "")
    with open_store(args) as store:
        hits = store.search(args.query, limit=args.limit, marks=marks)
    if not hits:
        print(f"nothing matches {args.query!r}")
        return
    for hit in hits:
        where = f"story {hit.story_id} {safe_line(hit.title)!r}"
        where += f" node {hit.node_id}" if hit.node_id is not None else " (title)"
        snippet = safe_line(hit.snippet).replace(marks[0], bold[0]).replace(marks[1], bold[1])
        print(f"{where}: {snippet}")


def write_atomically(path: Path, text: str) -> None:
    """Write to a temporary file beside the target, then rename: never a half-written file."""
    if not path.parent.is_dir():
        raise CommandError(f"{path}: the folder {path.parent} does not exist")
    fd, temporary = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    try:
        with os.fdopen(fd, "w", encoding="utf-8", newline="") as f:
            f.write(text)
            f.flush()
            os.fsync(f.fileno())
        os.replace(temporary, path)
    except BaseException:
        Path(temporary).unlink(missing_ok=True)
        raise


def cmd_export(args: argparse.Namespace) -> None:
    from story.export import render

    fmt = args.format
    if fmt is None:
        suffix = Path(args.output).suffix.lower() if args.output else ""
        fmt = EXPORT_SUFFIXES.get(suffix, "md")
    with open_store(args) as store:
        tree = store.story_tree(store.find_story(args.story).id)
    text = render(tree, fmt)
    if args.output in (None, "-"):
        sys.stdout.write(text)
        return
    try:
        write_atomically(Path(args.output), text)
    except OSError as error:
        raise CommandError(f"{args.output} can't be written ({error.strerror})") from error
    print(f"exported {len(tree.nodes)} nodes as {fmt} to {args.output}", file=sys.stderr)


def cmd_import(args: argparse.Namespace) -> None:
    from story.errors import StoryError
    from story.importer import parse_story_json

    try:
        raw = sys.stdin.buffer.read() if args.file == "-" else Path(args.file).read_bytes()
    except OSError as error:
        raise CommandError(f"{args.file} can't be read ({error.strerror})") from error
    try:
        text = raw.decode("utf-8-sig")
    except UnicodeDecodeError as error:
        raise CommandError(
            f"{args.file} is not UTF-8 text (byte {error.start}): is it a Taletree JSON export?"
        ) from error
    try:
        tree = parse_story_json(text)
    except StoryError as error:
        raise CommandError(f"{args.file}: {error}") from error
    with open_store(args) as store:
        story = store.add_story_tree(tree)
    print(f"imported story {story.id} {story.title!r} ({len(tree.nodes)} nodes)")


def cmd_new(args: argparse.Namespace) -> None:
    with open_store(args) as store:
        story = store.create_story(
            args.title, genre=args.genre, opening=args.opening or "", memory=args.memory or ""
        )
    print(f"created story {story.id} {story.title!r}")
    if interactive():
        run_app(args, story.id)


def cmd_open(args: argparse.Namespace) -> None:
    if not interactive():
        raise CommandError("`taletree open` needs a terminal: `taletree show STORY` prints it")
    with open_store(args) as store:
        story_id = store.find_story(args.story).id
    run_app(args, story_id)


def cmd_write(args: argparse.Namespace) -> None:
    from tui.line_mode import main as write
    from tui.preferences import read_config

    config = read_config()
    with open_store(args) as store:
        story_id = store.find_story(args.story).id
        write(store, story_id, config, getattr(args, "model", None))


def interactive() -> bool:
    """Whether the full-screen app can run: a writer at a terminal, not a pipe or a script."""
    return sys.stdin.isatty() and sys.stdout.isatty()


def run_app(args: argparse.Namespace, story_id: int | None = None) -> None:
    from tui.app import TaletreeApp

    with open_store(args) as store:
        TaletreeApp(store, model=getattr(args, "model", None), story_id=story_id).run()


def cmd_rename(args: argparse.Namespace) -> None:
    with open_store(args) as store:
        story = store.find_story(args.story)
        renamed = store.rename_story(story.id, args.title)
    print(f"renamed story {story.id} to {renamed.title!r}")


def cmd_delete(args: argparse.Namespace) -> None:
    with open_store(args) as store:
        story = store.find_story(args.story)
        nodes = next(s.nodes for s in store.list_stories() if s.id == story.id)
        if not args.yes:
            if not sys.stdin.isatty():
                raise CommandError(
                    f"not deleting story {story.id} without confirmation: pass --yes"
                )
            answer = input(f"Delete story {story.id} {story.title!r} ({nodes} nodes)? [y/N] ")
            if answer.strip().lower() not in ("y", "yes"):
                print("kept")
                return
        store.delete_story(story.id)
    print(f"deleted story {story.id} {story.title!r} ({nodes} nodes)")


def cmd_generate(args: argparse.Namespace) -> None:
    from tui.generate_command import run_generate

    run_generate(args)


def cmd_train(args: argparse.Namespace) -> int:
    from tui.train_command import run_train

    return run_train(args)


def cmd_eval(args: argparse.Namespace) -> None:
    from tui.train_command import run_eval

    run_eval(args)


def cmd_default(args: argparse.Namespace) -> None:
    """Bare `taletree`: the app at a terminal; else the list of stories."""
    from tui.config import DEMO_MODEL

    if interactive():
        run_app(args)
        return
    cmd_list(args)
    if DEMO_MODEL.exists():
        print(f"\nmodel: the bundled demo model ({DEMO_MODEL})")
        print(
            'try:  taletree generate --genre mystery --prompt "The inspector" -n 2 --batch-size 2'
        )
    print("\n`taletree --help` lists the commands.")


def positive_int(text: str) -> int:
    if not text.isdigit() or int(text) < 1:
        raise argparse.ArgumentTypeError(f"should be a whole number of 1 or more, not {text!r}")
    return int(text)


def build_parser() -> argparse.ArgumentParser:
    common = argparse.ArgumentParser(add_help=False)
    common.add_argument(
        "--db",
        metavar="PATH",
        default=argparse.SUPPRESS,
        help="story database (default: $TALETREE_DB, else ./stories.db)",
    )
    parser = argparse.ArgumentParser(
        prog="taletree",
        description="Write stories with a language model, branch by branch.",
        parents=[common],
    )
    parser.set_defaults(run=cmd_default)
    add_model_option(parser)
    sub = parser.add_subparsers(title="commands", metavar="COMMAND")

    def command(name: str, run: Callable[[argparse.Namespace], None], text: str):
        p = sub.add_parser(name, parents=[common], help=text, description=text)
        p.set_defaults(run=run)
        return p

    command("path", cmd_path, "print the database and config file in use")
    command("list", cmd_list, "list the stories: id, title, nodes, last edited")
    p = command("show", cmd_show, "print a story's current path as prose")
    p.add_argument("story", metavar="STORY", help="story id or exact title")
    p = command("search", cmd_search, "full-text search over titles and story text")
    p.add_argument("query", metavar="QUERY")
    p.add_argument(
        "--limit", type=positive_int, default=50, help="most results to show (default 50)"
    )
    p = command("export", cmd_export, "write a story as md, txt, json or twee")
    p.add_argument("story", metavar="STORY", help="story id or exact title")
    p.add_argument(
        "--format",
        choices=["md", "txt", "json", "twee"],
        help="md/txt: the current path; json: the whole tree, lossless; twee: for Twine "
        "(default: from the -o suffix, else md)",
    )
    p.add_argument("-o", "--output", metavar="FILE", help="write here instead of stdout")
    p = command("import", cmd_import, "add a story from a taletree json export")
    p.add_argument("file", metavar="FILE", help="a .json file written by export, or - for stdin")
    p = command("new", cmd_new, "start a story")
    p.add_argument("title", metavar="TITLE")
    p.add_argument("--genre", metavar="G")
    p.add_argument("--opening", metavar="TEXT", help="the story's first words")
    p.add_argument("--memory", metavar="TEXT", help="kept at the top of the model's context")
    add_model_option(p)
    p = command("open", cmd_open, "open a story in the app")
    p.add_argument("story", metavar="STORY", help="story id or exact title")
    add_model_option(p)
    p = command("write", cmd_write, "write a story line by line, without the full-screen app")
    p.add_argument("story", metavar="STORY", help="story id or exact title")
    add_model_option(p)
    p = command("rename", cmd_rename, "give a story a new title")
    p.add_argument("story", metavar="STORY", help="story id or exact title")
    p.add_argument("title", metavar="TITLE")
    p = command("delete", cmd_delete, "delete a story and its whole tree")
    p.add_argument("story", metavar="STORY", help="story id or exact title")
    p.add_argument("--yes", action="store_true", help="don't ask for confirmation")
    add_generate(command("generate", cmd_generate, "write samples from a model to the terminal"))
    add_train(command("train", cmd_train, "train a GPT-2 or an LSTM on a corpus or your stories"))
    p = command("eval", cmd_eval, "a model's held-out bits per character and perplexity")
    p.add_argument("model", metavar="MODEL", help="model folder or cached hub id")
    add_corpus_options(p)
    p.add_argument("--all", action="store_true", help="score every story, not the held-out ones")
    p.add_argument("--device")
    p.add_argument("--json", action="store_true")
    return parser


def add_model_option(p: argparse.ArgumentParser) -> None:
    p.add_argument("--model", metavar="M", default=argparse.SUPPRESS,
                   help="write with this model folder or cached hub id (default: the story's "
                   "setting, else the bundled demo model)")  # fmt: skip


def add_corpus_options(p: argparse.ArgumentParser, optional: bool = False) -> None:
    p.add_argument("corpus", metavar="CORPUS", nargs="?" if optional else None,
                   help="text file (stories separated by blank lines) or CSV")  # fmt: skip
    p.add_argument("--line-by-line", action="store_true", help="one story per line")
    p.add_argument("--column", metavar="C", help="the CSV column holding the stories")
    p.add_argument("--genre-column", metavar="G", help="the CSV column holding their genres")


def add_train(p: argparse.ArgumentParser) -> None:
    add_corpus_options(p, optional=True)
    p.add_argument("--from-db", action="store_true", help="train on your stories in the database")
    p.add_argument("--include-model-text", action="store_true",
                   help="with --from-db: keep model-written text too")  # fmt: skip
    p.add_argument("--out", required=True, metavar="DIR", help="the model folder to write")
    p.add_argument("--arch", choices=["gpt2", "lstm"], default="gpt2")
    p.add_argument("--level", choices=["word", "char"], default="word", help="LSTM tokens")
    p.add_argument("--from", dest="from_model", metavar="MODEL",
                   help="fine-tune this causal model folder instead of starting anew")  # fmt: skip
    for name, kind in (("layers", int), ("heads", int), ("width", int), ("context", int),
                       ("embedding", int), ("hidden", int), ("lstm-layers", int),
                       ("dropout", float), ("vocab-size", int), ("batch-size", int),
                       ("learning-rate", float), ("steps", int), ("epochs", float),
                       ("minutes", float), ("checkpoint-every", int), ("seed", int),
                       ("tune-tokens", int)):  # fmt: skip
        p.add_argument(f"--{name}", type=kind)
    p.add_argument("--device")
    p.add_argument("--resume", action="store_true", help="continue from the last checkpoint")
    p.add_argument("--overwrite", action="store_true", help="replace an existing --out folder")


def add_generate(p: argparse.ArgumentParser) -> None:
    p.add_argument("--model", metavar="M", help="model folder or cached hub id (default: demo)")
    source = p.add_mutually_exclusive_group()
    source.add_argument("--prompt", metavar="TEXT", help="text to continue")
    source.add_argument("--prompt-file", metavar="F", help="continue the text of this file")
    p.add_argument("--genre", metavar="G", help="write in this genre (the model's <G> token)")
    p.add_argument("-n", type=positive_int, default=1, metavar="N", help="samples (default 1)")
    p.add_argument("--batch-size", type=positive_int, default=1, metavar="B",
                   help="samples made at once, sharing the prompt (default 1)")  # fmt: skip
    p.add_argument("--max-new-tokens", type=positive_int, metavar="T")
    p.add_argument("--temperature", type=float, help="0 = always the most likely token")
    p.add_argument("--top-k", type=int)
    p.add_argument("--top-p", type=float)
    p.add_argument("--min-p", type=float)
    p.add_argument("--repetition-penalty", type=float)
    p.add_argument("--seed", type=int, help="the same seed gives the same samples")
    p.add_argument("--truncate", metavar="STR", help="end each sample before this text")
    p.add_argument("--include-prefix", action=argparse.BooleanOptionalAction, default=True,
                   help="start each sample with the prompt (default: yes)")  # fmt: skip
    p.add_argument("--to-file", metavar="F", help="write the samples here, with a progress bar")
    p.add_argument("--json", action="store_true", help="one JSON object per sample")
    p.add_argument("--device", help="cpu, cuda, cuda:N or mps (default: the best there is)")
    p.add_argument("--dtype", choices=["float32", "float16", "bfloat16"])
    trusted = " (it can run code: only for sources you trust)"
    p.add_argument("--allow-pickle", action="store_true", help="load .bin weights" + trusted)
    p.add_argument(
        "--trust-remote-code", action="store_true", help="run the model's code" + trusted
    )


def report(error: Exception) -> int:
    """One line on stderr, whatever the message holds; exit code 2."""
    print(f"taletree: {' '.join(str(error).split())}", file=sys.stderr)
    return EXIT_BAD_INPUT


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    try:
        code = args.run(args)
    except CommandError as error:
        return report(error)
    except KeyboardInterrupt:
        print("taletree: interrupted", file=sys.stderr)
        return 130
    except BrokenPipeError:
        # The reader went away (`taletree list | head`): not an error worth a traceback.
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        return 0
    except Exception as error:
        if is_user_error(error):
            return report(error)
        raise
    return code or 0


# Errors that are the writer's to fix, by module: checked only for modules already imported, so
# that reporting an error never imports torch.
USER_ERRORS = {
    "story.errors": "StoryError",
    "engine.loading": "ModelError",
    "engine.settings": "SettingsError",
    "tui.generate_command": "GenerateError",
    "tui.preferences": "PreferenceError",
    "engine.training.data": "TrainingError",
}


def is_user_error(error: Exception) -> bool:
    return any(
        module in sys.modules and isinstance(error, getattr(sys.modules[module], name))
        for module, name in USER_ERRORS.items()
    )
