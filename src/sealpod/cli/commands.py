"""The table of commands: name -> module that implements it.

Only the module of the command being run is imported, so adding commands never slows
down the start of the others.  Aliases map to the same module and function name.
"""

from __future__ import annotations


class CommandRef:
    """Where a command lives (a plain class: a NamedTuple would load ``typing`` for every command)."""

    __slots__ = ("module", "name")

    def __init__(self, module: str, name: str) -> None:
        self.module = module
        self.name = name  # the key in that module's COMMANDS table

    def __eq__(self, other: object) -> bool:
        return isinstance(other, CommandRef) and (self.module, self.name) == (other.module, other.name)

    def __hash__(self) -> int:
        return hash((self.module, self.name))

    def __repr__(self) -> str:
        return f"CommandRef({self.module!r}, {self.name!r})"


def _image(name: str) -> CommandRef:
    return CommandRef("sealpod.cli.image", name)


def _system(name: str) -> CommandRef:
    return CommandRef("sealpod.cli.system", name)


def _container(name: str) -> CommandRef:
    return CommandRef("sealpod.cli.container", name)


_CONTAINER_VERBS = ("run", "create", "start", "stop", "kill", "restart", "pause", "unpause", "rm", "wait",
                    "logs")

def _ops(name: str) -> CommandRef:
    return CommandRef("sealpod.cli.container_ops", name)


def _files(name: str) -> CommandRef:
    return CommandRef("sealpod.cli.container_files", name)


def _volume(name: str) -> CommandRef:
    return CommandRef("sealpod.cli.volume", name)


def _network(name: str) -> CommandRef:
    return CommandRef("sealpod.cli.network", name)


def _pod(name: str) -> CommandRef:
    return CommandRef("sealpod.cli.pod", name)


_POD_VERBS = ("create", "ps", "ls", "list", "inspect", "start", "stop", "restart", "kill", "pause", "unpause", "rm",
              "remove", "prune", "top", "stats", "exists", "logs", "clone")


_NETWORK_VERBS = ("create", "ls", "list", "inspect", "rm", "remove", "prune", "exists", "connect", "disconnect",
                  "reload")

# verb -> (module helper, also under "container <verb>")
_OPS_VERBS = ("exec", "attach", "top", "port", "rename", "init", "mount", "unmount", "update")
_FILES_VERBS = ("cp", "diff", "export", "commit")

COMMANDS: dict[str, CommandRef] = {
    **{verb: _ops(verb) for verb in _OPS_VERBS},
    **{f"container {verb}": _ops(verb) for verb in _OPS_VERBS},
    "umount": _ops("unmount"), "container umount": _ops("unmount"),
    "container prune": _ops("prune"), "container clone": _ops("clone"),
    **{verb: _files(verb) for verb in _FILES_VERBS},
    **{f"container {verb}": _files(verb) for verb in _FILES_VERBS},
    "import": _files("import"), "image import": _files("import"),
    "container diff": _files("container_diff"), "image diff": _files("image_diff"),
    **{f"volume {verb}": _volume(verb) for verb in ("create", "ls", "list", "inspect", "rm", "remove", "prune",
                                                      "exists", "export", "import", "mount", "unmount",
                                                      "umount", "reload")},
    **{f"network {verb}": _network(verb) for verb in _NETWORK_VERBS},
    **{f"pod {verb}": _pod(verb) for verb in _POD_VERBS},
    **{verb: _container(verb) for verb in _CONTAINER_VERBS},
    **{f"container {verb}": _container(verb) for verb in _CONTAINER_VERBS},
    "ps": _container("ps"), "container ps": _container("ps"), "container ls": _container("ps"),
    "container list": _container("ps"), "container exists": _container("exists"),
    "container inspect": _container("inspect"), "container cleanup": _container("cleanup"),
    "pull": _image("pull"), "image pull": _image("pull"),
    "push": _image("push"), "image push": _image("push"),
    "images": _image("list"), "image ls": _image("list"), "image list": _image("list"),
    "tag": _image("tag"), "image tag": _image("tag"),
    "untag": _image("untag"), "image untag": _image("untag"),
    "rmi": _image("remove"), "image rm": _image("remove"), "image remove": _image("remove"),
    "image exists": _image("exists"),
    "image prune": _image("prune"),
    "history": _image("history"), "image history": _image("history"),
    "image inspect": _image("inspect"), "image tree": _image("tree"),
    "image mount": _image("mount"), "image unmount": _image("unmount"), "image umount": _image("unmount"),
    "inspect": CommandRef("sealpod.cli.inspect", "inspect"),
    "login": _image("login"), "logout": _image("logout"),
    "search": _image("search"), "image search": _image("search"),
    "save": _image("save"), "image save": _image("save"),
    "load": _image("load"), "image load": _image("load"),
    "image scp": CommandRef("sealpod.cli.image_scp", "scp"),
    **{f"machine {verb}": CommandRef("sealpod.cli.machine", verb)
       for verb in ("info", "init", "inspect", "list", "ls", "rm", "set", "ssh", "start", "stop")},
    "image trust show": CommandRef("sealpod.cli.trust", "trust show"),
    "image trust set": CommandRef("sealpod.cli.trust", "trust set"),
    "image sign": CommandRef("sealpod.cli.trust", "sign"),
    "build": CommandRef("sealpod.cli.build", "build"), "image build": CommandRef("sealpod.cli.build", "build"),
    "buildx build": CommandRef("sealpod.cli.build", "build"),
    "builder build": CommandRef("sealpod.cli.build", "build"),
    "buildx prune": _image("prune"), "builder prune": _image("prune"),  # Podman: builder is buildx's alias
    "version": _system("version"), "system version": _system("version"),
    "info": _system("info"), "system info": _system("info"),
    "system service": _system("service"),
    "system connection": CommandRef("sealpod.cli.connection", "connection"),
    **{f"context {verb}": CommandRef("sealpod.cli.connection", f"context {verb}")
       for verb in ("create", "inspect", "ls", "rm", "use")},
    "context list": CommandRef("sealpod.cli.connection", "context ls"),
    "context remove": CommandRef("sealpod.cli.connection", "context rm"),
    "system df": _system("df"), "system prune": _system("prune"),
    "unshare": _system("unshare"), "system migrate": _system("migrate"), "system reset": _system("reset"),
    "events": CommandRef("sealpod.cli.events", "events"),
    **{f"secret {verb}": CommandRef("sealpod.cli.secret", verb)
       for verb in ("create", "ls", "list", "inspect", "rm", "remove", "exists")},
    "stats": CommandRef("sealpod.cli.stats", "stats"), "container stats": CommandRef("sealpod.cli.stats", "stats"),
    "healthcheck run": CommandRef("sealpod.cli.health", "run"),
    "system events": CommandRef("sealpod.cli.events", "events"),
    **{f"kube {verb}": CommandRef("sealpod.cli.kube", verb) for verb in ("generate", "play", "down")},
    "generate kube": CommandRef("sealpod.cli.kube", "generate"),
    "generate systemd": CommandRef("sealpod.cli.generate", "systemd"),
    "generate spec": CommandRef("sealpod.cli.generate", "spec"),
    "play kube": CommandRef("sealpod.cli.kube", "play"),
    **{verb: CommandRef("sealpod.cli.completion", verb) for verb in ("completion", "__complete", "__completeNoDesc")},
    "auto-update": CommandRef("sealpod.cli.auto_update", "auto-update"),
    "container runlabel": CommandRef("sealpod.cli.runlabel", "runlabel"),
    "system renumber": CommandRef("sealpod.cli.runlabel", "renumber"),
    **{f"manifest {verb}": CommandRef("sealpod.cli.manifest", verb)
       for verb in ("create", "add", "annotate", "remove", "rm", "exists", "inspect", "push")},
}

