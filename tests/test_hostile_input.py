"""Hostile but realistic input, one test per way it once lost data, ran foreign code or
crashed (issue 10), each with the exact input. Through the real `taletree` wherever a writer
would meet it: one line, exit 2, nothing written or changed."""

import json
import os
import re
import resource
import signal
import sqlite3
import stat
import subprocess
import sys
import time
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from story import NodeDraft, Store
from story.export import to_json, to_twee
from story.importer import InvalidImport, parse_story_json
from testbed.tiny_models import save_tiny_model
from tests.conftest import ROOT, one_line_refusal, run_cli

STAMP = "2026-01-02T03:04:05.000006+00:00"


def taletree(*args, db: Path, stdin: bytes | None = None, limits=(), env=None):
    """`taletree` with byte arguments and resource limits, as a shell could start it."""

    def limited():
        signal.signal(signal.SIGXFSZ, signal.SIG_IGN)  # a write past the limit fails, no kill
        for which, value in limits:
            resource.setrlimit(which, (value, value))

    result = subprocess.run(
        [sys.executable, "-m", "tui", *args, "--db", str(db)],
        input=stdin,
        capture_output=True,
        cwd=ROOT,
        timeout=120,
        env={**os.environ, **(env or {})},
        preexec_fn=limited,
    )
    result.stderr = result.stderr.decode(errors="replace")
    return result


def story_document(**changes) -> dict:
    document = {
        "format": "taletree-story/1",
        "title": "Valid",
        "genre": None,
        "memory": "",
        "note": "",
        "note_depth": 3,
        "created": STAMP,
        "updated": STAMP,
        "tip": 2,
        "bookmarks": [],
        "nodes": [
            {"id": 1, "parent": None, "author": "user", "created": STAMP, "text": "Once."},
            {
                "id": 2,
                "parent": 1,
                "author": "model",
                "created": STAMP,
                "text": " Then.",
                "settings": {"temperature": 0.7},
                "seed": 5,
            },
        ],
    }
    document.update(changes)
    return document


def story_count(db: Path) -> int:
    if not db.exists():
        return 0
    with Store.open(db) as store:
        return len(store.list_stories())


# 1 ------------------------------------------------------------- a model's own code never runs


@pytest.fixture(scope="module")
def model_with_its_own_code(tmp_path_factory) -> tuple[Path, Path]:
    """A real model folder whose config points at its own code; that code, if ever run,
    leaves a marker file."""
    folder = save_tiny_model(tmp_path_factory.mktemp("sneaky") / "model", "gpt2")
    marker = folder.parent / "the-code-ran"
    config = json.loads((folder / "config.json").read_text())
    config["auto_map"] = {
        "AutoConfig": "configuration_sneaky.SneakyConfig",
        "AutoModelForCausalLM": "modeling_sneaky.SneakyModel",
    }
    (folder / "config.json").write_text(json.dumps(config))
    code = f"open({str(marker)!r}, 'w').write('ran')\n"
    (folder / "configuration_sneaky.py").write_text(code)
    (folder / "modeling_sneaky.py").write_text(code)
    return folder, marker


@pytest.mark.parametrize("face", ["train", "generate", "eval", "write"])
def test_a_models_own_code_never_runs_unless_trusted(model_with_its_own_code, tmp_path, face):
    folder, marker = model_with_its_own_code
    corpus = tmp_path / "corpus.txt"
    corpus.write_text("A story.\n\nAnother story.\n\n" * 20)
    db = tmp_path / "stories.db"
    commands = {
        "train": ["train", str(corpus), "--from", str(folder), "--out", str(tmp_path / "o")],
        "generate": ["generate", "--model", str(folder), "--prompt", "x"],
        "eval": ["eval", str(folder), str(corpus)],
        "write": ["write", "1", "--model", str(folder)],
    }
    run_cli("new", "Story", db=db)
    # Answering "y" to any prompt: there must be none to answer.
    result = run_cli(*commands[face], db=db, stdin="y\n/gen\n" if face == "write" else "y\n")
    if face == "write":
        assert result.returncode == 0 and "--trust-remote-code" in result.stdout
        assert "comes with its own code (auto_map in config.json)" in result.stdout
    else:
        one_line_refusal(result, "comes with its own code", "--trust-remote-code")
    assert not marker.exists()
    assert not (tmp_path / "o").exists()


