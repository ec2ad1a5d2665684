"""The application layer: use cases that take several steps across services and matching.

What belongs here: work a front end starts as one thing but that is not one service call —
a matching round with the notices to the managers it owes, the weekly digest with the
opportunities matching finds for it, the periodic housekeeping, the start-up repair of
half-done decisions. Each is a plain function over a session (like the services), so the
bot's schedules (`bot/jobs.py`), the CLI (`bot/cli`) and a later web console call the same
code and only differ in when and how they show the outcome.

What does not: anything Telegram (bot/), one service's own rule (kooperation/services),
scoring and ranking (matching/). Imports go bot → usecases → matching → kooperation; this
package never imports telegram or bot.
"""
