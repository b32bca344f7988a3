"""The report's sections on what went into a run: its data (classes, counts, split, problems),
its mask and augmentation chain (with pictures) and its model (settings and layer table)."""

from __future__ import annotations

from collections import Counter

from filterscope.core.augment.chain import ChainError, ChainSpec
from filterscope.core.base.formats import percent
from filterscope.core.masking.colordist import MaskParams, MaskParamsError
from filterscope.core.project.model_card import dataset_where
from filterscope.core.project.report import ReportContent
from filterscope.core.project.report_markup import bullets, e, files_list, img, table
from filterscope.core.training.fit_options import fit_tags


def data_section(content: ReportContent) -> str:
    """Where the data is, how it was split, images per class and what was wrong with it."""
    run, data, info = content.run, content.data, content.info
    where = dataset_where(data)
    split = f"split: {info.get('validation', '?')}"
    h, w, c = run.input_shape
    parts = [f"<p>Dataset: {e(where)}<br>{len(run.classes)} classes; {info.get('n_train', 0):,} training "
             f"and {info.get('n_val', 0):,} validation images; the model takes {h} × {w} × {c} "
             f"images.<br>Validation: {e(split)}.</p>", _counts_table(content)]
    problems = [e(w) for w in run.warnings]
    problems += [files_list(run.skipped, "left out of training, unreadable")] if run.skipped else []
    problems += _problem_kinds(content)
    parts.append("<h3>Problems</h3>" + (bullets(problems) or "<p>None recorded: every image was read.</p>"))
    return "".join(parts)


def _counts_table(content: ReportContent) -> str:
    counts, classes = content.counts, content.run.classes
    if counts is None:
        return (f'<p class="note">Images per class are unknown (the split is not recorded). Classes: '
                f"{e(', '.join(classes))}.</p>")
    subsets = [s for s in ("train", "val", "test") if s in counts]
    names = {"train": "Training", "val": "Validation", "test": "Test"}
    train_total = max(int(counts["train"].sum()), 1)
    rows = [[e(name), *(f"{int(counts[s][k]):,}" for s in subsets), percent(counts["train"][k] / train_total)]
            for k, name in enumerate(classes)]
    rows.append(["<b>All</b>", *(f"<b>{int(counts[s].sum()):,}</b>" for s in subsets), percent(1.0)])
    return table(["Class", *(names[s] for s in subsets), "Share of training"], rows,
                 frozenset(range(1, len(subsets) + 2)))


def _problem_kinds(content: ReportContent) -> list[str]:
    """One item per kind of problem the dataset's scan found (how many, and the first files)."""
    items = []
    for kind, n in Counter(p.kind for p in content.problems).most_common():
        first = [p for p in content.problems if p.kind == kind][:3]
        named = "; ".join(f"{e(p.path)}: {e(p.reason)}" for p in first)
        items.append(f"{n:,} × {e(kind)} (dataset scan): {named}{'; ...' if n > len(first) else ''}")
    return items


def mask_section(content: ReportContent) -> str:
    """The mask's settings, the chain's steps and a few images through both."""
    data = content.data
    raw_mask, raw_chain = (None, None) if data is None else (data.mask, data.chain)
    return (f"<h3>Mask</h3>{_mask(raw_mask)}<h3>Augmentation</h3>{_chain(raw_chain)}"
            f"<h3>Pictures</h3>{_samples(content)}")


def _mask(raw: dict | None) -> str:
    if raw is None:
        return "<p>No mask: the model saw the whole photos.</p>"
    try:
        params = MaskParams.from_json(raw)
    except MaskParamsError as exc:
        return f'<p class="warn">The recorded mask cannot be read: {e(exc)}</p>'
    rule = "any" if params.combine == "any" else "every one"
    rows = [[f'<font color="#{t.rgb[0]:02x}{t.rgb[1]:02x}{t.rgb[2]:02x}">■■■</font>',
             e(", ".join(map(str, t.rgb))), f"{t.threshold:g}"] for t in params.targets]
    name = f" ({e(params.name)})" if params.name else ""
    return (f"<p>Mask{name}: a pixel is kept when its {e(params.distance)} distance to {rule} of "
            f"these colours is within the threshold; the mask is cleaned with a {params.median}-pixel "
            "median and the background turned black before training.</p>"
            + table(["Colour", "RGB", "Threshold"], rows, frozenset({2})))