def test_a_tokenizer_with_its_own_code_is_refused_in_the_app_too(tmp_path):
    from tui.core.model_holder import LoadOptions, ModelRequest, local_loader

    folder = save_tiny_model(tmp_path / "model", "llama")
    settings = json.loads((folder / "tokenizer_config.json").read_text())
    settings["auto_map"] = {"AutoTokenizer": ["tokenization_sneaky.Sneaky", None]}
    (folder / "tokenizer_config.json").write_text(json.dumps(settings))
    load = local_loader(LoadOptions())
    from engine.loading import ModelError

    with pytest.raises(ModelError, match=r"auto_map in tokenizer_config\.json.*--trust-remote"):
        load(ModelRequest(str(folder), "m", "cpu"), lambda stage: None)


# 2 ---------------------------------------------------- one bad field can't break the library


def test_an_invalid_time_is_refused_on_import_and_nothing_is_written(tmp_path):
    db = tmp_path / "stories.db"
    bad = tmp_path / "yesterday.json"
    bad.write_text(json.dumps(story_document(updated="yesterday")))
    one_line_refusal(
        run_cli("import", str(bad), db=db), "updated should be an ISO 8601 time", "'yesterday'"
    )
    nodes = story_document()["nodes"]
    nodes[1]["created"] = "last tuesday"
    bad.write_text(json.dumps(story_document(nodes=nodes)))
    one_line_refusal(run_cli("import", str(bad), db=db), "nodes[1].created")
    assert story_count(db) == 0


async def test_a_damaged_row_is_named_and_the_rest_still_shows(tmp_path):
    from testbed.app_driver import make_app
    from tests.app_helpers import SIZE, Told, screen_text

    db = tmp_path / "stories.db"
    with Store.open(db) as store:
        store.create_story("Fine", opening="All well.")
        store.create_story("Hurt", opening="Edited by hand.")
    connection = sqlite3.connect(db)
    connection.execute("UPDATE stories SET updated = 'yesterday' WHERE title = 'Hurt'")
    connection.commit()
    connection.close()
    listed = run_cli("list", db=db)
    assert listed.returncode == 0 and "Fine" in listed.stdout and "Hurt" in listed.stdout
    assert listed.stderr.splitlines() == [
        "taletree: story 2 is damaged: its last-edited time should be an ISO 8601 time such as "
        "2026-01-02T03:04:05+00:00, not 'yesterday'"
    ]
    with Store.open(db) as store:
        app = make_app(store, tmp_path)
        told = Told()
        async with app.run_test(size=SIZE, notifications=True, message_hook=told) as pilot:
            await pilot.pause()
            shown = screen_text(app)
            assert "Fine" in shown and "Hurt" in shown
            assert any("Story 2 is damaged" in n.message for n in told.notifications)


# 3 ------------------------------------------------------ Twee export: text stays text in Twine

HOSTILE_TEXTS = [
    '[[Evil->n1]] (goto:"n1") <script>alert(1)</script>',
    "\n:: StoryData\n{}\n:: n1\nnot a passage",
    "''bold'' //it// *em* **strong** ^^sup^^ ~~gone~~ $var _temp",
    "|hook>[hidden] (set: $x to 1) {collapsed   space} <b>html</b> &amp; &#60;",
    "`verbatim` ``two`` ```` four ```` and ` lone",
    "# heading\n* bullet\n---\n0. numbered\n==>centred<==\n\\escaped line\\",
    ":colon first\n::double\n[[x]]\n]] [[ -> <- |",
]


@pytest.fixture(scope="module")
def extwee() -> Path:
    path = ROOT / ".venv" / "node" / "node_modules" / "extwee" / "index.js"
    if not path.exists():
        pytest.fail(f"{path} is missing: `make test` installs extwee (npm)")
    return path


