"""Console tests serve a fresh Sanic app per test in one process.

Sanic parses source code with ``ast`` while an app is built (to guess each route's error format)
and when it starts ("touch-up": it drops dispatches of signals nobody listens to). Once the real
embedding model has run in another thread, CPython 3.11.7's ``ast`` can fail with "SystemError:
AST constructor recursion depth mismatch" (its recursion counter is global; fixed in 3.11.8). The
console builds and starts its one app before any model runs, so only these tests need the
workaround: routes declare their error format (no guessing) and the touch-up, identical for every
test app (none registers signals), is done once per process.
"""

from __future__ import annotations

from sanic import Sanic
from sanic.mixins.routes import RouteMixin
from sanic.touchup import TouchUp

Sanic.test_mode = True
_touch_up = TouchUp.run.__func__
_touched: list[bool] = []


def _touch_up_once(cls, app) -> None:
    if not _touched:
        _touch_up(cls, app)
        _touched.append(True)


TouchUp.run = classmethod(_touch_up_once)
RouteMixin._determine_error_format = lambda self, handler: ""  # static files: no guessing
