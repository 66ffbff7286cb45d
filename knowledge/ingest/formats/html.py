"""``.html`` / ``.htm`` portal pages: the article is kept; navigation, menus, share buttons,
"Tin liên quan" lists and footers are dropped; title, date and canonical URL become metadata."""

from __future__ import annotations

import logging
import re
from pathlib import Path
from typing import TYPE_CHECKING

from knowledge.ingest.formats.base import (
    DEFAULT_LIMITS,
    SPACES,
    Extracted,
    ExtractLimits,
    LoadError,
    decode,
    encoding_notes,
    read_limited,
    repair,
)
from knowledge.text.legacy_encodings import UTF8, DecodedText
from knowledge.text.normalize import to_nfc

if TYPE_CHECKING:
    from bs4 import BeautifulSoup, Tag

logger = logging.getLogger(__name__)

SUFFIXES = (".html", ".htm")
MIN_ARTICLE_CHARS = 80  # an HTML page with less article text than this is only navigation

_DROP_TAGS = ("script", "style", "noscript", "template", "svg", "canvas", "iframe", "object",
              "embed", "video", "audio", "map", "nav", "aside", "form", "button", "select",
              "input", "textarea", "label", "footer", "link", "meta", "img", "picture")
_DROP_ROLES = {"navigation", "banner", "contentinfo", "search", "menu", "menubar",
               "complementary", "toolbar", "dialog"}
# class/id words of page furniture (matched as whole words of "a-b_c d" attribute values)
_BOILERPLATE = re.compile(
    r"(?:^|[-_\s])(?:menu|menus|nav|navbar|navigation|breadcrumbs?|share|sharing|social|"
    r"socials|toolbar|tools|footer|sidebar|side-bar|related|relate|lienquan|tinlienquan|"
    r"lien-quan|tin-lien-quan|tinkhac|tin-khac|other|others|comments?|binh-luan|banner|advert|"
    r"ads|quangcao|quang-cao|pagination|paging|login|search|widget|cookie|rating|tags?|"
    r"subscribe|hotline|copyright|top-bar|topbar|back-to-top|scroll-top|modal|popup|"
    r"facebook|zalo|twitter)(?=[-_\s]|$)",
    re.IGNORECASE,
)
_CONTENT = re.compile(
    r"article|content|detail|chitiet|chi-tiet|noidung|noi-dung|post|entry|story|body-?text|"
    r"news-?body|journal",
    re.IGNORECASE,
)
_RELATED_HEADING = re.compile(
    r"^(?:các\s+)?(?:tin|bài|bài viết|văn bản|tin bài|thông tin)\s+(?:liên quan|khác|"
    r"cùng chuyên mục|cùng lĩnh vực|mới|mới hơn|cũ hơn|đã đưa|xem nhiều|nổi bật|đọc nhiều)\b|"
    r"^(?:xem thêm|đọc thêm|tin mới nhất|chuyên mục khác|bình luận|ý kiến bạn đọc)\b",
    re.IGNORECASE,
)
_SHARE_TEXT = re.compile(
    r"^(?:chia sẻ|share|in bài|in trang|bản in|gửi email|gửi bài|gửi cho bạn bè|lưu bài|"
    r"facebook|zalo|twitter|tweet|like|thích|email|print|lên đầu trang|về đầu trang|"
    r"quay lại|trở về|cỡ chữ|a\+|a-)\s*:?$",
    re.IGNORECASE,
)
_BLOCK_TAGS = {"p", "div", "section", "article", "main", "header", "h1", "h2", "h3", "h4", "h5",
               "h6", "blockquote", "pre", "address", "figure", "figcaption", "dl", "dt", "dd",
               "center", "hr", "body", "html", "details", "summary", "caption"}
_HEADINGS = {"h1", "h2", "h3", "h4", "h5", "h6"}
_DATE_META = ("article:published_time", "og:published_time", "datepublished", "pubdate",
              "publishdate", "date", "dc.date.issued", "dc.date", "article:modified_time")
_ISO_DATE = re.compile(r"(\d{4})-(\d{1,2})-(\d{1,2})")
_VN_DATE = re.compile(r"\b(\d{1,2})[/.-](\d{1,2})[/.-](\d{4})\b")
_DATE_HINT = re.compile(r"date|time|publish|ngay|ngày|post-?info|meta", re.IGNORECASE)
_META_CHARSET = re.compile(rb"""<meta[^>]+charset\s*=\s*["']?\s*([A-Za-z0-9_.:-]+)""",
                           re.IGNORECASE)
