"""``image scp``: copy an image between the stores of two users of this machine.

Podman saves the image to a temporary docker-archive as the source user and loads it as the
destination user, each step a podman process run with that user's ids and a clean environment,
so each side uses its own default store.  sealpod does the same, except that the side which is
the calling user itself runs in-process, on this engine's store (which may be a custom one).
Remote hosts (ssh connections) are refused with a one-line error.
"""

from __future__ import annotations

import os

from sealpod.errors import InvalidArgument, SealpodError
from sealpod.utils.record import dataclass

TYPE_CHECKING = False  # typing costs ~2 ms of a command's start-up; only type checkers need it
if TYPE_CHECKING:
    import pwd
    from collections.abc import Callable

    from sealpod.engine import Engine

    Report = Callable[[str], None]


@dataclass
class ScpLocation:
    """One side of a transfer: ``[USER@HOST::]IMAGE``; ``host`` empty means this machine, this user."""

    image: str = ""
    user: str = ""
    host: str = ""
    remote: bool = False


@dataclass
class ScpPlan:
    """What to copy from where to where; ``tag`` names the image at the destination."""

    source: ScpLocation
    dest: ScpLocation
    tag: str = ""


def parse_location(arg: str) -> ScpLocation:
    """``IMAGE``, ``USER@localhost::[IMAGE]`` or ``CONNECTION::[IMAGE]`` (a remote host)."""
    if "::" not in arg:
        return ScpLocation(image=arg)
    where, image = arg.split("::", 1)
    user, _, host = where.rpartition("@")
    if host == "localhost" and user:
        return ScpLocation(image=image, user=user, host=host)
    return ScpLocation(image=image, user=user, host=host or where, remote=True)


def plan(args: list[str]) -> ScpPlan:
    """Podman's checks of the operands, in its order and words."""
    if not args:
        raise InvalidArgument("no source image specified: invalid argument")
    if len(args) > 2:
        raise InvalidArgument("cannot specify more than two arguments: invalid argument")
    locations = [parse_location(a) for a in args]
    source = locations[0]
    if len(locations) == 1:
        if not source.image:
            raise InvalidArgument("no source image specified: invalid argument")
        if not source.remote and not source.user:
            raise InvalidArgument("must specify a destination: invalid argument")
        return ScpPlan(source, ScpLocation())
    dest, tag = locations[1], ""
    if source.image and dest.image:
        tag, dest.image = dest.image, ""
    elif not source.image and not dest.image:
        raise InvalidArgument("a source image must be specified: invalid argument")
    return ScpPlan(source, dest, tag)


def _lookup(name: str) -> pwd.struct_passwd:
    """A user by name or uid (``user:group`` keeps the user part), as Podman looks it up."""
    import pwd

    name = name.split(":", 1)[0]
    try:
        return pwd.getpwuid(int(name))
    except (ValueError, KeyError):
        pass
    try:
        return pwd.getpwnam(name)
    except KeyError:
        raise SealpodError(f"user: unknown user {name}") from None


def _users(p: ScpPlan) -> tuple[pwd.struct_passwd, pwd.struct_passwd]:
    """Source and destination users: an unnamed destination is root for a user, and for root
    the user who ran sudo (Podman's rule)."""
    import pwd

    source = _lookup(p.source.user) if p.source.user else pwd.getpwuid(os.getuid())
    if p.dest.user:
        return source, _lookup(p.dest.user)
    if source.pw_uid != 0:
        return source, pwd.getpwuid(0)
    sudo_user = os.environ.get("SUDO_USER", "")
    if not sudo_user:
        raise SealpodError("$SUDO_USER must be defined to find the default rootless user")
    return source, _lookup(sudo_user)


