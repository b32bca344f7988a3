"""The Augment tab's settings as an evented model: the chain being edited (a ChainSpec) and the
edits a user makes to it, and the preview's settings (how many augmented versions, their seed,
random dataset images or the one chosen)."""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from typing import Any

from filterscope.core.augment.chain import ChainSpec, Step, builtin_chain, default_params, make_step
from filterscope.core.base.settings import Settings, declared_from_json, declared_json, setting

SEED_HIGH = 2**32 - 1  # numpy's and imgaug's seeds
_KEEP = object()  # set_step: the step's ``sometimes`` as it is


def _chapter() -> ChainSpec:
    return builtin_chain("chapter")


@dataclass
class AugmentSettings(Settings):
    """The chain and what the preview shows; the same seed always gives the same pictures.
    An edit of the chain (any method below) makes it a chain of its own, no longer a preset."""

    chain: ChainSpec = field(default_factory=_chapter)
    versions: int = setting(8, "Versions", low=4, high=16,
                            help="How many augmented versions the preview shows")
    seed: int = setting(0, "Seed", low=0, high=SEED_HIGH,
                        help="Seeds the preview's random draws (and which random images are shown)")
    random_images: bool = setting(False, "Random dataset images",
                                  help="Preview random images of the dataset instead of the one chosen")

    def _edit(self, steps: list[Step] | None = None, **changes: Any) -> None:
        self.chain = replace(self.chain, name="", **changes,
                             **({} if steps is None else {"steps": tuple(steps)}))

    def add_step(self, name: str) -> None:
        """Append augmenter ``name`` with its catalogue defaults."""
        self._edit([*self.chain.steps, Step(name, default_params(name))])

    def remove_step(self, index: int) -> None:
        """Drop step ``index``."""
        self._edit([s for i, s in enumerate(self.chain.steps) if i != index])

    def move_step(self, index: int, offset: int) -> bool:
        """Move step ``index`` by ``offset`` places; False when it would leave the chain."""
        steps, target = list(self.chain.steps), index + offset
        if not (0 <= index < len(steps) and 0 <= target < len(steps)):
            return False
        steps[index], steps[target] = steps[target], steps[index]
        self._edit(steps)
        return True

    def set_step(self, index: int, *, enabled: bool | None = None, sometimes: float | None | object = _KEEP,
                 **params: Any) -> None:
        """Change step ``index``: switch it on or off, its ``sometimes`` probability (None:
        always) or parameters, checked by the chain's own rules.

        Raises:
            ChainError: A value the augmenter does not take, naming the step and parameter.
        """
        step = self.chain.steps[index]
        raw = {"name": step.name, "params": {**step.params, **params}, "enabled": step.enabled,
               "sometimes": step.sometimes}
        if enabled is not None:
            raw["enabled"] = enabled
        if sometimes is not _KEEP:
            raw["sometimes"] = sometimes
        steps = list(self.chain.steps)
        steps[index] = make_step(index, raw)
        self._edit(steps)

    def set_random_order(self, on: bool) -> None:
        """Shuffle the steps for every image (or not)."""
        self._edit(random_order=bool(on))

    def reroll(self) -> None:
        """The next seed: new pictures (back to 0 after the last one)."""
        self.seed = (self.seed + 1) % (SEED_HIGH + 1)

    def to_json(self) -> dict:
        """The chain (in its own JSON form) and the preview's settings."""
        return {"chain": self.chain.to_json(), **declared_json(self)}

    @classmethod
    def from_json(cls, data: object) -> AugmentSettings:
        """Validate and build; missing keys take their defaults (the chapter's chain).

        Raises:
            SettingError: A bad setting, or ChainError naming the chain's step at fault.
        """
        values = declared_from_json(cls, data, also={"chain"})
        if data.get("chain") is not None:
            values["chain"] = ChainSpec.from_json(data["chain"])
        return cls(**values)

