"""Rendering library fragments in Jinja's immutable sandbox.

Fragments come from facilitators' copies of the library, so they are treated as
untrusted: sandboxed, immutable, and strict about undefined variables. Errors
name the fragment and the line in its file.
"""

from __future__ import annotations

import datetime as dt
import sys
from decimal import Decimal
from typing import Any, Optional

import jinja2
from jinja2.sandbox import ImmutableSandboxedEnvironment, SecurityError

from . import formatting as fr
from .errors import TemplateRenderError
from .library import Fragment
from .markup import Raw, escape, placeholder


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
    )
    return env


_ENV = make_environment()
_COMPILED: dict[str, jinja2.Template] = {}


def compile_fragment(fragment: Fragment) -> jinja2.Template:
    """Compiled once per content hash: batch runs reuse the same templates."""
    template = _COMPILED.get(fragment.sha256)
    if template is None:
        try:
            template = _ENV.from_string(fragment.body)
        except jinja2.TemplateSyntaxError as exc:
            raise TemplateRenderError(fragment.id, _file_line(fragment, exc.lineno), f"syntaxe Jinja : {exc.message}") from None
        _COMPILED[fragment.sha256] = template
    return template


def render_fragment(fragment: Fragment, context: dict[str, Any]) -> str:
    template = compile_fragment(fragment)
    try:
        return template.render(context)
    except jinja2.UndefinedError as exc:
        raise TemplateRenderError(fragment.id, _error_line(fragment), f"variable indéfinie ({exc.message})") from None
    except SecurityError as exc:
        raise TemplateRenderError(fragment.id, _error_line(fragment), f"accès interdit par le bac à sable ({exc})") from None
    except (TypeError, ValueError, ArithmeticError, LookupError) as exc:
        raise TemplateRenderError(fragment.id, _error_line(fragment), f"erreur de rendu ({exc})") from None


def _file_line(fragment: Fragment, body_line: Optional[int]) -> Optional[int]:
    return fragment.body_first_line + body_line - 1 if body_line else None


def _error_line(fragment: Fragment) -> Optional[int]:
    """Jinja rewrites tracebacks so template frames carry the template's lines."""
    tb = sys.exc_info()[2]
    line = None
    while tb is not None:
        if tb.tb_frame.f_code.co_filename == "<template>":
            line = tb.tb_lineno
        tb = tb.tb_next
    return _file_line(fragment, line)
