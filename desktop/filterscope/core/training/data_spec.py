"""What a training run trains on, as JSON: :class:`DataSpec` (source, split, size, mask, chain).

A spec round-trips through JSON and every error names its field. A run records its data as
:func:`~filterscope.core.training.data_plan.plan` settled it: the dataset by its absolute source
and the split's train/val file lists (a manifest's, a dataset's own folders', or the one made on
the fly from a folder), so that its ``run.json`` trains again from any working directory without
the manifest file, and on another machine once :meth:`DataSpec.relocated` points it at the
dataset's new place. A split made on the fly from a built-in dataset is not recorded: its seed
fixes it, and it cannot move.
"""

from __future__ import annotations

import os
from dataclasses import asdict, dataclass, replace

from filterscope.core.augment.chain import ChainError, ChainSpec
from filterscope.core.base.settings import SettingError, check_declared, check_keys, like, setting
from filterscope.core.data.split_settings import SplitSettings
from filterscope.core.data.source import BuiltinSource, FolderSource, ManifestSource, Source, SourceError
from filterscope.core.data.splits import (
    SplitError,
    SplitManifest,
    load_manifest,
    split_from_json,
    split_to_json,
)
from filterscope.core.masking.colordist import MaskParams, MaskParamsError
from filterscope.core.training.model_input import FITTED_SIZE_RULE

MAX_SIDE = 4096
_FIELDS = ("source", "manifest", "val_fraction", "seed", "image_size", "mask", "chain", "split",
           "longest_side")


class PipelineError(SettingError):
    """Data that cannot be trained on; the message names the field or the files at fault."""


