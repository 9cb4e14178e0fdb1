"""Fitting a context into a model's window, the same way for every kind of model."""

from engine.settings import SettingsError


def fit_window(ids: list[int], window: int | None, max_new_tokens: int, keep: int = 0) -> list[int]:
    """Drop tokens after the first `keep` (the story's memory) so the context and the new
    tokens fit the window. They go in chunks of a quarter window: the start of the context then
    stays the same for many turns, and the cache is rarely rebuilt from scratch."""
    if window is None or len(ids) + max_new_tokens <= window:
        return ids
    room = window - max_new_tokens
    if room <= keep:
        raise SettingsError(
            f"max_new_tokens {max_new_tokens} leaves no room in the model's window of {window} "
            f"tokens for the story: ask for fewer new tokens"
        )
    chunk = max(1, window // 4)
    excess = len(ids) - room
    drop = min(-(-excess // chunk) * chunk, len(ids) - keep - 1)
    return ids[:keep] + ids[keep + drop :]
