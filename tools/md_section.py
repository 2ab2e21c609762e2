"""md_section.py - replace a generated section of a Markdown file in place
(tools/bench_levels.py, tools/bench_threads.py): the text between the
marker comments start and end, both included; when they are missing the
section goes before the first occurrence of `before` (or at the end)."""
import re


def splice(md, start, end, section, before=None):
    text = open(md).read()
    if start in text and end in text:
        text = re.sub(re.escape(start) + ".*?" + re.escape(end), lambda _: section, text, flags=re.S)
    elif before and before in text:
        i = text.index(before)
        text = text[:i] + section + "\n\n" + text[i:]
    else:
        text = text.rstrip("\n") + "\n\n" + section + "\n"
    with open(md, "w") as f:
        f.write(text)
