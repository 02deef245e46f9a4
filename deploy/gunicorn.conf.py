"""gunicorn settings for aula-ws in production (README, Operations):

    gunicorn -c deploy/gunicorn.conf.py 'aula_ws.app:from_environment()'

Settings come from the environment (AULA_DATABASE_URL, AULA_LOG_LEVEL, AULA_LOG_FORMAT...);
each of these may be overridden by GUNICORN_* variables below or on the command line.
"""

import os

bind = os.environ.get("GUNICORN_BIND", "127.0.0.1:8080")  # behind the reverse proxy (README, Production)
workers = int(os.environ.get("GUNICORN_WORKERS", "4"))
worker_class = "gthread"  # calls wait on the database: threads, not one request per process
threads = int(os.environ.get("GUNICORN_THREADS", "8"))
timeout = 120  # a large import or sync upload may take a while
graceful_timeout = 30
keepalive = 5
# the application's middleware writes the access log (wstoken masked, aula_ws/access_log.py);
# gunicorn's own would print the query string with the token in it
accesslog = None
errorlog = "-"
loglevel = os.environ.get("AULA_LOG_LEVEL", "info")
# the proxy sets X-Forwarded-For; aula-ws trusts no forwarded header itself (AULA_PUBLIC_URL)
forwarded_allow_ips = os.environ.get("GUNICORN_FORWARDED_ALLOW_IPS", "127.0.0.1")
# each worker opens its own database pool after the fork
preload_app = False
# gunicorn 25+ opens a control socket at one fixed path per user; aula-ws does not use it
control_socket_disable = True
