"""Frames in tests: each one the server sends checked against its TypedDict.

As Zulip checks every event against its schema, every JSON frame a test reads
from a ``/ws/...`` endpoint through ``WebsocketCommunicator`` must match the
TypedDict that declares its ``type``: every required key, no unknown key, each
value of its declared type, nested dicts and lists included. The declarations
are the TypedDicts with a ``type: Literal[...]`` field in ``realtime.core.envelope``
and in each feature's ``protocol`` module; those a module lists in
``CLIENT_FRAMES`` describe what clients send, and are not server frames.

A frame type that no TypedDict declares fails the check too.
"""

import asyncio
import importlib
import importlib.util
import json
import pkgutil
import types
from collections.abc import Container
from functools import cache
from typing import (
    Any,
    Literal,
    Union,
    get_args,
    get_origin,
    get_type_hints,
    is_typeddict,
)

import realtime

# Endpoints without the JSON envelope: the echo playground returns what it got.
UNCHECKED_PATHS = ("/ws/echo/",)
PLAIN_SUBPROTOCOLS = ("chat",)  # realtime.chat.protocol.PLAIN: lines, not JSON


def protocol_modules() -> list[types.ModuleType]:
    """``realtime.core.envelope`` and every ``realtime.<feature>.protocol``."""
    modules = [importlib.import_module("realtime.core.envelope")]
    for info in pkgutil.iter_modules(realtime.__path__):
        if info.ispkg and importlib.util.find_spec(f"realtime.{info.name}.protocol"):
            modules.append(importlib.import_module(f"realtime.{info.name}.protocol"))
    return modules


def frame_types(typed_dict) -> tuple[str, ...]:
    """The ``type`` values a TypedDict declares, or () if it is no frame."""
    hint = get_type_hints(typed_dict).get("type")
    return get_args(hint) if get_origin(hint) is Literal else ()


@cache
def server_frames() -> dict[str, type]:
    """Frame type -> the TypedDict that declares it, for server frames."""
    found: dict[str, type] = {}
    for module in protocol_modules():
        client = getattr(module, "CLIENT_FRAMES", ())
        for value in vars(module).values():
            if not is_typeddict(value) or value in client:
                continue
            for kind in frame_types(value):
                other = found.setdefault(kind, value)
                assert other is value, (
                    f"{kind!r} is declared twice: {other.__qualname__} and "
                    f"{value.__qualname__} (list a client frame in CLIENT_FRAMES)"
                )
    return found


def problems(value: Any, hint: Any, where: str) -> list[str]:
    """What is wrong with ``value`` as a ``hint``; [] when nothing is."""
    if is_typeddict(hint):
        return typed_dict_problems(value, hint, where)
    origin, args = get_origin(hint), get_args(hint)
    if origin is Literal:
        if any(type(value) is type(a) and value == a for a in args):
            return []
        return [f"{where}: {value!r} is none of {list(args)}"]
    if origin in (Union, types.UnionType):
        found = [problems(value, arg, where) for arg in args]
        if any(not p for p in found):
            return []
        return [f"{where}: {value!r} matches none of {hint}: {found}"]
    if origin is list or hint is list:
        if not isinstance(value, list):
            return [f"{where}: expected a list, got {value!r}"]
        item = args[0] if args else Any
        return [
            p for i, v in enumerate(value) for p in problems(v, item, f"{where}[{i}]")
        ]
    if origin is dict or hint is dict:
        if not isinstance(value, dict):
            return [f"{where}: expected an object, got {value!r}"]
        item = args[1] if args else Any
        return [p for k, v in value.items() for p in problems(v, item, f"{where}.{k}")]
    return scalar_problems(value, hint, where)


def scalar_problems(value: Any, hint: Any, where: str) -> list[str]:
    if hint is Any:
        return []
    if hint in (None, type(None)):
        ok = value is None
    elif hint is float:  # JSON has one number type; an int is a fine float
        ok = type(value) in (int, float)
    elif hint in (str, int, bool):
        ok = type(value) is hint
    else:
        raise TypeError(f"{where}: the checker cannot check {hint!r}")
    return (
        []
        if ok
        else [f"{where}: expected {getattr(hint, '__name__', hint)}, got {value!r}"]
    )


