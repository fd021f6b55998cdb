"""The rules of Gomoku: wins in every direction, overlines, draws, illegal moves."""

import pytest

from realtime.game import rules
from realtime.game.rules import BLACK, EMPTY_BOARD, WHITE, IllegalMove


def board_with(stones: dict[tuple[int, int], str]) -> str:
    board = EMPTY_BOARD
    for (x, y), color in stones.items():
        i = rules.index(x, y)
        board = board[:i] + color + board[i + 1 :]
    return board


@pytest.mark.parametrize(
    ("cells", "last"),
    [
        ([(3 + i, 7) for i in range(5)], (5, 7)),  # row
        ([(7, 3 + i) for i in range(5)], (7, 3)),  # column
        ([(2 + i, 2 + i) for i in range(5)], (6, 6)),  # diagonal
        ([(10 - i, 4 + i) for i in range(5)], (8, 6)),  # anti-diagonal
    ],
    ids=["row", "column", "diagonal", "anti-diagonal"],
)
def test_five_in_any_direction_wins_with_its_line(cells, last):
    """Five stones in a row, column or diagonal win, wherever the last one lands."""
    board = board_with(dict.fromkeys(cells, WHITE))
    assert rules.winning_line(board, *last) == sorted(cells)


def test_four_in_a_row_does_not_win():
    """Four stones, or five broken by a gap or another colour, are not a win."""
    four = board_with({(x, 0): BLACK for x in range(4)})
    assert rules.winning_line(four, 3, 0) is None
    gap = board_with({(x, 0): BLACK for x in (0, 1, 2, 4, 5)})
    assert rules.winning_line(gap, 2, 0) is None
    mixed = board_with({(0, 0): BLACK, (1, 0): BLACK, (2, 0): WHITE, (3, 0): BLACK})
    assert rules.winning_line(mixed, 3, 0) is None


def test_an_overline_of_six_wins_whole_freestyle():
    """Freestyle: six in a row wins for either colour; the line holds all six."""
    for color in (BLACK, WHITE):
        cells = [(x, 14) for x in range(9, 15)]
        board = board_with(dict.fromkeys(cells, color))
        assert rules.winning_line(board, 11, 14) == cells


def test_lines_along_the_edges_and_corners_are_found():
    """A line touching the board's edge is found without wrapping around rows."""
    edge = board_with({(x, 0): BLACK for x in range(10, 15)})
    assert rules.winning_line(edge, 14, 0) == [(x, 0) for x in range(10, 15)]
    cells = [(12, 0), (13, 0), (14, 0), (0, 1), (1, 1)]  # consecutive in the string
    wrap = board_with(dict.fromkeys(cells, BLACK))
    assert rules.winning_line(wrap, 0, 1) is None


def test_illegal_moves_are_refused_and_leave_the_board_alone():
    """Off the board or on a stone is refused with a reason; the board is unchanged."""
    board = rules.replay([(7, 7)])
    for x, y in [(-1, 0), (15, 3), (0, 15), (3, -2)]:
        with pytest.raises(IllegalMove) as refused:
            rules.place(board, x, y, WHITE)
        assert refused.value.reason == "out_of_bounds"
    with pytest.raises(IllegalMove) as refused:
        rules.place(board, 7, 7, WHITE)
    assert refused.value.reason == "occupied"
    assert board == rules.replay([(7, 7)])


def test_turns_alternate_from_black():
    """Black moves first; then the colours alternate."""
    assert rules.to_move(EMPTY_BOARD) == BLACK
    assert rules.to_move(rules.replay([(0, 0)])) == WHITE
    assert rules.to_move(rules.replay([(0, 0), (1, 1)])) == BLACK


def drawn_game() -> list[tuple[int, int]]:
    """Moves that fill the board without five anywhere (shared with ASGI tests).

    Colour of (x, y) follows the period-4 pattern bbww along x + 2y: runs of
    at most two in rows, columns and both diagonals; 113 black, 112 white.
    """
    cells = [(x, y) for y in range(rules.SIZE) for x in range(rules.SIZE)]
    black = [c for c in cells if (c[0] + 2 * c[1]) % 4 < 2]
    white = [c for c in cells if (c[0] + 2 * c[1]) % 4 >= 2]
    moves = [cell for pair in zip(black, white, strict=False) for cell in pair]
    return [*moves, black[-1]]


def test_a_full_board_without_five_is_a_draw():
    """Filling the last cell with no line of five leaves a full board: a draw."""
    moves = drawn_game()
    board = rules.replay(moves)  # also checks every move was legal
    assert rules.is_full(board)
    assert all(rules.winning_line(board, x, y) is None for x, y in moves)
    assert not rules.is_full(rules.replay(moves[:-1]))
