"""The review site: sessions, reports, recordings and progress in a browser, on Starlette served by uvicorn.

    settings.py   ReviewSettings: mode (local or centre), address, timeouts, limits
    app.py        create_app(): routes, middleware and error pages put together
    guards.py     middleware every request passes: Host check, sign-in (token or login), CSRF, headers
    logins.py     centre-mode sign-in: login sessions, signed cookies, failed-login throttling
    catalog.py    what a viewer may see and change of the library (the role rules live here)
    routes.py     the pages: list, session, recording, progress, correction, login, audit
    pages.py      the HTML, as small functions
    server.py     binding the socket, uvicorn with request-head timeouts, the printed address
"""
