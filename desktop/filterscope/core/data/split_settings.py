"""How a validation split is drawn, declared once: :class:`SplitSettings` (the split dialog's
model, ``filterscope split``'s flags, and the held-out fraction a run validates on)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from filterscope.core.base.settings import Settings, setting

PER_CLASS, FRACTION = "per-class", "fraction"


@dataclass
class SplitSettings(Settings):
    """N validation images per class (the chapter's 12), or a fraction of each class; seeded."""

    method: str = setting(PER_CLASS, "Split by", kind=str,
                          choices=((PER_CLASS, "Images per class"), (FRACTION, "Fraction of each class")),
                          help="A number of validation images per class, or a fraction of each class")
    val_per_class: int = setting(12, "Images per class", low=1, high=1_000_000,
                                 help="Validation images per class (the chapter uses 12)")
    val_fraction: float = setting(
        0.2, "Validation fraction", low=0.0, high=1.0, low_open=True, high_open=True, decimals=2,
        step=0.05, help="The share of each class held out for validation (stratified, seeded)")
    seed: int = setting(0, "Random seed", low=0, high=2**32 - 1, help="Seeds which images are drawn")

    def split_arguments(self) -> dict[str, Any]:
        """``make_split``'s keyword arguments for the method chosen."""
        size = {"val_per_class": self.val_per_class} if self.method == PER_CLASS else \
            {"val_fraction": self.val_fraction}
        return {**size, "seed": self.seed}
