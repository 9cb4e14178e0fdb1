"""Every action the writer can take, in one registry: it makes the key bindings, the help
screen and the command palette, so the three can never disagree.

An action's id is also its name in the config file's [keys] table, where a writer can give it
other keys (see tui/core/config_file.py).
"""

from dataclasses import dataclass

from textual.binding import Binding

SCOPES = {
    "app": "Anywhere",
    "moves": "Writing, tree",
    "writing": "Writing",
    "composer": "Composer",
    "branches": "Branch panel",
    "library": "Library",
    "story": "Story view",
    "lorebook": "Lorebook",
    "history": "History",
    "context": "What the model reads",
    "tokens": "Token view",
    "compare": "Compare",
    "explore": "Explore ahead",
    "tree": "Tree",
    "settings": "Settings",
}


@dataclass(frozen=True)
class Action:
    id: str
    keys: str  # Textual key names, comma-separated
    action: str  # "app.…" or "screen.…"
    description: str
    scope: str
    footer: bool = True
    priority: bool = False  # seen before the focused widget (text areas would take it)
    palette: bool = True


def keep_actions(scope: str, prefix: str, last: int, what: str = "branch") -> list[Action]:
    return [
        Action(
            f"{prefix}{n}", str(n), f"screen.keep({n})", f"Keep {what} {n}", scope, footer=n == 1
        )
        for n in range(1, last + 1)
    ]


