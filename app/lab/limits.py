"""Every bound of the web lab in one place, for a class on one small server.

What the form accepts (sizes, epochs, uploads, links), how many races train at once
(``training_slots``: 2 on diskcache, 4 on Celery, or ``$DESCENT_LAB_TRAINING_SLOTS``), how long a
race may wait, load, train and measure, and how often pages and jobs check on each other.
"""

from __future__ import annotations

# --------------------------------------------------------------------------- what the form and its links accept
MAX_EPOCHS = 200
MAX_SAMPLES = 70_000
MIN_SAMPLES = 20
MAX_BATCH = 4096
MAX_SEED = 2**31 - 1
MIN_TIME_LIMIT = 5.0
#: seconds of training per job (the page's time limit goes up to this)
MAX_TIME_LIMIT = 600.0
MAX_PARAMS = 1_000_000
MAX_HIDDEN_LAYERS = 6
MAX_WIDTH = 2048
MAX_OPTIMIZERS = 8  # one colour each
MAX_UPLOAD_BYTES = 16 * 1024 * 1024
MAX_QUERY_KEYS = 40
MAX_QUERY_VALUE = 2000
MAX_NOTICES = 8
#: how long an uploaded file stays in the job store
UPLOAD_TTL = 2 * 3600

# --------------------------------------------------------------------------- the measurements after training
#: work the loss landscapes may take, in multiply-adds (both slices together)
LANDSCAPE_BUDGET = 1.5e10
#: validation images in the reconstruction mosaic, and in each column of the PSNR table
N_SHOW = 8
PSNR_SAMPLES = 300

# --------------------------------------------------------------------------- training slots and the queue
#: races training at once (the global limit; ``$DESCENT_LAB_TRAINING_SLOTS`` overrides): DiskcacheManager runs
#: each job as a process on this machine, Celery's workers may be elsewhere
DISK_SLOTS = 2
CELERY_SLOTS = 4
SLOTS_ENV = "DESCENT_LAB_TRAINING_SLOTS"
MAX_SLOTS = 64
#: races queued or training at once, one per browser; Start beyond that is refused with a message
MAX_QUEUE = 100
#: the longest a race waits for a training slot, counted from its Start
SLOT_WAIT_LIMIT = 900.0
#: bounds on loading the data and on the measurements after training (PSNR table, loss landscapes)
LOAD_LIMIT = 60.0
MEASURE_LIMIT = 120.0
HARD_MARGIN = 60.0
#: the longest a job may run, waiting included: past it the job is stopped (Celery's task time limit is longer)
JOB_WALL_LIMIT = SLOT_WAIT_LIMIT + LOAD_LIMIT + MAX_TIME_LIMIT + MEASURE_LIMIT + HARD_MARGIN

# --------------------------------------------------------------------------- how long records live in the job store
#: how long a cancel request stays in the job store
CANCEL_TTL = 2 * MAX_TIME_LIMIT
#: a job's heartbeat: written this often, it expires after BEAT_TTL (a killed job on another host is noticed then)
BEAT_EVERY = 2.0
BEAT_TTL = 10.0
#: a queued race whose page stopped asking for it for this long is dropped
WANTS_TTL = 180.0
STATUS_TTL = 30.0
DONE_TTL = 1800.0
QUEUE_TTL = 2 * 3600
LOCK_TTL = 5.0
LOCK_WAIT = 3.0

# --------------------------------------------------------------------------- how often things are checked
#: readers drop dead entries from the queue at most this often (checking one costs a read and a process lookup)
PRUNE_EVERY = 3.0
#: a race reads its cancel flag at most this often
CANCEL_POLL = 0.25
#: a waiting job looks for a free training slot this often
WAIT_POLL = 1.0
#: the progress channel is written at most this often
PROGRESS_INTERVAL = 0.4
#: the page checks on its job this often while it runs, and on another tab's race while it follows one
WATCH_MS = 2000
FOLLOW_MS = 1500
