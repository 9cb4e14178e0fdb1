"""The `taletree` command line: its parser, and the one error policy of every command.

An expected error (a UserError: bad input, a missing story, a locked database) is one line on
stderr and exit code 2; anything else is a bug: one line saying so and where its traceback was
saved, exit code 1. Importing this module stays cheap, so `taletree --help` answers at once:
commands import what they need inside their own functions.
"""

import argparse
import os
import sys
from collections.abc import Callable

from common.errors import EXIT_BUG, EXIT_USER_ERROR, UserError, one_line
from common.text import quoted, whole_number
from engine.settings import SETTING, SETTINGS, SettingsError, parse
from engine.training.settings import ARCHITECTURES, LEVELS, value_type
from engine.training.settings import options as train_options
from story.export import EXPORTS
from tui.commands.convert import cmd_convert
from tui.commands.generate import MAX_BATCH, MAX_SAMPLES, cmd_generate
from tui.commands.library import (
    cmd_delete,
    cmd_export,
    cmd_import,
    cmd_list,
    cmd_path,
    cmd_rename,
    cmd_search,
    cmd_show,
)
from tui.commands.train import cmd_eval, cmd_train
from tui.commands.writing import cmd_default, cmd_explore, cmd_new, cmd_open, cmd_write
from tui.core.bugs import bug_report, keep_warnings_in_the_log
from tui.core.explore import ExploreSettings

TRUSTED = " (it can run code: only for sources you trust)"


def positive_int(text: str) -> int:
    number = whole_number(text)
    if number is None or number < 1:
        raise argparse.ArgumentTypeError(
            f"should be a whole number of 1 or more, not {quoted(text)}"
        )
    return number


def at_most(most: int, hint: str) -> Callable[[str], int]:
    """A whole number of 1 or more with a ceiling: one past it is refused before any work."""

    def checked(text: str) -> int:
        number = positive_int(text)
        if number > most:
            raise argparse.ArgumentTypeError(f"should be at most {most:,}, not {number:,}: {hint}")
        return number

    return checked


def setting_flag(p: argparse.ArgumentParser, name: str, **options) -> None:
    """A flag made from the settings table: its name, help and checks."""
    setting = SETTING[name]

    def typed(text: str):
        try:
            return parse(name, text)
        except SettingsError as error:
            raise argparse.ArgumentTypeError(str(error)) from None

    metavar = name.upper().split("_")[-1] if setting.kind is str else None
    p.add_argument(setting.flag, type=typed, help=setting.help, metavar=metavar, **options)


# Given before or after the command (`taletree --model M open 1`): a command's own flags
# only set what they were given (SUPPRESS), over these defaults.
MODEL_DEFAULTS = {"model": None, "dtype": None, "allow_pickle": False, "trust_remote_code": False}


def add_load_options(p: argparse.ArgumentParser, dtype: bool = True) -> None:
    """How models are loaded: nothing unsafe unless asked for."""
    unset = argparse.SUPPRESS
    if dtype:
        p.add_argument(
            "--dtype",
            choices=["float32", "float16", "bfloat16"],
            default=unset,
            help="the model's number format (default: the best for the device)",
        )
    p.add_argument(
        "--allow-pickle", action="store_true", default=unset, help="load .bin weights" + TRUSTED
    )
    p.add_argument(
        "--trust-remote-code",
        action="store_true",
        default=unset,
        help="run the model folder's own code" + TRUSTED,
    )


def add_model_options(p: argparse.ArgumentParser) -> None:
    setting_flag(p, "model", default=argparse.SUPPRESS)  # over the story's and the config's
    add_load_options(p)


def add_corpus_options(p: argparse.ArgumentParser, optional: bool = False) -> None:
    p.add_argument(
        "corpus",
        metavar="CORPUS",
        nargs="?" if optional else None,
        help="text file (stories separated by blank lines) or CSV",
    )
    p.add_argument("--line-by-line", action="store_true", help="one story per line")
    p.add_argument("--column", metavar="C", help="the CSV column holding the stories")
    p.add_argument("--genre-column", metavar="G", help="the CSV column holding their genres")