HTML_CHARSETS = ("utf-8", "ascii", "cp1258", "cp1252", "iso8859-1", "iso8859-15")
"""Declared charsets a page is decoded with (Python codec names: UTF-8, Windows-1258, and the
Western code pages that pages typed in the TCVN3/VNI fonts declare; their legacy-font text is
repaired after extraction). Any other declaration — ``punycode`` (quadratic to decode),
``rot13`` (not a text encoding), Chinese or Cyrillic code pages… — is ignored with a note, and
the encoding is detected as for an undeclared page (UTF-8, Windows-1258, TCVN3, VNI)."""


def _declared_charset(raw: bytes) -> str | None:
    match = _META_CHARSET.search(raw[:8192])
    return match.group(1).decode("ascii").lower() if match else None


def _decode_html(raw: bytes) -> tuple[DecodedText, tuple[str, ...]]:
    """Decode by the page's ``<meta charset>`` when it is an allowed non-UTF-8 code page
    (:data:`HTML_CHARSETS`); UTF-8 and undeclared, wrongly declared or not allowed declarations
    go through the legacy-encoding detector. Also returns notes for the operator."""
    import codecs

    declared = _declared_charset(raw)
    codec = None
    notes: tuple[str, ...] = ()
    if declared:
        try:
            codec = codecs.lookup(declared).name
        except LookupError:
            logger.debug("unknown declared charset %r", declared)
        if codec not in HTML_CHARSETS:
            codec = None
            notes = (f"the page declares charset {declared!r}, which is not accepted (allowed: "
                     f"{', '.join(HTML_CHARSETS)}): its encoding was detected instead",)
    if codec and codec not in ("utf-8", "ascii"):
        try:
            encoding = "windows-1258" if codec == "cp1258" else codec
            # legacy fonts on "latin-1" pages show up as mojibake: repaired after extraction
            return DecodedText(to_nfc(raw.decode(codec)), encoding, True), notes
        except UnicodeDecodeError:
            logger.debug("page is not %s as declared; detecting", codec)
    try:
        return DecodedText(to_nfc(raw.decode("utf-8-sig")), UTF8, True), notes
    except UnicodeDecodeError:
        return decode(raw), notes


def _attr_words(tag: Tag) -> str:
    values = []
    for name in ("class", "id"):
        value = tag.get(name)
        if isinstance(value, list):
            values.extend(value)
        elif value:
            values.append(str(value))
    return " ".join(values)


def _text_len(tag: Tag) -> int:
    return len(SPACES.sub("", tag.get_text()))


def _link_len(tag: Tag) -> int:
    return sum(_text_len(a) for a in tag.find_all("a"))


def _is_furniture(tag: Tag) -> bool:
    if tag.name in _DROP_TAGS:
        return True
    if (tag.get("role") or "").lower() in _DROP_ROLES:
        return True
    if tag.name == "header" and not tag.find("h1"):
        return True
    words = _attr_words(tag)
    return bool(words and _BOILERPLATE.search(words))


def _meta_content(soup: BeautifulSoup, *keys: str) -> str:
    wanted = {k.lower() for k in keys}
    for meta in soup.find_all("meta"):
        key = (meta.get("property") or meta.get("name") or meta.get("itemprop") or "").lower()
        if key in wanted and meta.get("content"):
            return str(meta["content"]).strip()
    return ""


def _date_from(text: str) -> str:
    match = _ISO_DATE.search(text)
    if match:
        year, month, day = (int(g) for g in match.groups())
    else:
        match = _VN_DATE.search(text)
        if not match:
            return ""
        day, month, year = (int(g) for g in match.groups())
    if 1 <= month <= 12 and 1 <= day <= 31 and 1945 <= year <= 2100:
        return f"{year:04d}-{month:02d}-{day:02d}"
    return ""


def _page_date(soup: BeautifulSoup, root: Tag) -> str:
    for key in _DATE_META:
        date = _date_from(_meta_content(soup, key))
        if date:
            return date
    for time in soup.find_all("time"):
        date = _date_from(str(time.get("datetime") or "") or time.get_text(" "))
        if date:
            return date
    for tag in root.find_all(True):
        words = _attr_words(tag)
        if words and _DATE_HINT.search(words) and _text_len(tag) < 80:
            date = _date_from(tag.get_text(" "))
            if date:
                return date
    return ""