def _chain(raw: dict | None) -> str:
    if raw is None:
        return "<p>No augmentation: every epoch saw the same training images.</p>"
    try:
        chain = ChainSpec.from_json(raw)
    except ChainError as exc:
        return f'<p class="warn">The recorded chain cannot be read: {e(exc)}</p>'
    steps = []
    for step in chain.steps:
        args = ", ".join(f"{k}={v!r}" for k, v in step.params.items())
        when = f", {percent(step.sometimes)} of the images" if step.sometimes is not None else ""
        steps.append(f"{e(step.name)}({e(args)}){when}" + ("" if step.enabled else " (off)"))
    order = "in random order" if chain.random_order else "in this order"
    name = f" ({e(chain.name)})" if chain.name else ""
    return (f"<p>Augmentation chain{name}, applied to training batches only, {order}:</p>"
            f"<ol>{''.join(f'<li>{s}</li>' for s in steps)}</ol>")


def _samples(content: ReportContent) -> str:
    if not content.samples:
        return f'<p class="note">No pictures: {e(content.samples_note or "no image to show")}.</p>'
    masked = any(s.masked is not None for s in content.samples)
    rows = []
    for s in content.samples:
        cells = [f"{img(s.original, s.name)}<br>{e(s.name)}<br>class <b>{e(s.true)}</b>"]
        if masked:
            cells.append(img(s.masked, f"{s.name}, masked") if s.masked else "")
        cells.append("&nbsp;".join(img(p, f"{s.name} as fed to the model") for p in s.model))
        rows.append(cells)
    header = ["As stored", *(["Masked"] if masked else []), "Fed to the model in training"]
    return ("<p>One evaluated image per class, as stored and as the training pipeline fed it "
            "(the run's size, channels, mask and augmentation; three random versions). Validation "
            "and test images themselves are never augmented.</p>"
            + table(header, rows, widths=(22, 22, 56) if masked else (30, 70)))


def model_section(content: ReportContent) -> str:
    """The model's settings and its layer table, as the Train tab shows it."""
    spec, info = content.run.spec, content.info
    model, optimizer = spec.get("model") or {}, spec.get("optimizer") or {}
    base = model.get("base")
    head = (info.get("head") or {}).get("epochs")
    kind = model.get("kind", "?") + (f", base {base.get('name')} ({base.get('weights')} weights, "
                                     f"{base.get('fine_tune_blocks', 0)} top block(s) trained"
                                     + (f" after {head} epoch(s) of the head alone" if head else "")
                                     + ")" if base else "")
    h, w, c = content.run.input_shape
    options = fit_tags(spec.get("fit"))
    mode = content.run.preprocessing
    pixels = "pixels scaled to [0, 1]" if mode == "unit" else f"{mode} preprocessing"
    rate = optimizer.get("learning_rate", "?")
    settings = [("Model", f"{model.get('name', '')} ({kind})"), ("Input", f"{h} × {w} × {c}, {pixels}"),
                ("Optimizer", f"{optimizer.get('kind', '?')}, learning rate {rate}"),
                ("Epochs, batch size", f"{spec.get('epochs', '?')}, {spec.get('batch_size', '?')}"),
                ("Fitting", ", ".join(options) or "fixed epochs at one learning rate (the chapter's)"),
                ("Parameters", f"{info.get('params', 0):,} ({info.get('trainable_params', 0):,} trainable)")]
    rows = [[e(r["layer"]) + f" ({e(r['type'])})", e(tuple(r["output_shape"])), f"{r['params']:,}",
             f"{r['trainable_params']:,}"] for r in content.layers]
    layers = table(["Layer", "Output shape", "Parameters", "Trainable"], rows, frozenset({2, 3})) \
        if rows else f'<p class="note">{e(content.layers_note)}</p>'
    return table(["Setting", "Value"], [[e(k), e(v)] for k, v in settings]) + "<h3>Layers</h3>" + layers
