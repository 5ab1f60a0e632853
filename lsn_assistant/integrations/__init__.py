"""Adapters that let other frameworks use the assistant (edges above the
``Assistant`` facade and the embedders; nothing in the library imports them)."""