def _page_source(soup: BeautifulSoup) -> str:
    for link in soup.find_all("link"):
        rel = link.get("rel") or []
        rels = rel if isinstance(rel, list) else str(rel).split()
        if "canonical" in (r.lower() for r in rels) and link.get("href"):
            return str(link["href"]).strip()
    return _meta_content(soup, "og:url")


def _page_title(soup: BeautifulSoup, root: Tag) -> str:
    for tag in (root.find("h1"), soup.find("h1")):
        if tag is not None and tag.get_text(strip=True):
            return SPACES.sub(" ", tag.get_text(" ")).strip()
    title = _meta_content(soup, "og:title")
    first = root.find(["h2", "h3", "p", "li", "td"])
    if not title and first is not None and first.name in ("h2", "h3"):
        title = first.get_text(" ")  # a portal that styles its title as a sub-heading
    if not title and soup.title is not None:
        title = soup.title.get_text(" ")
    return SPACES.sub(" ", title).strip()


def _find_article(soup: BeautifulSoup) -> Tag:
    """The element holding the article: the candidate with the most non-link text, then its
    deepest descendant candidate that still holds most of that text."""
    body = soup.body or soup
    candidates = list(body.find_all(["article", "main"]))
    candidates += body.find_all(attrs={"itemprop": "articleBody"})
    candidates += body.find_all(attrs={"role": "main"})
    candidates += [t for t in body.find_all(["div", "section", "td"])
                   if _CONTENT.search(_attr_words(t)) and not _is_furniture(t)]
    scored = [(t, _text_len(t) - _link_len(t)) for t in candidates]
    scored = [(t, s) for t, s in scored if s > 0]
    if not scored:
        return body
    best, best_score = max(scored, key=lambda item: item[1])
    deepest, depth = best, 0
    for tag, score in scored:
        if score >= 0.7 * best_score and best in tag.parents:
            tag_depth = sum(1 for _ in tag.parents)
            if tag_depth > depth:
                deepest, depth = tag, tag_depth
    return deepest


def _drop_related_sections(root: Tag) -> None:
    """Remove "Tin liên quan" / "Tin khác" headings with the lists that follow them."""
    for tag in list(root.find_all(True)):
        if tag.decomposed or tag is root:
            continue
        text = SPACES.sub(" ", tag.get_text(" ")).strip().rstrip(":").strip()
        if len(text) > 60 or not _RELATED_HEADING.match(text):
            continue
        if tag.find(["p", "div", "ul", "ol", "li"]) and tag.name not in _HEADINGS:
            continue  # a container; its heading child is handled on its own
        container = tag
        while container.parent is not None and container.parent is not root:
            parent = container.parent
            if _text_len(parent) > 0 and _link_len(parent) / _text_len(parent) < 0.5:
                break
            container = parent
        if container is tag:  # a bare heading: the link lists right after it go with it
            for sibling in list(tag.find_next_siblings()):
                total = _text_len(sibling)
                if total and _link_len(sibling) / total < 0.5:
                    break
                sibling.decompose()
        container.decompose()


def _clean_article(root: Tag) -> None:
    for tag in list(root.find_all(True)):
        if not tag.decomposed and _is_furniture(tag):
            tag.decompose()
    for tag in list(root.find_all(["a", "span", "li", "div", "p"])):
        if tag.decomposed:
            continue
        text = SPACES.sub(" ", tag.get_text(" ")).strip()
        if text and len(text) < 30 and _SHARE_TEXT.match(text):
            tag.decompose()
    _drop_related_sections(root)
    for tag in list(root.find_all(["ul", "ol", "div", "table", "p"])):
        if tag.decomposed:
            continue
        total = _text_len(tag)
        if total and len(tag.find_all("a")) >= 3 and _link_len(tag) / total > 0.7:
            tag.decompose()  # a menu or a list of other articles


def _inline(tag: Tag) -> str:
    return SPACES.sub(" ", tag.get_text(" ")).strip()


