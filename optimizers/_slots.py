"""Integer ids and vector layouts shared by the kernels and the registry.

Every optimizer reads its hyperparameters from one float64 vector with a fixed
global layout (``hp[LR]``, ``hp[BETA1]``, ...); each optimizer uses a subset.
A fixed layout keeps the kernels readable and lets a sweep vary any two
hyperparameters by writing columns of a (jobs × N_HP) matrix.
"""

# optimizer ids
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

# hyperparameter slots
LR = 0
MOMENTUM_ = 1
DAMPENING = 2
NESTEROV_ = 3
WEIGHT_DECAY = 4
BETA1 = 5
BETA2 = 6
RHO = 7
EPS = 8
AMSGRAD = 9
CENTERED = 10
LR_DECAY = 11
INITIAL_ACC = 12
ETA_MINUS = 13
ETA_PLUS = 14
STEP_MIN = 15
STEP_MAX = 16
GAIN_STEP = 17
GAIN_MIN = 18
GAIN_MAX = 19
DAMPING = 20
HISTORY = 21
C1 = 22
C2 = 23
MAX_EVALS = 24
CONVENTION = 25
MOMENTUM_DECAY = 26
DECOUPLED_WD = 27
BETA_RULE = 28
N_HP = 32

# conventions for the momentum family
TORCH = 0
TEXTBOOK = 1

# nonlinear-CG β rules
POLAK_RIBIERE = 0
FLETCHER_REEVES = 1

# scalar-state slots
T = 0
MU_PRODUCT = 1
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
B1_POW = 15  # β1^t, a running product (Adam-family bias correction)
B2_POW = 16  # β2^t
PSI_POW = 17  # 0.96^(tψ) of NAdam's momentum schedule
PSI_STEP = 18  # 0.96^ψ
N_SCALARS = 20  # L-BFGS appends `history` scratch slots after these

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
N_MODS = 8

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
