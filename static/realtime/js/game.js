/* Gomoku pages: the live lobby, a live board, and a finished game's replay.
 * Names and chat are set with textContent. */
import {$} from "./client.js";
import {board} from "./game-board.js";
import {lobby} from "./game-lobby.js";
import {replay} from "./game-replay.js";

if ($("game-lobby")) lobby();
if ($("game-data")) board();
if ($("replay-data")) replay();
