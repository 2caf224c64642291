"""gunicorn reads this file from the directory it starts in (Koto's root).

Koto's addresses can carry personal data in their query string: a search by name or
identity code (`/clients/search/?q=…`, `/api/v1/clients/?q=…`). The access log, when it is
turned on (`--access-logfile`), therefore records the path without the query string and
without the referring address (which holds the previous page's query string)."""

access_log_format = '%(h)s %(l)s %(u)s %(t)s "%(m)s %(U)s %(H)s" %(s)s %(b)s %(M)sms'
