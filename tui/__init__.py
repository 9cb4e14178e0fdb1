"""Every terminal face of Taletree: the `taletree` command line, the app, the line-mode REPL."""
