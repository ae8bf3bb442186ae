"""`boxoffice demo`: each job's demo step lives in ``demo/<job>.py`` as

``async def run(console: rich.console.Console, workdir: pathlib.Path) -> dict[str, Any]``

It starts what it needs of the sandbox in-process (free loopback ports), runs the job with the
output a user would see, and returns the job's key facts including ``"ok": bool``.
"""
