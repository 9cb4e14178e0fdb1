"""Commands that write: bare `taletree` and `open` (the app), `new` (create, then the app at a
terminal), `write` (line mode)."""

import argparse
import sys

from common.errors import UserError
from common.text import quoted


def interactive() -> bool:
    """Whether the full-screen app can run: a writer at a terminal, not a pipe or a script."""
    return sys.stdin.isatty() and sys.stdout.isatty()


def writing_session(args: argparse.Namespace, store, config):
    from tui.core.model_holder import LoadOptions
    from tui.core.session import WritingSession

    options = LoadOptions(
        dtype=args.dtype,
        allow_pickle=args.allow_pickle,
        trust_remote_code=args.trust_remote_code,
        api_key=config.server_key(),
    )
    return WritingSession(store, config, model=args.model, load_options=options)


def run_app(args: argparse.Namespace, story_id: int | None = None) -> int:
    from tui.app import TaletreeApp
    from tui.core.config_file import Config, read_config
    from tui.core.library import open_store

    config_problem = None
    try:
        config = read_config()
    except UserError as error:
        config, config_problem = Config(), error  # the app says so, and runs on the defaults
    with open_store(args.db) as store:
        app = TaletreeApp(
            writing_session(args, store, config), story_id=story_id, config_problem=config_problem
        )
        app.run()
    if app.bug_report:
        print(f"taletree: {app.bug_report}", file=sys.stderr)
    return app.return_code or 0


def cmd_default(args: argparse.Namespace) -> int:
    """Bare `taletree`: the app at a terminal; else the list of stories."""
    from assets import DEMO_MODEL
    from tui.commands.library import cmd_list

    if interactive():
        return run_app(args)
    cmd_list(args)
    if DEMO_MODEL.exists():
        print(f"\nmodel: the bundled demo model ({DEMO_MODEL})")
        print(
            'try:  taletree generate --genre mystery --prompt "The inspector" -n 2 --batch-size 2'
        )
    print("\n`taletree --help` lists the commands.")
    return 0


def cmd_new(args: argparse.Namespace) -> int:
    from tui.core.library import open_store

    with open_store(args.db) as store:
        story = store.create_story(
            args.title, genre=args.genre, opening=args.opening or "", memory=args.memory or ""
        )
    print(f"created story {story.id} {quoted(story.title)}")
    return run_app(args, story.id) if interactive() else 0


def cmd_open(args: argparse.Namespace) -> int:
    from tui.core.library import open_store

    if not interactive():
        raise UserError("`taletree open` needs a terminal: `taletree show STORY` prints it")
    with open_store(args.db) as store:
        story_id = store.find_story(args.story).id
    return run_app(args, story_id)


def cmd_write(args: argparse.Namespace) -> int:
    from tui.core.config_file import read_config
    from tui.core.library import open_store
    from tui.line_mode import main as write

    config = read_config()
    with open_store(args.db) as store:
        session = writing_session(args, store, config)
        session.open_story(args.story)
        return write(session)
