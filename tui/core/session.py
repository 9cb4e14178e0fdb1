"""The writing workflow, headless, written once for every face.

A WritingSession holds the store, the settings, one model, the story being written and the
branches on offer below its tip. It resolves the settings, builds the prompt, starts and stops
generations, applies their events to the branches, stores them, and keeps, edits, re-rolls,
forks and navigates. The app draws what it does; line mode prints it. Anything the writer can
fix comes out as a UserError.
"""

import functools
import secrets
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import TYPE_CHECKING, Any, TypeVar

from common.errors import UserError, one_line
from engine.events import FinishEvent, TokenEvent
from engine.reading import reading_for
from engine.remote import is_server_address
from engine.settings import MAX_BRANCHES, is_blank, sampling_settings
from story.context import story_end
from story.lorebook import Fired, LoreEntry, fired
from story.models import Node, NodeDraft, Revision, Story, StoryTree, WordCount
from story.tokens import TokenMean, TokenRecord, forked
from tui.core.config_file import Config, write_config
from tui.core.explore import Exploration, ExploreDrained, ExploreSettings, Writer
from tui.core.generation import (
    Ask,
    Branch,
    Failed,
    Generation,
    Notice,
    Retrying,
    store_branches,
)
from tui.core.model_holder import Loader, LoadOptions, ModelHolder, ModelRequest, local_loader
from tui.core.prompt import ContextReport, Prompt, build_prompt, context_report
from tui.core.settings import (
    BUILT_IN,
    ModelPlan,
    Settings,
    changed,
    laid_over,
    model_plans,
    story_settings,
)

if TYPE_CHECKING:
    from engine.backend import Backend
    from engine.settings import SamplingSettings
    from story.store import Store

NO_SPACE_BEFORE = tuple(".,;:!?)]}'\"…’”—-")
T = TypeVar("T")


def joined(story_text: str, typed: str) -> str:
    """The writer's text as it joins the story: a space between words where none was typed."""
    if not story_text or story_text[-1].isspace() or typed[:1].isspace():
        return typed
    return typed if typed.startswith(NO_SPACE_BEFORE) else " " + typed


@dataclass
class Drained:
    """What one drain of the generation's buffer did."""

    changed: set[int] = field(default_factory=set)  # branches that grew or ended
    notices: list[Notice] = field(default_factory=list)
    restarted: bool = False  # out of memory: the branches started again, fewer of them
    ended: bool = False  # the generation is over, and what it wrote is stored
    extended: bool = False  # it was "more": a passage of the story grew


