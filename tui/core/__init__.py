"""The headless writing core: every writing workflow, written once, under every face.

No Textual and no prompt-toolkit here (a test holds it): the app, line mode and the commands
present what this does.
"""
