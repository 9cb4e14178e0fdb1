"""The token view: a model-written node token by token, each tinted by how likely the model
thought it; the selected token's alternatives, and forking at one of them.

Forking writes a new sibling of the node: its text up to the selected token, then the chosen
alternative. The model then continues from there with the usual N branches. The original node
stays as it was.
"""

import math

from rich.style import Style
from rich.text import Text
from textual.app import ComposeResult
from textual.containers import Horizontal
from textual.widgets import Footer, OptionList, Static
from textual.widgets.option_list import Option

from common.text import safe_line, safe_prose
from story.models import Node
from story.tokens import TokenRecord, mean_of, split_text
from tui.actions import bindings
from tui.messages import BackToWriting, Generate
from tui.screens.base import Context, TaletreeScreen

# Probability bands and their tints, least likely first: the legend shows them in this order.
BANDS = ((0.1, "#7a1f1f"), (0.3, "#7a4a1f"), (0.6, "#6b6b1f"), (0.9, "#2f5f2f"), (1.01, "#1f4f6b"))


def tint(probability: float) -> str:
    return next(colour for limit, colour in BANDS if probability < limit)


def legend() -> Text:
    text = Text("probability  ")
    low = 0.0
    for limit, colour in BANDS:
        label = f" {low:.0%}–{min(limit, 1):.0%} " if limit <= 1 else f" ≥{low:.0%} "
        text.append(label, Style(bgcolor=colour, color="white"))
        text.append(" ")
        low = limit
    return text


class TokenScreen(TaletreeScreen):
    BINDINGS = bindings("tokens")
    SCOPES = ("tokens",)

    def __init__(self, context: Context, node_id: int, records: list[TokenRecord]):
        super().__init__(context)
        self.node_id, self.records = node_id, records
        self.position = len(records) - 1

    def compose(self) -> ComposeResult:
        yield Static(id="token-title")
        with Horizontal(id="token-body"):
            yield Static(id="token-text")
            yield OptionList(id="alternatives")
        yield Static(legend(), id="token-legend")
        yield Footer()

    def on_mount(self) -> None:
        self.node: Node = self.session.node(self.node_id)
        self.pieces = split_text(self.node.text, self.records)
        self.show()
        self.query_one(OptionList).focus()

    def decode(self, token_id: int) -> str | None:
        """A token's text, by the model that wrote the node (another's tokenizer would lie)."""
        return self.session.token_text(self.node, token_id)

    def show(self) -> None:
        node = self.node
        mean = mean_of(self.records).probability
        self.query_one("#token-title", Static).update(
            Text(
                f"Token view — {len(self.records)} tokens by {safe_line(node.model or 'a model')}"
                f", average probability {mean:.0%}  (←/→ token, ↑/↓ and enter fork)"
            )
        )
        text = Text()
        for i, (piece, record) in enumerate(zip(self.pieces, self.records, strict=True)):
            style = Style(bgcolor=tint(math.exp(record.logprob)), color="white")
            if i == self.position:
                style += Style(reverse=True, bold=True, underline=True)
            text.append(safe_prose(piece) or "·", style)
        self.query_one("#token-text", Static).update(text)
        self.show_alternatives()

    def show_alternatives(self) -> None:
        record = self.records[self.position]
        options = self.query_one(OptionList)
        options.clear_options()
        chosen = math.exp(record.logprob)
        for token_id, probability in record.top[:10]:
            shown = self.decode(token_id)
            label = Text(f"{probability:6.1%}  ")
            label.append(repr(shown) if shown is not None else f"token {token_id}")
            if token_id == record.token_id:
                label.append("  (chosen)", "dim")
            options.add_option(Option(label, id=str(token_id)))
        options.highlighted = 0 if record.top else None
        piece = self.pieces[self.position]
        self.query_one(
            "#alternatives", OptionList
        ).border_title = f"{piece.strip() or repr(piece)} ({chosen:.0%})"

    def action_token(self, step: int) -> None:
        self.position = max(0, min(len(self.records) - 1, self.position + step))
        self.show()

    def action_node(self, step: int) -> None:
        """The previous or next model-written node of the current path."""
        found = self.session.next_with_tokens(self.node_id, step)
        if found is None:
            self.app.bell()
            return
        self.node_id, self.records = found
        self.position = len(self.records) - 1
        self.on_mount()

    def on_option_list_option_selected(self, event: OptionList.OptionSelected) -> None:
        self.call_later(self.run_action, f"fork({int(event.option.id)})")

    def action_fork_highlighted(self) -> None:
        options = self.query_one(OptionList)
        if options.highlighted is not None:
            self.action_fork(int(options.get_option_at_index(options.highlighted).id))

    def action_fork(self, token_id: int) -> None:
        """A new sibling: the text up to the selected token, then this alternative; then the
        model continues from it."""
        self.session.fork(self.node_id, self.position, token_id)
        self.post_message(Generate())

    def action_back(self) -> None:
        self.post_message(BackToWriting())
