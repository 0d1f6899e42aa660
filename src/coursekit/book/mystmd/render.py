"""A page's MyST AST (mystmd's resolved `mdast`) → HTML, and the page around it.

The node types of MyST's content spec that a course uses are written as plain,
accessible HTML: one `h1` (the page title, from the front matter; headings in the
body start at `h2`), admonitions as `role=note` boxes, figures with `figcaption`, numbered
cross-references as links to the page and anchor, citations linking to the page's
references, footnotes at the end, notebook outputs (text, HTML, images, errors).
Maths is written as TeX between `\\(…\\)` / `\\[…\\]` for the shipped MathJax. A node
type not known here is shown (its children, or its value, in a marked box) and
named in a warning, never dropped.
"""

from __future__ import annotations

import html
import json
import posixpath
import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

ANSI = re.compile(r"\x1b\[[0-9;]*[A-Za-z]")
Node = Mapping[str, Any]
# Nodes whose content is their children, wrapped in a tag.
WRAP = {
    "paragraph": "p",
    "emphasis": "em",
    "strong": "strong",
    "blockquote": "blockquote",
    "subscript": "sub",
    "superscript": "sup",
    "delete": "del",
    "underline": "u",
    "smallcaps": "span",
    "definitionList": "dl",
    "definitionTerm": "dt",
    "definitionDescription": "dd",
    "tableRow": "tr",
    "summary": "summary",
    "legend": "p",
    "keyboard": "kbd",
    "glossary": "div",
}
TRANSPARENT = {"root", "block", "include", "mystDirective", "mystRole", "span", "div"}
TRANSPARENT_OK = {"root", "block", "include", "span", "div"}
SKIP = {"comment", "mystComment", "identifier", "footnoteDefinition"}
# Where a {bibliography} stands: the page puts the course's references there.
BIBLIOGRAPHY = "<!--coursekit-bibliography-->"


@dataclass
class PageContext:
    """What rendering one page needs: where it is and how to reach the others."""

    docname: str  # "unit1/overview"
    slugs: Mapping[str, str]  # mystmd's page slug → docname
    media: Mapping[str, str]  # mystmd's "/name-hash.png" → site path "_media/name-hash.png"
    warnings: list[str] = field(default_factory=list)
    footnotes: list[Node] = field(default_factory=list)
    where: str = ""  # the course file, for the warnings
    # A ```{quiz} directive's argument → the quiz's HTML (None: not a quiz coursekit has).
    quiz: Callable[[str], str | None] | None = None
    hide_solutions: bool = False  # `coursekit: solutions: hide`: {solution} blocks left out

    def href(self, site_path: str) -> str:
        """`site_path` (from the site's root) relative to this page."""
        return posixpath.relpath(site_path, posixpath.dirname(self.docname) or ".")

    def page_url(self, url: str) -> str | None:
        """A mystmd page URL ("/overview", "/unit1/overview#x") as a link from this page.

        mystmd's URL of a page in a folder joins the folders with `/`, its slug with
        `.` (`/unit1/overview`, slug `unit1.overview`)."""
        path, _, anchor = url.partition("#")
        slug = path.strip("/") or "index"  # "/": the root page
        doc = self.slugs.get(slug) or self.slugs.get(slug.replace("/", "."))
        if doc is None:
            return None
        target = "" if doc == self.docname else self.href(doc + ".html")
        return target + (f"#{anchor}" if anchor else "")


def render_page(tree: Node, ctx: PageContext) -> str:
    """The body of a page (its AST), footnotes last."""
    body = _render(tree, ctx)
    if ctx.footnotes:
        items = "".join(
            f'<li id="fn-{_attr(f.get("identifier", ""))}">{_children(f, ctx)}</li>'
            for f in ctx.footnotes
        )
        body += (
            '<section class="footnotes" aria-label="Footnotes">'
            f'<h2 class="footnotes-title">Footnotes</h2><ol>{items}</ol></section>'
        )
    return body


def render_references(cite: Mapping[str, Any]) -> str:
    """The page's bibliography (mystmd's `references.cite`), in citation order."""
    order = cite.get("order") or []
    data = cite.get("data") or {}
    items = "".join(
        f'<li id="cite-{_attr(key)}">{data[key].get("html", html.escape(key))}</li>'
        for key in order
        if key in data
    )
    if not items:
        return ""
    return (
        '<section class="references" aria-labelledby="references">'
        f'<h2 id="references">References</h2><ol>{items}</ol></section>'
    )


