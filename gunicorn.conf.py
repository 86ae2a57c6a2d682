"""gunicorn settings for production: `gunicorn imsproject.wsgi` reads this file by itself."""

import os

bind = os.environ.get("GUNICORN_BIND", "0.0.0.0:8000")
workers = int(os.environ.get("GUNICORN_WORKERS", "4"))
# legacy-api.md §5: even a 100 KB query string gets the API's own answer (200 or 400 in the
# error format), so gunicorn must not cut the request line off before Django sees it.
limit_request_line = 0
accesslog = "-"
# The request id the API gives every response, so a log line and a client's report meet.
# The query string stays out: the API's own log line has it, cut to a readable length.
access_log_format = '%(h)s "%(m)s %(U)s" %(s)s %(b)s %(M)sms %({x-openstack-request-id}o)s'
