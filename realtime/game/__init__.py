"""Gomoku: the pure rules (``rules``) and the referee (``service``)."""