def _render(node: Node, ctx: PageContext) -> str:
    kind = str(node.get("type", ""))
    handler = HANDLERS.get(kind)
    if handler is not None:
        return handler(node, ctx)
    if kind in WRAP:
        tag = WRAP[kind]
        return f"<{tag}{_id(node)}>{_children(node, ctx)}</{tag}>"
    if kind in SKIP:
        if kind == "footnoteDefinition":
            ctx.footnotes.append(node)
        return ""
    if kind in TRANSPARENT_OK:
        inner = _children(node, ctx)
        ident = _id(node)
        return f"<div{ident}>{inner}</div>" if ident and kind == "block" else inner
    return _unknown(node, ctx)


def _unknown(node: Node, ctx: PageContext) -> str:
    kind = str(node.get("type", "?"))
    name = node.get("name")
    if kind == "mystDirective" and name == "quiz" and ctx.quiz is not None:
        found = ctx.quiz(str(node.get("args") or "").strip())
        if found is not None:
            return found
    what = f"{kind} {name!r}" if name else kind
    said = f"{ctx.where}: coursekit cannot render MyST node type {what}; shown as is"
    if said not in ctx.warnings:  # once a page
        ctx.warnings.append(said)
    if node.get("children"):
        inner = _children(node, ctx)
    else:
        shown = node.get("value") or " ".join(str(node.get(k, "")) for k in ("name", "args"))
        inner = html.escape(str(shown).strip())
    return f'<div class="ck-unknown" data-node="{_attr(what)}">{inner}</div>'


def _children(node: Node, ctx: PageContext) -> str:
    return "".join(_render(c, ctx) for c in node.get("children") or () if isinstance(c, Mapping))


def _id(node: Node) -> str:
    ident = node.get("html_id")
    return f' id="{_attr(ident)}"' if ident else ""


def _attr(value: Any) -> str:
    return html.escape(str(value), quote=True)


def _text(node: Node, ctx: PageContext) -> str:
    return html.escape(str(node.get("value", "")), quote=False)


def _heading(node: Node, ctx: PageContext) -> str:
    level = min(max(int(node.get("depth", 2)), 2), 6)  # the page title is the one h1
    return f"<h{level}{_id(node)}>{_children(node, ctx)}</h{level}>"


def _code(node: Node, ctx: PageContext) -> str:
    lang = node.get("lang") or ""
    cls = f' class="language-{_attr(lang)}"' if lang else ""
    value = html.escape(str(node.get("value", "")), quote=False)
    return f'<pre{_id(node)} tabindex="0"><code{cls}>{value}</code></pre>'


def _inline_code(node: Node, ctx: PageContext) -> str:
    return f"<code>{html.escape(str(node.get('value', '')), quote=False)}</code>"


def _link(node: Node, ctx: PageContext) -> str:
    url = str(node.get("url", ""))
    href = ctx.page_url(url) if node.get("internal") or url.startswith("/") else None
    if href is None and url.startswith("/") and url in ctx.media:
        href = ctx.href(ctx.media[url])
    if href is None:
        href = url
    inner = _children(node, ctx) or html.escape(url)
    return f'<a href="{_attr(href)}">{inner}</a>'


def _list(node: Node, ctx: PageContext) -> str:
    if node.get("ordered"):
        start = node.get("start")
        attr = f' start="{int(start)}"' if isinstance(start, int) and start != 1 else ""
        return f"<ol{attr}>{_children(node, ctx)}</ol>"
    return f"<ul>{_children(node, ctx)}</ul>"


def _list_item(node: Node, ctx: PageContext) -> str:
    kids: list[Any] = list(node.get("children") or [])
    # A tight item's single paragraph is written without <p>.
    if len(kids) == 1 and kids[0].get("type") == "paragraph":
        return f"<li>{_children(kids[0], ctx)}</li>"
    return f"<li>{_children(node, ctx)}</li>"


