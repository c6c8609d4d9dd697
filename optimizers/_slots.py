"""Integer ids and vector layouts shared by the kernels and the registry.

Every optimizer reads its hyperparameters from one float64 vector with a fixed
global layout (``hp[HP_LR]``, ``hp[HP_BETA1]``, ...); each optimizer uses a subset.
A fixed layout keeps the kernels readable and lets a sweep vary any two
hyperparameters by writing columns of a (jobs × N_HP) matrix.

One meaning per name: an optimizer id is the optimizer's name (``MOMENTUM`` is
the heavy-ball optimizer), an index into the hyperparameter vector starts with
``HP_`` (``HP_MOMENTUM`` is the momentum factor μ).
"""

# optimizer ids (``OptimizerSpec.oid``; the registry, not their order, says what family each is in)
SGD = 0
MOMENTUM = 1
NESTEROV = 2
ADAGRAD = 3
RMSPROP = 4
ADADELTA = 5
ADAM = 6
ADAMW = 7
NADAM = 8
LION = 9
RPROP = 10
DBD = 11
NEWTON = 12
CG = 13
LBFGS = 14
ADAMAX = 15
RADAM = 16
SAM = 17
SF_SGD = 18  # schedule-free SGD
SF_ADAMW = 19  # schedule-free AdamW

# hyperparameter slots: indices into the vector ``hp`` (``HyperParam.slot``)
HP_LR = 0
HP_MOMENTUM = 1
HP_DAMPENING = 2
HP_NESTEROV = 3
HP_WEIGHT_DECAY = 4
HP_BETA1 = 5
HP_BETA2 = 6
HP_RHO = 7
HP_EPS = 8
HP_AMSGRAD = 9
HP_CENTERED = 10
HP_LR_DECAY = 11
HP_INITIAL_ACC = 12
HP_ETA_MINUS = 13
HP_ETA_PLUS = 14
HP_STEP_MIN = 15
HP_STEP_MAX = 16
HP_GAIN_STEP = 17
HP_GAIN_MIN = 18
HP_GAIN_MAX = 19
HP_DAMPING = 20
HP_HISTORY = 21
HP_C1 = 22
HP_C2 = 23
HP_MAX_EVALS = 24
HP_CONVENTION = 25
HP_MOMENTUM_DECAY = 26
HP_DECOUPLED_WD = 27
HP_BETA_RULE = 28
HP_SAM_RHO = 29  # SAM's ascent radius ρ (not a decay rate: that is HP_RHO)
HP_BASE = 30  # SAM's base optimizer (SAM_SGD, SAM_MOMENTUM, SAM_ADAM)
HP_WARMUP_STEPS = 31  # schedule-free: linear warm-up steps
HP_SF_R = 32  # schedule-free: the averaging weight's power of the step count, (t)^r
HP_WEIGHT_LR_POWER = 33  # schedule-free: the averaging weight's power of the largest lr
HP_NO_BIAS_CORRECTION = 34  # Adam, AdamW: 1 drops 1/(1−β₁ᵗ) and 1/√(1−β₂ᵗ) (0, the default, keeps them)
N_HP = 36

# conventions for the momentum family
TORCH = 0
TEXTBOOK = 1

# SAM's base optimizers
SAM_SGD = 0
SAM_MOMENTUM = 1
SAM_ADAM = 2

# nonlinear-CG β rules
POLAK_RIBIERE = 0
FLETCHER_REEVES = 1

# scalar-state slots
T = 0
MU_PRODUCT = 1  # NAdam's ∏ μ_i (β₁ᵗ and 0.96^{tψ} are computed by pow each step, as torch does)
LS_ALPHA = 2
LS_LO = 3
LS_HI = 4
LS_F0 = 5
LS_DPHI0 = 6
LS_NEVALS = 7
LS_PREV_ALPHA = 8
LS_PREV_DPHI = 9
LB_COUNT = 10
LB_HEAD = 11
CG_SINCE_RESTART = 12
LS_BEST_ALPHA = 13
LS_BEST_F = 14
SF_LR_MAX = 19  # schedule-free: the largest (warmed-up) lr so far
SF_WEIGHT_SUM = 20  # schedule-free: Σ of the averaging weights
N_SCALARS = 21  # L-BFGS appends `history` scratch slots after these

# return codes of a step
DONE = 0  # the iterate was updated in place
NEED_EVAL = 1  # evaluate f and ∇f at the query point and resume
DONE_AT_QUERY = 2  # the iterate moved to the last query point (its f, ∇f are known)
STALLED = 3  # no step is possible (singular Hessian, failed line search)

#: evaluations one iteration may request before its driver declares it STALLED
MAX_EVALS_PER_STEP = 200

# modifier-vector slots
NOISE_SIGMA = 0
SEED = 1
CLIP_MODE = 2
CLIP_VALUE = 3
SCHED_KIND = 4
SCHED_A = 5
SCHED_B = 6
SCHED_C = 7
BATCH_SIZE = 8  # minibatch size on a data surface; 0: the full batch
N_MODS = 9

CLIP_NONE = 0
CLIP_VALUE_MODE = 1
CLIP_NORM = 2

SCHED_CONSTANT = 0
SCHED_STEP = 1
SCHED_EXPONENTIAL = 2
SCHED_COSINE = 3
SCHED_COSINE_RESTARTS = 4
SCHED_WARMUP = 5

# trajectory status codes
RUNNING = 0
COMPLETED = 1
DIVERGED = 2
CONVERGED = 3
STALLED_STATUS = 4
