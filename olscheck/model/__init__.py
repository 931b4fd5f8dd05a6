"""The design and its ordinary least squares fit."""
