import os

# Playwright's sync API runs an event loop in the test thread; without this Django refuses
# database access from the fixtures (SynchronousOnlyOperation).
os.environ.setdefault("DJANGO_ALLOW_ASYNC_UNSAFE", "true")
