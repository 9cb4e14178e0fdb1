"""The app over a fake model, as a program: for tests that need a real terminal and a real
process (to kill it, say). Usage: python -m tests.fake_app DB STORY_ID RATE"""

import sys
from pathlib import Path

from story import Store
from testbed.fake_model import FakeBackend
from tui.app import TaletreeApp
from tui.core.session import WritingSession


def main() -> None:
    db, story_id, rate = sys.argv[1], int(sys.argv[2]), float(sys.argv[3])
    backend = FakeBackend(rate=rate)
    with Store.open(Path(db)) as store:
        session = WritingSession(store, loader=lambda request, progress: backend)
        TaletreeApp(session, story_id=story_id, blink=False).run()


if __name__ == "__main__":
    main()
