"""Models served elsewhere: OpenAI-compatible completion servers (vLLM, llama.cpp's
llama-server, and others) and Ollama, behind the same event stream as a local model."""

KEY_VARIABLE = "TALETREE_API_KEY"  # the environment variable an API key is read from
# The environment variable that sets how long one streamed answer may take in all (seconds).
STREAM_LIMIT_VARIABLE = "TALETREE_STREAM_LIMIT"


def is_server_address(name: str) -> bool:
    """Whether a model name is a server's address rather than a folder, file or hub id: the
    one test every face and the engine make."""
    return name.startswith(("http://", "https://"))