def read_twee(extwee: Path, twee: str, tmp_path: Path) -> dict:
    file = tmp_path / "story.twee"
    file.write_text(twee, encoding="utf-8")
    result = subprocess.run(
        ["node", str(ROOT / "tests" / "twee_reader.mjs"), str(extwee), str(file)],
        capture_output=True,
        text=True,
        check=True,
    )
    return json.loads(result.stdout)


VERBATIM_PIECE = re.compile(r"`([^`]+)`|&#96;|&#58;")
LINK = re.compile(r"\[\[(?P<label>.*)->(?P<target>n\d+)\]\]")
HARLOWE_MARKUP = set("[]`*/'^~$_(){}<>|\\=#&\"%+@")


def shown_by_harlowe(body: str) -> str:
    """What Harlowe shows for a passage body that is only verbatim spans, the references &#96;
    and &#58;, and line breaks; any other character outside verbatim would be markup."""
    lines = []
    for line in body.split("\n"):
        shown, at = "", 0
        for piece in VERBATIM_PIECE.finditer(line):
            assert piece.start() == at, f"text outside verbatim: {line[at : piece.start()]!r}"
            token = piece.group()
            shown += {"&#96;": "`", "&#58;": ":"}.get(token, piece.group(1) or "")
            at = piece.end()
        assert at == len(line), f"text outside verbatim: {line[at:]!r}"
        lines.append(shown)
    return "\n".join(lines)


def test_twee_export_keeps_every_text_literal_for_an_independent_parser(store, tmp_path, extwee):
    story = store.create_story(":: StoryData", opening=HOSTILE_TEXTS[0])
    parent = story.root_id
    for text in HOSTILE_TEXTS[1:]:
        above, parent = parent, store.append(parent, NodeDraft(text, author="model")).id
        store.add_children(above, [NodeDraft("Sibling: " + text)])
    tree = store.story_tree(story.id)
    parsed = read_twee(extwee, to_twee(tree), tmp_path)
    assert parsed["warnings"] == []
    assert parsed["name"] == ":: StoryData" and parsed["start"] == "n1"
    assert parsed["format"] == "Harlowe"
    local = {node.id: f"n{number}" for number, node in enumerate(tree.nodes, 1)}
    passages = {p["name"]: p for p in parsed["passages"]}
    assert sorted(passages) == sorted(local.values())  # one passage per node, nothing more
    children: dict[int, list] = {}
    for node in tree.nodes:
        children.setdefault(node.parent_id, []).append(node)
    for node in tree.nodes:
        text = passages[local[node.id]]["text"]
        lines = text.split("\n")
        links = [LINK.fullmatch(line) for line in lines if line.startswith("[[")]
        body = "\n".join(line for line in lines if not line.startswith("[[")).rstrip("\n")
        assert shown_by_harlowe(body) == node.text.strip("\n")
        assert [m["target"] for m in links] == [local[c.id] for c in children.get(node.id, [])]
        for match in links:
            assert not set(match["label"]) & HARLOWE_MARKUP and match["label"].strip()


# 4 ------------------------------------------------------ another program's SQLite stays as is


@pytest.mark.parametrize("table", ["foo", "stories"])
def test_an_sqlite_file_that_is_not_taletrees_is_refused_byte_for_byte(tmp_path, table):
    db = tmp_path / "theirs.db"
    connection = sqlite3.connect(db)
    connection.execute(f"CREATE TABLE {table} (id INTEGER PRIMARY KEY, name TEXT)")
    connection.execute(f"INSERT INTO {table} (name) VALUES ('their data')")
    connection.commit()
    connection.close()
    before = db.read_bytes(), sorted(p.name for p in tmp_path.iterdir())
    for command in (["list"], ["new", "Mine"], ["show", "1"]):
        one_line_refusal(run_cli(*command, db=db), str(db), f"not Taletree's (it holds {table})")
    assert (db.read_bytes(), sorted(p.name for p in tmp_path.iterdir())) == before
    connection = sqlite3.connect(db)
    assert connection.execute("PRAGMA journal_mode").fetchone() == ("delete",)
    connection.close()


def test_an_empty_sqlite_file_becomes_a_story_database(tmp_path):
    db = tmp_path / "empty.db"
    sqlite3.connect(db).close()
    assert run_cli("new", "First", db=db).returncode == 0
    assert story_count(db) == 1


