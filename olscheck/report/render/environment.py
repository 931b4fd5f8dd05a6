"""The Jinja2 environment the HTML and Markdown templates are rendered in.

Compiling ``report.html.j2`` takes longer than rendering it (0.14 s
against 0.1 s at 10,000 x 10), so each environment is made once per process
and, unless Python is told not to write bytecode
(``PYTHONDONTWRITEBYTECODE``), keeps the compiled templates in Jinja2's
bytecode cache: a directory of the current user's under the temporary
directory, which Jinja2 creates private (mode 0700) and checks the owner
of; an entry is keyed by the template's name and its source's checksum, so
an edited template is compiled again.
"""

from __future__ import annotations

import sys
from functools import lru_cache

__all__ = ["template_environment"]


@lru_cache(maxsize=None)
def template_environment(autoescape: bool, keep_trailing_newline: bool = False):
    """A Jinja2 environment over olscheck's templates: undefined names raise, block tags leave no blank lines.

    Callers add their filters once (the environment is shared per set of
    options): HTML escapes every value, Markdown its own way.
    """
    from jinja2 import Environment, FileSystemBytecodeCache, PackageLoader, StrictUndefined

    return Environment(
        loader=PackageLoader("olscheck.report.render", "templates"),
        autoescape=autoescape,
        undefined=StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
        keep_trailing_newline=keep_trailing_newline,
        bytecode_cache=None if sys.dont_write_bytecode else FileSystemBytecodeCache(),
    )
