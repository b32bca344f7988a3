"""How numbers read in text a user sees: one function, so a share never reads 0.825 in one place
and 82.5 % in another.

Figures stay fractions everywhere else (run.json, evaluations, ``--json`` output, code): this is
only for the words around them.
"""

from __future__ import annotations


def percent(fraction: float | None, digits: int = 1) -> str:
    """A fraction in [0, 1] as a percentage in the project's style: ``0.8254`` -> ``"82.5 %"``.

    Args:
        fraction: An accuracy, a share of images or pixels, a probability; None when unknown.
        digits: Decimals shown (0 for coarse shares such as a validation fraction).

    Returns:
        The percentage with a space before the sign (as the README and the report write it),
        or ``"-"`` for None.
    """
    if fraction is None:
        return "-"
    return f"{100 * fraction:.{digits}f} %"
