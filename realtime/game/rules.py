"""The rules of Gomoku (五子棋), free of Django: a 15x15 board, five in a row.

Variant: *freestyle*. A line of five **or more** stones of one colour wins, so
an overline (six or more in a row) wins too, for both colours. Black moves
first. A full board without a line is a draw. Nothing else is forbidden (no
renju restrictions on black).

The board is a string of ``SIZE * SIZE`` characters, row by row: ``.`` empty,
``b`` black, ``w`` white; cell (x, y) is at ``y * SIZE + x``. A string is cheap
to store in one database column and to compare in tests.
"""

from collections.abc import Iterable

SIZE = 15
WIN_LENGTH = 5
EMPTY, BLACK, WHITE = ".", "b", "w"
EMPTY_BOARD = EMPTY * (SIZE * SIZE)
DIRECTIONS = ((1, 0), (0, 1), (1, 1), (1, -1))  # row, column, two diagonals


class IllegalMove(Exception):
    """A move the rules refuse; ``reason`` is a wire-protocol word."""

    def __init__(self, reason: str, detail: str):
        super().__init__(detail)
        self.reason = reason
        self.detail = detail


def index(x: int, y: int) -> int:
    return y * SIZE + x


def in_bounds(x: int, y: int) -> bool:
    return 0 <= x < SIZE and 0 <= y < SIZE


def other(color: str) -> str:
    return WHITE if color == BLACK else BLACK


def to_move(board: str) -> str:
    """Whose turn it is on ``board``: black moves first, then they alternate."""
    return BLACK if board.count(BLACK) == board.count(WHITE) else WHITE


def check_move(board: str, x: int, y: int) -> None:
    """Raise IllegalMove unless (x, y) is on the board and empty."""
    if not in_bounds(x, y):
        raise IllegalMove("out_of_bounds", f"({x}, {y}) is off the 15x15 board.")
    if board[index(x, y)] != EMPTY:
        raise IllegalMove("occupied", f"({x}, {y}) already holds a stone.")


def place(board: str, x: int, y: int, color: str) -> str:
    """The board after ``color`` plays (x, y); the move must be legal."""
    check_move(board, x, y)
    i = index(x, y)
    return board[:i] + color + board[i + 1 :]


def winning_line(board: str, x: int, y: int) -> list[tuple[int, int]] | None:
    """The line through the stone at (x, y) if it is WIN_LENGTH or longer.

    Only lines through the last stone can be new, so checking them is enough.
    Returns every stone of the longest such line (an overline in full), in
    order along the line, or None.
    """
    color = board[index(x, y)]
    if color == EMPTY:
        return None
    best: list[tuple[int, int]] = []
    for dx, dy in DIRECTIONS:
        line = [(x, y)]
        for sign in (1, -1):
            cx, cy = x + sign * dx, y + sign * dy
            while in_bounds(cx, cy) and board[index(cx, cy)] == color:
                line.append((cx, cy))
                cx, cy = cx + sign * dx, cy + sign * dy
        if len(line) >= WIN_LENGTH and len(line) > len(best):
            best = sorted(line)
    return best or None


def is_full(board: str) -> bool:
    return EMPTY not in board


def replay(moves: Iterable[tuple[int, int]]) -> str:
    """The board after ``moves`` played alternately from black (tests, replays)."""
    board = EMPTY_BOARD
    for x, y in moves:
        board = place(board, x, y, to_move(board))
    return board
