"""Sans-I/O protocol layer: text frames in, typed events out; requests in, text frames out.

What lives here: `.connection` (``KrakenProtocol``, the state of one logical connection),
`.state` (its states, a transition table), `.requests` (req_ids, pending and reserved
requests), `.subscriptions` (desired vs acknowledged), `.events` (what the protocol
emits), `.codec` (frames to models and back) and the lossless JSON reader and writer,
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
