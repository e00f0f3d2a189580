"""A small, fast stand-in for the part of ``dataclasses`` sealpod uses.

Why: every sealpod command is a fresh process, and ``dataclasses`` costs ~10 ms to import
(it pulls in ``inspect``, ``ast``, ``tokenize``) plus ~0.8 ms per class to generate methods
with ``exec``.  Forty record classes on the path of ``run`` made that a fifth of its time.
Here one ``__init__`` is compiled per class and everything else is shared code.

Supported: ``@dataclass`` / ``@dataclass(frozen=True, ...)`` (other options are accepted and
ignored), ``field(default=..., default_factory=...)``, ``fields()``, ``replace()``,
``asdict()`` (recursive, like the original) and ``is_dataclass()``.  Type checkers see it as
``dataclasses`` thanks to ``dataclass_transform``.
"""

from __future__ import annotations

from collections.abc import Callable

TYPE_CHECKING = False  # typing itself costs ~2 ms of every command's start, and only mypy needs it here
if TYPE_CHECKING:
    from typing import Any, TypeVar, dataclass_transform, overload

    _T = TypeVar("_T")

_MISSING: Any = object()


class Field:
    __slots__ = ("name", "default", "default_factory", "repr")

    def __init__(self, default: Any = _MISSING, default_factory: Any = _MISSING, repr: bool = True) -> None:
        self.name = ""
        self.default = default
        self.default_factory = default_factory
        self.repr = repr


def field(*, default: Any = _MISSING, default_factory: Callable[[], Any] | Any = _MISSING, repr: bool = True,
          **_ignored: Any) -> Any:
    return Field(default, default_factory, repr)


def _annotations(cls: type) -> list[str]:
    names: list[str] = []
    for klass in reversed(cls.__mro__):
        for name, ann in klass.__dict__.get("__annotations__", {}).items():
            if "ClassVar" in str(ann) or name in names:
                continue
            names.append(name)
    return names


def _frozen_setattr(self: Any, name: str, value: Any) -> None:
    raise AttributeError(f"cannot assign to field {name!r}")


def _frozen_delattr(self: Any, name: str) -> None:
    raise AttributeError(f"cannot delete field {name!r}")


def _repr(self: Any) -> str:
    body = ", ".join(f"{f.name}={getattr(self, f.name)!r}" for f in self.__record_fields__ if f.repr)
    return f"{type(self).__qualname__}({body})"


def _astuple(self: Any) -> tuple[Any, ...]:
    return tuple(getattr(self, f.name) for f in self.__record_fields__)


def _eq(self: Any, other: Any) -> Any:
    if other.__class__ is not self.__class__:
        return NotImplemented
    return _astuple(self) == _astuple(other)


def _hash(self: Any) -> int:
    return hash(_astuple(self))


_COMPILE_AFTER = 16  # instances built by the shared __init__ before a class gets its own


def _init_for(cls: type) -> Callable[..., None]:
    """A shared ``__init__`` walking the fields, until a class has been built often.

    Compiling a tailored ``__init__`` (what ``dataclasses`` does for every class at import)
    costs ~0.1 ms a class, more than most commands spend building the few records of most
    classes; ``ps`` of 500 containers builds hundreds of one class, and there the walk
    (~5 us more each) loses: such a class then gets its compiled one."""
    set_field = object.__setattr__
    post_init = getattr(cls, "__post_init__", None)
    built = [0]

    def __init__(self: Any, *args: Any, **kwargs: Any) -> None:
        built[0] += 1
        if built[0] == _COMPILE_AFTER and cls.__dict__.get("__init__") is __init__:
            cls.__init__ = _compile_init(cls)  # type: ignore[misc]
        fields: tuple[Field, ...] = cls.__record_fields__  # type: ignore[attr-defined]
        if len(args) > len(fields):
            raise TypeError(f"{cls.__qualname__}() takes {len(fields)} positional arguments but {len(args)} were given")
        for f, value in zip(fields, args, strict=False):  # fewer args than fields: the rest below
            if f.name in kwargs:
                raise TypeError(f"{cls.__qualname__}() got multiple values for argument {f.name!r}")
            set_field(self, f.name, value)
        for f in fields[len(args):]:
            if f.name in kwargs:
                value = kwargs.pop(f.name)
            elif f.default is not _MISSING:
                value = f.default
            elif f.default_factory is not _MISSING:
                value = f.default_factory()
            else:
                raise TypeError(f"{cls.__qualname__}() missing required argument: {f.name!r}")
            set_field(self, f.name, value)
        if kwargs:
            raise TypeError(f"{cls.__qualname__}() got an unexpected keyword argument {next(iter(kwargs))!r}")
        if post_init is not None:
            post_init(self)

    __init__.__qualname__ = f"{cls.__qualname__}.__init__"
    return __init__