def typed_dict_problems(value: Any, typed_dict, where: str) -> list[str]:
    name = typed_dict.__qualname__
    if not isinstance(value, dict):
        return [f"{where}: expected {name}, got {value!r}"]
    hints = get_type_hints(typed_dict)
    found = [
        f"{where}: {name} requires {key!r}"
        for key in sorted(typed_dict.__required_keys__ - value.keys())
    ]
    found += [
        f"{where}: {name} has no key {key!r}" for key in sorted(value.keys() - hints)
    ]
    for key in value.keys() & hints.keys():
        found += problems(value[key], hints[key], f"{where}.{key}")
    return found


def check_frame(frame: Any) -> None:
    """Fail unless ``frame`` matches the TypedDict declaring its ``type``."""
    kind = frame.get("type") if isinstance(frame, dict) else None
    declared = server_frames().get(kind)
    assert declared is not None, (
        f"no TypedDict declares the frame type {kind!r}: {frame}"
    )
    found = typed_dict_problems(frame, declared, kind)
    assert not found, f"{kind} does not match {declared.__qualname__}: {found}\n{frame}"


def checks(communicator) -> bool:
    """True if the frames this communicator receives are JSON envelope frames."""
    path = communicator.scope.get("path", "")
    plain = getattr(communicator, "accepted_subprotocol", None) in PLAIN_SUBPROTOCOLS
    return path.startswith("/ws/") and path not in UNCHECKED_PATHS and not plain


def checked(receive_output):
    """Wrap ``WebsocketCommunicator.receive_output`` to check each text frame."""

    async def receive(self, *args, **kwargs):
        message = await receive_output(self, *args, **kwargs)
        if message.get("type") == "websocket.accept":
            self.accepted_subprotocol = message.get("subprotocol")
        elif message.get("type") == "websocket.send" and checks(self):
            if message.get("text") is not None:
                check_frame(json.loads(message["text"]))
        return message

    return receive


# Reading frames.


class _Any:
    """Contains every frame type."""

    def __contains__(self, kind) -> bool:
        return True


ANY = _Any()
# Frames a socket gets now and then besides the ones a test waits for.
EPHEMERAL = frozenset(
    {
        "chat.presence",
        "chat.typing",
        "game.chat_history",  # on every arrival, after the snapshot
        "game.presence",
        "game.watchers",
        "lobby.players",
        "lobby.seeks",
        "lobby.spectators",
    }
)


async def receive_json(source, wait: float) -> dict:
    """One JSON frame from a ``WebsocketCommunicator`` or a ``websockets`` client."""
    if hasattr(source, "receive_json_from"):
        return await source.receive_json_from(wait)
    return json.loads(await asyncio.wait_for(source.recv(), wait))


async def next_frame(
    source,
    *kinds: str,
    skip: Container[str] = EPHEMERAL,
    wait: float = 5,
    seen: list | None = None,
) -> dict:
    """The next frame of one of ``kinds`` (if none is named: not one ``skip`` names).

    Frames of the types in ``skip`` (``ANY``: of every type) are passed over on
    the way; any other frame fails the test. Each frame read is added to ``seen``.
    """
    while True:
        frame = await receive_json(source, wait)
        if seen is not None:
            seen.append(frame)
        if frame["type"] in kinds or (not kinds and frame["type"] not in skip):
            return frame
        assert frame["type"] in skip, f"expected {kinds or 'a frame'}, got {frame}"


async def drain(communicator, quiet: float = 0.2) -> list[dict]:
    """Every frame until the socket has been quiet for ``quiet`` seconds."""
    frames = []
    while not await communicator.receive_nothing(quiet):
        frames.append(await communicator.receive_json_from())
    return frames
