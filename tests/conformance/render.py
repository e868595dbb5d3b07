"""Render Mailu's Jinja templates the way socrate does, and record how each variable is used.

socrate's `conf.jinja` (core/base/libs/socrate/socrate/conf.py:15) renders with
`jinja2.Template(source.read()).render(environ)`: jinja2's default environment (plain `Undefined`,
no autoescape, `keep_trailing_newline=False`). We use an Environment with the same settings, whose
only differences are observational:

* `RecordingUndefined` behaves exactly like `jinja2.Undefined` (prints as '', iterates as empty,
  is false, compares unequal, raises on attribute access, arithmetic and int()) but records each
  use of an undefined name: a *truth test* (or `is defined`, which never touches the object) is an
  optional read; printing, iterating, comparing, attribute access, int() etc. are required reads.
  In `lenient` mode it records and returns harmless values instead of raising, so one render
  lists every required variable instead of stopping at the first crash.
* Every variable used directly as the condition of `{% if %}` / `{% elif %}` / `x if C else y`
  (alone, under `not`, or as an operand of `and`/`or`) is passed through `_mailu_truth`, which
  returns it unchanged and records the test with its value: a string such as "false" or "no" that a
  template tests for truth is true, which is a finding for components that render from raw
  strings (postfix, dovecot, webmail).
"""
from __future__ import annotations

import contextvars
from dataclasses import dataclass, field

import jinja2
from jinja2 import nodes
from jinja2.filters import do_int
from jinja2.runtime import Undefined

_RECORDER: contextvars.ContextVar = contextvars.ContextVar("mailu_recorder", default=None)

FALSY_LOOKING = {"false", "no", "off", "0", "none"}
REQUIRED_KINDS = {"printed", "iterated", "compared", "attribute", "arithmetic", "length", "int",
                  "item", "called"}


@dataclass
class Use:
    name: str
    kind: str
    template: str
    line: int | None = None
    value: str | None = None


@dataclass
class Recorder:
    template: str = ""
    uses: list[Use] = field(default_factory=list)

    def add(self, name, kind, line=None, value=None):
        self.uses.append(Use(name, kind, self.template, line, value))


def _rec(undef: Undefined, kind: str):
    rec = _RECORDER.get()
    name = undef._undefined_name
    # Names are variables; an item of a value (e.g. TLS[0] while TLS is None) has an int name.
    if rec is not None and isinstance(name, str) and name:
        rec.add(name, kind)


class RecordingUndefined(Undefined):
    __slots__ = ()
    lenient = False

    def _fail(self, kind, fallback):
        _rec(self, kind)
        if type(self).lenient:
            return fallback
        return self._fail_with_undefined_error()

    def __getattr__(self, name):
        if name[:2] == "__":
            raise AttributeError(name)
        _rec(self, "attribute")
        if type(self).lenient:
            return type(self)(name=self._undefined_name)
        return self._fail_with_undefined_error()

    def __call__(self, *args, **kwargs):
        return self._fail("called", type(self)(name=self._undefined_name))

    def __getitem__(self, key):
        return self._fail("item", type(self)(name=self._undefined_name))

    def _arith(self, *args):
        return self._fail("arithmetic", 0)

    __add__ = __radd__ = __sub__ = __rsub__ = _arith
    __mul__ = __rmul__ = __div__ = __rdiv__ = _arith
    __truediv__ = __rtruediv__ = __floordiv__ = __rfloordiv__ = _arith
    __mod__ = __rmod__ = __pos__ = __neg__ = __pow__ = __rpow__ = _arith

    def _order(self, other):
        return self._fail("compared", False)

    __lt__ = __le__ = __gt__ = __ge__ = _order

    def __int__(self):
        return self._fail("int", 0)

    def __float__(self):
        return self._fail("int", 0.0)

    def __complex__(self):
        return self._fail("int", 0j)

    def __eq__(self, other):
        _rec(self, "compared")
        return type(self) is type(other)

    def __ne__(self, other):
        return not self.__eq__(other)

    def __hash__(self):
        return id(type(self))

    def __str__(self):
        _rec(self, "printed")
        return ""

    def __len__(self):
        _rec(self, "length")
        return 0

    def __iter__(self):
        _rec(self, "iterated")
        yield from ()

    def __bool__(self):
        _rec(self, "truth")
        return False


class LenientUndefined(RecordingUndefined):
    __slots__ = ()
    lenient = True


def _truth(value, name, line):
    rec = _RECORDER.get()
    if rec is not None and not isinstance(value, Undefined):
        rec.add(name, "truth-of-value", line, value if isinstance(value, str) else None)
    return value


def _int_filter(value, *args, **kwargs):
    if isinstance(value, Undefined):
        _rec(value, "int")
        if isinstance(value, RecordingUndefined) and type(value).lenient:
            return 0
    return do_int(value, *args, **kwargs)


def _wrap_tests(node: nodes.Node):
    """Wrap every Name that is a direct truth operand of an if/elif/conditional expression."""

    def wrap(test: nodes.Expr) -> nodes.Expr:
        if isinstance(test, nodes.Name) and test.ctx == "load":
            call = nodes.Call(
                nodes.Name("_mailu_truth", "load", lineno=test.lineno),
                [test, nodes.Const(test.name), nodes.Const(test.lineno)],
                [], None, None, lineno=test.lineno,
            )
            return call
        if isinstance(test, nodes.Not):
            test.node = wrap(test.node)
        elif isinstance(test, (nodes.And, nodes.Or)):
            test.left = wrap(test.left)
            test.right = wrap(test.right)
        return test

    for n in node.find_all((nodes.If, nodes.CondExpr)):
        if n.test is not None:
            n.test = wrap(n.test)


def make_env(lenient: bool = False) -> jinja2.Environment:
    # The defaults of jinja2.Template (jinja2/environment.py Template.__new__), which socrate uses.
    env = jinja2.Environment(undefined=LenientUndefined if lenient else RecordingUndefined)
    env.globals["_mailu_truth"] = _truth
    env.filters["int"] = _int_filter
    return env


@dataclass
class Rendered:
    text: str | None
    error: str | None
    uses: list[Use]


def render(source: str, context: dict, template_name: str) -> Rendered:
    """Render like socrate; on an UndefinedError (the container's start script would crash),
    re-render leniently to record every use."""
    result = _render_once(source, context, template_name, lenient=False)
    if result.error is None:
        return result
    lenient = _render_once(source, context, template_name, lenient=True)
    return Rendered(None, result.error, lenient.uses)


def _render_once(source, context, template_name, lenient):
    env = make_env(lenient)
    ast = env.parse(source, name=template_name)
    _wrap_tests(ast)
    code = env.compile(ast, name=template_name, filename=template_name)
    template = env.template_class.from_code(env, code, env.make_globals(None), None)
    recorder = Recorder(template_name)
    token = _RECORDER.set(recorder)
    try:
        text = template.render(dict(context))
        return Rendered(text, None, recorder.uses)
    except jinja2.exceptions.UndefinedError as e:
        return Rendered(None, f"jinja2 UndefinedError: {e}", recorder.uses)
    except Exception as e:  # a real render error in the container, too
        return Rendered(None, f"{type(e).__name__}: {e}", recorder.uses)
    finally:
        _RECORDER.reset(token)


def referenced_names(source: str) -> set[str]:
    """Every undeclared variable a template references (jinja2.meta)."""
    from jinja2 import meta

    env = jinja2.Environment()
    return set(meta.find_undeclared_variables(env.parse(source)))