# 5 ---------------------------------------------------- no escape sequence reaches a terminal

ESCAPES = "Title\x1b]0;owned\x07 \x1b[2J\x1b[?1049h \x9b31m end"


def run_at_a_terminal(*args: str) -> bytes:
    """What `taletree` writes to a terminal (a pseudo-terminal on its stdout)."""
    import pty

    pid, fd = pty.fork()
    if pid == 0:
        os.chdir(ROOT)
        os.execv(sys.executable, [sys.executable, "-m", "tui", *args])
    output = b""
    while True:
        try:
            chunk = os.read(fd, 65536)
        except OSError:
            break
        if not chunk:
            break
        output += chunk
    os.waitpid(pid, 0)
    return output


@pytest.mark.parametrize("fmt", ["txt", "md", "twee", "json"])
def test_export_to_a_terminal_shows_control_characters_and_to_a_pipe_keeps_them(tmp_path, fmt):
    db = tmp_path / "stories.db"
    with Store.open(db) as store:
        story = store.create_story("Escapes", opening=ESCAPES)
    shown = run_at_a_terminal("export", str(story.id), "--format", fmt, "--db", str(db))
    assert b"\x1b" not in shown and b"\x07" not in shown and "\x9b".encode() not in shown
    piped = run_cli("export", str(story.id), "--format", fmt, db=db).stdout
    if fmt == "json":
        assert "\\u001b]0;owned\\u0007" in piped and "\\u009b31m" in piped
        assert "\x9b" not in piped and json.loads(piped)["nodes"][0]["text"] == ESCAPES
    else:
        assert ESCAPES in piped  # to a file or a pipe, the exact text


# 6 ----------------------------------------------------------- imports that used to traceback


@pytest.mark.parametrize(
    ("name", "document", "phrase"),
    [
        ("surrogate text", story_document(memory="\ud800"), "memory holds a lone surrogate"),
        ("surrogate title", story_document(title="bad\ud800"), "title holds a lone surrogate"),
        ("huge depth", story_document(note_depth=10**30), "note_depth should be a whole number"),
        ("NaN", story_document(tip=float("nan")), "NaN is not valid JSON"),
    ],
)
def test_imports_that_tracebacked_are_one_line(tmp_path, name, document, phrase):
    db = tmp_path / "stories.db"
    bad = tmp_path / "bad.json"
    bad.write_text(json.dumps(document), encoding="utf-8")
    one_line_refusal(run_cli("import", str(bad), db=db), phrase)
    assert story_count(db) == 0


def test_deeply_nested_settings_are_one_line(tmp_path):
    db = tmp_path / "stories.db"
    bad = tmp_path / "deep.json"
    text = json.dumps(story_document())
    nested = "[" * 200_000 + "]" * 200_000
    bad.write_text(text.replace('{"temperature": 0.7}', nested), encoding="utf-8")
    one_line_refusal(run_cli("import", str(bad), db=db), "nested too deeply")
    assert story_count(db) == 0


def test_importing_an_endless_file_under_a_memory_limit_is_one_line(tmp_path):
    db = tmp_path / "stories.db"
    result = taletree("import", "/dev/zero", db=db, limits=[(resource.RLIMIT_AS, 3 * 2**30)])
    message = one_line_refusal(result, "/dev/zero is larger than the 256 MB an import reads")
    assert "Traceback" not in message and story_count(db) == 0


# 7 ------------------------------------------------------------ a title that isn't UTF-8


def test_a_title_that_is_not_utf8_is_one_line(tmp_path):
    db = tmp_path / "stories.db"
    result = taletree("new", b"x\xffy", db=db)
    one_line_refusal(result, "the title isn't valid UTF-8 (it holds the byte 0xff")
    assert story_count(db) == 0


# 8 ------------------------------------------------------------------ never the network


