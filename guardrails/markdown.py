"""Markdown in answers, read by a real CommonMark parser (markdown-it-py), never by regexes alone.

- ``findings(text, allowed)``: the images, links to hosts outside ``allowed``, raw HTML and bare
  outside addresses in ``text``, as the parser sees them (escaped brackets, reference-style images and
  autolinks included);
- ``clean(text, allowed)``: the text without them (an image keeps its alt text, a link its text), checked
  by parsing the result again; ``review(text, allowed)``: both, from one parse;
- ``safe_html(text, allowed)``: HTML for showing an answer: images dropped, links kept only to allowed
  hosts, raw HTML shown as text. The app shows answers only through this.
"""

from __future__ import annotations

import html
import re
from collections.abc import Sequence
from functools import cache
from urllib.parse import urlparse

from markdown_it import MarkdownIt
from markdown_it.token import Token

BARE_URL = re.compile(r"(?i)\b(?:https?://|www\.)[^\s<>()\[\]]+")
"""Addresses a GFM renderer turns into links by itself (autolink literals)."""
_MARKER = re.compile(r"\\\[(\d+(?:\s*[,;]\s*\d+)*)\\\]")
_ESCAPE = re.compile(r"([\\`*_\[\]<>!])")
LINK_REMOVED = "(link removed)"


@cache
def _parser(raw_html: bool) -> MarkdownIt:
    return MarkdownIt("commonmark", {"html": raw_html}).enable(["table", "strikethrough"])


def host_allowed(url: str, allowed: Sequence[str]) -> bool:
    """An http(s) address whose host is one of ``allowed`` or a subdomain of one."""
    parsed = urlparse(url if "://" in url else f"https://{url}")
    host = (parsed.hostname or "").casefold().rstrip(".")
    if parsed.scheme not in ("http", "https") or not host:
        return False
    return any(host == d.casefold() or host.endswith("." + d.casefold()) for d in allowed)


def findings(text: str, allowed: Sequence[str]) -> list[str]:
    """What ``clean`` would remove, one entry per construct: image, link, html or bare-link."""
    return _found(_parser(True).parse(text), allowed)


def _found(tokens: Sequence[Token], allowed: Sequence[str]) -> list[str]:
    found: list[str] = []
    for token in tokens:
        if token.type == "html_block":
            found.append("html")
        in_link = 0
        for child in token.children or ():
            if child.type == "image":
                found.append("image")
            elif child.type == "link_open":
                in_link += 1
                if not host_allowed(str(child.attrs.get("href", "")), allowed):
                    found.append("link")
            elif child.type == "link_close":
                in_link -= 1
            elif child.type == "html_inline":
                found.append("html")
            elif child.type == "text" and not in_link:
                found += ["bare-link" for u in BARE_URL.findall(child.content) if not host_allowed(u, allowed)]
    return found


def _alt(image: Token) -> str:
    """An image's alt text, as a reader would see it (escapes resolved)."""
    return "".join(c.content for c in image.children or () if c.type in ("text", "code_inline")) or image.content


def clean(text: str, allowed: Sequence[str]) -> str:
    """``text`` with every finding removed; the result is parsed again to prove it holds none."""
    return review(text, allowed)[1]


def review(text: str, allowed: Sequence[str]) -> tuple[list[str], str]:
    """(``findings``, ``clean``) of ``text`` from one parse: the markdown rail's check on every release."""
    tokens = _parser(True).parse(text)
    found = _found(tokens, allowed)
    if not found:
        return found, text
    cleaned = _serialise(tokens, allowed).strip()
    if findings(cleaned, allowed):  # never expected: fall back to the words alone
        words = " ".join(c.content for t in tokens for c in t.children or () if c.type == "text")
        cleaned = re.sub(r"[\\`\[\]<>]", "", BARE_URL.sub(LINK_REMOVED, words))
    return found, cleaned


def _escape(text: str, allowed: Sequence[str]) -> str:
    text = BARE_URL.sub(lambda m: m.group() if host_allowed(m.group(), allowed) else LINK_REMOVED, text)
    return _MARKER.sub(r"[\1]", _ESCAPE.sub(r"\\\1", text))  # citation markers [n] stay as they are


