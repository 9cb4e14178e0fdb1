"""The batch commands of the `taletree` command line, one module per kind. Each imports what
it needs (the store, torch, Textual) inside its functions, so `taletree --help` stays instant."""
