"""One line at the bottom: story, words (and the writer's share), model, device, context used
of the window (click it to see what the model reads), speed."""

from rich.style import Style
from rich.text import Text
from textual.widgets import Static

from common.text import safe_line
from story.models import WordCount

SEPARATOR = "  │  "
CONTEXT_VIEW = Style(meta={"@click": "screen.context_view"}, underline=True)


class StatusBar(Static):
    def show(
        self,
        story: str,
        model: str,
        device: str,
        context: int | None,
        window: int | None,
        rate: float | None,
        words: WordCount | None = None,
    ) -> None:
        parts = [Text(safe_line(story))]
        if words is not None and words.total:
            parts.append(Text(f"{words.total:,} words, {words.user / words.total:.0%} yours"))
        parts.append(Text(safe_line(model)))
        if device:
            parts.append(Text(device))
        if context is not None:
            figure = f"context {context}/{window}" if window else f"context {context}"
            parts.append(Text(figure, style=CONTEXT_VIEW))
        if rate is not None:
            parts.append(Text(f"{rate:.1f} tok/s"))
        line = Text(SEPARATOR).join(parts)
        line.no_wrap, line.overflow = True, "ellipsis"
        self.update(line)
