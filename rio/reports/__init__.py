"""Answers built from the read models or the replay: status, promised-vs-delivered, timelines."""
