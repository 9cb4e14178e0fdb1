"""What the model reads next (each model of a set its own version, in its own tokens), part by
part: the memory, each lorebook entry and the key that
put it in, the story as trimmed, the author's note; the tokens each takes and the share of the
model's window; and a note of what was cut."""

from rich.text import Text
from textual.app import ComposeResult
from textual.containers import VerticalScroll
from textual.widgets import Footer, Static

from common.text import safe_prose
from tui.actions import bindings
from tui.core.prompt import ContextReport, cache_line
from tui.screens.base import Context, TaletreeScreen


def report_text(reports: list[tuple[str, ContextReport]]) -> Text:
    """Each model's version (where several write, each under its name), one after another."""
    text = Text()
    for model, report in reports:
        if len(reports) > 1:
            text.append(f"{model}\n", style="bold underline")
        text.append_text(one_report(report))
        text.append("\n")
    return text


def one_report(report: ContextReport) -> Text:
    share = f", {report.share:.0%} of the {report.window:,}-token window" if report.window else ""
    text = Text(f"What the model reads next: {report.tokens} tokens{share}\n", style="bold")
    if report.cached:
        text.append(f"{cache_line(report)}\n", style="italic")
    text.append("\n")
    for row in report.rows:
        text.append(f"{row.label} · {row.tokens} tokens\n", style="bold")
        if row.text:
            text.append(safe_prose(row.text.rstrip("\n")) + "\n\n", style="dim")
    for note in report.notes:
        text.append(f"({note})\n", style="italic")
    return text


class ContextScreen(TaletreeScreen):
    BINDINGS = bindings("context")
    SCOPES = ("context",)

    def __init__(self, context: Context, reports: list[tuple[str, ContextReport]]):
        super().__init__(context)
        self.reports = reports

    def compose(self) -> ComposeResult:
        with VerticalScroll(id="context-parts"):
            yield Static(report_text(self.reports), id="context-text")
        yield Footer()

    def on_mount(self) -> None:
        self.query_one("#context-parts").focus()

    def action_back(self) -> None:
        self.app.pop_screen()
