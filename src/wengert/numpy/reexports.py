"""NumPy's own objects that never take part in a derivative, under their NumPy names.

Types and dtype helpers, error state, printing, index expressions of constants, files
and buffers, dates: code written for NumPy (or HIPS autograd, which exposes the same
names) uses them around its arithmetic, and they see no traced value (or only read one's
dtype), so wengert.numpy hands out NumPy's objects themselves rather than copies. They are
not in ``wengert.numpy.__all__``, which lists the functions that wengert defines.
"""

from __future__ import annotations

import numpy as np

__version__ = np.__version__

TYPES = (
    "bool",
    "byte",
    "bytes_",
    "cdouble",
    "character",
    "clongdouble",
    "complex256",
    "complexfloating",
    "csingle",
    "datetime64",
    "double",
    "flexible",
    "float128",
    "floating",
    "generic",
    "half",
    "inexact",
    "int_",
    "intc",
    "integer",
    "intp",
    "long",
    "longdouble",
    "longlong",
    "number",
    "object_",
    "short",
    "signedinteger",
    "single",
    "str_",
    "timedelta64",
    "ubyte",
    "uint",
    "uint16",
    "uint32",
    "uint64",
    "uintc",
    "uintp",
    "ulong",
    "ulonglong",
    "unsignedinteger",
    "ushort",
    "void",
    # constants and tables of types
    "False_",
    "True_",
    "ScalarType",
    "little_endian",
    "sctypeDict",
    "typecodes",
    # questions about dtypes
    "issubdtype",
    "isdtype",
    "typename",
)

ERROR_STATE = ("seterr", "geterr", "errstate", "seterrcall", "geterrcall")

PRINTING = (
    "set_printoptions",
    "get_printoptions",
    "printoptions",
    "array2string",
    "array_repr",
    "array_str",
    "format_float_positional",
    "format_float_scientific",
    "base_repr",
    "binary_repr",
    "info",
    "getbufsize",
    "setbufsize",
    "get_include",
    "show_config",
    "show_runtime",
)

# Index expressions and iteration over shapes: integers and slices, not array entries.
INDEXING = (
    "s_",
    "index_exp",
    "mgrid",
    "ogrid",
    "ix_",
    "ndindex",
    "iterable",
    "broadcast",
    "nditer",
    "nested_iters",
    "flatiter",
    "ufunc",
    "frompyfunc",
)

# Files, buffers and iterators: arrays read from outside the program (fromfunction calls
# the given function on index grids and returns its result, traced or not).
IO = (
    "load",
    "save",
    "savez",
    "savez_compressed",
    "loadtxt",
    "savetxt",
    "genfromtxt",
    "fromfile",
    "frombuffer",
    "fromstring",
    "fromiter",
    "fromfunction",
    "fromregex",
    "from_dlpack",
    "memmap",
)

# Dates and business days.
DATES = (
    "busday_count",
    "busday_offset",
    "busdaycalendar",
    "is_busday",
    "datetime_as_string",
    "datetime_data",
)

# Array subclasses and classes whose entries are plain NumPy values (a matrix, a record
# array, a poly1d cannot hold traced values; wengert's arrays and functions can).
LEGACY = ("matrix", "asmatrix", "bmat", "recarray", "record", "poly1d")

__all__ = [
    "__version__",
    *(
        name
        for name in (*TYPES, *ERROR_STATE, *PRINTING, *INDEXING, *IO, *DATES, *LEGACY)
        if hasattr(np, name)  # (complex256 and float128 exist on some platforms only)
    ),
]
globals().update({name: getattr(np, name) for name in __all__[1:]})