def _compile_init(cls: type) -> Callable[..., None]:
    """The tailored ``__init__`` of a record class, compiled from its fields."""
    params, body, glb = [], [], {"_MISSING": _MISSING, "_set": object.__setattr__}
    for f in cls.__record_fields__:  # type: ignore[attr-defined]
        if f.default_factory is not _MISSING:
            glb[f"_f_{f.name}"] = f.default_factory
            params.append(f"{f.name}=_MISSING")
            body.append(f"_set(self, {f.name!r}, _f_{f.name}() if {f.name} is _MISSING else {f.name})")
        elif f.default is not _MISSING:
            glb[f"_d_{f.name}"] = f.default
            params.append(f"{f.name}=_d_{f.name}")
            body.append(f"_set(self, {f.name!r}, {f.name})")
        else:
            params.append(f.name)
            body.append(f"_set(self, {f.name!r}, {f.name})")
    post = "\n    self.__post_init__()" if hasattr(cls, "__post_init__") else ""
    src = f"def __init__(self, {', '.join(params)}):\n    " + ("\n    ".join(body) or "pass") + post
    exec(src, glb)  # noqa: S102 - the generated __init__ of a record class
    init: Callable[..., None] = glb["__init__"]
    init.__qualname__ = f"{cls.__qualname__}.__init__"
    return init


def _build(cls: type, frozen: bool) -> type:
    own: list[Field] = []
    for name in _annotations(cls):
        value = cls.__dict__.get(name, _MISSING)
        inherited = next((f for f in getattr(cls, "__record_fields__", ()) if f.name == name), None)
        if isinstance(value, Field):
            f = value
        elif value is not _MISSING:
            f = Field(default=value)
        elif inherited is not None:
            f = inherited
        else:
            f = Field()
        f.name = name
        own.append(f)
        if isinstance(value, Field):
            if f.default is _MISSING:
                delattr(cls, name)
            else:
                setattr(cls, name, f.default)
    cls.__init__ = _init_for(cls)  # type: ignore[misc]
    cls.__record_fields__ = tuple(own)  # type: ignore[attr-defined]
    setattr(cls, "__match_args__", tuple(f.name for f in own))  # noqa: B010 - mypy rejects the attribute
    if "__repr__" not in cls.__dict__:
        cls.__repr__ = _repr  # type: ignore[assignment]
    if "__eq__" not in cls.__dict__:
        cls.__eq__ = _eq  # type: ignore[assignment]
    if frozen:
        cls.__setattr__ = _frozen_setattr  # type: ignore[assignment]
        cls.__delattr__ = _frozen_delattr  # type: ignore[assignment]
        cls.__hash__ = _hash  # type: ignore[assignment]
    elif "__hash__" not in cls.__dict__:
        cls.__hash__ = None  # type: ignore[assignment]
    return cls


def _dataclass(cls: Any = None, /, *, frozen: bool = False, **options: Any) -> Any:
    if cls is None:
        return lambda c: _build(c, frozen)
    return _build(cls, frozen)


if TYPE_CHECKING:
    @overload
    def dataclass(cls: type[_T], /) -> type[_T]: ...

    @overload
    def dataclass(*, frozen: bool = False, **options: Any) -> Callable[[type[_T]], type[_T]]: ...

    @dataclass_transform(field_specifiers=(field,))
    def dataclass(cls: Any = None, /, *, frozen: bool = False, **options: Any) -> Any:
        return _dataclass(cls, frozen=frozen, **options)
else:
    dataclass = _dataclass


def is_dataclass(obj: Any) -> bool:
    return hasattr(type(obj) if not isinstance(obj, type) else obj, "__record_fields__")


def fields(obj: Any) -> tuple[Field, ...]:
    return tuple(obj.__record_fields__)


def replace(obj: _T, /, **changes: Any) -> _T:
    values = {f.name: getattr(obj, f.name) for f in obj.__record_fields__}  # type: ignore[attr-defined]
    values.update(changes)
    return type(obj)(**values)


def asdict(obj: Any) -> Any:
    """Recursive, as ``dataclasses.asdict``: records become dicts, lists and tuples are walked."""
    if is_dataclass(obj) and not isinstance(obj, type):
        return {f.name: asdict(getattr(obj, f.name)) for f in obj.__record_fields__}
    if isinstance(obj, tuple) and hasattr(obj, "_fields"):  # a NamedTuple
        return type(obj)(*(asdict(v) for v in obj))
    if isinstance(obj, list | tuple):
        return type(obj)(asdict(v) for v in obj)
    if isinstance(obj, dict):
        return {k: asdict(v) for k, v in obj.items()}
    return obj