def test_loading_never_uses_the_network(tmp_path, monkeypatch):
    """Without HF_HUB_OFFLINE, an id not in the cache is refused at once, and a cached one
    loads, both without a single connection."""
    import socket

    from engine.loading import ModelError, load_model

    monkeypatch.delenv("HF_HUB_OFFLINE", raising=False)
    attempts = []

    def no_network(*args, **kwargs):
        attempts.append(args)
        raise OSError("the test forbids the network")

    monkeypatch.setattr(socket, "getaddrinfo", no_network)
    monkeypatch.setattr(socket.socket, "connect", no_network)
    started = time.monotonic()
    with pytest.raises(ModelError) as caught:
        load_model("someone/not-downloaded-model")
    assert time.monotonic() - started < 5
    assert str(caught.value) == (
        "someone/not-downloaded-model is not in the local Hugging Face cache, and Taletree "
        "never downloads: fetch it where there is a network (`hf download "
        "someone/not-downloaded-model`), or pass a model folder"
    )
    assert attempts == []


def test_a_cached_hub_id_loads_from_the_cache_without_the_network(tmp_path):
    cache = tmp_path / "hf" / "hub" / "models--someone--tiny"
    snapshot = cache / "snapshots" / "0123abcd"
    save_tiny_model(snapshot, "gpt2")
    (cache / "refs").mkdir()
    (cache / "refs" / "main").write_text("0123abcd")
    blocker = tmp_path / "site"
    blocker.mkdir()
    (blocker / "sitecustomize.py").write_text(
        "import socket\n"
        "def forbidden(*args, **kwargs):\n"
        "    raise SystemExit('the network was used')\n"
        "socket.getaddrinfo = forbidden\n"
        "socket.socket.connect = forbidden\n"
    )
    env = {"HF_HOME": str(tmp_path / "hf"), "PYTHONPATH": f"{blocker}:{ROOT}"}
    env_without_offline = {k: v for k, v in os.environ.items() if k != "HF_HUB_OFFLINE"}
    result = subprocess.run(
        [
            sys.executable,
            "-m",
            "tui",
            "generate",
            "--model",
            "someone/tiny",
            "--prompt",
            "The",
            "--max-new-tokens",
            "4",
            "--seed",
            "1",
        ],
        capture_output=True,
        text=True,
        cwd=tmp_path,
        timeout=120,
        env={**env_without_offline, **env},
    )
    assert result.returncode == 0, result.stderr
    assert result.stdout.startswith("The")


# 9 ----------------------------------------------------------------- /tree stays bounded


def test_tree_in_line_mode_is_bounded_for_a_100000_node_chain(store):
    import io

    from story.models import Node, StoryTree
    from testbed.app_driver import make_session
    from tui.line_mode import LineWriter

    nodes = [
        Node(i, 0, i - 1 if i > 1 else None, f" step {i}", "user", STAMP) for i in range(1, 100_001)
    ]
    story = store.add_story_tree(
        StoryTree("Long", None, "", "", 3, STAMP, STAMP, 100_000, nodes, [])
    )
    session = make_session(store, store.db_path.parent)
    session.open_story(story.id)
    out = io.StringIO()
    LineWriter(session, out).handle("/tree")
    printed = out.getvalue()
    assert len(printed) < 2_000 and len(printed.splitlines()) == 7
    assert "… 99,994 more, one below the other (the current path runs through them)" in printed
    assert printed.splitlines()[-1].endswith("* user: step 100000")


def test_tree_on_a_wide_tree_says_what_it_left_out(store):
    import io

    from testbed.app_driver import make_session
    from tui.line_mode import LineWriter

    story = store.create_story("Wide", opening="Root.")
    store.add_children(story.root_id, [NodeDraft(f" child {i}", "model") for i in range(500)])
    session = make_session(store, store.db_path.parent)
    session.open_story(story.id)
    out = io.StringIO()
    LineWriter(session, out).handle("/tree 50")
    lines = out.getvalue().splitlines()
    assert len(lines) == 51
    assert lines[-1] == (
        "(… 451 more nodes not shown: the outline stops at 50 lines; /tree 250 shows more)"
    )


# 10 -------------------------------------------------------------- a malicious pickle


class Payload:
    """Unpickled, it would run a shell command."""

    def __init__(self, marker: Path):
        self.marker = marker

    def __reduce__(self):
        return (os.system, (f"touch {self.marker}",))


