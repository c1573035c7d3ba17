"""Book and level3 frames read from their lossless JSON value, without building models.

The fast path of a live book. `kraken_ws.decode` validates every frame into its pydantic model
(``BookUpdate`` holds a ``BookData`` and a ``BookLevel`` per level): about 3.4 µs of a 9 µs
update, spent on objects that only a reader of typed events needs. The engines need four
things of a frame: its symbol, its levels (or orders), its checksum and its timestamp. `read`
takes them from the value `kraken_ws.protocol.codec.parse` returns (exact ``Decimal`` s of the
wire text, bounds checked) and hands them to the engines (`OrderBook.apply_wire`,
`L3Book.apply_wire`, `BookManager.feed_wire`).

The rule, one way only: `read` accepts a frame only when it is in the plain shape Kraken sends
*and* its model would accept it, with the same values; anything else (an int where a price
belongs, a second data item, a checksum written ``5.0``, a missing field, a string where an
object belongs) is ``None``, and the caller takes the typed path (``decode_object``), which
decides about it exactly as it always has (`UnknownMessage`, ``DecodeError``...). So the fast
path never accepts what the models refuse and never reads a value differently; what it does
not know it leaves to them. The conditions below are a strict subset of the models' (see
`kraken_ws.models.channels.book` and `kraken_ws.models.channels.level3`), and
``tests/book/test_wire.py`` checks that on every recorded frame and on generated ones.

Accepted, for both channels: a ``dict`` whose ``channel`` is ``"book"`` or ``"level3"`` and
``type`` ``"snapshot"`` or ``"update"``, whose ``data`` is a list of exactly one ``dict`` item
with a ``str`` ``symbol``, ``bids`` and ``asks`` lists, an ``int`` ``checksum`` (not a bool)
within 0..2**32-1 and a ``timestamp`` that is a ``str``, ``null`` or absent. Every level is a
``dict`` with ``Decimal`` ``price`` and ``qty``; every level3 order a ``dict`` with a ``str``
``order_id``, ``Decimal`` ``limit_price`` and ``order_qty``, a ``timestamp`` as above and, in an
update, an ``event`` that is ``"add"``, ``"modify"`` or ``"delete"``. Unknown keys are ignored,
as the models keep them aside (``extra="allow"``) and the engines never read them.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from decimal import Decimal
from operator import itemgetter
from typing import Any, NamedTuple, TypeAlias

__all__ = ["L2Frame", "L3Entry", "L3Frame", "WireFrame", "match", "read"]

_CHECKSUM_MAX = 0xFFFFFFFF
_EVENTS = frozenset({"add", "modify", "delete"})


class L2Frame(NamedTuple):
    """What the L2 engine reads of one ``book`` frame (its single data item).

    Attributes:
        snapshot: ``True`` for a snapshot, ``False`` for an update.
        symbol: The pair.
        bids: ``(price, qty)`` in array order.
        asks: ``(price, qty)`` in array order.
        checksum: The server's checksum.
        timestamp: The wire text of the timestamp, if sent.
    """

    snapshot: bool
    symbol: str
    bids: Sequence[tuple[Decimal, Decimal]]
    asks: Sequence[tuple[Decimal, Decimal]]
    checksum: int
    timestamp: str | None


class L3Entry(NamedTuple):
    """One order of a level3 snapshot (``event`` ``None``) or one event of an update.

    The attribute names are the models' (``Level3Order``, ``Level3Event``): the engine reads
    either the same way.
    """

    event: str | None
    order_id: str
    limit_price: Decimal
    order_qty: Decimal
    timestamp: str | None


class L3Frame(NamedTuple):
    """What the L3 engine reads of one ``level3`` frame (its single data item).

    Attributes:
        snapshot: ``True`` for a snapshot (entries are orders), ``False`` for an update
            (entries are events).
        symbol: The pair.
        bids: Bid-side entries in array order.
        asks: Ask-side entries in array order.
        checksum: The server's checksum.
        timestamp: The wire text of the timestamp, if sent.
    """

    snapshot: bool
    symbol: str
    bids: list[L3Entry]
    asks: list[L3Entry]
    checksum: int
    timestamp: str | None


WireFrame: TypeAlias = L2Frame | L3Frame
"""A frame `read` accepted."""

_tuple_new = tuple.__new__  # positional construction, without NamedTuple.__new__'s handling
_D = Decimal
_price_qty = itemgetter("price", "qty")
# Most updates touch one side: the other shares this (an allocation less per frame).
_NO_LEVELS: tuple[tuple[Decimal, Decimal], ...] = ()


def read(obj: Any) -> WireFrame | None:
    """A book or level3 frame's engine input, or ``None``: take the typed path.

    Args:
        obj: A frame's value from `kraken_ws.protocol.codec.parse`.

    Returns:
        An `L2Frame` or `L3Frame` when the frame is in the plain shape described in the module
        docstring (its model would accept it with the same values), else ``None``.
    """
    if type(obj) is not dict:
        return None
    channel = obj.get("channel")
    if channel != "book" and channel != "level3":
        return None
    kind = obj.get("type")
    if kind == "update":
        snapshot = False
    elif kind == "snapshot":
        snapshot = True
    else:
        return None
    data = obj.get("data")
    if type(data) is not list or len(data) != 1:
        return None
    item = data[0]
    if type(item) is not dict:
        return None
    symbol = item.get("symbol")
    checksum = item.get("checksum")
    timestamp = item.get("timestamp")
    if (
        type(symbol) is not str
        or type(checksum) is not int
        or not 0 <= checksum <= _CHECKSUM_MAX
        or (timestamp is not None and type(timestamp) is not str)
    ):
        return None
    bids = item.get("bids")
    asks = item.get("asks")
    if type(bids) is not list or type(asks) is not list:
        return None
    if channel == "book":
        # Inline rather than a helper per side: most updates hold one or two levels, and two
        # calls would cost more than the levels. itemgetter refuses a level that is no dict
        # (TypeError) or lacks a key (KeyError).
        try:
            bid_levels = list(map(_price_qty, bids)) if bids else _NO_LEVELS
            ask_levels = list(map(_price_qty, asks)) if asks else _NO_LEVELS
        except (KeyError, TypeError):
            return None
        for levels in (bid_levels, ask_levels):
            for price, qty in levels:
                if type(price) is not _D or type(qty) is not _D:
                    return None
        return _tuple_new(L2Frame, (snapshot, symbol, bid_levels, ask_levels, checksum, timestamp))
    l3_bids = _entries(bids, snapshot)
    if l3_bids is None:
        return None
    l3_asks = _entries(asks, snapshot)
    if l3_asks is None:
        return None
    return _tuple_new(L3Frame, (snapshot, symbol, l3_bids, l3_asks, checksum, timestamp))


# --- match: the common book frame straight from its text ---------------------------------------
#
# Nearly every frame of a live book is one shape: compact JSON, keys in Kraken's order, numbers
# written with a point and no exponent. For those, one regular expression both checks the whole
# grammar and captures what the engine reads, and the numbers become ``Decimal(text)`` (the wire
# text itself, as the parser keeps it): about 2.3 µs instead of parse + read's 3.8. Anything
# else, a space, another key order, an escape, an exponent, an int, a missing timestamp, a
# longer frame, does not match, and the frame takes parse + read as before.
#
# What it accepts is valid JSON that `read(parse(text))` turns into the same L2Frame, so never
# anything the model refuses: a string of printable ASCII without quote or backslash (no escape
# to decode, no control character), numbers of the JSON grammar with a fraction (``Decimal`` in
# jiter's decimal mode, not ``int``), no sign, no leading zero, at most 100 digits on either side
# of the point (inside the bound of kraken_ws.protocol._json: 200 significant digits, exponents
# within ±100), a checksum of at most 10 digits checked against 2**32 - 1 below. Its cost is
# linear in the text: every quantifier is possessive (no backtracking into it) and each
# repetition starts with a literal its neighbour cannot begin with.
_NUMBER = r"(?:0|[1-9][0-9]{0,99}+)\.[0-9]{1,100}+"
_LEVEL = r'\{"price":' + _NUMBER + r',"qty":' + _NUMBER + r"\}"
# A side: empty, or its first level's price and qty captured, then the text of the others (most
# sides of an update hold one level: no findall, no list comprehension for them).
_LEVELS = r'(?:\{"price":(' + _NUMBER + r'),"qty":(' + _NUMBER + r")\}((?:," + _LEVEL + r")*+))?+"
_STRING = r"[ !#-\[\]-~]*+"  # printable ASCII but " and \
_L2_TEXT = re.compile(
    r'\{"channel":"book","type":"(update|snapshot)","data":\[\{"symbol":"(' + _STRING + r')",'
    r'"bids":\[' + _LEVELS + r'\],"asks":\[' + _LEVELS + r"\],"
    r'"checksum":(0|[1-9][0-9]{0,9}+),"timestamp":"(' + _STRING + r')"\}\]\}'
).fullmatch
_PRICE_QTY = re.compile(r'"price":([0-9.]++),"qty":([0-9.]++)').findall
# Longer frames may hold more levels than codec.MAX_ITEMS allows (parse refuses those): they take
# the general path, which counts. Live updates are a few hundred characters.
_MATCH_MAX = 30_000


def match(text: str) -> L2Frame | None:
    """A ``book`` frame's engine input read from its text, or ``None``: take `read`'s path.

    Args:
        text: A frame's text.

    Returns:
        The `L2Frame` that ``read(parse(text))`` would return, when the text is a ``book``
        snapshot or update in Kraken's compact form (see the comment above); else ``None``,
        whatever the frame is (the general path decides about it).
    """
    if len(text) > _MATCH_MAX:
        return None
    found = _L2_TEXT(text)
    if found is None:
        return None
    kind, symbol, bid, bid_qty, bids, ask, ask_qty, asks, checksum_text, timestamp = found.groups()
    checksum = int(checksum_text)
    if checksum > _CHECKSUM_MAX:
        return None
    bid_levels: Sequence[tuple[Decimal, Decimal]] = _NO_LEVELS
    if bid is not None:
        bid_levels = [(_D(bid), _D(bid_qty))]
        if bids:
            bid_levels += [(_D(p), _D(q)) for p, q in _PRICE_QTY(bids)]
    ask_levels: Sequence[tuple[Decimal, Decimal]] = _NO_LEVELS
    if ask is not None:
        ask_levels = [(_D(ask), _D(ask_qty))]
        if asks:
            ask_levels += [(_D(p), _D(q)) for p, q in _PRICE_QTY(asks)]
    return _tuple_new(
        L2Frame, (kind == "snapshot", symbol, bid_levels, ask_levels, checksum, timestamp)
    )


def _entries(entries: list[Any], snapshot: bool) -> list[L3Entry] | None:
    out: list[L3Entry] = []
    append = out.append
    for entry in entries:
        if type(entry) is not dict:
            return None
        if snapshot:
            event = None
        else:
            event = entry.get("event")
            if type(event) is not str or event not in _EVENTS:
                return None
        order_id = entry.get("order_id")
        price = entry.get("limit_price")
        qty = entry.get("order_qty")
        timestamp = entry.get("timestamp")
        if (
            type(order_id) is not str
            or type(price) is not _D
            or type(qty) is not _D
            or (timestamp is not None and type(timestamp) is not str)
        ):
            return None
        append(_tuple_new(L3Entry, (event, order_id, price, qty, timestamp)))
    return out
