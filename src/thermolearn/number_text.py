"""How numbers are written for people: six significant digits, and a value with its error bar.

A value with a standard error keeps the digits the error supports: the error to two significant
digits, the value rounded to the same decimal place (``1234.5678 ± 0.0042``, ``2.16(0.27)e-06``);
a missing error is "-", never 0; a rounded zero has no sign. The command line's tables
(:mod:`thermolearn.cli.table`) and the demo's report (:mod:`thermolearn.demo.wording`) write
their numbers with these functions.
"""

from __future__ import annotations

import math


def as_python_float(x: object) -> object:
    """``x`` as a Python float when it is a floating-point scalar of another kind (NumPy float32,
    a JAX scalar: not float subclasses, so they would be printed by ``str``, NaN as "nan")."""
    dtype = getattr(x, "dtype", None)
    if not isinstance(x, float) and dtype is not None and getattr(x, "ndim", 1) == 0 and dtype.kind == "f":
        return float(x)  # type: ignore[arg-type]
    return x


def format_number(x: float | None, digits: int = 6) -> str:
    """A number as a table shows it: 6 significant digits, "-" for None and NaN."""
    x = as_python_float(x)  # type: ignore[assignment]
    if x is None or (isinstance(x, float) and math.isnan(x)):
        return "-"
    if isinstance(x, float) and math.isinf(x):
        return "inf" if x > 0 else "-inf"
    return no_negative_zero(f"{x:.{digits}g}") if isinstance(x, float) else str(x)


def no_negative_zero(text: str) -> str:
    """ "-0", "-0.000", "-0.0e+00" -> without the sign: a rounded zero has none."""
    if text.startswith("-"):
        mantissa = text[1:].split("e")[0].split("E")[0]
        if mantissa and all(c in "0." for c in mantissa):
            return text[1:]
    return text


def value_error_parts(value: float | None, error: float | None, sig: int = 2) -> tuple[str, str]:
    """``value`` and its standard ``error`` as two strings whose digits follow the error bar.

    The error keeps ``sig`` significant digits and the value is rounded to the same decimal
    place; both switch to scientific notation when fixed point would need more than six
    decimals or the error is a million or more. A missing (None, NaN) or non-positive error
    is "-" and the value is then shown with :func:`format_number`'s six digits; a missing
    value is "-". No result is ever "-0".
    """
    if value is None or math.isnan(value):
        return "-", "-" if error is None or math.isnan(error) else format_number(float(error))
    value = float(value)
    if error is None or math.isnan(error) or error <= 0 or math.isinf(value):
        return format_number(value), "-"
    error = float(error)
    if math.isinf(error):
        return format_number(value), "inf"
    e_exp = math.floor(math.log10(error))
    place = e_exp - (sig - 1)  # the decimal place of the error's last kept digit
    rounded = round(error, -place)
    if rounded >= 10 ** (e_exp + 1):  # 0.0996 -> 0.10: one place coarser
        e_exp += 1
        place += 1
        rounded = round(error, -place)
    if -place <= 6 and e_exp < 6:
        decimals = max(0, -place)
        v = round(value, -place)
        return no_negative_zero(f"{v:.{decimals}f}"), f"{rounded:.{decimals}f}"
    v = round(value, -place)
    exp = math.floor(math.log10(abs(v))) if abs(v) >= rounded else e_exp
    mantissa_decimals = max(0, exp - place)
    v_text = no_negative_zero(f"{v / 10**exp:.{mantissa_decimals}f}e{exp:+03d}")
    return v_text, f"{rounded:.{sig - 1}e}"


def format_value_error(value: float | None, error: float | None, sig: int = 2, style: str = "paren") -> str:
    """``value`` with its error, digits following the error bar (see :func:`value_error_parts`).

    ``style="paren"`` gives "1234.5678(0.0042)", "2.16(0.27)e-06" and "-32(-)" for a missing
    error; ``style="pm"`` gives "1234.5678 ± 0.0042", "2.16e-06 ± 2.7e-07" and "-32 ± -". A
    missing value is "-".
    """
    if value is None or math.isnan(value):
        return "-"
    v_text, e_text = value_error_parts(value, error, sig)
    if style == "pm":
        return f"{v_text} ± {e_text}"
    if "e" in v_text and "e" in e_text and v_text != "-":
        mantissa, exp_text = v_text.split("e")
        exp = int(exp_text)
        e_mantissa = float(error or 0.0) / 10**exp  # error is a positive number here (v_text has an exponent)
        decimals = len(mantissa.split(".")[1]) if "." in mantissa else 0
        return f"{mantissa}({e_mantissa:.{decimals}f})e{exp:+03d}"
    return f"{v_text}({e_text})"


def power_text(base: int, exponent: int) -> str:
    """``base**exponent`` written for an error message: the number itself while it is short, else
    "base^exponent" (b^(10^12) would take forever to compute, let alone print)."""
    if exponent * math.log10(max(base, 2)) <= 30:
        return str(base**exponent)
    return f"{base}^{exponent}"
