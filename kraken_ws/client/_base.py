"""The base the ``KrakenWSClient`` mixins share: the core they delegate to."""

from __future__ import annotations

from ._core import ClientCore

__all__ = ["ClientBase"]


class ClientBase:
    """What every part of ``KrakenWSClient`` can use: its `ClientCore`.

    Attributes:
        auto_cl_ord_id: Whether orders without client ids get a ``cl_ord_id`` of our own.
    """

    _core: ClientCore
    auto_cl_ord_id: bool
