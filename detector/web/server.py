"""`chachong serve`: the application on waitress, loopback by default, a token when bound to any other address."""

from __future__ import annotations

import shutil
import sys
import tempfile
from pathlib import Path

from detector.paths import shown_target
from detector.web.security import is_loopback, new_token


def serve(db, host: str = "127.0.0.1", port: int = 8765, token: str | None = None, archive=None, rebuild_log=None,
          threads: int = 4) -> None:
    """Serve the pages for corpus `db` until interrupted; the private upload folder is removed at the end."""
    import waitress

    from detector.web.app import create_app

    if not is_loopback(host) and not token:
        token = new_token()
    root = Path(tempfile.mkdtemp(prefix="chachong-web-"))
    try:
        app = create_app(db, host=host, port=port, token=token, archive=archive, upload_root=root, rebuild_log=rebuild_log)
        print(_banner(host, port, token, db), file=sys.stderr, flush=True)
        waitress.serve(app, host=host, port=port, threads=threads, ident="chachong",
                       max_request_body_size=app.config["MAX_CONTENT_LENGTH"] + 2**20)
    finally:
        shutil.rmtree(root, ignore_errors=True)


def _banner(host: str, port: int, token: str | None, db) -> str:
    shown = f"[{host}]" if ":" in host else host
    address = f"http://{shown}:{port}/"
    lines = [f"chachong serve: corpus {shown_target(db)}", f"打开 open {address}{'?token=' + token if token else ''}"]
    if token:
        lines.append(f"访问令牌 token: {token}  (API: header 'Authorization: Bearer {token}')")
    if not is_loopback(host):
        lines.append(f"注意 note: listening on {host}, reachable from other machines; only holders of the token get in")
    return "\n".join(lines)
