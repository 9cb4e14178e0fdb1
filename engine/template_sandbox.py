"""Renders one chat template, in a process of its own: run as a script (never imported by the
engine), it reads {"template", "variables"} as JSON on stdin and writes {"text"} or {"error"}.

A chat template is a Jinja program written by whoever made the model file. It renders here in
Jinja's immutable sandbox (no attribute of Python's internals, no changing what it is given),
in a process whose memory and processor time are capped, and its output is cut off past a size
limit, so a hostile template can neither reach the writer's files nor hang or fill the app:
the parent also waits only so long (engine/chat_template.py).

Only the standard library and Jinja are imported, so the process starts in a blink.
"""

import json
import resource
import sys

MEMORY = 1 << 30  # bytes of address space the renderer may take
SECONDS = 4  # processor time
MAX_OUTPUT = 64 * 1024  # characters a rendering may make


class TemplateRaised(Exception):
    """The template called raise_exception: it refuses these messages."""


class TooLong(Exception):
    """The rendering grew past MAX_OUTPUT."""


def limit_resources() -> None:
    resource.setrlimit(resource.RLIMIT_AS, (MEMORY, MEMORY))
    resource.setrlimit(resource.RLIMIT_CPU, (SECONDS, SECONDS))


def render(template: str, variables: dict) -> str:
    from jinja2.ext import loopcontrols
    from jinja2.sandbox import ImmutableSandboxedEnvironment

    def raise_exception(message: str) -> None:
        raise TemplateRaised(str(message))

    environment = ImmutableSandboxedEnvironment(
        trim_blocks=True, lstrip_blocks=True, extensions=[loopcontrols]
    )
    environment.globals["raise_exception"] = raise_exception
    compiled = environment.from_string(template)
    pieces, size = [], 0
    for piece in compiled.generate(**variables):
        size += len(piece)
        if size > MAX_OUTPUT:
            raise TooLong(f"it renders more than {MAX_OUTPUT // 1024} KB")
        pieces.append(piece)
    return "".join(pieces)


def main() -> None:
    limit_resources()
    request = json.loads(sys.stdin.read())
    try:
        answer = {"text": render(request["template"], request["variables"])}
    except TemplateRaised as error:
        answer = {"error": f"it refuses the messages ({error})", "refused": True}
    except TooLong as error:
        answer = {"error": str(error)}
    except MemoryError:
        answer = {"error": "it takes more memory than a chat template may"}
    except Exception as error:  # anything a broken template does: said, never run on
        answer = {"error": f"{type(error).__name__}: {error}"}
    sys.stdout.write(json.dumps(answer))


if __name__ == "__main__":
    main()
