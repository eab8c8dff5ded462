"""Schemes: what the sensor sends, each turned into what the link simulator consumes.

| scheme | sensor | sent | server | product |
|---|---|---|---|---|
| ``split-ae`` | encoder of variant k | quantized, entropy-coded latent | decoder + classifier | table |
| ``jpeg`` / ``webp`` | image codec at quality q | the codec's bitstream | decode, classifier | table |
| ``edge-label`` | whole classifier | the label | — | table |
| ``analog-jscc`` | deep JSCC encoder | n power-normalised analog symbols | decoder + classifier | evaluator |

Registry: :func:`create_scheme`, :func:`list_schemes`, :func:`register_scheme`; plug-ins through
the ``commsldr.schemes`` entry-point group. Sensor cost: :mod:`commsldr.schemes.cost`.
"""

from commsldr.schemes.base import AnalogProduct, DigitalProduct, Scheme, SchemeContext
from commsldr.schemes.codec import JPEGScheme, WebPScheme
from commsldr.schemes.edge import EdgeLabelScheme
from commsldr.schemes.jscc import AnalogJSCCScheme
from commsldr.schemes.registry import (
    ENTRY_POINT_GROUP,
    create_scheme,
    get_scheme_class,
    list_schemes,
    register_scheme,
    scheme_descriptions,
)
from commsldr.schemes.split_ae import SplitAEScheme

__all__ = [
    "ENTRY_POINT_GROUP",
    "AnalogJSCCScheme",
    "AnalogProduct",
    "DigitalProduct",
    "EdgeLabelScheme",
    "JPEGScheme",
    "Scheme",
    "SchemeContext",
    "SplitAEScheme",
    "WebPScheme",
    "create_scheme",
    "get_scheme_class",
    "list_schemes",
    "register_scheme",
    "scheme_descriptions",
]