def _inline(children: Sequence[Token], allowed: Sequence[str]) -> str:
    out: list[str] = []
    links: list[str | None] = []  # the open links' kept addresses (None: dropped)
    for c in children:
        if c.type == "text":
            out.append(_escape(c.content, allowed))
        elif c.type == "image":  # an image leaves its alt text
            out.append(_escape(_alt(c), allowed))
        elif c.type == "link_open":
            href = str(c.attrs.get("href", ""))
            links.append(href if host_allowed(href, allowed) else None)
            out.append("[" if links[-1] else "")
        elif c.type == "link_close":
            kept = links.pop() if links else None
            out.append(f"]({kept})" if kept else "")
        elif c.type == "code_inline":
            fence = "`" * (max((len(m) for m in re.findall(r"`+", c.content)), default=0) + 1)
            out.append(f"{fence}{c.content}{fence}")
        elif c.type == "softbreak":
            out.append("\n")
        elif c.type == "hardbreak":
            out.append("  \n")
        elif c.type in ("em_open", "em_close"):
            out.append("*")
        elif c.type in ("strong_open", "strong_close"):
            out.append("**")
        elif c.type in ("s_open", "s_close"):
            out.append("~~")
        # html_inline: dropped
    return "".join(out)


def _serialise(tokens: Sequence[Token], allowed: Sequence[str]) -> str:
    """Tokens back to plain markdown: paragraphs, headings, lists, quotes and code survive."""
    out: list[str] = []
    prefix: list[str] = []
    counters: list[int] = []
    for t in tokens:
        if t.type == "blockquote_open":
            prefix.append("> ")
        elif t.type == "blockquote_close":
            prefix.pop()
        elif t.type == "bullet_list_open":
            counters.append(0)
        elif t.type == "ordered_list_open":
            counters.append(int(t.attrs.get("start", 1) or 1))
        elif t.type in ("bullet_list_close", "ordered_list_close"):
            counters.pop()
            out.append("\n")
        elif t.type == "list_item_open":
            n = counters[-1] if counters else 0
            out.append("".join(prefix) + ("  " * (len(counters) - 1)) + (f"{n}. " if n else "- "))
            if n:
                counters[-1] += 1
        elif t.type == "heading_open":
            out.append("".join(prefix) + "#" * int(t.tag[1:]) + " ")
        elif t.type == "inline":
            if out and not out[-1].endswith((" ", "\n")):
                out.append("".join(prefix))
            out.append(_inline(t.children or [], allowed))
        elif t.type in ("paragraph_close", "heading_close"):
            out.append("\n" if t.hidden else "\n\n")
        elif t.type in ("fence", "code_block"):
            fence = "`" * max(3, max((len(m) for m in re.findall(r"`+", t.content)), default=0) + 1)
            out.append(f"{fence}\n{t.content}{fence}\n\n")
        elif t.type == "hr":
            out.append("---\n\n")
        # html_block: dropped
    return re.sub(r"\n{3,}", "\n\n", "".join(out))


def safe_html(text: str, allowed: Sequence[str] = ()) -> str:
    """An answer as HTML: raw HTML is shown as text, images become their alt text, links stay only to
    allowed hosts (opening in a new tab, with no referrer); no other markup can reach the page."""
    md = _parser(False)
    tokens = md.parse(text)
    for t in tokens:
        if not t.children:
            continue
        kept: list[Token] = []
        links: list[bool] = []  # whether each open link is kept
        for c in t.children:
            if c.type == "image":
                alt = Token("text", "", 0)
                alt.content = _alt(c)
                kept.append(alt)
                continue
            if c.type == "link_open":
                links.append(host_allowed(str(c.attrs.get("href", "")), allowed))
                if not links[-1]:
                    continue
                c.attrs.update({"target": "_blank", "rel": "noopener noreferrer nofollow"})
            elif c.type == "link_close" and not (links.pop() if links else False):
                continue
            kept.append(c)
        t.children = kept
    body = str(md.renderer.render(tokens, md.options, {}))
    # no blank line may end an HTML block early, wherever this is embedded
    return body.replace("\n\n", "\n&#10;").strip()


def plain_html(text: str) -> str:
    """Untrusted text as HTML that shows exactly its characters (line breaks kept)."""
    return html.escape(text).replace("\n", "<br>")
