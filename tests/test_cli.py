"""The `taletree` command line, run as a real process against a real database file."""

import json
import os
import subprocess
import sys

from story import NodeDraft, Store
from tests.conftest import ROOT, run_cli


def seed_story(db_path, title="The Well", opening="Water, deep.") -> int:
    with Store.open(db_path) as store:
        story = store.create_story(title, genre="horror", opening=opening)
        tip = store.append(story.root_id, NodeDraft(" Something stirred.", author="model"))
        store.append(tip.id, " It climbed.")
        return story.id


def test_help_lists_the_commands_and_needs_no_database(tmp_path):
    result = subprocess.run(
        [sys.executable, "-m", "tui", "--help"],
        capture_output=True,
        text=True,
        cwd=tmp_path,
        env={**os.environ, "PYTHONPATH": str(ROOT)},
    )
    assert result.returncode == 0
    for command in ("path", "list", "show", "search", "export", "import", "rename", "delete"):
        assert command in result.stdout
    assert not (tmp_path / "stories.db").exists()


def test_the_console_script_is_installed():
    script = ROOT / ".venv" / "bin" / "taletree"
    found = script if script.exists() else "taletree"
    result = subprocess.run([str(found), "--help"], capture_output=True, text=True)
    assert result.returncode == 0 and "usage: taletree" in result.stdout


def test_database_path_order_flag_then_environment_then_current_folder(tmp_path):
    from_env = tmp_path / "env.db"
    flag = tmp_path / "flag.db"
    result = run_cli("path", env={"TALETREE_DB": str(from_env)})
    assert f"database  {from_env}" in result.stdout and "config    " in result.stdout
    result = run_cli("path", "--db", str(flag), env={"TALETREE_DB": str(from_env)})
    assert f"database  {flag}" in result.stdout
    assert f"database  {ROOT / 'stories.db'}" in run_cli("path").stdout
    config = run_cli("path", env={"XDG_CONFIG_HOME": str(tmp_path)}).stdout
    assert f"config    {tmp_path / 'taletree'}" in config
    assert not from_env.exists() and not flag.exists()  # `path` opens nothing


def test_global_db_option_works_before_the_command(db_path):
    seed_story(db_path)
    result = subprocess.run(
        [sys.executable, "-m", "tui", "--db", str(db_path), "list"],
        capture_output=True,
        text=True,
        cwd=ROOT,
    )
    assert "The Well" in result.stdout


def test_new_list_show(db_path):
    assert "no stories yet" in run_cli("list", db=db_path).stdout
    created = run_cli("new", "Night Train", "--genre", "mystery", "--opening", "Rain.", db=db_path)
    assert created.returncode == 0 and "created story 1 'Night Train'" in created.stdout
    seed_story(db_path)
    lines = run_cli("list", db=db_path).stdout.splitlines()
    assert lines[0].split() == ["ID", "TITLE", "NODES", "LAST", "EDITED"]
    assert lines[1].split()[:4] == ["2", "The", "Well", "3"]
    assert lines[2].split()[:4] == ["1", "Night", "Train", "1"]
    assert run_cli("show", "The Well", db=db_path).stdout == (
        "Water, deep. Something stirred. It climbed.\n"
    )
    assert run_cli("show", "1", db=db_path).stdout == "Rain.\n"


def test_unknown_story_and_bad_arguments_exit_2(db_path):
    seed_story(db_path)
    result = run_cli("show", "Missing", db=db_path)
    assert result.returncode == 2
    assert (
        result.stderr
        == "taletree: no story has the id or title 'Missing': `taletree list` shows them\n"
    )
    assert run_cli("export", "1", "--format", "pdf", db=db_path).returncode == 2
    assert run_cli("frobnicate", db=db_path).returncode == 2
    assert run_cli("new", "  ", db=db_path).returncode == 2
    limit = run_cli("search", "x", "--limit", "-1", db=db_path)
    assert limit.returncode == 2 and "1 or more" in limit.stderr


def test_search(db_path):
    story_id = seed_story(db_path)
    result = run_cli("search", "stirr", db=db_path)
    assert result.stdout == f"story {story_id} 'The Well' node 2: Something stirred.\n"
    assert "(title)" in run_cli("search", "well", db=db_path).stdout
    assert "nothing matches" in run_cli("search", "zebra", db=db_path).stdout