def test_a_malicious_pickle_is_one_line_even_when_pickle_is_allowed(tmp_path):
    import torch

    folder = save_tiny_model(tmp_path / "model", "gpt2")
    marker = tmp_path / "the-pickle-ran"
    (folder / "model.safetensors").unlink()
    torch.save({"transformer.wte.weight": Payload(marker)}, folder / "pytorch_model.bin")
    result = run_cli(
        "generate", "--model", str(folder), "--allow-pickle", "--prompt", "x", db=tmp_path / "s.db"
    )
    one_line_refusal(result, "pickle weights hold more than weights")
    assert not marker.exists()


# 11 ---------------------------------------------------------------------- strict JSON


def test_nan_in_settings_is_refused_on_import_and_export_is_always_strict(tmp_path):
    db = tmp_path / "stories.db"
    bad = tmp_path / "nan.json"
    nodes = story_document()["nodes"]
    nodes[1]["settings"] = {"temperature": float("inf")}
    bad.write_text(json.dumps(story_document(nodes=nodes)))  # Python writes Infinity
    one_line_refusal(run_cli("import", str(bad), db=db), "Infinity is not valid JSON")
    with Store.open(db) as store:  # a database an older version wrote, NaN and all
        story = store.create_story("Old", opening="x")
        store.conn.execute(
            'UPDATE nodes SET settings = \'{"temperature": NaN, "top_p": Infinity}\' WHERE id = ?',
            (story.root_id,),
        )
    exported = run_cli("export", "1", "--format", "json", db=db).stdout

    def refuse(constant):
        raise AssertionError(f"{constant} in the export")

    document = json.loads(exported, parse_constant=refuse)
    assert document["nodes"][0]["settings"] == {"temperature": None, "top_p": None}


# 12 ------------------------------------------------------------------------ full disk


def test_a_full_disk_leaves_no_half_made_database_and_an_old_one_untouched(tmp_path):
    limit = [(resource.RLIMIT_FSIZE, 8192)]
    new = tmp_path / "new.db"
    one_line_refusal(taletree("new", "Doomed", db=new, limits=limit), str(new))
    assert sorted(p.name for p in tmp_path.iterdir()) == []
    old = tmp_path / "old.db"
    assert run_cli("new", "Kept", "--opening", "x" * 20_000, db=old).returncode == 0
    before = old.read_bytes()
    result = taletree("new", "Another", "--opening", "y" * 20_000, db=old, limits=limit)
    one_line_refusal(result, str(old))
    assert old.read_bytes() == before and story_count(old) == 1


# 13 ------------------------------------------------------- bugs: one line, and the log


def test_an_unexpected_error_is_one_line_naming_the_log_and_exit_1(tmp_path):
    db = tmp_path / "stories.db"
    run_cli("new", "Story", db=db)
    connection = sqlite3.connect(db)  # a schema no version of Taletree writes
    connection.execute("ALTER TABLE stories DROP COLUMN updated")
    connection.commit()
    connection.close()
    state = tmp_path / "state"
    result = run_cli("list", db=db, env={"XDG_STATE_HOME": str(state)})
    assert result.returncode == 1
    log = state / "taletree" / "errors.log"
    assert result.stderr.splitlines() == [
        "taletree: unexpected error, a bug in Taletree (OperationalError: no such column: "
        f"updated); the traceback is in {log}"
    ]
    assert "Traceback (most recent call last)" in log.read_text()
    assert "taletree list" in log.read_text()


async def test_an_unexpected_error_in_the_app_closes_it_with_one_line(store, tmp_path, monkeypatch):
    from testbed.app_driver import make_app, ready
    from tests.app_helpers import SIZE

    state = tmp_path / "state"
    monkeypatch.setenv("XDG_STATE_HOME", str(state))
    story = store.create_story("Bug", opening="x")
    app = make_app(store, tmp_path, story_id=story.id)
    with pytest.raises(ZeroDivisionError):
        async with app.run_test(size=SIZE) as pilot:
            screen = await ready(pilot)
            monkeypatch.setattr(type(screen), "action_compare", lambda self: 1 / 0)
            await pilot.press("ctrl+g")
            await pilot.pause()
            await pilot.press("c")
            await pilot.pause()
    log = state / "taletree" / "errors.log"
    assert app.return_code == 1
    assert app.bug_report == (
        "unexpected error, a bug in Taletree (ZeroDivisionError: division by zero); "
        f"the traceback is in {log}"
    )
    assert "ZeroDivisionError" in log.read_text()