class WritingSession:
    def __init__(
        self,
        store: "Store",
        config: Config | None = None,
        *,
        config_path: Path | None = None,
        model: str | None = None,
        loader: Loader | None = None,
        load_options: LoadOptions | None = None,
    ):
        self.store = store
        self.config = config or Config()
        self.config_path = config_path  # None: the config folder's config.toml
        self.cli_model = model  # --model: over every story's own setting
        # Other settings given on the command line for this run: over the story's, never saved.
        self.cli_settings: Settings = {}
        self.models = ModelHolder(loader or local_loader(load_options or LoadOptions()))
        self.story_id: int | None = None
        self.branches: list[Branch] = []  # on offer below parent_id
        self.parent_id: int | None = None
        self.retry_parent: int | None = None  # where the last alternatives were offered
        self.generation: Generation | None = None
        self.context_tokens: int | None = None  # what the last prompt took of the window
        # Asked to write before the model was ready (or after a fork): write once it is.
        self.pending_generation = False
        self.pending_model: str | None = None  # the model a pending generation asks alone
        self.draft = ""  # what the writer has typed but not added yet
        self.saved_draft = ""  # the draft as the database holds it
        # Where look-ahead came from, the latest last: the node, and the branches on offer.
        self.looked_from: list[tuple[int, list[int]]] = []
        self.extending: int | None = None  # the passage "more" is writing onto
        self.exploration: Exploration | None = None  # a search ahead, while it runs

    # ------------------------------------------------------------------------------ stories

    def open_story(self, ref: str | int) -> Story:
        story = self.store.find_story(ref)
        self.close_story()
        self.story_id = story.id
        self.draft = self.saved_draft = story.draft
        self.offer_stored(story.tip_id)
        return story

    def close_story(self) -> None:
        """Leave the story: the model stops, keeping what it wrote, and the draft is saved."""
        try:
            self.stop_generation()
            self.save_draft()
        finally:
            self.story_id, self.parent_id, self.retry_parent, self.branches = None, None, None, []
            self.pending_generation, self.looked_from = False, []

    def story(self) -> Story:
        if self.story_id is None:
            raise UserError("no story is open: open one first")
        return self.store.story(self.story_id)

    def tip(self) -> Node:
        return self.store.node(self.story().tip_id)

    def path(self) -> list[Node]:
        return self.store.path(self.story().tip_id)

    def offer_stored(self, parent_id: int) -> None:
        """The model's alternatives already stored below a node become the branches on offer."""
        offered = [
            c for c in self.store.children(parent_id) if c.author == "model" and not c.explored
        ]
        self.offer(parent_id, offered[-MAX_BRANCHES:])

    def offer_siblings(self) -> list[Node]:
        """The alternatives at the tip's place (the tip among them) become those on offer."""
        tip = self.tip()
        siblings = self.store.siblings(tip.id)
        self.offer(tip.parent_id, siblings)
        return siblings

    def offer(self, parent_id: int | None, nodes: list[Node]) -> None:
        self.parent_id = parent_id
        self.branches = [
            Branch(n.text, reason="stored", node_id=n.id, model=n.model) for n in nodes
        ]
        if nodes:
            self.retry_parent = parent_id

    # ----------------------------------------------------------------------------- settings

    def settings(self, story: Story | None = None, *, with_command_line: bool = True) -> Settings:
        """A story's settings (the open one's by default) over the defaults, and (unless
        asked not to) what the command line gave over them."""
        if story is None and self.story_id is not None:
            story = self.story()
        saved = story.settings if story else None
        if not with_command_line:
            return story_settings(self.config.writing, saved)
        return {**story_settings(self.config.writing, saved, self.cli_model), **self.cli_settings}

    def set_setting(self, name: str, value: Any) -> Any:
        """One setting for the open story; a blank value goes back to the default."""
        settings = self.settings(with_command_line=False)
        if is_blank(value) and name in settings:
            settings[name] = self.config.writing[name]
        else:
            settings = laid_over(settings, {name: value})
        own = changed(settings, self.config.writing) or None
        self.store.update_story(self.story().id, settings=own)
        return settings[name]

    def save_story_settings(self, values: Mapping[str, Any], **fields: Any) -> Settings:
        """Every setting for the open story at once (the settings form), with its genre,
        memory and note, in one transaction."""
        chosen = laid_over(BUILT_IN, values)
        own = changed(chosen, self.config.writing) or None
        self.store.update_story(self.story().id, settings=own, **fields)
        return chosen

    def save_default_settings(self, values: Mapping[str, Any]) -> Path:
        """Every setting, as the defaults of every story (the config file)."""
        config = replace(self.config, writing=laid_over(BUILT_IN, values))  # keys, API key kept
        path = write_config(config, self.config_path)
        self.config = config
        return path

    def set_story_field(self, name: str, value: str) -> Story:
        return self.store.update_story(self.story().id, **{name: value})

    # ---------------------------------------------------------------------------- the model

    def plans(self) -> list[ModelPlan]:
        """The models each step asks, with their branches and settings."""
        return model_plans(self.settings())

    def model_requests(self) -> list[ModelRequest]:
        return [plan.request for plan in self.plans()]

    def load_models(self, told: Callable | None = None) -> "list[Backend]":
        """Every model the settings ask for, loaded here and now unless held (line mode,
        commands, tests; the app loads them in workers); `told` as ModelHolder.load_now's."""
        return self.models.load_now(self.model_requests(), lambda stage: None, told)

    @property
    def backend(self) -> "Backend | None":
        """The first model asked for, once loaded."""
        return self.models.backend

    @property
    def models_ready(self) -> bool:
        """Whether every model the settings ask for is loaded."""
        return all(request in self.models.held for request in self.model_requests())

    def ready_plans(self) -> "list[tuple[ModelPlan, Backend]]":
        """Each model of the step with its loaded backend; a UserError names one not loaded."""
        plans = self.plans()
        ready = []
        for plan in plans:
            backend = self.models.held.get(plan.request)
            if backend is None:
                if self.models.loading:
                    raise UserError(f"{plan.request.label} is still loading: wait for it")
                raise UserError(
                    f"{plan.request.label} isn't loaded: wait for it, or choose another model "
                    "in the settings"
                    if len(plans) > 1
                    else "no model is loaded yet: wait for it, or choose one in the settings"
                )
            ready.append((plan, backend))
        return ready

    def model_of(self, model: str | None, what: str) -> "tuple[ModelPlan, Backend, tuple]":
        """The step's model that wrote something (its plan, backend and a notice to give):
        that very model where it is one of the step's, else the first, saying so."""
        ready = self.ready_plans()
        for plan, backend in ready:
            if backend.name == model:
                return plan, backend, ()
        plan, backend = ready[0]
        if model is None:
            return plan, backend, ()
        said = f"{what} was written by {model}, which isn't loaded: {backend.name} writes it"
        return plan, backend, (said,)

    # ------------------------------------------------------------------------------ writing

    def add_text(self, typed: str) -> Node | None:
        """The writer's text joins the story at the tip; nothing for blank text."""
        if not typed.strip():
            return None
        tip = self.tip()
        node = self.store.append(tip.id, NodeDraft(joined(tip.text, typed)))
        self.offer_stored(node.id)
        self.pending_model = None  # the story goes on from the writer's words: every model
        return node

    def generate_when_ready(self) -> Generation | None:
        """Ask for N continuations of the tip: now if the model is ready; if it is still
        loading, once it is (None now, and generation_due says when)."""
        if not self.models_ready and self.models.loading:
            self.pending_generation = True
            return None
        return self.start_generation(only=self.pending_model)

    def generate_next(self, only: str | None = None) -> None:
        """Start a generation as soon as the writing face is back and the models ready (only
        the model named `only`, where given: a fork goes on in its own model's words)."""
        self.pending_generation, self.pending_model = True, only

    @property
    def generation_due(self) -> bool:
        return self.pending_generation and self.models_ready

    def start_generation(self, parent_id: int | None = None, only: str | None = None) -> Generation:
        """Ask the models for N continuations of a node (the tip by default), each model its
        share, or one model (`only`, by name) all N. The face runs `generation.run` in a
        worker thread and calls drain() while it runs."""
        self.stop_generation()
        parent = parent_id if parent_id is not None else self.story().tip_id
        asked = [(plan, backend, plan.branches) for plan, backend in self.ready_plans()]
        notices: tuple = ()
        if only is not None and len(asked) > 1:
            plan, backend, notices = self.model_of(only, "this passage")
            asked = [(plan, backend, sum(count for *_, count in asked))]
        generation = self.request(parent, asked, self.settings()["seed"], notices=notices)
        self.parent_id = self.retry_parent = parent
        self.branches = generation.new_branches()
        return generation

    def request(
        self,
        node_id: int,
        asked: "list[tuple[ModelPlan, Backend, int]]",
        seed: int | None,
        slots: list[int] | None = None,
        notices: tuple[str, ...] = (),
    ) -> Generation:
        """A generation continuing a node, each model asked for so many branches, made the
        one in flight."""
        asks = []
        for plan, backend, branches in asked:
            prompt, sampling = self.prompt_at(backend, node_id, plan.settings)
            asks.append(Ask(backend, prompt, branches, sampling))
        self.generation = Generation(asks, seed, slots, notices)
        self.context_tokens = len(asks[0].prompt.ids)
        self.pending_generation, self.pending_model = False, None
        return self.generation

    def drain(self, *, stopping: bool = False) -> Drained:
        """Apply what the worker buffered since the last drain. Once the generation is over
        (or being stopped) its branches are stored, and the drain says so."""
        drained = Drained()
        generation = self.generation
        if generation is None:
            drained.ended = True
            return drained
        ended = stopping or generation.finished.is_set()  # first: the buffer is complete after it
        for item in generation.drain():
            if isinstance(item, TokenEvent | FinishEvent):
                slot = generation.slots[item.branch]
                self.branches[slot].apply(item)
                drained.changed.add(slot)
            elif isinstance(item, Retrying):
                fewer = f"Out of memory: trying again with {item.branches} branches."
                drained.notices.append(Notice(fewer, "warning"))
                self.branches = generation.new_branches()
                drained.restarted, drained.changed = True, set()
            elif isinstance(item, Failed):
                stopped = f"The model stopped: {one_line(item.error)}"
                drained.notices.append(Notice(stopped, "error"))
            elif isinstance(item, Notice):
                drained.notices.append(item)
        if ended:
            drained.ended, drained.extended = True, self._finish_generation()
        return drained

    def _finish_generation(self) -> bool:
        """The generation is over: store its branches (one transaction), or, for "more",
        let the passage run on with what was written (True: the story changed)."""
        self.generation = None
        extending, self.extending = self.extending, None
        if extending is None:
            self.store_branches()
            return False
        if not (self.branches and self.branches[0].text):
            return False
        branch = self.branches[0]
        self.store.extend(extending, branch.text, branch.records)
        self.offer_stored(self.story().tip_id)
        return True

    def store_branches(self) -> None:
        """Store the branches not stored yet. If the database refuses (locked, say) they stay
        on offer unstored, and storing is tried again when one is kept."""
        if self.parent_id is not None:
            store_branches(self.store, self.parent_id, self.branches)

    def stop_generation(self) -> Drained | None:
        """Stop the model now (within one step), keeping what each branch wrote: the drain
        says what it wrote last, for the face to show; None when none was running. An
        exploration stops too, its best paths on offer."""
        self.stop_exploration()
        generation = self.generation
        if generation is None:
            return None
        generation.stop()
        return self.drain(stopping=True)

    def branch_node(self, index: int) -> int:
        """The stored node of the branch at `index` (from 0), storing the branches first."""
        self.stop_generation()
        if not 0 <= index < len(self.branches):
            raise UserError(f"there is no branch {index + 1}: there are {len(self.branches)}")
        self.store_branches()
        branch = self.branches[index]
        if branch.node_id is None:
            raise UserError(f"branch {index + 1} wrote nothing")
        return branch.node_id

    def keep(self, index: int) -> Node:
        """Keep a branch: its text joins the story."""
        return self.move_to(self.branch_node(index))

    def move_to(self, node_id: int) -> Node:
        """Stand on any node of the story (the tree, compare)."""
        self.stop_generation()
        node = self.store.move_tip(node_id)
        self.offer_stored(node.id)
        self.looked_from = []
        return node

    def edit_branch(self, index: int, text: str) -> Node:
        """Keep a branch as the writer edited it: a revision beside it (the original stays)."""
        node_id = self.branch_node(index)
        if text == self.store.node(node_id).text:
            return self.move_to(node_id)
        revision = self.store.edit_as_branch(node_id, text)
        self.offer_stored(revision.id)
        return revision

    def regenerate(self) -> Generation:
        """New alternatives in place of the last ones offered (which stay in the tree), even
        after one was kept."""
        self.stop_generation()
        parent = self.retry_parent
        if parent is None:
            raise UserError("nothing to retry yet: ask the model for alternatives first")
        self.store.move_tip(parent)
        return self.start_generation(parent)

    def step(self, where: str) -> Node | None:
        """parent (undo), child (redo), previous or next alternative; None at an end."""
        self.stop_generation()
        node = self.store.step(self.story().id, where)
        if node is not None:
            self.offer_stored(node.id)
            self.looked_from = []
        return node

    # ---------------------------------------------------------------------- steering one

    def reroll(self, index: int) -> Generation:
        """A new seed for one branch on offer; the others stay as they are, and its old text
        stays in the tree."""
        self.branch_node(index)  # the branches are stored: the old text stays in the tree
        if self.parent_id is None:
            raise UserError("nothing to re-roll here")
        plan, backend, notices = self.model_of(self.branches[index].model, f"branch {index + 1}")
        generation = self.request(self.parent_id, [(plan, backend, 1)], None, [index], notices)
        self.branches[index] = generation.new_branches()[0]
        return generation

    def look_ahead(self, index: int) -> Generation:
        """Continue one branch N ways without keeping it: its own alternatives are offered,
        and back_from_look_ahead() returns to it and its siblings."""
        node_id = self.branch_node(index)
        plan, backend, notices = self.model_of(self.branches[index].model, f"branch {index + 1}")
        branches = sum(plan.branches for plan in self.plans())
        seed = self.settings()["seed"]
        generation = self.request(node_id, [(plan, backend, branches)], seed, notices=notices)
        offered = [b.node_id for b in self.branches if b.node_id is not None]
        self.looked_from.append((self.parent_id, offered))  # type: ignore[arg-type]
        self.parent_id = self.retry_parent = node_id
        self.branches = generation.new_branches()
        return generation

    def back_from_look_ahead(self) -> bool:
        """Back to the alternatives looked ahead from; False when not looking ahead."""
        if not self.looked_from:
            return False
        self.stop_generation()
        parent_id, offered = self.looked_from.pop()
        self.offer(parent_id, [self.store.node(node_id) for node_id in offered])
        return True

    def more(self, node_id: int) -> Generation:
        """A model passage of the story runs on: the model writes more after it, and that
        joins the passage itself (its earlier text kept as a revision)."""
        node = self.store.node(node_id)
        if node.author != "model":
            raise UserError("more extends a passage the model wrote: this one is yours")
        self.stop_generation()
        plan, backend, notices = self.model_of(node.model, "this passage")
        generation = self.request(node_id, [(plan, backend, 1)], None, notices=notices)
        self.extending, self.parent_id = node_id, node_id
        self.branches = generation.new_branches()
        return generation

    # --------------------------------------------------------------------- exploring ahead

    def explore(self, settings: ExploreSettings, start_id: int | None = None) -> Exploration:
        """Search ahead from a node (the tip by default) for the best paths on: the face runs
        `exploration.run` in a worker thread and calls drain_exploration() while it runs."""
        self.stop_generation()
        settings = settings.check()
        writers = []
        for plan, backend in self.ready_plans():
            sampling = sampling_settings(plan.settings, backend.generation_defaults())
            prompt_at = functools.partial(
                build_prompt,
                backend,
                window=self.window(backend, plan.settings),
                max_new_tokens=sampling.max_new_tokens,
                scan_tokens=plan.settings["lore_scan_tokens"],
                reading=reading_for(backend, plan.settings["prompt"]),
            )
            writers.append(Writer(backend, sampling, plan.branches, prompt_at))
        chosen = self.settings()
        start = start_id if start_id is not None else self.story().tip_id
        seed = chosen["seed"] if chosen["seed"] is not None else secrets.randbelow(2**31)
        self.exploration = Exploration(writers, self.store.db_path, start, settings, seed)
        return self.exploration

    def drain_exploration(self) -> ExploreDrained:
        """What the search did since the last drain; once it has ended, its best paths are
        the branches on offer (keeping one stands on its last passage: the whole path joins
        the story)."""
        exploration = self.exploration
        if exploration is None:
            return ExploreDrained(ended=True)
        drained = exploration.drain()
        if drained.ended:
            self.exploration = None
            self.parent_id = exploration.start_id
            self.branches = [
                Branch(
                    p.text,
                    reason="explored",
                    node_id=p.end,
                    model=p.models[-1],
                    path_models=tuple(dict.fromkeys(p.models)),
                )
                for p in drained.paths
            ]
        return drained

    def stop_exploration(self) -> ExploreDrained | None:
        """Stop the search (within one step of the model): everything it wrote stays."""
        exploration = self.exploration
        if exploration is None:
            return None
        exploration.stop()
        drained = self.drain_exploration()
        self.exploration = None
        return drained

    # ---------------------------------------------------------------- passages in place

    def reshape(self, change: Callable[[], T]) -> T:
        """A change to the tree, made with the model stopped; the branches on offer are then
        those below the tip."""
        self.stop_generation()
        result = change()
        self.offer_stored(self.story().tip_id)
        return result

    def revise(self, node_id: int, text: str) -> Node:
        """Edit a passage where it stands; what follows it stays."""
        return self.reshape(lambda: self.store.revise(node_id, text))

    def edit_as_branch(self, node_id: int, text: str) -> Node:
        """Edit a passage as a new alternative beside it, and stand on that."""
        self.stop_generation()
        revision = self.store.edit_as_branch(node_id, text)
        self.offer_stored(revision.id)
        return revision

    def restore(self, revision_id: int) -> Node:
        return self.reshape(lambda: self.store.restore(revision_id))

    def undo_edit(self) -> Node:
        """Undo the story's last edit in place (an undo is an edit too: undo again to redo)."""
        revision = self.store.last_revision(self.story().id)
        if revision is None:
            raise UserError("no edit to undo: no passage of this story was edited in place")
        return self.restore(revision.id)

    def split(self, node_id: int, at: int) -> tuple[Node, Node]:
        return self.reshape(lambda: self.store.split(node_id, at))

    def merge(self, node_id: int) -> Node:
        return self.reshape(lambda: self.store.merge(node_id))

    def word_count(self) -> WordCount:
        return self.store.words(self.story().tip_id)

    # ------------------------------------------------------------------- reading the tree

    def node(self, node_id: int) -> Node:
        return self.store.node(node_id)

    def tree(self) -> StoryTree:
        """The open story whole: every node, its bookmarks and lorebook."""
        return self.store.story_tree(self.story().id)

    def alternatives(self, node_id: int) -> list[Node]:
        """A node and its siblings: the alternatives at its place in the tree."""
        return self.store.siblings(node_id)

    def token_means(self) -> dict[int, TokenMean]:
        """Each model node's token count and mean log-probability, where kept."""
        return self.store.token_means(self.story().id)

    def revisions(self, node_id: int) -> list[Revision]:
        """A passage's earlier texts, the most recently replaced first."""
        return self.store.revisions(node_id)

    def toggle_bookmark(self, node_id: int) -> bool:
        """Bookmark a node, or take its bookmark away; True when it is now bookmarked."""
        if any(b.node_id == node_id for b in self.store.bookmarks(self.story().id)):
            self.store.unbookmark(node_id)
            return False
        self.store.bookmark(node_id)
        return True

    # --------------------------------------------------------------------------- lorebook

    def lore(self) -> list[LoreEntry]:
        return self.store.lore(self.story().id)

    def save_lore(self, entry: LoreEntry) -> LoreEntry:
        """Add an entry, or change the one it names (entry.id)."""
        if entry.id is None:
            return self.store.add_lore(self.story().id, entry)
        return self.store.update_lore(entry)

    def delete_lore(self, entry_id: int) -> None:
        self.store.delete_lore(entry_id)

    def lore_test(self) -> list[Fired]:
        """The entries the story's end puts in now, and the key that fired each."""
        backend = self.backend
        tokenize = backend.tokenize if backend is not None else str.split
        body = self.store.path_text(self.story().tip_id)
        scanned = story_end(body, tokenize, self.settings()["lore_scan_tokens"])
        return fired(self.lore(), scanned)

    def context_reports(self) -> list[tuple[str, ContextReport]]:
        """What the next request at the tip reads, part by part, in each model's own tokens
        (the context view): each model's name and its report."""
        if not self.models_ready:
            raise UserError("no model is loaded yet: what the model reads depends on its tokens")
        reports = []
        for plan, backend in self.ready_plans():
            prompt, _ = self.prompt_at(backend, self.story().tip_id, plan.settings)
            cached = backend.cached_prefix(prompt.ids)
            reports.append((backend.name, context_report(prompt, self.window(backend), cached)))
        return reports

    def reading_shown(self, backend: "Backend", settings: Settings | None = None) -> str:
        """How the model reads the story under the prompt setting, for the status line."""
        try:
            return reading_for(backend, (settings or self.settings())["prompt"]).shown
        except UserError:
            return "no story mode (set prompt to raw)"

    def window(self, backend: "Backend", settings: Settings | None = None) -> int:
        """The most tokens a request reads: the model's window, or for a model without one,
        the context_limit setting."""
        return backend.window or (settings or self.settings())["context_limit"]

    def prompt_at(
        self, backend: "Backend", node_id: int, settings: Settings | None = None
    ) -> tuple[Prompt, "SamplingSettings"]:
        """What a model reads at a node, and how it samples, under these settings (the
        story's by default; a model of a set, its own)."""
        settings = settings or self.settings()
        sampling = sampling_settings(settings, backend.generation_defaults())
        prompt = build_prompt(
            backend,
            self.store,
            node_id,
            window=self.window(backend, settings),
            max_new_tokens=sampling.max_new_tokens,
            scan_tokens=settings["lore_scan_tokens"],
            reading=reading_for(backend, settings["prompt"]),
        )
        return prompt, sampling

    def delete_subtree(self, node_id: int) -> int:
        """Delete a node and everything below it (the tip moves up if it was inside)."""
        return self.reshape(lambda: self.store.delete_subtree(node_id))

    def save_draft(self) -> None:
        """Keep the draft in the database, if it changed since it was last kept."""
        if self.story_id is not None and self.draft != self.saved_draft:
            self.store.save_draft(self.story_id, self.draft)
            self.saved_draft = self.draft

    # ------------------------------------------------------------------------ token data

    def token_records(self, node_id: int) -> list[TokenRecord]:
        records = self.store.token_records(node_id)
        if not records:
            node = self.store.node(node_id)
            if node.author == "model" and node.model and is_server_address(node.model):
                raise UserError(
                    f"this text has no token data: the server that wrote it "
                    f"({node.model}) gives text only, not the tokens it "
                    "chose"
                )
            raise UserError(
                "this text has no token data: it was written or edited by you, or "
                "by a Taletree from before token data was kept"
            )
        return records

    def next_with_tokens(self, node_id: int, step: int) -> tuple[int, list[TokenRecord]] | None:
        """The previous (step -1) or next (+1) model-written node of the path that has token
        data, and that data; None past the ends."""
        ids = [n.id for n in self.path() if n.author == "model"]
        index = ids.index(node_id) + step if node_id in ids else -1
        while 0 <= index < len(ids):
            records = self.store.token_records(ids[index])
            if records:
                return ids[index], records
            index += step
        return None

    def last_model_node(self) -> int:
        """The last model-written node along the path."""
        node = next((n for n in reversed(self.path()) if n.author == "model"), None)
        if node is None:
            raise UserError("there is no model-written text here yet")
        return node.id

    def token_text(self, node: Node, token_id: int) -> str | None:
        """A token's text, by the model that wrote the node; None when another model is loaded
        (its tokenizer would give another text)."""
        backend = self.models.named(node.model)
        return backend.token_text(token_id) if backend is not None else None

    def fork(self, node_id: int, position: int, token_id: int) -> Node:
        """A new sibling of a model node: its text up to the token at `position`, then this
        alternative. The original stays; the model continues from the fork next."""
        node = self.store.node(node_id)
        records = self.token_records(node_id)
        alternative = self.token_text(node, token_id)
        if alternative is None:
            raise UserError(
                f"this text was written by {node.model}, which isn't loaded: load "
                "it (settings) to fork here"
            )
        if node.parent_id is None:
            raise UserError("there is no token to fork at there")
        text, tokens = forked(node.text, records, position, token_id, alternative)
        draft = NodeDraft(text, "model", model=node.model, settings=node.settings, tokens=tokens)
        [fork] = self.store.add_children(node.parent_id, [draft])
        self.move_to(fork.id)
        self.generate_next(only=node.model)
        return fork
