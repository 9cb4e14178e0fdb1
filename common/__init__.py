"""What every package of Taletree may use: it imports nothing of engine/, story/ or tui/, and
nothing heavy, so any module can import it at no cost."""
