"""The story so far along the current path: the writer's text and the model's styled apart,
and one passage selected to work on (up/down move it while the view has focus).

A long story must stay quick, so this is a line-API scroll view: the text is cut into
paragraphs, each wrapped once and kept; when the path changes only the paragraphs after the
first difference are wrapped again, when the selection moves only the paragraphs it touches,
and a frame draws only the lines on screen.
"""

from itertools import chain

from rich.segment import Segment
from rich.text import Text
from textual.geometry import Size
from textual.scroll_view import ScrollView
from textual.strip import Strip

from common.text import safe_prose
from story.models import Node
from tui.actions import bindings

Span = tuple[int, str, str]  # (passage number along the path, author, text)
Paragraph = tuple[Span, ...]  # one line of the story


def paragraphs_of(nodes: list[Node]) -> list[Paragraph]:
    """The path's text, split at line breaks, each piece remembering its passage."""
    paragraphs: list[Paragraph] = []
    current: list[Span] = []
    for index, node in enumerate(nodes):
        pieces = safe_prose(node.text).split("\n")
        for i, piece in enumerate(pieces):
            if i > 0:
                paragraphs.append(tuple(current))
                current = []
            if piece:
                current.append((index, node.author, piece))
    paragraphs.append(tuple(current))
    return paragraphs


class StoryView(ScrollView, can_focus=True):
    BINDINGS = bindings("story")
    COMPONENT_CLASSES = {"story-view--user", "story-view--model", "story-view--selected"}

    def __init__(self, **kwargs):
        super().__init__(**kwargs)
        self.nodes: list[Node] = []
        self.paragraphs: list[Paragraph] = []
        self.wrapped: list[list[Strip]] = []  # per paragraph, at self.wrap_width
        self.lines: list[Strip] = []
        self.wrap_width = 0
        self.selected: int | None = None  # the passage worked on
        self.marked = False  # whether the selection shows (while the view has focus)
        # Whether the view keeps to the end of the story as it grows or as the view changes
        # size: true until the writer scrolls up, and again once they scroll back down.
        self.following = True

    def show_path(self, nodes: list[Node]) -> None:
        """Show a new path; only what changed from the last one is wrapped again."""
        self.nodes = nodes
        if self.selected is not None:
            self.selected = min(self.selected, len(nodes) - 1)
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

    def selected_node(self) -> Node | None:
        return self.nodes[self.selected] if self.selected is not None and self.nodes else None

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

    def on_focus(self) -> None:
        self.marked = True
        self.select(len(self.nodes) - 1 if self.selected is None and self.nodes else self.selected)

    def on_blur(self) -> None:
        """The selection stays (a dialog over the view works on it), but shows only while the
        view has focus."""
        self.marked = False
        self.select(self.selected)

    def action_passage(self, step: int) -> None:
        """Select the previous (-1) or next (+1) passage."""
        if self.nodes:
            current = len(self.nodes) - 1 if self.selected is None else self.selected
            self.select(max(0, min(len(self.nodes) - 1, current + step)))

    def select(self, index: int | None) -> None:
        """Select a passage (None: none), restyling only the paragraphs it touches, and
        bring it into view."""
        touched = {self.selected, index} - {None}
        self.selected = index
        if self.wrap_width <= 0 or not touched:
            return
        for number, paragraph in enumerate(self.paragraphs):
            if any(span[0] in touched for span in paragraph) and number < len(self.wrapped):
                self.wrapped[number] = self.wrap(paragraph)
        self.lines = list(chain.from_iterable(self.wrapped))
        self.refresh()
        if index is not None and self.marked:
            holding = (n for n, p in enumerate(self.paragraphs) if any(s[0] == index for s in p))
            first = next(holding, None)
            if first is not None:
                top = sum(len(lines) for lines in self.wrapped[:first])
                self.scroll_to_region_lines(top, len(self.wrapped[first]))

    def scroll_to_region_lines(self, top: int, height: int) -> None:
        view = self.scrollable_content_region.height
        if top < self.scroll_offset.y or top + height > self.scroll_offset.y + view:
            self.scroll_to(y=max(0, top - view // 3), animate=False)

    def wrap(self, paragraph: Paragraph) -> list[Strip]:
        styles = {
            "user": self.get_component_rich_style("story-view--user", partial=True),
            "model": self.get_component_rich_style("story-view--model", partial=True),
        }
        selected = self.get_component_rich_style("story-view--selected", partial=True)
        console = self.app.console
        text = Text(no_wrap=False, end="")
        for index, author, piece in paragraph:
            style = styles.get(author)
            marked = self.marked and index == self.selected
            text.append(piece, style + selected if marked else style)
        lines = text.wrap(console, self.wrap_width)
        return [Strip(line.render(console), line.cell_len) for line in lines] or [Strip.blank(0)]

    def rewrap(self, start: int) -> None:
        width = self.scrollable_content_region.width
        if width <= 0:
            return  # not laid out yet: on_resize wraps everything once the width is known
        if width != self.wrap_width:
            self.wrap_width, start, self.wrapped = width, 0, []
        kept = sum(len(lines) for lines in self.wrapped)
        self.lines = self.lines[:kept]
        for paragraph in self.paragraphs[start:]:
            lines = self.wrap(paragraph)
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
