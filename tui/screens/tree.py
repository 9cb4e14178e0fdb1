"""The story's whole tree. It is built once, then kept in step with the store in place: new
nodes are added, deleted ones removed and changed labels set, so a big tree never flickers or
loses the writer's place."""

from rich.text import Text
from textual.app import ComposeResult
from textual.widgets import Footer, Static, Tree
from textual.widgets.tree import TreeNode

from common.text import safe_line
from story.models import Node
from story.tokens import TokenMean
from tui.actions import bindings
from tui.display import model_tag
from tui.messages import BackToWriting
from tui.screens.base import Context, TaletreeScreen, guarded
from tui.screens.token_view import tint

PREVIEW = 60  # characters of a node shown on its line


def label_of(
    node: Node,
    children: int,
    on_path: bool,
    bookmarked: bool,
    mean: TokenMean | None = None,
    tagged: bool = False,
) -> Text:
    """A node's line; `tagged` (several models wrote in this story) names the model too."""
    preview = safe_line(node.text.strip()) or "(empty)"
    if len(preview) > PREVIEW:
        preview = preview[: PREVIEW - 1] + "…"
    label = Text()
    label.append("● " if on_path else "  ", "bold" if on_path else "")
    label.append("★ " if bookmarked else "")
    label.append(
        "you   " if node.author == "user" else "model ",
        "bold" if node.author == "user" else "italic",
    )
    label.append(preview, "bold" if on_path else ("dim" if node.explored else ""))
    if children:
        label.append(f"  ({children})", "dim")
    if tagged and node.author == "model" and node.model:
        label.append(f"  {model_tag(node.model)}", "dim italic")
    if mean is not None:  # weak and strong branches stand out
        label.append(f"  {mean.probability:.0%}", f"on {tint(mean.probability)}")
    if node.explored:  # written by an exploration, not part of the story until kept
        score = f" {node.score:.2f}" if node.score is not None else ""
        label.append(f"  explored{score}", "dim italic")
    return label


class TreeScreen(TaletreeScreen):
    BINDINGS = [*bindings("tree"), *bindings("moves")]
    SCOPES = ("tree", "moves")

    def __init__(self, context: Context):
        super().__init__(context)
        self.story_id = self.session.story().id
        self.items: dict[int, TreeNode] = {}
        self.labels: dict[int, Text] = {}
        self.show_explored = True  # the passages explorations wrote (v shows or hides them)

    def compose(self) -> ComposeResult:
        yield Static(id="tree-title")
        yield Tree("story", id="tree")
        yield Footer()

    def on_mount(self) -> None:
        tree = self.query_one(Tree)
        tree.show_root = False
        tree.guide_depth = 2
        self.sync()
        tree.focus()

    def on_screen_resume(self) -> None:
        self.sync()

    @guarded
    def sync(self) -> None:
        """Bring the tree widget in line with the store, touching only what differs."""
        session = self.session
        snapshot = session.tree()
        story = session.story()
        tree = self.query_one(Tree)
        self.query_one("#tree-title", Static).update(Text(f"{safe_line(story.title)} — the tree"))
        shown = [n for n in snapshot.nodes if self.show_explored or not n.explored]
        nodes = {n.id: n for n in shown}
        for gone in [i for i in self.items if i not in nodes]:
            if gone in self.items:
                self.forget(self.items[gone])
        children: dict[int, int] = {}
        for n in shown:
            if n.parent_id is not None:
                children[n.parent_id] = children.get(n.parent_id, 0) + 1
        path = {n.id for n in session.path()}
        marked = {b.node_id for b in snapshot.bookmarks}
        means = session.token_means()
        tagged = len({n.model for n in shown if n.author == "model"}) > 1
        for n in shown:  # parents come before their children
            label = label_of(
                n, children.get(n.id, 0), n.id in path, n.id in marked, means.get(n.id), tagged
            )
            if n.id not in self.items:
                parent = tree.root if n.parent_id is None else self.items[n.parent_id]
                self.items[n.id] = parent.add(label, data=n.id, expand=True, allow_expand=False)
            elif self.labels.get(n.id) != label:
                self.items[n.id].set_label(label)
            self.labels[n.id] = label
        tip = self.items.get(story.tip_id)
        if tip is not None and self.current_id() is None:
            tree.move_cursor(tip)

    def forget(self, item: TreeNode) -> None:
        """Remove a tree item and everything below it from the widget and our maps."""
        for current in walk(item):
            self.items.pop(current.data, None)
            self.labels.pop(current.data, None)
        item.remove()

    def current_id(self) -> int | None:
        node = self.query_one(Tree).cursor_node
        return node.data if node is not None and node.data is not None else None

    def on_tree_node_selected(self, event: Tree.NodeSelected) -> None:
        event.stop()
        self.call_later(self.run_action, "jump")

    def action_jump(self) -> None:
        node_id = self.current_id()
        if node_id is not None:
            self.session.move_to(node_id)
            self.post_message(BackToWriting())

    def action_bookmark(self) -> None:
        node_id = self.current_id()
        if node_id is None:
            return
        self.session.toggle_bookmark(node_id)
        self.sync()

    def action_delete_subtree(self) -> None:
        from tui.screens.dialogs import ConfirmDialog

        node_id = self.current_id()
        if node_id is None:
            return
        item = self.items[node_id]
        count = sum(1 for _ in walk(item))

        def delete(sure: bool | None) -> None:
            if sure:
                self.session.delete_subtree(node_id)
                self.sync()

        what = "this node" if count == 1 else f"this node and the {count - 1} below it"
        self.app.push_screen(ConfirmDialog(self.context, f"Delete {what}?"), delete)

    def action_compare(self) -> None:
        from tui.screens.compare import CompareScreen

        node_id = self.current_id()
        if node_id is None:
            return
        siblings = [n.id for n in self.session.alternatives(node_id)]
        if len(siblings) < 2:
            self.notify("This node has no alternatives to compare with.", severity="warning")
            return
        # The node itself first, then its nearest alternatives.
        others = sorted((s for s in siblings if s != node_id), key=lambda s: abs(s - node_id))
        self.app.push_screen(CompareScreen(self.context, [node_id, *others]))

    def action_explore(self) -> None:
        """Explore ahead from the node under the cursor."""
        from tui.screens.explore import explore_from

        node_id = self.current_id()
        if node_id is not None:
            explore_from(self, node_id)

    def action_toggle_explored(self) -> None:
        self.show_explored = not self.show_explored
        self.sync()
        shown = "shown" if self.show_explored else "hidden"
        self.notify(f"Passages explorations wrote are {shown}.")

    def action_back(self) -> None:
        self.post_message(BackToWriting())

    def action_move(self, where: str) -> None:
        """Tree moves work here too, and the cursor follows the tip."""
        node = self.session.step(where)
        if node is None:
            self.app.bell()
            return
        self.sync()
        self.query_one(Tree).move_cursor(self.items[node.id])


def walk(item: TreeNode):
    stack = [item]
    while stack:
        current = stack.pop()
        yield current
        stack.extend(current.children)
