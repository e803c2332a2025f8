"""The table-driven check that every setting of nn, optim and data is validated: each row
names the function, the setting, a call with the setting's value, and the values that must
be refused with ValueError and with TypeError; the error must start with "function: name".

Test modules load this file by path (the tests are not a package).
"""

from __future__ import annotations

import pytest


def setting_cases(settings) -> list:
    """One pytest case per refused value of each row of `settings`."""
    return [
        pytest.param(where, name, call, error, value, id=f"{where} {name}={value!r}")
        for where, name, call, refused in settings
        for error, values in (
            (ValueError, refused["value_errors"]),
            (TypeError, refused["type_errors"]),
        )
        for value in values
    ]


def check_refused(where, name, call, error, value) -> None:
    """``call(value)`` raises `error` with a message that starts "where: name"."""
    with pytest.raises(error) as info:
        call(value)
    message = str(info.value)
    assert message.startswith(f"{where}: {name}"), message
