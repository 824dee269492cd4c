"""Rendering library fragments in Jinja's immutable sandbox.

Fragments come from facilitators' copies of the library, so they are treated as
untrusted: sandboxed, immutable, and strict about undefined variables. Errors
name the fragment and the line in its file.
"""

from __future__ import annotations

import datetime as dt
import os
import platform
import sys
from decimal import Decimal
from functools import lru_cache
from pathlib import Path
from typing import Any, Optional

import jinja2
from jinja2.sandbox import ImmutableSandboxedEnvironment, SecurityError

from drafting.common import formatting as fr
from drafting.common.build import engine_fingerprint
from drafting.compose.markup import Raw, escape, placeholder
from drafting.errors import TemplateRenderError
from drafting.library import Fragment, Library, direct_includes


def _finalize(value: Any) -> str:
    """Every ``{{ }}`` output goes through here: French figures, escaped text."""
    if isinstance(value, Raw):
        return value
    if value is None:
        return placeholder("valeur non renseignée")
    if isinstance(value, bool):
        return "oui" if value else "non"
    if isinstance(value, (int, float, Decimal)):
        return fr.nombre(value)
    if isinstance(value, dt.date):
        return fr.date_fr(value)
    return escape(str(value))


def _raw(fn: Any) -> Any:
    def wrapped(value: Any, *args: Any) -> Raw:
        if value is None:
            return placeholder("valeur non renseignée")
        return Raw(fn(value, *args))
    wrapped.__name__ = fn.__name__
    return wrapped


def make_environment() -> ImmutableSandboxedEnvironment:
    env = ImmutableSandboxedEnvironment(
        undefined=jinja2.StrictUndefined,
        finalize=_finalize,
        trim_blocks=True,
        lstrip_blocks=True,
        keep_trailing_newline=True,
        autoescape=False,
    )
    env.filters.update(
        euros=_raw(fr.euros),
        nombre=_raw(fr.nombre),
        heures=_raw(fr.heures),
        pourcent=_raw(fr.pourcent),
        date_fr=_raw(fr.date_fr),
        mois=_raw(fr.mois),
        en_lettres=_raw(fr.en_lettres),
        euros_lettres=_raw(fr.euros_lettres),
    )
    return env


class LibraryLoader(jinja2.BaseLoader):
    """``{% include "commun/publics" %}`` resolves to the library's own fragments only."""

    def __init__(self, fragments: dict[str, Fragment]):
        self.fragments = fragments

    def get_source(self, environment: jinja2.Environment, template: str) -> tuple[str, str, Any]:
        fragment = self.fragments.get(template)
        if fragment is None:
            raise jinja2.TemplateNotFound(template)
        return fragment.body, _filename(fragment), lambda: True


def _filename(fragment: Fragment) -> str:
    return f"<fragment {fragment.id}>"


def environment_for(fragments: dict[str, Fragment], memo: Optional[dict[str, Any]] = None) -> ImmutableSandboxedEnvironment:
    """The sandbox that compiles these fragments, kept in ``memo`` (the library's own): a library's
    compiled templates live and die with it, so a long-lived process holds no more of them than it
    holds libraries (``LibraryCache`` bounds those)."""
    env = memo.get("templates") if memo is not None else None
    if env is None:
        env = make_environment()
        env.loader = LibraryLoader(dict(fragments))
        env.bytecode_cache = _bytecode_cache()
        if memo is not None:
            memo["templates"] = env
    return env


@lru_cache(maxsize=1)
def _bytecode_cache() -> Optional[jinja2.BytecodeCache]:
    """Compiled fragments kept between runs, keyed by their text's checksum.

    Compiling the library's templates costs a few hundred milliseconds per process,
    more than rendering a market. The folder is the user's own (mode 700, owner
    checked) and named after the engine build, Jinja and Python versions, because
    Jinja's key is only the template text: a compiled template must never outlive
    the environment options it was compiled with. Any doubt means no cache.
    """
    return _private_cache()


