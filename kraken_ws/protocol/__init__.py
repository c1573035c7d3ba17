"""Sans-I/O protocol layer: text frames in, typed events out; requests in, text frames out.

What lives here: :mod:`.connection` (``KrakenProtocol``, the state of one logical connection),
:mod:`.state` (its states, a transition table), :mod:`.requests` (req_ids, pending and reserved
requests), :mod:`.subscriptions` (desired vs acknowledged), :mod:`.events` (what the protocol
emits), :mod:`.codec` (frames to models and back) and the lossless JSON reader and writer,
exported here for the other layers: exact decimals with the wire digits, numbers bounded.
"""

from ._json import (
    MAX_DIGITS,
    MAX_EXPONENT,
    NumberOutOfRange,
    dumps,
    format_decimal,
    loads,
    number_in_range,
)

__all__ = [
    "MAX_DIGITS",
    "MAX_EXPONENT",
    "NumberOutOfRange",
    "dumps",
    "format_decimal",
    "loads",
    "number_in_range",
]
