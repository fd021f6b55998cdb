"""Gomoku: the rules, the referee (``service``), its sockets and pages."""
