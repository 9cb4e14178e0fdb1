"""One line at the bottom: story, model, device, context used of the window, speed."""

from rich.text import Text
from textual.widgets import Static

from tui.display import safe_line


class StatusBar(Static):
    def show(
        self,
        story: str,
        model: str,
        device: str,
        context: int | None,
        window: int | None,
        rate: float | None,
    ) -> None:
        parts = [safe_line(story), safe_line(model)]
        if device:
            parts.append(device)
        if context is not None:
            parts.append(f"context {context}/{window}" if window else f"context {context}")
        if rate is not None:
            parts.append(f"{rate:.1f} tok/s")
        self.update(Text("  │  ".join(parts), no_wrap=True, overflow="ellipsis"))
