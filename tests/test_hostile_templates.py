"""Hostile chat templates: a model file's template is a Jinja program written by whoever made
the file. It renders only in a capped sandbox process: an escape, a runaway loop, a huge
template, one that raises or renders no assistant turn are each refused in one line, and the
writer is offered raw text (auto reads raw, saying why; story mode asked for is an error)."""

import time

import pytest

from common.errors import UserError
from engine.backend import load_backend
from engine.chat_template import TemplateError, story_frame
from engine.reading import reading_for
from testbed.tiny_models import CHAT_TEMPLATE, save_tiny_chat_model
from tests.conftest import run_here

HOSTILE = {
    "escape by subclasses": "{{ ''.__class__.__mro__[1].__subclasses__() }}",
    "escape by globals": "{{ cycler.__init__.__globals__.os.system('touch /tmp/pwned') }}",
    "a loop of 10^9": "{% for i in range(10**9) %}{% endfor %}",
    "nested loops": "{% for i in range(99999) %}{% for j in range(99999) %}{% endfor %}"
    "{% endfor %}",
    "a huge string": "{{ 'x' * 10**10 }}",
    "output without end": "{% for i in range(99999) %}{{ 'spam' * 99 }}{% endfor %}",
    "it raises": "{{ raise_exception('no stories here') }}",
    "no assistant turn": "{% for m in messages %}{% if m.role == 'user' %}{{ m.content }}"
    "{% endif %}{% endfor %}",
    "no markers at all": "hello",
    "a syntax error": "{% for %}",
}


@pytest.mark.parametrize("case", HOSTILE)
def test_a_hostile_template_is_refused_in_one_line_and_in_time(case):
    started = time.monotonic()
    with pytest.raises(TemplateError) as refused:
        story_frame(HOSTILE[case], {"bos_token": "<s>"})
    assert time.monotonic() - started < 25  # two renderings at most, each under its limit
    message = str(refused.value)
    assert message and "\n" not in message and len(message) < 300


def test_a_template_of_100_mb_is_refused_before_rendering():
    started = time.monotonic()
    with pytest.raises(TemplateError, match="more than any real one"):
        story_frame("x" * 100_000_000, {})
    assert time.monotonic() - started < 2


def test_a_template_that_refuses_a_system_turn_gets_the_system_line_in_the_users():
    refuses_system = (
        "{% if messages[0]['role'] == 'system' %}{{ raise_exception('no system role') }}"
        "{% endif %}" + CHAT_TEMPLATE
    )
    frame = story_frame(refuses_system, {})
    assert not frame.has_system and frame.opening == "<|turn|>user\n"


@pytest.fixture
def hostile_model(tmp_path):
    return save_tiny_chat_model(tmp_path / "hostile", template=HOSTILE["a loop of 10^9"])


def test_auto_reads_a_model_with_a_broken_template_raw_and_says_why(hostile_model):
    backend = load_backend(str(hostile_model))
    reading = reading_for(backend, "auto")
    assert reading.mode == "raw"
    assert "chat template can't frame the story" in reading.note
    assert "reading it as raw text" in reading.note
    with pytest.raises(UserError, match=r"set prompt to raw$"):
        reading_for(backend, "story")


def test_generate_refuses_story_mode_with_a_broken_template_in_one_line(hostile_model):
    result = run_here(
        "generate", "--model", str(hostile_model), "--prompt", "Rain.", "--prompt-mode",
        "story", "--max-new-tokens", "2",
    )  # fmt: skip
    assert result.returncode == 2 and result.stdout == ""
    [line] = result.stderr.strip().splitlines()
    assert "chat template can't frame the story" in line and "set prompt to raw" in line