# ------------------------------------------------------------------ fuzzing the JSON import

json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats() | st.text(max_size=20),
    lambda inner: (
        st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=8), inner, max_size=4)
    ),
    max_leaves=12,
)


def paths_of(value, path=()):
    """Every place in a document where a value sits."""
    yield path
    if isinstance(value, dict):
        for key, item in value.items():
            yield from paths_of(item, (*path, key))
    elif isinstance(value, list):
        for index, item in enumerate(value):
            yield from paths_of(item, (*path, index))


@st.composite
def damaged_documents(draw) -> str:
    """A valid story file with one value anywhere replaced, removed or garbled."""
    document = story_document(bookmarks=[{"node": 2, "label": "b", "created": STAMP}])
    path = draw(st.sampled_from([p for p in paths_of(document) if p]))
    *parents, last = path
    holder = document
    for step in parents:
        holder = holder[step]
    how = draw(st.sampled_from(["replace", "remove", "garble"]))
    if how == "remove" and isinstance(holder, dict):
        del holder[last]
    else:
        holder[last] = draw(json_values)
    text = json.dumps(document)
    if how == "garble":
        at = draw(st.integers(0, len(text)))
        text = text[:at] + draw(st.text(max_size=5)) + text[at:]
    return text


def counts(store) -> tuple[int, ...]:
    return tuple(
        store.conn.execute(f"SELECT count(*) FROM {table}").fetchone()[0]
        for table in ("stories", "nodes", "bookmarks")
    )