def _render_list(tag: Tag, lines: list[str]) -> None:
    for item in tag.find_all("li", recursive=False):
        nested = [n.extract() for n in item.find_all(["ul", "ol"])]
        text = _inline(item)
        if text:
            lines.append(f"- {text}")
        for sub in nested:
            _render_list(sub, lines)


def _is_layout_table(table: Tag) -> bool:
    return table.find("table") is not None or any(
        _text_len(cell) > 500 for cell in table.find_all(["td", "th"])
    )


def _render_table(table: Tag) -> str:
    rows = []
    for row in table.find_all("tr"):
        cells = [_inline(cell) for cell in row.find_all(["td", "th"], recursive=False)]
        if any(cells):
            rows.append(" | ".join(cells))
    return "\n".join(rows)


def _render(tag: Tag, blocks: list[str], buffer: list[str]) -> None:
    from bs4 import NavigableString
    from bs4.element import Comment, Declaration, Doctype, ProcessingInstruction

    def flush() -> None:
        text = "".join(buffer)
        buffer.clear()
        lines = [SPACES.sub(" ", line).strip() for line in text.split("\n")]
        paragraph = "\n".join(line for line in lines if line)
        if paragraph:
            blocks.append(paragraph)

    for child in tag.children:
        if isinstance(child, NavigableString):
            if not isinstance(child, Comment | Declaration | Doctype | ProcessingInstruction):
                buffer.append(str(child).replace("\n", " "))
        elif child.name == "br":
            buffer.append("\n")
        elif child.name in ("ul", "ol"):
            flush()
            items: list[str] = []
            _render_list(child, items)
            if items:
                blocks.append("\n".join(items))
        elif child.name == "table" and not _is_layout_table(child):
            flush()
            rendered = _render_table(child)
            if rendered:
                blocks.append(rendered)
        elif child.name in _BLOCK_TAGS or child.name in ("table", "tr", "td", "th", "li"):
            flush()
            _render(child, blocks, buffer)
            flush()
        else:
            _render(child, blocks, buffer)
    if tag.name in _BLOCK_TAGS:
        flush()


def html_to_article(html: str) -> Extracted:
    """The article of a portal page: its text (paragraphs, ``- `` list items, ``a | b`` table
    rows) and ``title``/``date``/``source`` fields; page furniture is left out.

    Raises:
        LoadError: the page has no article text (only navigation).
    """
    from bs4 import BeautifulSoup

    soup = BeautifulSoup(html, "lxml")
    for tag in soup.find_all(["script", "style", "noscript", "template", "svg"]):
        tag.decompose()
    root = _find_article(soup)
    fields = {"title": _page_title(soup, root), "source": _page_source(soup)}
    fields["date"] = _page_date(soup, root)
    _clean_article(root)
    blocks: list[str] = []
    buffer: list[str] = []
    _render(root, blocks, buffer)
    if buffer:
        blocks.append(SPACES.sub(" ", "".join(buffer)).strip())
    text = "\n\n".join(b for b in blocks if b)
    if len(SPACES.sub("", text)) < MIN_ARTICLE_CHARS:
        raise LoadError("no article text found in the HTML page (only navigation or menus?)")
    title = fields["title"]
    if title and title not in text[: len(title) + 300]:
        text = f"{title}\n\n{text}"
    return Extracted(text, {k: v for k, v in fields.items() if v})


def extract_html_file(file: Path, limits: ExtractLimits = DEFAULT_LIMITS) -> Extracted:
    """A saved portal page: the article text, decoded from its charset or detected.

    Raises:
        LoadError: no article text, undecodable; :class:`~knowledge.ingest.formats.base.
            LimitExceeded` when the file or its text is over ``limits``.
    """
    decoded, charset_notes = _decode_html(read_limited(file, limits))
    article = html_to_article(decoded.text)
    limits.check_chars(len(article.text))
    repaired = repair(article.text)
    fields = dict(article.fields)
    if fields.get("title"):
        fields["title"] = repair(fields["title"]).text
    encoding = decoded.encoding
    if repaired.encoding != UTF8:  # legacy fonts on a page read as UTF-8 or as a code page
        legacy = repaired.encoding.split("+", 1)[1]
        encoding = repaired.encoding if decoded.encoding == UTF8 else legacy
    notes = encoding_notes(DecodedText(repaired.text, encoding,
                                        decoded.confident and repaired.confident))
    return Extracted(repaired.text, fields, charset_notes + notes)

