"""The Mask tab's settings as an evented model: :class:`MaskSettings` holds the mask's
MaskParams (declared in ``colordist``: distance, combine rule, output, clean-up, targets) and
the rules of editing them, so the tab's controls only show and set it.

Thresholds are in the distance's own units: switching the distance starts every target from
that distance's default threshold (not while a project's or a preset's settings are put back).
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace

from filterscope.core.base.settings import Settings, setting
from filterscope.core.masking.colordist import DEFAULT_THRESHOLD, MaskParams, MaskParamsError, Target, builtin_preset


def _chapter() -> MaskParams:
    return builtin_preset("chapter")


@dataclass
class MaskSettings(Settings):
    """The mask being edited (the chapter's preset to start with), and how it is shown."""

    params: MaskParams = field(default_factory=_chapter)
    view: str = setting("side", "View", kind=str, choices=(("side", "Side by side"), ("overlay", "Overlay")),
                        help="The original, the mask and the result side by side, or the result "
                        "over the original", view=True)

    def __post_init__(self) -> None:
        super().__post_init__()
        if not isinstance(self.params, MaskParams):
            raise MaskParamsError("params", "must be a MaskParams")
        self.events.params.connect(self._on_params_changed)

    def _on_params_changed(self, new: MaskParams, old: MaskParams) -> None:
        """An edit (not a preset or project put back) names no preset; a new distance starts
        the targets from its default threshold."""
        if self.updating:
            return
        edited = replace(new, name="") if new.name and new.name == old.name else new
        if new.distance != old.distance:
            edited = replace(edited, targets=tuple(Target(t.rgb, DEFAULT_THRESHOLD[new.distance])
                                                  for t in new.targets))
        if edited != new:
            self.params = edited

    def edit(self, **changes: object) -> None:
        """Change the mask (``distance=``, ``median=``, ``targets=``...); an edited mask is no
        longer a named preset."""
        self.params = replace(self.params, **changes)

    def set_target(self, index: int, *, rgb: tuple[int, int, int] | None = None,
                   threshold: float | None = None) -> None:
        """Change target ``index``'s colour or threshold (the live slider)."""
        changes = {key: value for key, value in (("rgb", None if rgb is None else tuple(int(c) for c in rgb)),
                                                 ("threshold", None if threshold is None else float(threshold)))
                   if value is not None}
        self.params = self.params.with_target(index, **changes)

    def use(self, params: MaskParams) -> None:
        """Show ``params`` as they are (a preset or a project's mask: its name kept)."""
        self.update({"params": params})

    def add_target(self, rgb: tuple[int, int, int]) -> None:
        """Keep another colour, from the distance's default threshold."""
        target = Target(tuple(int(c) for c in rgb), DEFAULT_THRESHOLD[self.params.distance])
        self.edit(targets=(*self.params.targets, target))

    def remove_target(self, index: int) -> bool:
        """Drop target ``index``; False (nothing changed) for the last one: a mask needs one."""
        targets = self.params.targets
        if len(targets) <= 1:
            return False
        self.edit(targets=targets[:index] + targets[index + 1:])
        return True