@settings(
    max_examples=300, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(text=damaged_documents() | json_values.map(json.dumps) | st.text(max_size=200))
def test_fuzzed_imports_only_ever_fail_with_the_one_line_import_error(store, text):
    before = counts(store)
    try:
        tree = parse_story_json(text)
    except InvalidImport as error:
        assert "\n" not in str(error) and str(error)
        assert counts(store) == before
        return
    stored = store.add_story_tree(tree)  # what the import accepts, the store takes whole
    assert counts(store) == (
        before[0] + 1,
        before[1] + len(tree.nodes),
        before[2] + len(tree.bookmarks),
    )
    assert to_json(store.story_tree(stored.id))


@pytest.mark.parametrize(
    ("make", "message"),
    [
        (lambda path: path.write_text("a = " + "[" * 100_000 + "]" * 100_000), "nested too deeply"),
        (lambda path: os.mkfifo(path), "is not a regular file"),
        (lambda path: path.write_text("# " + "x" * 2_000_000), "too big for a config file"),
    ],
    ids=["deep-array", "fifo", "huge"],
)
def test_a_hostile_config_file_is_one_line_and_exit_2_at_once(tmp_path, make, message):
    config = tmp_path / "xdg" / "taletree" / "config.toml"
    config.parent.mkdir(parents=True)
    make(config)
    db = tmp_path / "s.db"
    assert run_cli("new", "Lamp", db=db).returncode == 0
    result = run_cli(
        "write", "Lamp", db=db, stdin="/quit\n", env={"XDG_CONFIG_HOME": str(tmp_path / "xdg")}
    )
    assert result.returncode == 2 and result.stderr.count("\n") == 1
    assert message in result.stderr and "Traceback" not in result.stderr


@pytest.fixture
def exportable(tmp_path):
    db = tmp_path / "stories.db"
    assert run_cli("new", "Lamp", "--opening", "The lamp went out.", db=db).returncode == 0
    return db


def export_to(db, target, *flags):
    return run_cli("export", "Lamp", "--format", "txt", "-o", str(target), *flags, db=db)


def test_export_never_replaces_what_isnt_a_regular_file(exportable, tmp_path):
    fifo = tmp_path / "fifo"
    os.mkfifo(fifo)
    folder = tmp_path / "folder"
    folder.mkdir()
    for target, kind in ((fifo, "a FIFO"), (folder, "a folder"), (Path("/dev/null"), "a device")):
        for flags in ((), ("--force",)):
            result = export_to(exportable, target, *flags)
            assert result.returncode == 2 and result.stderr.count("\n") == 1, result.stderr
            assert f"is not a regular file ({kind})" in result.stderr
    assert stat.S_ISFIFO(fifo.lstat().st_mode) and folder.is_dir()
    assert stat.S_ISCHR(Path("/dev/null").stat().st_mode)


def test_export_replaces_an_existing_file_only_with_force_and_keeps_its_mode(exportable, tmp_path):
    target = tmp_path / "story.txt"
    target.write_text("the writer's own notes")
    target.chmod(0o640)
    refused = export_to(exportable, target)
    assert refused.returncode == 2 and "already exists" in refused.stderr
    assert target.read_text() == "the writer's own notes"
    assert export_to(exportable, target, "--force").returncode == 0
    assert target.read_text().startswith("The lamp went out.")
    assert stat.S_IMODE(target.stat().st_mode) == 0o640


def test_export_through_a_link_writes_the_file_it_names_and_refuses_hard_links(
    exportable, tmp_path
):
    real = tmp_path / "real.txt"
    real.write_text("old")
    link = tmp_path / "link.txt"
    link.symlink_to(real)
    assert export_to(exportable, link, "--force").returncode == 0
    assert link.is_symlink() and real.read_text().startswith("The lamp went out.")
    other = tmp_path / "other-name.txt"
    os.link(real, other)
    result = export_to(exportable, real, "--force")
    assert result.returncode == 2 and "has other names (hard links)" in result.stderr
    assert os.path.samefile(real, other)


def test_a_new_export_gets_the_umasks_permissions(exportable, tmp_path):
    target = tmp_path / "new.txt"
    assert export_to(exportable, target).returncode == 0
    umask = os.umask(0o022)
    os.umask(umask)
    assert stat.S_IMODE(target.stat().st_mode) == 0o666 & ~umask


def test_a_lore_entry_too_big_to_use_is_refused_on_import_in_one_line(tmp_path):
    from story.export import LOREBOOK_FORMAT

    entry = {"keys": ["lamp"], "text": "The lamp. " * 1_000_000}  # 10 MB
    lore = tmp_path / "lore.json"
    lore.write_text(json.dumps({"format": LOREBOOK_FORMAT, "entries": [entry]}))
    db = tmp_path / "stories.db"
    assert run_cli("new", "Lamp", db=db).returncode == 0
    result = run_cli("import", str(lore), "--lorebook", "Lamp", db=db)
    assert result.returncode == 2 and result.stderr.count("\n") == 1
    assert "over the 50,000 an entry may hold" in result.stderr


def test_a_long_or_spoofing_title_is_cut_and_shown_literally_in_one_line_output(tmp_path):
    """A 10 MB title is cut in one-line messages; a right-to-left override in a title is
    shown as a mark, not obeyed (it would make what follows it read backwards)."""
    db = tmp_path / "stories.db"
    long_title = "A" * 10_000_000
    document = json.loads(
        run_cli("new", "Seed", "--opening", "Once.", db=db).stdout
        and run_cli("export", "Seed", "--format", "json", db=db).stdout
    )
    document["title"] = long_title
    source = tmp_path / "long.json"
    source.write_text(json.dumps(document))
    imported = run_cli("import", str(source), db=db)
    assert imported.returncode == 0 and len(imported.stdout) < 200 and "…" in imported.stdout
    searched = run_cli("search", "AAAA", db=db)
    assert searched.returncode == 0 and max(map(len, searched.stdout.splitlines())) < 300
    spoof = "Invoice \u202egnp.exe"
    assert run_cli("new", spoof, db=db).returncode == 0
    for command in (["list"], ["search", "Invoice"]):
        shown = run_cli(*command, db=db).stdout
        assert "\u202e" not in shown and "Invoice <U+202E>gnp.exe" in shown
