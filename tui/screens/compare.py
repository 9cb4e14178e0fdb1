"""Alternatives side by side: where each differs from its neighbour, word by word, with its
average log-probability and length; keep one from here."""

import difflib

from rich.text import Text
from textual.app import ComposeResult
from textual.containers import Horizontal, VerticalScroll
from textual.widgets import Footer, Static

from common.text import safe_prose
from story.tokens import TokenMean
from tui.actions import bindings
from tui.display import model_tag
from tui.messages import BackToWriting
from tui.screens.base import Context, TaletreeScreen

MOST = 4  # side by side on one screen


def word_diff(text: str, reference: str) -> Text:
    """The text with the words the reference doesn't share marked."""
    words, theirs = text.split(" "), reference.split(" ")
    shown = Text()
    matcher = difflib.SequenceMatcher(None, theirs, words, autojunk=False)
    for tag, _, _, start, end in matcher.get_opcodes():
        if start == end:
            continue
        piece = safe_prose(" ".join(words[start:end]))
        if shown:
            shown.append(" ")
        shown.append(piece, "" if tag == "equal" else "bold reverse")
    return shown


def summary(text: str, mean: TokenMean | None) -> str:
    length = f"{len(text.split())} words"
    if mean is None:
        return f"{length}, no token data"
    return f"average log-prob {mean.logprob:.2f}, {mean.count} tokens, {length}"


class CompareScreen(TaletreeScreen):
    BINDINGS = bindings("compare")
    SCOPES = ("compare",)

    def __init__(self, context: Context, node_ids: list[int]):
        super().__init__(context)
        self.node_ids = node_ids[:MOST]

    def compose(self) -> ComposeResult:
        yield Static(
            "Compare — marked: words the neighbour doesn't have; 1–4 keeps one", id="token-title"
        )
        with Horizontal(id="compare-body"):
            nodes = [self.session.node(i) for i in self.node_ids]
            means = self.session.token_means()
            tagged = len({node.model for node in nodes}) > 1  # which model wrote each
            for number, node in enumerate(nodes, 1):
                neighbour = nodes[1] if number == 1 else nodes[number - 2]
                column = VerticalScroll(
                    Static(word_diff(node.text, neighbour.text)), classes="compared"
                )
                tag = f" · {model_tag(node.model)}" if tagged and node.model else ""
                column.border_title = Text(f"{number}{tag}")  # literally: never markup
                column.border_subtitle = summary(node.text, means.get(node.id))
                yield column
        yield Footer()

    def action_keep(self, number: int) -> None:
        if not 1 <= number <= len(self.node_ids):
            self.app.bell()
            return
        self.session.move_to(self.node_ids[number - 1])
        self.post_message(BackToWriting())

    def action_back(self) -> None:
        self.app.pop_screen()