def _table(node: Node, ctx: PageContext) -> str:
    rows = [r for r in node.get("children") or () if r.get("type") == "tableRow"]
    head = [r for r in rows if all(c.get("header") for c in r.get("children") or ())]
    body = [r for r in rows if r not in head]
    out = f"<table{_id(node)}>"
    if head:
        out += "<thead>" + "".join(_render(r, ctx) for r in head) + "</thead>"
    out += "<tbody>" + "".join(_render(r, ctx) for r in body) + "</tbody></table>"
    return out


def _cell(node: Node, ctx: PageContext) -> str:
    tag = "th" if node.get("header") else "td"
    kids: list[Any] = list(node.get("children") or [])
    inner = (
        _children(kids[0], ctx)
        if len(kids) == 1 and kids[0].get("type") == "paragraph"
        else _children(node, ctx)
    )
    span = "".join(
        f' {a}="{int(node[k])}"'
        for k, a in (("colspan", "colspan"), ("rowspan", "rowspan"))
        if k in node
    )
    scope = ' scope="col"' if tag == "th" else ""
    return f"<{tag}{scope}{span}>{inner}</{tag}>"


def _container(node: Node, ctx: PageContext) -> str:
    kind = _attr(node.get("kind", "figure"))
    return f'<figure class="{kind}"{_id(node)}>{_children(node, ctx)}</figure>'


def _caption(node: Node, ctx: PageContext) -> str:
    kids: list[Any] = list(node.get("children") or [])
    inner = (
        _children(kids[0], ctx)
        if len(kids) == 1 and kids[0].get("type") == "paragraph"
        else _children(node, ctx)
    )
    return f"<figcaption>{inner}</figcaption>"


def _caption_number(node: Node, ctx: PageContext) -> str:
    return f'<span class="caption-number">{_children(node, ctx)}</span> '


def _image(node: Node, ctx: PageContext) -> str:
    url = str(node.get("url", ""))
    src = ctx.href(ctx.media[url]) if url in ctx.media else url
    if url not in ctx.media and url.startswith("/"):  # mystmd could not fetch or find it
        source = node.get("urlSource", url)
        ctx.warnings.append(f"{ctx.where}: image {source} is not in the site; its alt text shown")
        what = html.escape(str(node.get("alt") or source))
        return f'<span class="ck-missing-image"{_id(node)}>[image: {what}]</span>'
    alt = node.get("alt")
    if alt is None:
        ctx.warnings.append(f"{ctx.where}: an image ({node.get('urlSource', url)}) has no alt text")
        alt = ""
    width = node.get("width")
    style = f' style="width:{_attr(width)}"' if isinstance(width, str) else ""
    return f'<img src="{_attr(src)}" alt="{_attr(alt)}"{style}{_id(node)}>'


def _math(node: Node, ctx: PageContext) -> str:
    tex = html.escape(str(node.get("value", "")), quote=False)
    number = node.get("enumerator")
    tag = f'<span class="eqno">({_attr(number)})</span>' if number else ""
    return f'<div class="math-display"{_id(node)}>\\[{tex}\\]{tag}</div>'


def _inline_math(node: Node, ctx: PageContext) -> str:
    return f'<span class="math">\\({html.escape(str(node.get("value", "")), quote=False)}\\)</span>'


def _admonition(node: Node, ctx: PageContext) -> str:
    kind = str(node.get("kind") or "note")
    cls = " ".join(str(c) for c in (node.get("class"),) if c)
    kids: list[Any] = list(node.get("children") or [])
    titles = [k for k in kids if k.get("type") == "admonitionTitle"]
    title = _children(titles[0], ctx) if titles else html.escape(kind.capitalize())
    body = "".join(_render(k, ctx) for k in kids if k.get("type") != "admonitionTitle")
    return (
        f'<div class="admonition {_attr(kind)} {_attr(cls)}"{_id(node)} role="note">'
        f'<p class="admonition-title">{title}</p>{body}</div>'
    )


def _cross_reference(node: Node, ctx: PageContext) -> str:
    anchor = node.get("html_id") or node.get("identifier") or ""
    url = node.get("url")
    base = ctx.page_url(str(url)) if url else ""
    if base is None:
        base = ""
    inner = _children(node, ctx) or html.escape(str(node.get("label", "")))
    if not node.get("resolved", True):
        ctx.warnings.append(f"{ctx.where}: cross-reference {node.get('label')!r} is not resolved")
    return f'<a class="xref" href="{_attr(base)}#{_attr(anchor)}">{inner}</a>'