def add_train(p: argparse.ArgumentParser) -> None:
    add_corpus_options(p, optional=True)
    p.add_argument("--from-db", action="store_true", help="train on your stories in the database")
    p.add_argument(
        "--include-model-text",
        action="store_true",
        help="with --from-db: keep model-written text too",
    )
    p.add_argument("--out", required=True, metavar="DIR", help="the model folder to write")
    p.add_argument("--arch", choices=ARCHITECTURES, default="gpt2")
    p.add_argument("--level", choices=LEVELS, default="word", help="LSTM tokens")
    p.add_argument(
        "--from",
        dest="from_model",
        metavar="MODEL",
        help="fine-tune this causal model folder (or `default`, SmolLM2-135M-Instruct) instead "
        "of starting anew; its learning rate is 5e-5 unless --learning-rate says",
    )
    for option in train_options():
        flag, help = f"--{option.name.replace('_', '-')}", option.metadata["help"]
        kind = value_type(option)
        metavar = {int: "N", float: "X"}.get(kind, option.name.upper())
        p.add_argument(flag, type=kind, help=help, metavar=metavar)
    p.add_argument("--resume", action="store_true", help="continue from the last checkpoint")
    p.add_argument("--overwrite", action="store_true", help="replace an existing --out folder")
    add_load_options(p, dtype=False)  # for --from


def add_generate(p: argparse.ArgumentParser) -> None:
    source = p.add_mutually_exclusive_group()
    source.add_argument("--prompt", metavar="TEXT", help="text to continue")
    source.add_argument("--prompt-file", metavar="F", help="continue the text of this file")
    p.add_argument("--genre", metavar="G", help="write in this genre (the model's <G> token)")
    p.add_argument(
        "-n",
        type=at_most(MAX_SAMPLES, "for more, run again with another --seed"),
        default=1,
        metavar="N",
        help=f"samples (default 1, at most {MAX_SAMPLES:,})",
    )
    p.add_argument(
        "--batch-size",
        type=at_most(MAX_BATCH, "each sample in a batch holds its own cache"),
        default=1,
        metavar="B",
        help="samples made at once, sharing the prompt (default 1)",
    )
    for setting in SETTINGS:  # every setting the table gives a flag
        if setting.flag:
            # Several models write side by side, each its share of the samples.
            several = {"action": "append"} if setting.name == "model" else {}
            setting_flag(p, setting.name, **several)
    p.add_argument("--truncate", metavar="STR", help="end each sample before this text")
    p.add_argument(
        "--include-prefix",
        action=argparse.BooleanOptionalAction,
        default=True,
        help="start each sample with the prompt (default: yes)",
    )
    p.add_argument("--to-file", metavar="F", help="write the samples here, with a progress bar")
    p.add_argument("--json", action="store_true", help="one JSON object per sample")
    p.add_argument(
        "-v",
        "--verbose",
        action="store_true",
        help="say how the model runs (device, fast or general path)",
    )
    add_load_options(p)


def add_db_option(p: argparse.ArgumentParser, default: object) -> None:
    p.add_argument(
        "--db",
        metavar="PATH",
        default=default,
        help="story database (default: $TALETREE_DB, else ./stories.db)",
    )


class OneLineParser(argparse.ArgumentParser):
    """A command line that can't be read is an expected error like any other: one line that
    says what is wrong and where the help is, exit 2 (argparse prints its usage first)."""

    def error(self, message: str):  # type: ignore[override]
        command = self.prog.removeprefix("taletree").strip()  # the error's own prefix names it
        where = f"{command}: " if command else ""
        raise UserError(f"{where}{message}: see `{self.prog} --help`")