def _private_cache() -> Optional[jinja2.BytecodeCache]:
    if os.environ.get("CLAUSIER_NO_CACHE"):
        return None
    base = os.environ.get("XDG_CACHE_HOME") or os.environ.get("LOCALAPPDATA") or str(Path.home() / ".cache")
    build = f"{engine_fingerprint()}-{jinja2.__version__}-{platform.python_version()}"
    folder = Path(base) / "clausier" / f"jinja-{build}"
    try:
        folder.mkdir(parents=True, exist_ok=True, mode=0o700)
        if os.name == "posix":
            info = folder.stat()
            if info.st_uid != os.getuid() or info.st_mode & 0o077:
                return None
        return jinja2.FileSystemBytecodeCache(str(folder))
    except OSError:
        return None


def warm_up(library: Library) -> None:
    """Compile every published fragment now (before forking workers, they then share the result)."""
    env = environment_for(library.fragments, library.memo)
    for fragment in library.fragments.values():
        if fragment.statut == "publie":
            direct_includes(fragment.sha256, fragment.body)
            try:
                env.get_template(fragment.id)
            except jinja2.TemplateError:
                pass  # reported with its line when the fragment is actually rendered


def compile_fragment(fragment: Fragment, library: Optional[Library] = None) -> jinja2.Template:
    fragments = library.fragments if library is not None else None
    env = environment_for(fragments or {fragment.id: fragment}, library.memo if library is not None else None)
    try:
        return env.get_template(fragment.id)
    except jinja2.TemplateSyntaxError as exc:
        raise TemplateRenderError(_owner(exc.filename, fragment, fragments).id,
                                  _file_line(_owner(exc.filename, fragment, fragments), exc.lineno),
                                  f"syntaxe Jinja : {exc.message}") from None


def render_fragment(fragment: Fragment, context: dict[str, Any], library: Optional[Library] = None) -> str:
    """Render one fragment; ``library`` is where its includes are found (none: a fragment alone)."""
    fragments = library.fragments if library is not None else None
    template = compile_fragment(fragment, library)
    try:
        return template.render(context)
    except jinja2.TemplateNotFound as exc:
        raise TemplateRenderError(fragment.id, _error_line(fragment, fragments)[1],
                                  f"fragment inclus « {exc.name} » absent de la bibliothèque") from None
    except jinja2.TemplateSyntaxError as exc:
        owner = _owner(exc.filename, fragment, fragments)
        raise TemplateRenderError(owner.id, _file_line(owner, exc.lineno), f"syntaxe Jinja : {exc.message}") from None
    except jinja2.UndefinedError as exc:
        owner, line = _error_line(fragment, fragments)
        raise TemplateRenderError(owner.id, line, f"variable indéfinie ({exc.message})") from None
    except SecurityError as exc:
        owner, line = _error_line(fragment, fragments)
        raise TemplateRenderError(owner.id, line, f"accès interdit par le bac à sable ({exc})") from None
    except (TypeError, ValueError, ArithmeticError, LookupError, RecursionError) as exc:
        owner, line = _error_line(fragment, fragments)
        raise TemplateRenderError(owner.id, line, f"erreur de rendu ({exc})") from None


def _owner(filename: Optional[str], fragment: Fragment, fragments: Optional[dict[str, Fragment]]) -> Fragment:
    for candidate in (fragments or {}).values():
        if filename == _filename(candidate):
            return candidate
    return fragment


def _file_line(fragment: Fragment, body_line: Optional[int]) -> Optional[int]:
    return fragment.body_first_line + body_line - 1 if body_line else None


def _error_line(fragment: Fragment, fragments: Optional[dict[str, Fragment]]) -> tuple[Fragment, Optional[int]]:
    """Jinja rewrites tracebacks so template frames carry the template's file name and line."""
    tb = sys.exc_info()[2]
    owner, line = fragment, None
    while tb is not None:
        name = tb.tb_frame.f_code.co_filename
        if name.startswith("<fragment "):
            owner, line = _owner(name, fragment, fragments), tb.tb_lineno
        tb = tb.tb_next
    return owner, _file_line(owner, line)