def _cite_group(node: Node, ctx: PageContext) -> str:
    inner = "; ".join(_render(c, ctx) for c in node.get("children") or ())
    if node.get("kind") == "parenthetical":
        return f"({inner})"
    return inner


def _cite(node: Node, ctx: PageContext) -> str:
    key = node.get("identifier") or node.get("label") or ""
    inner = _children(node, ctx) or html.escape(str(key))
    return f'<a class="cite" href="#cite-{_attr(key)}">{inner}</a>'


def _footnote_reference(node: Node, ctx: PageContext) -> str:
    ident = _attr(node.get("identifier", ""))
    number = _attr(node.get("enumerator", node.get("label", "")))
    return f'<sup><a class="footnote-ref" href="#fn-{ident}" id="fnref-{ident}">{number}</a></sup>'


def _raw_html(node: Node, ctx: PageContext) -> str:
    return str(node.get("value", ""))


def _break(node: Node, ctx: PageContext) -> str:
    return "<br>"


def _rule(node: Node, ctx: PageContext) -> str:
    return "<hr>"


def _details(node: Node, ctx: PageContext) -> str:
    return f"<details{_id(node)}>{_children(node, ctx)}</details>"


def _target(node: Node, ctx: PageContext) -> str:
    label = node.get("label") or node.get("identifier")
    return f'<span id="{_attr(label)}"></span>' if label else ""


def _titled(node: Node, ctx: PageContext) -> str:
    """An exercise, a solution or a proof (theorem, lemma…): a titled, numbered box."""
    kind = str(node.get("type"))
    if kind == "solution" and ctx.hide_solutions:
        return ""
    sub = str(node.get("kind") or "")
    name = (sub or kind).capitalize()
    kids: list[Any] = list(node.get("children") or [])
    titles = [k for k in kids if k.get("type") == "admonitionTitle"]
    given = _children(titles[0], ctx) if titles else ""
    number = node.get("enumerator")
    if kind == "solution":
        head = given or "Solution"
    else:
        head = html.escape(f"{name} {number}" if number else name)
        head += f" ({given})" if given else ""
    body = "".join(_render(k, ctx) for k in kids if k.get("type") != "admonitionTitle")
    cls = f"{kind} {_attr(sub)}".strip()
    return (
        f'<div class="admonition {cls}"{_id(node)} role="note">'
        f'<p class="admonition-title">{head}</p>{body}</div>'
    )


def _tab_set(node: Node, ctx: PageContext) -> str:
    """Tabs, written one after the other (readable without script and in print)."""
    items = []
    for item in node.get("children") or ():
        title = html.escape(str(item.get("title") or ""))
        items.append(
            f'<section class="tab-item"><p class="tab-title">{title}</p>'
            f"{_children(item, ctx)}</section>"
        )
    return f'<div class="tab-set">{"".join(items)}</div>'


def _grid(node: Node, ctx: PageContext) -> str:
    return f'<div class="grid">{_children(node, ctx)}</div>'


def _card(node: Node, ctx: PageContext) -> str:
    """A card; with a `:link:`, its title links there (the theme makes the card clickable)."""
    url = str(node.get("url") or "")
    href = (ctx.page_url(url) if node.get("internal") else None) or url
    parts, linked = [], not url
    for child in node.get("children") or ():
        inner = _children(child, ctx)
        if child.get("type") == "cardTitle":
            if not linked:
                inner, linked = f'<a href="{_attr(href)}">{inner}</a>', True
            parts.append(f'<p class="card-title">{inner}</p>')
        else:
            parts.append(_render(child, ctx))
    if not linked:
        where = html.escape(str(node.get("urlSource") or url))
        parts.append(f'<p class="card-title"><a href="{_attr(href)}">{where}</a></p>')
    return f'<div class="card"{_id(node)}>{"".join(parts)}</div>'


