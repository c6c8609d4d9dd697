"""The Autoencoder lab page (``/lab``): one autoencoder trained by several optimizers from the same
weights, queued as background races.

Modules, from the page's entry down:

* ``page`` — the entry the app shell, the Celery worker and the tests import: ``PATH``, ``TITLE``,
  ``layout(query)``, ``register_callbacks(app)``, ``warm()``, ``standalone_app()``.
* ``layout`` — the page for a link: header, form, run bar; ``results`` — the result panels and
  what the race callback returns into them; ``cards`` — the optimizer cards.
* ``callbacks`` — every callback: named inputs in, one plain function called, outputs out
  (clientside ones in ``assets/lab.js``).
* ``form`` — the form's values as callbacks receive them, unpacked into typed values.
* ``state`` — the settings and their link form (``sanitize``, ``to_query``, ``share_href``);
  ``checks`` — what a race needs before it starts; ``limits`` — every bound and timing.
* ``gate`` — what the page shows about races: the Start gate, the watch, follow mode.
* ``jobs`` — the race as a background job (``run_job``); ``queue`` — the shared race queue
  (training slots, one race per browser, liveness); ``heartbeat`` — cancel flags and heartbeats.
* ``uploads`` — uploaded files and the dataset a race loads; ``figures`` — pure figure builders.
* ``ids`` — component ids, the optimizer cards' pattern ids, the job store's key prefix.

A new built-in dataset source is a row of ``state.SOURCES`` (label, features, image shape) and a
branch of ``uploads.load_dataset``.  A new metric panel is measured in ``jobs._train_and_measure``,
drawn by a builder in ``figures``, placed in ``results.results_view`` and filled through
``results.result_outputs`` and one more output of the race callback in ``callbacks``.
"""
