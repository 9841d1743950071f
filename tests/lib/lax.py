"""lax.py: how receivers that do not follow RFC 5321 read a dot-terminated
stream (SMTP DATA, a POP3 RETR answer), for tests of our output paths.

    lax.early_ends(raw)   -> names of the readings that find an end of data
                             before the real one (a good stream gives [])

raw is everything after the 354 (or the +OK line): the text, the stuffing
dots and the final ".\\r\\n". A reading may drop NUL bytes, and may end lines
at CR LF only, at a bare LF too, at a bare CR too, or at either; each is
tried with and without dropping NULs. The end of data is the first line
that is exactly ".": in a good stream that is the last line, whatever the
reading.
"""
import re

_SPLIT = {
    "crlf": re.compile(rb"\r\n"),
    "lf": re.compile(rb"\r?\n"),
    "cr": re.compile(rb"\r\n|\r"),
    "any": re.compile(rb"\r\n|\r|\n"),
}


def lines(raw, ends, drop_nul):
    if drop_nul:
        raw = raw.replace(b"\0", b"")
    parts = _SPLIT[ends].split(raw)
    if parts and parts[-1] == b"":
        parts.pop()
    return parts


def early_ends(raw):
    bad = []
    for drop in (False, True):
        for ends in ("crlf", "lf", "cr", "any"):
            ls = lines(raw, ends, drop)
            first = ls.index(b".") if b"." in ls else None
            if first != len(ls) - 1:
                bad.append("%s%s" % ("drop NUL, " if drop else "", ends))
    return bad


_FIELD = re.compile(rb"[!-9;-~]+[ \t]*:")


def header_section(text, line_max=998, cap=65536):
    """The lines a bounce may quote of a stored message, computed the plain
    way: NULs dropped, CR LF / CR / LF each one line end, lines up to the
    first that is neither a field nor a continuation of one, controls but
    tab as '?', each cut at line_max, only whole lines within the first cap
    bytes of the text."""
    t = text.replace(b"\0", b"")
    t = re.sub(rb"\r\n|\r", b"\n", t)[:cap]
    whole = t.split(b"\n")[:-1]
    out = []
    for line in whole:
        if not line:
            break
        if line[:1] in (b" ", b"\t"):
            if not out:
                break
        elif not _FIELD.match(line):
            break
        line = line[:line_max]
        out.append(bytes(c if c >= 32 and c != 127 or c == 9 else 63 for c in line))
    return out