def _mermaid(node: Node, ctx: PageContext) -> str:
    """A Mermaid diagram: its source (no diagram renderer ships offline), said once a page."""
    said = f"{ctx.where}: a Mermaid diagram is shown as its source"
    if said not in ctx.warnings:
        ctx.warnings.append(said)
    value = html.escape(str(node.get("value", "")), quote=False)
    return f'<pre class="mermaid-source"{_id(node)} tabindex="0"><code>{value}</code></pre>'


def _inline_expression(node: Node, ctx: PageContext) -> str:
    """An {eval} expression: its result when the page was run, else the expression."""
    if node.get("children"):
        return _children(node, ctx)
    return f"<code>{html.escape(str(node.get('value', '')), quote=False)}</code>"


def _bibliography(node: Node, ctx: PageContext) -> str:
    return BIBLIOGRAPHY


def _card_part(node: Node, ctx: PageContext) -> str:
    """A card's `header` or `footer`."""
    return f'<div class="card-{_attr(node.get("type"))}">{_children(node, ctx)}</div>'


def _myst_source(node: Node, ctx: PageContext) -> str:
    """The {myst} directive's example: its MyST source (the theme previews it live)."""
    value = html.escape(str(node.get("value", "")), quote=False)
    code = f'<code class="language-markdown">{value}</code>'
    return f'<pre class="myst-source" tabindex="0">{code}</pre>'


def _embed(node: Node, ctx: PageContext) -> str:
    """{embed}: the content it took from elsewhere (none when that is on another site)."""
    if node.get("children"):
        return f"<div{_id(node)}>{_children(node, ctx)}</div>"
    label = (node.get("source") or {}).get("label") or node.get("label") or ""
    ctx.warnings.append(f"{ctx.where}: {{embed}} {label!r} has no content to show (offline)")
    return f'<p class="ck-unknown">(embedded {html.escape(str(label))})</p>'


def _iframe(node: Node, ctx: PageContext) -> str:
    """An {iframe} (a video, a web app): a link, since the page stays offline in the LMS."""
    src = str(node.get("src", ""))
    title = html.escape(str(node.get("title") or src))
    return (
        f'<p class="iframe"{_id(node)}><a href="{_attr(src)}">{title}</a></p>{_children(node, ctx)}'
    )


def _anywidget(node: Node, ctx: PageContext) -> str:
    """An {anywidget}: its module, which mystmd copied into the site, run on its model in
    a shadow root by `coursekit-anywidget.js`; the `<link>`s bring the module and its
    style sheet into a unit's zip. A module on the web is a link, since the page stays
    offline; the text inside shows where no script runs (the PDF)."""
    esm = str(node.get("esm", ""))
    if esm not in ctx.media:
        said = f"{ctx.where}: an {{anywidget}} loads its code from {esm}, offline it is a link"
        if said not in ctx.warnings:
            ctx.warnings.append(said)
        return (
            f'<p class="anywidget-offline"{_id(node)}>An interactive widget whose code is on '
            f'the web: <a href="{_attr(esm)}">{html.escape(esm)}</a></p>'
        )
    model = json.dumps(node.get("model") or {}, ensure_ascii=True)
    links = f'<link rel="modulepreload" href="{_attr(ctx.href(ctx.media[esm]))}">'
    css = node.get("css")
    if isinstance(css, str) and css in ctx.media:
        links += f'<link rel="preload" as="style" href="{_attr(ctx.href(ctx.media[css]))}">'
    return (
        f'<div class="ck-anywidget"{_id(node)} data-model="{_attr(model)}">{links}'
        "<p>An interactive widget: open this page online to use it.</p></div>"
    )


def _aside(node: Node, ctx: PageContext) -> str:
    kind = _attr(node.get("kind") or "")
    return f'<aside class="aside {kind}"{_id(node)}>{_children(node, ctx)}</aside>'


def _admonition_title(node: Node, ctx: PageContext) -> str:
    """A title outside an admonition (an aside's, a sidebar's)."""
    return f'<p class="admonition-title">{_children(node, ctx)}</p>'


def _abbreviation(node: Node, ctx: PageContext) -> str:
    title = node.get("title")
    attr = f' title="{_attr(title)}"' if title else ""
    return f"<abbr{attr}>{_children(node, ctx)}</abbr>"


