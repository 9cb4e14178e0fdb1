"""The app over a fake model, as a program: for tests that need a real terminal and a real
process (to kill it, say). Usage: python -m tests.fake_app DB STORY_ID RATE"""

import sys
from pathlib import Path

from story import Store
from tests.fake_model import FakeSession
from tui.app import TaletreeApp


def main() -> None:
    db, story_id, rate = sys.argv[1], int(sys.argv[2]), float(sys.argv[3])
    session = FakeSession(rate=rate)
    with Store.open(Path(db)) as store:
        TaletreeApp(
            store,
            story_id=story_id,
            blink=False,
            session_loader=lambda name, device, label, progress: session,
        ).run()


if __name__ == "__main__":
    main()
