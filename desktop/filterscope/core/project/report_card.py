"""The report's "Model card" section: :class:`~.model_card.ModelCard` as one short table."""

from __future__ import annotations

from filterscope.core.project.model_card import METRIC_NAMES, ModelCard
from filterscope.core.project.report_markup import bullets, e, table
from filterscope.core.base.formats import percent
from filterscope.core.results.intervals import Interval

SUBSETS = {"train": "training", "val": "validation", "test": "test"}
NO_USE = ("Not written yet: say what the model is for, and what not, with "
          "<code>filterscope report RUN --intended-use TEXT</code> or in the app's report export.")


def card_section(card: ModelCard) -> str:
    """The card as a two-column table (its rows keep together better on paper than headings)."""
    use = e(card.intended_use).replace("\n", "<br>") if card.intended_use else f'<span class="note">{NO_USE}</span>'
    rows = [("Model", e(card.model)), ("Intended use", use), ("Data", _data(card))]
    if card.evaluated:
        rows += [("Evaluated on", e(card.evaluated)), ("Metrics", _metrics(card)),
                 ("Majority baseline", e(card.baseline)), ("Calibration", e(_sentence(card.calibration))),
                 ("Threshold, coverage and costs",
                  "<br>".join(e(_sentence(line)) for line in card.decisions) or "not known for this evaluation")]
    rows.append(("Known limits", bullets([e(line) for line in card.limits])))
    return ('<p class="note">A short model card (after Mitchell et al., 2019): what the model is '
            "for, what it learned from and how far its figures go; the sections below give the "
            "details.</p>" + table(["Part", "What is known"], [[f"<b>{e(name)}</b>", value] for name, value in rows],
                                   widths=(20, 80)))


def _data(card: ModelCard) -> str:
    classes = f"{len(card.classes)} classes: {', '.join(card.classes)}"
    if card.counts is None:
        return f"{e(card.dataset)}<br>{e(classes)}; images per subset unknown"
    subsets = [f"{SUBSETS.get(name, name)} {sum(found.values()):,} ("
               + ", ".join(f"{c} {n:,}" for c, n in found.items()) + ")"
               for name, found in card.counts.items()]
    return f"{e(card.dataset)}<br>{e(classes)}<br>{e('; '.join(subsets))}"


def _metrics(card: ModelCard) -> str:
    return "<br>".join(f"{METRIC_NAMES[name]} {e(v.describe() if isinstance(v, Interval) else percent(v))}"
                       for name, v in card.metrics.items())


def _sentence(line: str) -> str:
    return line[0].upper() + line[1:] if line else line