def _outputs(node: Node, ctx: PageContext) -> str:
    return f'<div class="cell-outputs">{_children(node, ctx)}</div>'


def _output(node: Node, ctx: PageContext) -> str:
    data = node.get("jupyter_data") or {}
    kind = data.get("output_type")
    if kind == "stream":
        text = html.escape(ANSI.sub("", _str(data.get("text"))), quote=False)
        return f'<pre class="output stream {_attr(data.get("name", ""))}">{text}</pre>'
    if kind == "error":
        tb = "\n".join(_str(t) for t in data.get("traceback") or ())
        return f'<pre class="output error">{html.escape(ANSI.sub("", tb), quote=False)}</pre>'
    bundle = data.get("data") or {}
    for mime in ("text/html", "image/svg+xml", "image/png", "image/jpeg", "image/gif"):
        if mime in bundle:
            return _mime(mime, bundle[mime], bundle, ctx)
    if "text/latex" in bundle:
        latex = html.escape(_content(bundle["text/latex"]), quote=False)
        return f'<div class="output latex">{latex}</div>'
    if "text/markdown" in bundle and node.get("children"):
        return f'<div class="output markdown">{_children(node, ctx)}</div>'
    if "text/plain" in bundle:
        text = html.escape(_content(bundle["text/plain"]), quote=False)
        return f'<pre class="output text">{text}</pre>'
    if bundle:
        kinds = ", ".join(sorted(bundle))
        ctx.warnings.append(f"{ctx.where}: a notebook output of type {kinds} is not shown")
        return f'<p class="output ck-unknown">(an output of type {html.escape(kinds)})</p>'
    return ""


def _mime(mime: str, item: Any, bundle: Mapping[str, Any], ctx: PageContext) -> str:
    if mime == "text/html":
        return f'<div class="output html">{_content(item)}</div>'
    path = item.get("path") if isinstance(item, Mapping) else None
    alt = html.escape(_content(bundle.get("text/plain", "")) or "a notebook output", quote=True)
    if isinstance(path, str) and path in ctx.media:
        return f'<img class="output" src="{_attr(ctx.href(ctx.media[path]))}" alt="{alt}">'
    if mime == "image/svg+xml":
        return f'<div class="output svg">{_content(item)}</div>'
    content = _content(item)
    if content:
        return f'<img class="output" src="data:{mime};base64,{_attr(content)}" alt="{alt}">'
    ctx.warnings.append(f"{ctx.where}: an output image ({path}) is missing from mystmd's site")
    return ""


def _content(item: Any) -> str:
    if isinstance(item, Mapping):
        return _str(item.get("content"))
    return _str(item)


def _str(value: Any) -> str:
    if isinstance(value, list):
        return "".join(str(v) for v in value)
    return "" if value is None else str(value)


HANDLERS: dict[str, Callable[[Node, PageContext], str]] = {
    "text": _text,
    "heading": _heading,
    "code": _code,
    "inlineCode": _inline_code,
    "link": _link,
    "list": _list,
    "listItem": _list_item,
    "table": _table,
    "tableCell": _cell,
    "container": _container,
    "caption": _caption,
    "captionNumber": _caption_number,
    "image": _image,
    "math": _math,
    "inlineMath": _inline_math,
    "admonition": _admonition,
    "crossReference": _cross_reference,
    "citeGroup": _cite_group,
    "cite": _cite,
    "footnoteReference": _footnote_reference,
    "html": _raw_html,
    "break": _break,
    "thematicBreak": _rule,
    "details": _details,
    "mystTarget": _target,
    "outputs": _outputs,
    "exercise": _titled,
    "solution": _titled,
    "proof": _titled,
    "tabSet": _tab_set,
    "grid": _grid,
    "card": _card,
    "abbreviation": _abbreviation,
    "bibliography": _bibliography,
    "mermaid": _mermaid,
    "inlineExpression": _inline_expression,
    "cardTitle": lambda node, ctx: f'<p class="card-title">{_children(node, ctx)}</p>',
    "header": _card_part,
    "footer": _card_part,
    "myst": _myst_source,
    "embed": _embed,
    "iframe": _iframe,
    "aside": _aside,
    "anywidget": _anywidget,
    "admonitionTitle": _admonition_title,
    "output": _output,
}
