"""The evaluation report on disk: scores as JSON, an HTML page and the confusion matrix PNG."""

from __future__ import annotations

import html
import json
import warnings
from collections import Counter
from collections.abc import Sequence
from datetime import datetime, timezone
from pathlib import Path

from bot.core.scores import (
    CONFUSION_PNG,
    REPORT_HTML,
    REPORT_JSON,
    Comparison,
    Scores,
    report_folder,
)
from bot.ops.evaluation import Prediction, refused_as_out_of_scope


def confusion_png(predictions: Sequence[Prediction], path: Path, title: str) -> None:
    """Gold intents down, predicted across (a fallback counted as out_of_scope), counts in
    the cells; the diagonal is what went right."""
    with warnings.catch_warnings():  # matplotlib's own use of a deprecated pyparsing API
        warnings.simplefilter("ignore", DeprecationWarning)
        import matplotlib

        matplotlib.use("Agg")  # no display: draw into a file
        import matplotlib.pyplot as plt
    from sklearn.metrics import confusion_matrix

    gold = [p.gold for p in predictions]
    predicted = [refused_as_out_of_scope(p.predicted) for p in predictions]
    labels = sorted(set(gold) | set(predicted))
    matrix = confusion_matrix(gold, predicted, labels=labels)
    size = max(6.0, 0.45 * len(labels) + 2)
    fig, ax = plt.subplots(figsize=(size, size))
    try:
        ax.imshow(matrix, cmap="Blues")
        ax.set_xticks(range(len(labels)), labels, rotation=90)
        ax.set_yticks(range(len(labels)), labels)
        ax.set_xlabel("predicted")
        ax.set_ylabel("gold")
        ax.set_title(title)
        top = matrix.max() or 1
        for i in range(len(labels)):
            for j in range(len(labels)):
                if matrix[i, j]:
                    colour = "white" if matrix[i, j] > top / 2 else "black"
                    ax.text(j, i, str(matrix[i, j]), ha="center", va="center", color=colour,
                            fontsize=7)  # fmt: skip
        fig.tight_layout()
        fig.savefig(path, dpi=100)
    finally:
        plt.close(fig)


def _row(*cells: str, header: bool = False) -> str:
    tag = "th" if header else "td"
    return "<tr>" + "".join(f"<{tag}>{c}</{tag}>" for c in cells) + "</tr>"


def html_page(scores: Scores, comparison: Comparison | None) -> str:
    e = html.escape
    when = datetime.fromtimestamp(scores.evaluated_at / 1000, timezone.utc)
    before = {c.intent: c for c in comparison.changes} if comparison else {}
    against = (
        f"<p>Compared with model <code>{e(comparison.current.model)}</code>: macro-F1 "
        f"{comparison.current.macro_f1:.3f} → {scores.macro_f1:.3f} "
        f"({comparison.delta:+.3f}).</p>"
        if comparison
        else "<p>No earlier report to compare with.</p>"
    )
    rows = [_row("intent", "precision", "recall", "F1", "support", "before", "change",
                 header=True)]  # fmt: skip
    for name, s in sorted(scores.intents.items()):
        change = before.get(name)
        prior = f"{change.before:.3f}" if change and change.before is not None else "–"
        verdict = change.verdict if change else "–"
        mark = f'<span class="{verdict}">{verdict}</span>'
        rows.append(_row(e(name), f"{s.precision:.3f}", f"{s.recall:.3f}", f"{s.f1:.3f}",
                         str(s.support), prior, mark))  # fmt: skip
    confusions = Counter((m.gold, refused_as_out_of_scope(m.predicted)) for m in scores.misses)
    misses = [_row("message", "gold", "predicted", "confidence", header=True)] + [
        _row(e(m.text), e(m.gold), e(m.predicted), f"{m.confidence:.2f}") for m in scores.misses
    ]
    worst = [_row("gold", "predicted", "count", header=True)] + [
        _row(e(g), e(p), str(n)) for (g, p), n in confusions.most_common(10)
    ]
    return f"""<!doctype html>
<html lang="en"><head><meta charset="utf-8">
<title>Loket model {e(scores.model)}: held-out report</title>
<style>body{{font:14px system-ui,sans-serif;margin:2em;max-width:70em}}
table{{border-collapse:collapse;margin:1em 0}}td,th{{border:1px solid #ccc;padding:2px 8px}}
td{{text-align:right}}td:first-child{{text-align:left}}.better{{color:#060}}.worse{{color:#b00}}
img{{max-width:100%}}</style></head><body>
<h1>Model <code>{e(scores.model)}</code></h1>
<p>{scores.examples} held-out examples from <code>{e(scores.dataset)}</code>, scored
{when:%Y-%m-%d %H:%M} UTC in {scores.seconds:.0f} s. A fallback counts as out_of_scope.</p>
<p><b>macro-F1 {scores.macro_f1:.3f}</b>, accuracy {scores.accuracy:.1%},
{len(scores.misses)} misclassified.</p>
{against}
<h2>Per intent</h2><table>{"".join(rows)}</table>
<h2>Commonest confusions</h2><table>{"".join(worst)}</table>
<h2>Confusion matrix</h2><img src="{CONFUSION_PNG}" alt="confusion matrix">
<h2>Misclassified examples</h2><table>{"".join(misses)}</table>
</body></html>
"""


def save(
    data_dir: Path,
    scores: Scores,
    predictions: Sequence[Prediction],
    comparison: Comparison | None,
) -> Path:
    """Write report.json, confusion.png and report.html into the model's report folder."""
    folder = report_folder(data_dir, scores.model)
    folder.mkdir(parents=True, exist_ok=True)
    confusion_png(predictions, folder / CONFUSION_PNG, f"model {scores.model}")
    (folder / REPORT_HTML).write_text(html_page(scores, comparison), encoding="utf-8")
    partial = folder / f".{REPORT_JSON}.partial"
    partial.write_text(json.dumps(scores.to_json(), ensure_ascii=False, indent=1), "utf-8")
    partial.replace(folder / REPORT_JSON)  # the JSON last: a report that reads is complete
    return folder