def _sealpod_argv(user: pwd.struct_passwd, argv: list[str]) -> list[str]:
    """This sealpod as ``user``: its ids and groups (setpriv as root, sudo otherwise)."""
    import sys
    import sysconfig

    import sealpod

    site = [p for p in sys.path if p.endswith("site-packages")] or [sysconfig.get_paths()["purelib"]]
    paths = [os.path.dirname(os.path.dirname(os.path.abspath(sealpod.__file__))), site[0]]
    boot = f"import sys; sys.path[:0] = {paths!r}; from sealpod.__main__ import leave, main; leave(main(sys.argv[1:]))"
    if os.getuid() == 0:
        become = ["setpriv", f"--reuid={user.pw_uid}", f"--regid={user.pw_gid}", "--init-groups", "--"]
    else:
        become = ["sudo", "-n", "-u", user.pw_name, "--"]
    return [*become, sys.executable, "-I", "-S", "-c", boot, *argv]


def _user_env(user: pwd.struct_passwd) -> dict[str, str]:
    """A clean environment, as Podman gives: the user's own HOME and runtime dir, so its default store."""
    env = {"PATH": os.environ.get("PATH", "/usr/sbin:/usr/bin:/sbin:/bin"), "HOME": user.pw_dir,
           "USER": user.pw_name, "LOGNAME": user.pw_name}
    if "TERM" in os.environ:
        env["TERM"] = os.environ["TERM"]
    runtime = f"/run/user/{user.pw_uid}"
    if os.path.isdir(runtime):
        env["XDG_RUNTIME_DIR"] = runtime
    return env


def _as_user(user: pwd.struct_passwd, argv: list[str], report: Report) -> str:
    """Run sealpod ``argv`` as ``user``; its progress goes to ``report``, its stdout is returned.
    Its error (one ``Error: ...`` line) becomes ours, with its exit code."""
    from sealpod.utils.proc import run

    proc = run(_sealpod_argv(user, argv), check=False, env=_user_env(user), cwd="/")
    err = proc.stderr.decode(errors="replace").rstrip("\n")
    if proc.returncode != 0:
        lines = [ln for ln in err.splitlines() if ln.strip()]
        message = lines[-1] if lines else f"sealpod exited with status {proc.returncode}"
        failure = SealpodError(message.removeprefix("Error: "))
        failure.exit_code = proc.returncode if 0 < proc.returncode < 256 else 125
        raise failure
    for line in err.splitlines():
        report(line)
    return proc.stdout.decode(errors="replace")


def _loaded(out: str) -> list[str]:
    return [ln.removeprefix("Loaded image: ").strip() for ln in out.splitlines() if ln.startswith("Loaded image: ")]


def transfer(engine: Engine, p: ScpPlan, quiet: bool, report: Report) -> list[str]:
    """Copy the image; returns the lines to print (``Loaded image: NAME``)."""
    import shutil
    import tempfile

    if p.source.remote or p.dest.remote:
        host = p.source.host if p.source.remote else p.dest.host
        raise SealpodError(f"image scp to or from a remote host ({host}) is not supported: "
                           "only USER@localhost:: transfers are")
    source, dest = _users(p)
    me = os.getuid()
    image = p.source.image
    q = ["-q"] if quiet else []
    workdir = tempfile.mkdtemp(prefix="sealpod-scp-", dir="/tmp")  # $TMPDIR may be out of the other user's reach
    try:
        os.chmod(workdir, 0o700)
        if me == 0 and source.pw_uid != 0:  # the source user writes the archive, root reads it
            os.chown(workdir, source.pw_uid, source.pw_gid)
        archive = os.path.join(workdir, "image.tar")
        if source.pw_uid == me:
            with open(archive, "wb") as f:
                engine.images.save([image], out=f, fmt="docker-archive", report=report)
        else:
            _as_user(source, ["save", *q, "--output", archive, image], report)
        if me == 0 and dest.pw_uid != 0:
            os.chown(workdir, dest.pw_uid, dest.pw_gid)
            os.chown(archive, dest.pw_uid, dest.pw_gid)
        if dest.pw_uid == me:
            with open(archive, "rb") as f:
                names = engine.images.load(f, report)
            if p.tag and names:
                engine.images.tag(names[0], [p.tag])
        else:
            names = _loaded(_as_user(dest, ["load", *q, "--input", archive], report))
            if p.tag and names:
                _as_user(dest, ["tag", names[0], p.tag], report)
        return names
    finally:
        shutil.rmtree(workdir, ignore_errors=True)