GROUPS = {"healthcheck": "Manage health checks on containers",
          "image": "Manage images", "image trust": "Manage container image trust policy",
          "system": "Manage sealpod", "container": "Manage containers",
          "volume": "Manage volumes", "network": "Manage networks", "pod": "Manage pods",
          "secret": "Manage secrets", "context": "Manage remote API service destinations",
          "manifest": "Manipulate manifest lists and image indexes",
          "kube": "Play containers, pods or volumes from a structured file",
          "generate": "Generate structured data based on containers, pods or volumes",
          "play": "Play containers, pods or volumes from a structured file",
          "buildx": "Build images", "builder": "Build images", "machine": "Manage a virtual machine"}

SUMMARIES: dict[str, str] = {
    "pull": "Pull an image from a registry",
    "push": "Push an image to a specified destination",
    "images": "List images in local storage",
    "tag": "Add an additional name to a local image",
    "untag": "Remove a name from a local image",
    "rmi": "Remove one or more images from local storage",
    "history": "Show history of a specified image",
    "inspect": "Display the configuration of object denoted by ID",
    "login": "Log in to a container registry",
    "logout": "Log out of a container registry",
    "search": "Search registry for image",
    "version": "Display the sealpod version information",
    "info": "Display sealpod system information",
    "image": "Manage images",
    "container": "Manage containers",
    "run": "Run a command in a new container",
    "create": "Create but do not start a container",
    "start": "Start one or more containers",
    "stop": "Stop one or more containers",
    "kill": "Kill one or more running containers with a specific signal",
    "restart": "Restart one or more containers",
    "pause": "Pause all the processes in one or more containers",
    "unpause": "Unpause the processes in one or more containers",
    "wait": "Block on one or more containers",
    "logs": "Fetch the logs of one or more containers",
    "ps": "List containers",
    "exec": "Run a process in a running container",
    "attach": "Attach to a running container",
    "top": "Display the running processes of a container",
    "port": "List port mappings or a specific mapping for the container",
    "rename": "Rename an existing container",
    "init": "Initialize one or more containers",
    "mount": "Mount a working container's root filesystem",
    "unmount": "Unmount working container's root filesystem",
    "umount": "Unmount working container's root filesystem",
    "update": "Update an existing container",
    "cp": "Copy files/folders between a container and the local filesystem",
    "diff": "Display the changes to the object's file system",
    "export": "Export container's filesystem contents as a tar archive",
    "commit": "Create new image based on the changed container",
    "build": "Build an image using instructions from Containerfiles",
    "import": "Import a tarball to create a filesystem image",
    "volume": "Manage volumes",
    "network": "Manage networks",
    "exists": "Check if an image exists in local storage",
    "list": "List images in local storage",
    "ls": "List images in local storage",
    "prune": "Remove unused images",
    "remove": "Remove one or more images from local storage",
    "rm": "Remove one or more images from local storage",
    "system": "Manage sealpod",
    "connection": "Manage remote API service destinations",
    "events": "Show sealpod events",
    "unshare": "Run a command in a modified user namespace",
    "stats": "Display a live stream of container resource usage statistics",
}

# Aliases that work but, as in Podman's help, are not listed under "Available Commands".
HIDDEN = frozenset({"completion", "__complete", "__completeNoDesc", "builder",
                    "umount", "image umount", "container ls", "container umount", "pod ls", "pod list", "pod remove",
                    "volume list", "volume remove", "network list", "network remove", "image ls", "image remove",
                    "volume umount", "machine ls", "secret list", "secret remove", "context list", "context remove"})
