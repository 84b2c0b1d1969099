"""Parts of ``bench/live_gaps.py`` (issue 15: a hall of thousands of phones).

- ``http_joins``: phones joining through the real form flow, at high concurrency.
- ``reference``: the raw ``websockets.broadcast`` reference server and its client.
- ``console``: a facilitator's console screen, to compare its counts with the truth.
- ``stores``: an empty PostgreSQL database and Redis db for a run on several processes.
- ``targets``: the one-line-per-target summary.

Each module stands alone (no import of ``live_gaps``), so that ``live_gaps`` and other
scripts (``live_recovery.py``) can import them.
"""
