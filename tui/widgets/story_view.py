"""The story so far along the current path: the writer's text and the model's styled apart.

A long story must stay quick, so this is a line-API scroll view: the text is cut into
paragraphs, each wrapped once and kept; when the path changes only the paragraphs after the
first difference are wrapped again, and a frame draws only the lines on screen.
"""

from rich.segment import Segment
from rich.text import Text
from textual.geometry import Size
from textual.scroll_view import ScrollView
from textual.strip import Strip

from story.models import Node
from tui.actions import bindings
from tui.display import safe_prose

Paragraph = tuple[tuple[str, str], ...]  # (author, text) spans of one line of the story


def paragraphs_of(nodes: list[Node]) -> list[Paragraph]:
    """The path's text, split at line breaks, each piece remembering who wrote it."""
    paragraphs: list[Paragraph] = []
    current: list[tuple[str, str]] = []
    for node in nodes:
        pieces = safe_prose(node.text).split("\n")
        for i, piece in enumerate(pieces):
            if i > 0:
                paragraphs.append(tuple(current))
                current = []
            if piece:
                current.append((node.author, piece))
    paragraphs.append(tuple(current))
    return paragraphs


class StoryView(ScrollView, can_focus=True):
    BINDINGS = bindings("story")
    COMPONENT_CLASSES = {"story-view--user", "story-view--model"}

    def __init__(self, **kwargs):
        super().__init__(**kwargs)
        self.paragraphs: list[Paragraph] = []
        self.wrapped: list[list[Strip]] = []  # per paragraph, at self.wrap_width
        self.lines: list[Strip] = []
        self.wrap_width = 0
        # Whether the view keeps to the end of the story as it grows or as the view changes
        # size: true until the writer scrolls up, and again once they scroll back down.
        self.following = True

    def show_path(self, nodes: list[Node]) -> None:
        """Show a new path; only what changed from the last one is wrapped again."""
        paragraphs = paragraphs_of(nodes)
        same = 0
        for old, new in zip(self.paragraphs, paragraphs, strict=False):
            if old != new:
                break
            same += 1
        self.paragraphs = paragraphs
        self.wrapped = self.wrapped[:same]
        self.rewrap(same)
        self.follow()

    def follow(self) -> None:
        if self.following:
            self.call_after_refresh(self.scroll_end, animate=False, immediate=True)

    def watch_scroll_y(self, old: float, new: float) -> None:
        super().watch_scroll_y(old, new)
        self.following = new >= self.max_scroll_y

    def on_resize(self) -> None:
        self.wrapped = []
        self.rewrap(0)
        self.follow()

    def rewrap(self, start: int) -> None:
        width = self.scrollable_content_region.width
        if width <= 0:
            return  # not laid out yet: on_resize wraps everything once the width is known
        if width != self.wrap_width:
            self.wrap_width, start, self.wrapped = width, 0, []
        styles = {
            "user": self.get_component_rich_style("story-view--user", partial=True),
            "model": self.get_component_rich_style("story-view--model", partial=True),
        }
        console = self.app.console
        kept = sum(len(lines) for lines in self.wrapped)
        self.lines = self.lines[:kept]
        for paragraph in self.paragraphs[start:]:
            text = Text(no_wrap=False, end="")
            for author, piece in paragraph:
                text.append(piece, styles.get(author))
            lines = [
                Strip(line.render(console), line.cell_len) for line in text.wrap(console, width)
            ] or [Strip.blank(0)]
            self.wrapped.append(lines)
            self.lines.extend(lines)
        self.virtual_size = Size(width, len(self.lines))
        self.refresh()

    def render_line(self, y: int) -> Strip:
        index = self.scroll_offset.y + y
        width = self.scrollable_content_region.width
        base = self.rich_style
        if index >= len(self.lines):
            return Strip([Segment(" " * width, base)], width)
        line = self.lines[index].crop(self.scroll_offset.x, self.scroll_offset.x + width)
        return line.extend_cell_length(width).apply_style(base)
