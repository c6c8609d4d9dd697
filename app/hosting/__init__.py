"""Serving a class: gunicorn (``serve``), the key-value stores (``kv``), the shared result cache
(``result_cache``), background-job managers (``jobs``), the Celery worker (``worker``) and the
security headers and request limits every response gets (``headers``).
"""
