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
    from engine.smollm2 import DEFAULT_NAME, INSTALL, packaged_gguf
    from tui.commands.library import cmd_list

    if interactive():
        return run_app(args)
    cmd_list(args)
    if packaged_gguf() is not None:
        print(f"\nmodel: {DEFAULT_NAME}, the default ({packaged_gguf()})")
        print('try:  taletree generate --prompt "The lighthouse keeper" -n 2 --batch-size 2')
    elif DEMO_MODEL.exists():
        print(f"\nmodel: the bundled demo model ({DEMO_MODEL})")
        print(f"       (the default model, {DEFAULT_NAME}, isn't installed: `{INSTALL}`)")
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


def cmd_explore(args: argparse.Namespace) -> int:
    """Search ahead from a story's tip and print the best paths (text, or JSON)."""
    import json

    from engine.settings import SETTINGS
    from tui.core.config_file import read_config
    from tui.core.explore import ExploreDrained, ExploreSettings
    from tui.core.library import open_store
    from tui.line_mode import progress_line, run_worker

    config = read_config()
    with open_store(args.db) as store:
        session = writing_session(args, store, config)
        session.cli_settings = {
            s.name: getattr(args, s.name)
            for s in SETTINGS
            if getattr(args, s.name, None) is not None
        }
        story = session.open_story(args.story)
        settings = ExploreSettings(args.depth, args.budget, args.question).check()  # before loading
        session.load_models()
        exploration = session.explore(settings)
        bar = sys.stderr.isatty()
        failed = []

        def frame() -> bool:
            nonlocal drained
            drained = session.drain_exploration()
            failed.extend(drained.notices)
            if bar and drained.progress is not None:
                sys.stderr.write(f"\r{progress_line(drained.progress)}\x1b[K")
                sys.stderr.flush()
            return drained.ended

        drained = ExploreDrained()
        run_worker(exploration.run, exploration.cancel, frame)
        if bar:
            sys.stderr.write("\r\x1b[K")
        if failed:
            raise UserError(failed[0].text)
        session.close_story()
    stopped = exploration.cancel.is_set()
    if args.json:
        paths = [
            {
                "score": p.score,
                "node_ids": list(p.node_ids),
                "passages": list(p.texts),
                "text": p.text,
            }
            for p in drained.paths
        ]
        found = {
            "story": story.id,
            "start": exploration.start_id,
            "seed": exploration.seed,
            "expansions": exploration.expansions,
            "passages": len(exploration.nodes),
            "stopped": stopped,
            "paths": paths,
        }
        print(json.dumps(found, ensure_ascii=False))
    else:
        from common.text import safe_prose

        show = safe_prose if sys.stdout.isatty() else (lambda text: text)
        for number, path in enumerate(drained.paths, 1):
            print(f"[{number}] score {path.score:.3f}, {len(path.node_ids)} passages")
            print(show(path.text.strip()) + "\n")
        print(
            f"explored {exploration.expansions} of {settings.budget} expansions, "
            f"{len(exploration.nodes)} passages kept in the tree as explored; keep a path "
            f"from the app or `taletree write` (/explore, /pick)",
            file=sys.stderr,
        )
    return 130 if stopped else 0