def build_parser() -> argparse.ArgumentParser:
    parser = OneLineParser(
        prog="taletree", description="Write stories with a language model, branch by branch."
    )
    add_db_option(parser, None)
    parser.set_defaults(run=cmd_default, **MODEL_DEFAULTS)
    add_model_options(parser)
    sub = parser.add_subparsers(title="commands", metavar="COMMAND")

    def command(name: str, run: Callable[[argparse.Namespace], object], text: str):
        p = sub.add_parser(name, help=text, description=text)
        add_db_option(p, argparse.SUPPRESS)  # given before the command, it stays
        p.set_defaults(run=run)
        return p

    command("path", cmd_path, "print the database, config file and error log in use")
    command("list", cmd_list, "list the stories: id, title, nodes, last edited")
    p = command("show", cmd_show, "print a story's current path as prose")
    p.add_argument("story", metavar="STORY", help="story id or exact title")
    p = command("search", cmd_search, "full-text search over titles and story text")
    p.add_argument("query", metavar="QUERY")
    p.add_argument(
        "--limit", type=positive_int, default=50, help="most results to show (default 50)"
    )
    p = command("export", cmd_export, f"write a story as {', '.join(EXPORTS)}")
    p.add_argument("story", metavar="STORY", help="story id or exact title")
    p.add_argument(
        "--format",
        choices=list(EXPORTS),
        help="; ".join(f"{f.name}: {f.what}" for f in EXPORTS.values())
        + " (default: from the -o suffix, else md)",
    )
    p.add_argument("-o", "--output", metavar="FILE", help="write here instead of stdout")
    p.add_argument(
        "--force",
        action="store_true",
        help="replace FILE if it exists (at a terminal, Taletree asks)",
    )
    p.add_argument(
        "--lorebook",
        action="store_true",
        help="only the story's lorebook, as JSON (for `import --lorebook`)",
    )
    p = command("import", cmd_import, "add a story from a taletree json export")
    p.add_argument("file", metavar="FILE", help="a .json file written by export, or - for stdin")
    p.add_argument(
        "--lorebook",
        metavar="STORY",
        help="add the file's lorebook entries (a lorebook or a story export) to this "
        "story, instead of adding a story",
    )
    p = command("new", cmd_new, "start a story")
    p.add_argument("title", metavar="TITLE")
    p.add_argument("--genre", metavar="G")
    p.add_argument("--opening", metavar="TEXT", help="the story's first words")
    p.add_argument("--memory", metavar="TEXT", help="kept at the top of the model's context")
    add_model_options(p)
    p = command("open", cmd_open, "open a story in the app")
    p.add_argument("story", metavar="STORY", help="story id or exact title")
    add_model_options(p)
    p = command("write", cmd_write, "write a story line by line, without the full-screen app")
    p.add_argument("story", metavar="STORY", help="story id or exact title")
    add_model_options(p)
    p = command("explore", cmd_explore, "search ahead from a story's tip for the best paths on")
    p.add_argument("story", metavar="STORY", help="story id or exact title")
    defaults = ExploreSettings()
    for flag, metavar, what in (
        ("budget", "B", "expansions (N alternatives each) to spend"),
        ("depth", "D", "passages below the tip, at most"),
    ):
        default = getattr(defaults, flag)
        p.add_argument(
            f"--{flag}",
            type=positive_int,
            default=default,
            metavar=metavar,
            help=f"{what} (default {default})",
        )
    p.add_argument(
        "--question",
        metavar="Q",
        help="score each passage by the model's yes to this question (else: likely)",
    )
    p.add_argument("--json", action="store_true", help="the result as one JSON object")
    for name in ("max_new_tokens", "temperature", "seed"):
        setting_flag(p, name)
    add_model_options(p)
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
    setting_flag(p, "device")
    p.add_argument("--json", action="store_true")
    add_load_options(p)
    p = command("convert", cmd_convert, "turn a model folder into a GGUF file for llama.cpp")
    p.add_argument(
        "model",
        metavar="MODEL_FOLDER",
        nargs="?",
        help="a model folder (from `taletree train`, or a Hugging Face one; default: the "
        "bundled demo model)",
    )
    p.add_argument("--to", choices=["gguf"], default="gguf", help="the format (default gguf)")
    p.add_argument(
        "--quant",
        choices=["q8_0", "q4_k_m", "f16", "f32"],
        default="q8_0",
        help="q8_0: near-lossless at a quarter of float32's size (default); q4_k_m: smallest, "
        "a little less exact; f16, f32: unquantized",
    )
    p.add_argument(
        "-o",
        "--output",
        metavar="FILE",
        help="the .gguf to write (default: MODEL_FOLDER's name and the quantization, here)",
    )
    return parser


def main(argv: list[str] | None = None) -> int:
    keep_warnings_in_the_log()
    try:
        args = build_parser().parse_args(argv)
        code = args.run(args)
    except UserError as error:
        print(f"taletree: {one_line(error)}", file=sys.stderr)
        return EXIT_USER_ERROR
    except KeyboardInterrupt:
        print("taletree: interrupted", file=sys.stderr)
        return 130
    except BrokenPipeError:
        # The reader went away (`taletree list | head`): not an error worth a traceback.
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        return 0
    except Exception as error:
        command = " ".join(["taletree", *(sys.argv[1:] if argv is None else argv)])
        print(f"taletree: {bug_report(error, command)}", file=sys.stderr)
        return EXIT_BUG
    return code or 0