ACTIONS: list[Action] = [
    Action("quit", "ctrl+q", "app.quit", "Quit", "app", priority=True),
    Action("library", "ctrl+l", "app.open_library", "Library", "app", priority=True),
    Action("tree", "ctrl+t", "app.open_tree", "Tree", "app", priority=True),
    Action("settings", "f2", "app.open_settings", "Settings", "app", priority=True),
    Action("help", "f1", "app.help", "Help: every key", "app", priority=True),
    Action(
        "palette",
        "ctrl+p",
        "app.command_palette",
        "Command palette",
        "app",
        priority=True,
        palette=False,
    ),
    Action(
        "parent",
        "alt+up",
        "screen.move('parent')",
        "Back to the parent (undo)",
        "moves",
        footer=False,
        priority=True,
    ),
    Action(
        "child",
        "alt+down",
        "screen.move('child')",
        "Forward again (redo)",
        "moves",
        footer=False,
        priority=True,
    ),
    Action(
        "previous_sibling",
        "alt+left",
        "screen.move('previous')",
        "Previous alternative",
        "moves",
        footer=False,
        priority=True,
    ),
    Action(
        "next_sibling",
        "alt+right",
        "screen.move('next')",
        "Next alternative",
        "moves",
        footer=False,
        priority=True,
    ),
    Action(
        "generate",
        "ctrl+g",
        "screen.generate",
        "Ask the model for continuations",
        "writing",
        priority=True,
    ),
    Action("submit", "enter", "screen.submit", "Add the text and ask the model", "composer"),
    Action(
        "newline",
        "ctrl+j,shift+enter",
        "newline",
        "New line",
        "composer",
        palette=False,
    ),
    *keep_actions("branches", "keep_", 9),
    Action(
        "highlight_previous",
        "up",
        "screen.highlight(-1)",
        "Highlight the previous branch",
        "branches",
        footer=False,
    ),
    Action(
        "highlight_next",
        "down",
        "screen.highlight(1)",
        "Highlight the next branch",
        "branches",
        footer=False,
    ),
    Action(
        "keep_highlighted",
        "enter",
        "screen.keep_highlighted",
        "Keep the highlighted branch",
        "branches",
    ),
    Action(
        "regenerate",
        "r",
        "screen.regenerate",
        "Regenerate (the others stay in the tree)",
        "branches",
    ),
    Action(
        "edit_branch",
        "e",
        "screen.edit_branch",
        "Edit the highlighted branch, then keep it",
        "branches",
    ),
    Action("reroll", "R", "screen.reroll", "Re-roll only the highlighted branch", "branches"),
    Action(
        "look_ahead",
        "a",
        "screen.look_ahead",
        "Look ahead: continue the highlighted branch, without keeping it",
        "branches",
    ),
    Action(
        "stop",
        "escape",
        "screen.stop",
        "Stop; back from looking ahead; or back to the composer",
        "branches",
    ),
    Action(
        "token_view",
        "t",
        "screen.token_view",
        "Token view: why the model chose each word",
        "branches",
    ),
    Action("compare", "c", "screen.compare", "Compare the alternatives side by side", "branches"),
    Action(
        "explore",
        "x",
        "screen.explore",
        "Explore ahead from the highlighted branch: the model searches for the best paths",
        "branches",
    ),
    Action(
        "passage_previous",
        "up",
        "passage(-1)",
        "Select the passage above",
        "story",
        footer=False,
        palette=False,
    ),
    Action(
        "passage_next",
        "down",
        "passage(1)",
        "Select the passage below",
        "story",
        footer=False,
        palette=False,
    ),
    Action(
        "edit_passage",
        "e,enter",
        "screen.edit_passage",
        "Edit the selected passage where it stands (ctrl+b in it: split it there)",
        "story",
    ),
    Action(
        "branch_passage",
        "b",
        "screen.branch_passage",
        "Edit the selected passage as a new branch",
        "story",
    ),
    Action(
        "passage_history",
        "h",
        "screen.passage_history",
        "The selected passage's earlier texts",
        "story",
    ),
    Action(
        "join_passage",
        "j",
        "screen.join_passage",
        "Join the selected passage to the one above it",
        "story",
    ),
    Action(
        "more", "m", "screen.more", "More: the model writes on in the selected passage", "story"
    ),
    Action(
        "undo_edit",
        "u",
        "screen.undo_edit",
        "Undo the last edit of a passage (again: redo)",
        "story",
    ),
    Action(
        "story_token_view",
        "t",
        "screen.token_view",
        "Token view of the selected passage (or the last model text)",
        "story",
        palette=False,
    ),
    Action(
        "story_explore",
        "x",
        "screen.explore",
        "Explore ahead from the selected passage (none selected: the story's end)",
        "story",
    ),
    Action("token_previous", "left", "screen.token(-1)", "Previous token", "tokens"),
    Action("token_next", "right", "screen.token(1)", "Next token", "tokens"),
    Action(
        "fork",
        "enter",
        "screen.fork_highlighted",
        "Fork here with the highlighted alternative",
        "tokens",
    ),
    Action(
        "node_previous",
        "left_square_bracket",
        "screen.node(-1)",
        "Previous model text on the path",
        "tokens",
    ),
    Action(
        "node_next",
        "right_square_bracket",
        "screen.node(1)",
        "Next model text on the path",
        "tokens",
    ),
    Action("tokens_back", "escape", "screen.back", "Back to writing", "tokens"),
    *keep_actions("compare", "compare_keep_", 4),
    Action("compare_back", "escape", "screen.back", "Back", "compare"),
    Action(
        "context_view",
        "f3",
        "screen.context_view",
        "What the model reads next",
        "writing",
        priority=True,
    ),
    Action("lorebook", "f4", "screen.lorebook", "Lorebook", "writing", priority=True),
    Action("new_lore", "n", "screen.new_entry", "New entry", "lorebook"),
    Action("edit_lore", "enter", "screen.edit_entry", "Edit the entry", "lorebook"),
    Action("delete_lore", "delete", "screen.delete_entry", "Delete the entry", "lorebook"),
    Action("test_lore", "t", "screen.test", "Which entries fire now", "lorebook"),
    Action("lorebook_back", "escape", "screen.back", "Back to writing", "lorebook"),
    Action("restore", "enter", "screen.restore", "Restore this text", "history"),
    Action("history_back", "escape", "screen.back", "Back", "history"),
    Action("context_back", "escape", "screen.back", "Back", "context"),
    Action("new_story", "n", "screen.new_story", "New story", "library"),
    Action("open_story", "enter", "screen.open_story", "Open", "library"),
    Action("search", "slash", "screen.search", "Search", "library"),
    Action("rename_story", "r", "screen.rename_story", "Rename", "library"),
    Action("duplicate_story", "d", "screen.duplicate_story", "Duplicate", "library"),
    Action("export_story", "x", "screen.export_story", "Export", "library"),
    Action("delete_story", "delete", "screen.delete_story", "Delete", "library"),
    Action("jump", "enter", "screen.jump", "Go to this node", "tree"),
    Action("bookmark", "b", "screen.bookmark", "Bookmark or unbookmark", "tree"),
    Action(
        "delete_subtree", "delete", "screen.delete_subtree", "Delete this node and below", "tree"
    ),
    Action(
        "tree_compare", "c", "screen.compare", "Compare this node with its alternatives", "tree"
    ),
    Action("tree_explore", "x", "screen.explore", "Explore ahead from this node", "tree"),
    Action(
        "show_explored",
        "v",
        "screen.toggle_explored",
        "Show or hide the passages explorations wrote",
        "tree",
    ),
    Action("back", "escape", "screen.back", "Back to writing", "tree"),
    *keep_actions("explore", "explore_keep_", 3, "path"),
    Action(
        "explore_back",
        "escape",
        "screen.back",
        "Stop exploring (what was written stays), or back to writing",
        "explore",
    ),
    Action(
        "save_story_settings",
        "ctrl+s",
        "screen.save",
        "Save for this story",
        "settings",
        priority=True,
    ),
    Action(
        "save_default_settings",
        "ctrl+d",
        "screen.save_defaults",
        "Save as defaults for new stories",
        "settings",
        priority=True,
    ),
    Action("close_settings", "escape", "screen.close", "Close without saving", "settings"),
]


def in_scope(scope: str) -> list[Action]:
    return [a for a in ACTIONS if a.scope == scope]


def bindings(scope: str) -> list[Binding]:
    """The key bindings for a scope: a screen's or a widget's BINDINGS."""
    return [
        Binding(a.keys, a.action, a.description, show=a.footer, priority=a.priority, id=a.id)
        for a in in_scope(scope)
    ]


def keys_of(action: Action, keymap: dict[str, str]) -> str:
    """The keys an action answers to, the writer's keymap applied, as the help shows them."""
    return ", ".join(k.strip() for k in keymap.get(action.id, action.keys).split(","))


def unknown_ids(keymap: dict[str, str]) -> list[str]:
    ids = {a.id for a in ACTIONS}
    return sorted(k for k in keymap if k not in ids)