def test_export_to_stdout_and_to_files_by_suffix(db_path, tmp_path):
    seed_story(db_path)
    assert run_cli("export", "1", db=db_path).stdout.startswith("# The Well\n\n")
    assert run_cli("export", "1", "--format", "txt", db=db_path).stdout.startswith("Water")
    for suffix, start in ((".json", '{\n  "format": "taletree-story/1"'), (".twee", ":: Story")):
        target = tmp_path / f"out{suffix}"
        result = run_cli("export", "The Well", "-o", str(target), db=db_path)
        assert result.returncode == 0, result.stderr
        assert target.read_text(encoding="utf-8").startswith(start)
    assert sorted(p.name for p in tmp_path.iterdir() if p.name.startswith(".")) == []
    nowhere = run_cli("export", "1", "-o", str(tmp_path / "no" / "x.md"), db=db_path)
    assert nowhere.returncode == 2 and "does not exist" in nowhere.stderr


def test_import_round_trip_through_the_command_line(db_path, tmp_path):
    seed_story(db_path)
    first = tmp_path / "first.json"
    second = tmp_path / "second.json"
    run_cli("export", "1", "-o", str(first), db=db_path)
    result = run_cli("import", str(first), db=db_path)
    assert result.stdout == "imported story 2 'The Well' (3 nodes)\n"
    run_cli("export", "2", "-o", str(second), db=db_path)
    assert first.read_text(encoding="utf-8") == second.read_text(encoding="utf-8")
    from_stdin = run_cli("import", "-", db=db_path, stdin=first.read_text(encoding="utf-8"))
    assert "imported story 3" in from_stdin.stdout


def test_rename_and_delete(db_path):
    seed_story(db_path)
    assert (
        "renamed story 1 to 'The Deep Well'"
        in run_cli("rename", "The Well", "The Deep Well", db=db_path).stdout
    )
    refused = run_cli("delete", "1", db=db_path, stdin="")
    assert refused.returncode == 2 and "pass --yes" in refused.stderr
    assert "The Deep Well" in run_cli("list", db=db_path).stdout
    deleted = run_cli("delete", "The Deep Well", "--yes", db=db_path)
    assert deleted.stdout == "deleted story 1 'The Deep Well' (3 nodes)\n"
    assert "no stories yet" in run_cli("list", db=db_path).stdout


def test_delete_asks_on_a_terminal(db_path):
    import pty

    seed_story(db_path)
    for answer, kept in ((b"n\n", True), (b"y\n", False)):
        pid, fd = pty.fork()
        if pid == 0:
            os.chdir(ROOT)
            os.execv(
                sys.executable, [sys.executable, "-m", "tui", "delete", "1", "--db", str(db_path)]
            )
        output = b""
        while b"[y/N]" not in output:
            output += os.read(fd, 1024)
        assert b"Delete story 1 'The Well' (3 nodes)?" in output
        os.write(fd, answer)
        _, status = os.waitpid(pid, 0)
        assert os.waitstatus_to_exitcode(status) == 0
        assert ("The Well" in run_cli("list", db=db_path).stdout) is kept


def test_terminal_escapes_in_stories_are_shown_not_obeyed(db_path):
    with Store.open(db_path) as store:
        story = store.create_story("Evil\x1b[2J title", opening="Bell\x07 and \x1b[31mred\x1b[0m")
        store.append(story.root_id, "\nnext line")
    listed = run_cli("list", db=db_path).stdout
    assert "\x1b" not in listed and "Evil␛[2J title" in listed
    # Piped output is the story itself, byte for byte (for redirecting to files).
    assert run_cli("show", "1", db=db_path).stdout == "Bell\x07 and \x1b[31mred\x1b[0m\nnext line\n"
    from common.text import safe_line, safe_prose

    assert safe_prose("a\x1b[31mb\nc\td\x9b") == "a␛[31mb\nc\td\\x9b"
    assert safe_line("a\nb\tc\r") == "a␤b␉c␍"


def test_json_export_is_parseable_json(db_path):
    seed_story(db_path)
    document = json.loads(run_cli("export", "1", "--format", "json", db=db_path).stdout)
    assert [n["text"] for n in document["nodes"]] == [
        "Water, deep.",
        " Something stirred.",
        " It climbed.",
    ]


def test_bare_taletree_lists_the_library_and_names_the_default_model(db_path):
    from assets import DEMO_MODEL

    seed_story(db_path)
    result = run_cli(db=db_path)
    assert result.returncode == 0 and "The Well" in result.stdout
    assert "taletree --help" in result.stdout
    from engine.smollm2 import packaged_gguf

    if packaged_gguf() is not None:  # the default model, named by its file
        assert f"model: SmolLM2-135M-Instruct, the default ({packaged_gguf()})" in result.stdout
    else:
        assert (str(DEMO_MODEL) in result.stdout) == DEMO_MODEL.exists()