@dataclass(frozen=True)
class DataSpec:
    """What to train on, as JSON: a source, how to split it, the size, the mask and the chain.

    Attributes:
        source: A folder, a built-in dataset or a split manifest file. Text is read with
            ``Source.parse`` (bare forms too: a folder path, a built-in id, a ``.json`` manifest);
            JSON holds its text.
        manifest: A split manifest file; None splits on the fly (stratified, seeded) unless
            ``split`` is given.
        val_fraction: Validation share per class when splitting on the fly, in (0, 1); a
            dataset split into folders uses it only when it has no val folder.
        seed: Seeds the split, the shuffling and the augmentation.
        image_size: (height, width); None takes the dataset's most common size, photos larger
            than AUTO_MAX_SIDE scaled to AUTO_SIDE on their longer side (see fitted_size).
        mask: MaskParams JSON, applied to training and validation images alike.
        chain: ChainSpec JSON, applied to training batches only.
        split: The split's file lists as a run records them (``splits.split_to_json``): the
            classes, ``subsets`` of relative keys per class, and the method, value and seed
            they were drawn with. Not with ``manifest``.
        longest_side: Without ``image_size``, the images' longer side in pixels (the aspect of
            the dataset's most common size kept; see ``model_input.input_shape``); None fits
            the dataset's own size.
    """

    source: Source
    manifest: str | None = None
    val_fraction: float = like(SplitSettings, "val_fraction")
    seed: int = setting(0, "Seed", low=0, high=2**32 - 1,
                        help="Seeds the split, the shuffling, the augmentation and the weights")
    image_size: tuple[int, int] | None = setting(
        None, "Image size", kind=tuple, optional=True, low=1, high=MAX_SIDE,
        help="Height and width the images are resized to")
    mask: dict | None = None
    chain: dict | None = None
    split: dict | None = None
    longest_side: int | None = setting(
        None, "Image size", kind=int, optional=True, low=1, high=MAX_SIDE, unit="px",
        special="Dataset's size", step=8,
        help="Longer side of the images the model sees (aspect kept). " + FITTED_SIZE_RULE)

    def __post_init__(self) -> None:
        if not isinstance(self.source, Source):
            try:
                object.__setattr__(self, "source", Source.parse(self.source, bare=True))
            except SourceError as exc:
                raise PipelineError(f"source: {exc}") from exc
        if self.manifest is not None and (not isinstance(self.manifest, str) or not self.manifest):
            raise PipelineError(f"manifest: must be a file path or null, not {self.manifest!r}")
        if isinstance(self.source, ManifestSource) and self.manifest not in (None, self.source.path):
            raise PipelineError("manifest: give the split as source 'manifest:...' or as manifest, "
                                "not two different files")
        check_declared(self, error=PipelineError)
        if self.longest_side is not None and self.image_size is not None:
            raise PipelineError("longest_side: give image_size or longest_side, not both")
        self.mask_params()
        self.chain_spec()
        if self.split is not None and self.manifest_path() is not None:
            raise PipelineError("split: a run records its split or names a manifest file, not both")
        self.split_manifest()

    def mask_params(self) -> MaskParams | None:
        """The mask as MaskParams (None for no mask)."""
        if self.mask is None:
            return None
        try:
            return MaskParams.from_json(self.mask)
        except MaskParamsError as exc:
            raise PipelineError(f"mask: {exc}") from exc

    def chain_spec(self) -> ChainSpec | None:
        """The augmentation chain as a ChainSpec (None for no augmentation)."""
        if self.chain is None:
            return None
        try:
            return ChainSpec.from_json(self.chain)
        except ChainError as exc:
            raise PipelineError(f"chain: {exc}") from exc

    def split_manifest(self) -> SplitManifest | None:
        """The recorded split as a manifest of this source (None when there is none)."""
        if self.split is None:
            return None
        try:
            return split_from_json(self.source, self.split)
        except SplitError as exc:
            raise PipelineError(f"split: {exc}") from exc

    def manifest_path(self) -> str | None:
        """The manifest file named by ``manifest`` or a ``manifest:`` source, else None."""
        if isinstance(self.source, ManifestSource):
            return self.source.path
        return self.manifest

    def folder(self) -> str | None:
        """The dataset folder a folder source names, as written; None for a built-in dataset or
        a manifest (which names the dataset itself)."""
        return self.source.path if isinstance(self.source, FolderSource) else None

    def relocated(self, folder: str | os.PathLike) -> DataSpec:
        """The same data found in ``folder``: only the location changes.

        :func:`plan` checks the recorded classes and files against the folder when it opens it.
        A spec that still names a manifest file (a run made before runs recorded their split)
        takes the file's lists along, so the file is not needed at the new place.

        Raises:
            PipelineError: The data is built in (it has no location), or the manifest file
                cannot be read.
        """
        path = self.manifest_path()
        manifest = None if path is None else read_manifest(path)
        source = manifest.source if isinstance(self.source, ManifestSource) else self.source
        if isinstance(source, BuiltinSource):
            raise PipelineError(f"{source} is built in: it has no location to change")
        split = self.split if manifest is None else split_to_json(manifest)
        return replace(self, source=FolderSource.at(folder), manifest=None, split=split)

    def to_json(self) -> dict:
        """A JSON-able dict (image_size as a list)."""
        data = asdict(self)
        data["source"] = self.source.to_json()
        data["image_size"] = None if self.image_size is None else list(self.image_size)
        return data

    @classmethod
    def from_json(cls, data: object) -> DataSpec:
        """Validate and build from a dict.

        Raises:
            PipelineError: Naming the field at fault.
        """
        check_keys("", data, _FIELDS, error=PipelineError)
        if "source" not in data:
            raise PipelineError("source: missing")
        for name in ("mask", "chain", "split"):
            if data.get(name) is not None and not isinstance(data[name], dict):
                raise PipelineError(f"{name}: must be an object or null, not {data[name]!r}")
        return cls(**data)


def read_manifest(path: str) -> SplitManifest:
    """A split manifest file, or a PipelineError naming it."""
    try:
        return load_manifest(path)
    except SplitError as exc:
        raise PipelineError(f"manifest: {exc}") from exc
