"""The Augment tab's preview settings as an evented model: how many augmented versions to show,
their seed, and whether they are of random dataset images (the chain itself is a ChainSpec)."""

from __future__ import annotations

from dataclasses import dataclass

from filterscope.core.base.settings import Settings, setting

SEED_HIGH = 2**32 - 1  # numpy's and imgaug's seeds


@dataclass
class AugmentSettings(Settings):
    """What the preview shows; the same seed always gives the same pictures."""

    versions: int = setting(8, "Versions", low=4, high=16,
                            help="How many augmented versions the preview shows")
    seed: int = setting(0, "Seed", low=0, high=SEED_HIGH,
                        help="Seeds the preview's random draws (and which random images are shown)")
    random_images: bool = setting(False, "Random dataset images",
                                  help="Preview random images of the dataset instead of the one chosen")

    def reroll(self) -> None:
        """The next seed: new pictures (back to 0 after the last one)."""
        self.seed = (self.seed + 1) % (SEED_HIGH + 1)

