"""The Help menu's pages: keyboard shortcuts (read from the window's own actions), how to read the panels, About.

Each page is a non-modal dialog, opened once and raised again on later requests."""

from __future__ import annotations

import html

from PySide6.QtCore import Qt
from PySide6.QtWidgets import QDialog, QDialogButtonBox, QTextBrowser, QVBoxLayout

from .. import __version__

# Keys that belong to widgets rather than to menu actions.
WIDGET_KEYS = (
    ("Layer mixer", "Tab / Shift+Tab", "move between sliders and buttons"),
    ("Layer mixer", "← / →", "move the focused slider by 0.01 (Page Up / Page Down: 0.1)"),
    ("Layer mixer", "Home / End", "the focused slider all the way to A / to B"),
    ("Seed and psi boxes", "↑ / ↓", "next / previous value (held: faster)"),
    ("Seed and psi boxes", "Enter", "commit a typed value (one undo step); Ctrl+Z first discards typing"),
    ("Anywhere", "drop a file", "a model opens; a StyleMixer PNG or recipe restores its mix"),
)

PANELS_HTML = """
<h3>The picture</h3>
<p>The mix in the centre; the thumbnails (and <i>A | mix | B</i>) show the pure images of seeds A and B.
Each mixer row is one w index: its slider says how much of that layer's w comes from B (0 = A, 1 = B).
Coarse rows (4–8 px) decide pose and shape, middle rows (16–32 px) features, fine rows colour and texture.</p>
<h3>A ↔ B style difference per w index (the bars)</h3>
<p>For each w index, how differently A's and B's w style that layer: the mean over its channels of
|y<sub>s</sub>(A) − y<sub>s</sub>(B)| + |y<sub>b</sub>(A) − y<sub>b</sub>(B)|. Where a bar is low, moving that row's
slider changes little. Colours: coarse, middle and fine groups; the selected layer is yellow. Click a bar to
select its layer.</p>
<h3>Statistics of the selected layer</h3>
<p>One dot per channel of the layer you last touched (or clicked): the mix in green on top, A in blue and B in
orange underneath. For StyleGAN (v1), AdaIN normalises each channel of the feature map and gives it a new
mean y<sub>b</sub> and scale y<sub>s</sub>, both computed from w: <i>mean in / std in</i> are the channel's moments
entering the norm (they depend on all earlier layers), <i>y<sub>s</sub>, y<sub>b</sub></i> the style, and
<i>mean out / std out</i> the moments after AdaIN, equal to y<sub>b</sub> and |y<sub>s</sub>|. Where the green dots
sit on the blue ones, the mix takes this layer from A. <i>order: A–B difference</i> puts the channels where
A and B differ most first. Hover for exact values; click a channel to open it in the feature maps.</p>
<h3>Feature maps</h3>
<p>Every channel of the selected layer after the style is applied, as small images (mix, A or B). <i>per
channel</i> gives each its own colour range, <i>shared</i> one range for the layer so strengths compare. Click
one to enlarge it next to its numbers.</p>
<p>More: <code>docs/stats-views.md</code> in the source distribution.</p>
"""


def _strip_mnemonic(text: str) -> str:
    return text.replace("&&", "\0").replace("&", "").replace("\0", "&")


def shortcut_rows(menu_bar) -> list[tuple[str, str, str]]:
    """(menu, action, keys) for every menu action with a shortcut, in menu order."""
    rows = []
    for menu_action in menu_bar.actions():
        menu = menu_action.menu()
        if menu is None:
            continue
        title = _strip_mnemonic(menu_action.text())
        for a in menu.actions():
            keys = [s.toString() for s in a.shortcuts() if not s.isEmpty()]
            if keys and not a.isSeparator():
                rows.append((title, _strip_mnemonic(a.text()).rstrip("…").strip(), ", ".join(keys)))
    return rows


def shortcuts_html(menu_bar) -> str:
    def table(rows):
        out = ["<table cellspacing='0' cellpadding='3'>"]
        last = None
        for group, what, keys in rows:
            if group != last:
                out.append(f"<tr><td colspan='2'><b>{html.escape(group)}</b></td></tr>")
                last = group
            out.append(
                f"<tr><td style='padding-left:12px'><code>{html.escape(keys)}</code></td>"
                f"<td>{html.escape(what)}</td></tr>"
            )
        out.append("</table>")
        return "".join(out)

    menus = shortcut_rows(menu_bar)
    widgets = [(g, w, k) for g, k, w in WIDGET_KEYS]
    return f"<h3>Menu shortcuts</h3>{table(menus)}<h3>In the panels</h3>{table(widgets)}"


def about_html() -> str:
    return (
        f"<h3>StyleMixer {html.escape(__version__)}</h3>"
        "<p>Explore style mixing and AdaIN in StyleGAN generators: two seeds, one slider per w index, and the "
        "per-channel statistics of every layer, live.</p>"
        "<p>Every exported PNG carries its recipe; open or drop it to restore the mix. "
        "The command line (<code>stylemixer --help</code>) renders the same recipes.</p>"
    )


class HelpPage(QDialog):
    def __init__(self, title: str, body_html: str, parent=None, size=(560, 520)):
        super().__init__(parent)
        self.setWindowTitle(title)
        self.setAttribute(Qt.WidgetAttribute.WA_DeleteOnClose, False)
        self.text = QTextBrowser()
        self.text.setOpenExternalLinks(True)
        self.text.setHtml(body_html)
        buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Close)
        buttons.rejected.connect(self.close)
        lay = QVBoxLayout(self)
        lay.addWidget(self.text)
        lay.addWidget(buttons)
        self.resize(*size)


def show_page(window, key: str, title: str, body_html: str, size=(560, 520)) -> HelpPage:
    pages = getattr(window, "_help_pages", None)
    if pages is None:
        pages = {}
        window._help_pages = pages
    page = pages.get(key)
    if page is None:
        page = pages[key] = HelpPage(title, body_html, window, size)
    else:
        page.text.setHtml(body_html)
    page.show()
    page.raise_()
    return page
