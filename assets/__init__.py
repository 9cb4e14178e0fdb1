"""Files shipped with Taletree, inside the package so that a wheel carries them."""

from pathlib import Path

# The model every face writes with when given none (built by `make demo-model`).
DEMO_MODEL = Path(__file__).resolve().parent / "models" / "taletree-demo"
DEMO_MODEL_NAME = "taletree-demo"
