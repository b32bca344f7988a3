"""The report's "Map of the data" section: the dataset's last map, when one was made.

Shown only when known (a map saved by the Dataset tab's map window or ``filterscope map``): every
photo as a point coloured by its class, and how well the map keeps the classes apart. The report
never computes a map itself (a t-SNE of thousands of photos is a job the user starts).
"""

from __future__ import annotations

import io
from typing import TYPE_CHECKING

import numpy as np

from filterscope.core.base.formats import percent
from filterscope.core.project.report_markup import e, img
from filterscope.core.quality.embedding import NEIGHBOURS, DataMap, class_agreement, saved_map

if TYPE_CHECKING:
    from filterscope.core.project.report import ReportContent

WIDTH = 620  # shown px


def map_section(content: ReportContent) -> str | None:
    """The section's HTML, or None when the run's dataset has no saved map."""
    data_map = None if content.data is None else saved_map(content.data.source)
    if data_map is None or not len(data_map):
        return None
    agreement = class_agreement(data_map.xy, data_map.labels)
    parts = [f"<p>Each of the dataset's {len(data_map):,} photos as a point: a t-SNE of the pretrained "
             "base's features, so photos the base sees as similar lie close together (distances between "
             f"far-apart groups mean little). Map made {e(data_map.created)}.</p>",
             f"<p>{img(map_png(data_map), 'Map of the data, coloured by class', WIDTH)}</p>"]
    if agreement is not None:
        parts.append(f"<p>Class agreement: for {percent(agreement)} of the photos, most of their "
                     f"{NEIGHBOURS} nearest points on the map are of their own class.</p>")
    if data_map.notes:
        parts.append(f'<p class="note">{"; ".join(e(n) for n in data_map.notes)}.</p>')
    return "".join(parts)


def map_png(data_map: DataMap) -> bytes:
    """The points coloured by class, with a legend, as a PNG."""
    from matplotlib import colormaps
    from matplotlib.figure import Figure

    figure = Figure(figsize=(6.2, 4.6), dpi=150, layout="constrained")
    axes = figure.subplots()
    colours = colormaps["tab10" if len(data_map.classes) <= 10 else "tab20"]
    size = float(np.clip(4000 / len(data_map), 2, 24))
    for k, name in enumerate(data_map.classes):
        here = data_map.labels == k
        if here.any():
            axes.scatter(data_map.xy[here, 0], data_map.xy[here, 1], s=size, color=colours(k % colours.N),
                         label=f"{name} ({int(here.sum()):,})", linewidths=0, alpha=0.8)
    axes.set_xticks([])
    axes.set_yticks([])
    axes.set_aspect("equal", adjustable="datalim")
    axes.legend(fontsize="small", loc="center left", bbox_to_anchor=(1.0, 0.5), markerscale=max(1.0, 24 / size) ** 0.5,
                frameon=False)
    buffer = io.BytesIO()
    figure.savefig(buffer, format="png")
    return buffer.getvalue()
