"""Every optimizer Descent Lab offers: its hyperparameters, its rule in LaTeX and its convention.

A new optimizer is one more entry in :data:`SPECS` (with its kernel in ``_kernels.py``).
"""

from __future__ import annotations

from optimizers._slots import (
    ADADELTA,
    ADAGRAD,
    ADAM,
    ADAMAX,
    ADAMW,
    CG,
    DBD,
    HP_AMSGRAD,
    HP_NO_BIAS_CORRECTION,
    HP_BASE,
    HP_BETA1,
    HP_BETA2,
    HP_BETA_RULE,
    HP_C1,
    HP_C2,
    HP_CENTERED,
    HP_CONVENTION,
    HP_DAMPENING,
    HP_DAMPING,
    HP_DECOUPLED_WD,
    HP_EPS,
    HP_ETA_MINUS,
    HP_ETA_PLUS,
    HP_GAIN_MAX,
    HP_GAIN_MIN,
    HP_GAIN_STEP,
    HP_HISTORY,
    HP_INITIAL_ACC,
    HP_LR,
    HP_LR_DECAY,
    HP_MAX_EVALS,
    HP_MOMENTUM,
    HP_MOMENTUM_DECAY,
    HP_NESTEROV,
    HP_RHO,
    HP_SAM_RHO,
    HP_SF_R,
    HP_STEP_MAX,
    HP_STEP_MIN,
    HP_WARMUP_STEPS,
    HP_WEIGHT_DECAY,
    HP_WEIGHT_LR_POWER,
    LBFGS,
    LION,
    MOMENTUM,
    NADAM,
    NESTEROV,
    NEWTON,
    POLAK_RIBIERE,
    RADAM,
    RMSPROP,
    RPROP,
    SAM,
    SAM_SGD,
    SF_ADAMW,
    SF_SGD,
    SGD,
    TORCH,
)
from optimizers.hessian_free import HESSIAN_FREE_OID, MAX_CG
from optimizers.spec import HyperParam, OptimizerSpec


def _lr(default: float, ui_low: float = 1e-5, ui_high: float = 10.0, desc: str = "learning rate") -> HyperParam:
    return HyperParam(
        "lr", HP_LR, default, 0.0, 1e6, r"\eta", desc, log=True, ui_low=ui_low, ui_high=ui_high, low_open=True
    )


def _wd(default: float = 0.0, desc: str = "L2 weight decay, added to the gradient") -> HyperParam:
    return HyperParam("weight_decay", HP_WEIGHT_DECAY, default, 0.0, 1e3, r"\lambda", desc, ui_high=1.0)


def _eps(default: float) -> HyperParam:
    return HyperParam("eps", HP_EPS, default, 0.0, 1.0, r"\epsilon", "term added for numerical stability", log=True,
                      ui_low=1e-12, ui_high=1e-1)  # fmt: skip


def _beta(key: str, slot: int, default: float, symbol: str, desc: str) -> HyperParam:
    return HyperParam(key, slot, default, 0.0, 1.0, symbol, desc, high_open=True, ui_high=0.9999)


def _moments(lr: float) -> tuple[HyperParam, ...]:
    """η, β1, β2, ε of the Adam family (torch's defaults but η)."""
    return (
        _lr(lr),
        _beta("beta1", HP_BETA1, 0.9, r"\beta_1", "decay of the first-moment average"),
        _beta("beta2", HP_BETA2, 0.999, r"\beta_2", "decay of the second-moment average"),
        _eps(1e-8),
    )


_AMSGRAD = HyperParam("amsgrad", HP_AMSGRAD, 0.0, 0, 1, "", "use the running maximum of v (AMSGrad)", kind="bool")
_NO_BIAS_CORRECTION = HyperParam(
    "no_bias_correction", HP_NO_BIAS_CORRECTION, 0.0, 0, 1, "",
    "drop the bias correction: step η·m/(√v + ε), ≈3η at first with the default β (v's zero start)", kind="bool",
)  # fmt: skip
_DECOUPLED_WD = HyperParam(
    "decoupled_weight_decay", HP_DECOUPLED_WD, 0.0, 0, 1, "", "decay θ(1 − ηλ) instead of L2", kind="bool"
)
_MOMENTUM = HyperParam("momentum", HP_MOMENTUM, 0.9, 0.0, 1.0, r"\mu", "momentum factor", high_open=True, ui_high=0.999)
_DAMPENING = HyperParam("dampening", HP_DAMPENING, 0.0, 0.0, 1.0, r"\tau", "dampening of the gradient in the buffer")
_CONVENTION = HyperParam(
    "convention", HP_CONVENTION, TORCH, 0, 1, "", "torch: b←μb+g, θ←θ−ηb;  textbook: v←αv−εg, θ←θ+v",
    kind="choice", choices=("torch", "textbook"),
)  # fmt: skip
_C1 = HyperParam("c1", HP_C1, 1e-4, 0.0, 1.0, "c_1", "sufficient-decrease (Armijo) constant", log=True,
                 low_open=True, high_open=True, ui_low=1e-6, ui_high=0.5)  # fmt: skip
_MAX_EVALS = HyperParam("max_evals", HP_MAX_EVALS, 25, 1, 200, "", "function evaluations per line search", kind="int")

def _schedule_free_params() -> tuple[HyperParam, ...]:
    """Warm-up and the averaging weight w_t = t^r · η_max^p of the schedulefree package (its defaults)."""
    return (
        _wd(),
        HyperParam("warmup_steps", HP_WARMUP_STEPS, 0, 0, 1e6, "", "linear warm-up of η over the first steps",
                   kind="int", ui_high=500),  # fmt: skip
        HyperParam("r", HP_SF_R, 0.0, 0.0, 10.0, "r", "power of t in the averaging weight w_t = t^r·η_max^p",
                   ui_high=4.0),  # fmt: skip
        HyperParam("weight_lr_power", HP_WEIGHT_LR_POWER, 2.0, 0.0, 10.0, "p",
                   "power of the largest η so far in the averaging weight", ui_high=4.0),  # fmt: skip
    )


_SF_RULE = (
    r"y_t = (1-\beta)\,z_t + \beta\,x_t \quad(\text{the plotted iterate: } g_t = \nabla f(y_t))\\"
    r"z_{t+1} = z_t - \eta_t\, \tilde g_t,\quad x_{t+1} = (1 - c_{t+1})\,x_t + c_{t+1} z_{t+1},\quad "
    r"c_{t+1} = \frac{w_t}{\sum_{i\le t} w_i},\ w_t = t^r \eta_{\max}^p"
)
_SF_CONVENTION = (
    "The averaging replaces a learning-rate schedule: z takes the base steps, x is their weighted average, "
    "and the gradient is taken at y, between them. The plotted iterate is y (the parameters in the package's "
    "train mode); x, what the package's eval() puts in the parameters and the point to evaluate, is drawn beside "
    "it as a dashed path (and kept as state). Weight decay is taken at y."
)


_SGD_RULE = (
    r"g_t \leftarrow \nabla f(\theta_{t-1}) + \lambda\theta_{t-1}\\"
    r"b_t \leftarrow \mu b_{t-1} + (1-\tau) g_t \quad (b_1 = g_1)\\"
    r"\theta_t \leftarrow \theta_{t-1} - \eta\,(\text{nesterov}\ ?\ g_t + \mu b_t : b_t)"
)
_TEXTBOOK_MOMENTUM = r"v \leftarrow \alpha v - \epsilon \nabla f(\theta)\\ \theta \leftarrow \theta + v"
_TEXTBOOK_NESTEROV = (
    r"\tilde\theta \leftarrow \theta + \alpha v\\ v \leftarrow \alpha v - \epsilon \nabla f(\tilde\theta)\\"
    r"\theta \leftarrow \theta + v"
)
_ADAM_RULE = (
    r"m_t \leftarrow \beta_1 m_{t-1} + (1-\beta_1) g_t\\"
    r"v_t \leftarrow \beta_2 v_{t-1} + (1-\beta_2) g_t^2\\"
    r"\hat m_t = m_t/(1-\beta_1^t),\ \hat v_t = v_t/(1-\beta_2^t)\\"
    r"\theta_t \leftarrow \theta_{t-1} - \eta\,\hat m_t / (\sqrt{\hat v_t} + \epsilon)"
)

SPECS: tuple[OptimizerSpec, ...] = (
    OptimizerSpec(
        name="sgd",
        source="torch.optim.SGD (torch 2.13)",
        card_keys=("momentum", "weight_decay"),
        oid=SGD,
        display_name="SGD",
        family="first-order",
        params=(
            _lr(1e-3),
            HyperParam("momentum", HP_MOMENTUM, 0.0, 0.0, 1.0, r"\mu", "momentum factor", high_open=True, ui_high=0.999),
            _DAMPENING,
            HyperParam("nesterov", HP_NESTEROV, 0.0, 0, 1, "", "use Nesterov momentum", kind="bool"),
            _wd(),
        ),
        rule_latex=_SGD_RULE,
        convention="torch.optim.SGD: the first step copies the gradient into the buffer; "
        "Nesterov uses g + μb (the look-ahead folded into the iterate).",
        state_names=(("momentum_buffer", 0),),
        notes="With momentum = 0 this is plain gradient descent θ ← θ − η∇f.",
    ),
    OptimizerSpec(
        name="momentum",
        source="torch.optim.SGD with momentum (torch 2.13); textbook convention: Goodfellow et al., Deep Learning §8.3.2",
        card_keys=("momentum", "weight_decay"),
        oid=MOMENTUM,
        display_name="Momentum (heavy ball)",
        family="first-order",
        params=(_lr(1e-3), _MOMENTUM, _DAMPENING, _wd(), _CONVENTION),
        rule_latex=r"b_t \leftarrow \mu b_{t-1} + (1-\tau) g_t\quad(b_1 = g_1)\\ \theta_t \leftarrow \theta_{t-1} - \eta b_t",
        textbook_rule_latex=_TEXTBOOK_MOMENTUM,
        convention="torch (default): b ← μb + g, θ ← θ − ηb.  textbook (Goodfellow et al. 8.3.2): "
        "v ← αv − εg, θ ← θ + v.  With a constant learning rate the two give the same iterates; "
        "under a schedule torch rescales the whole buffer, the textbook only new gradients.",
        state_names=(("momentum_buffer", 0),),
        notes="Dampening applies to the torch convention only.",
    ),
    OptimizerSpec(
        name="nesterov",
        source="torch.optim.SGD with nesterov=True (torch 2.13); textbook convention: Sutskever et al. 2013 (paper)",
        card_keys=("momentum", "weight_decay"),
        oid=NESTEROV,
        display_name="Nesterov momentum",
        family="first-order",
        params=(
            _lr(1e-3),
            HyperParam("momentum", HP_MOMENTUM, 0.9, 0.0, 1.0, r"\mu", "momentum factor", low_open=True,
                       high_open=True, ui_low=0.01, ui_high=0.999),  # fmt: skip
            _wd(),
            _CONVENTION,
        ),
        rule_latex=r"b_t \leftarrow \mu b_{t-1} + g_t\quad(b_1 = g_1)\\ \theta_t \leftarrow \theta_{t-1} - \eta\,(g_t + \mu b_t)",
        textbook_rule_latex=_TEXTBOOK_NESTEROV,
        convention="torch (default): gradient at the iterate, step g + μb.  textbook (Sutskever et al. 2013): "
        "gradient at the look-ahead point θ + αv.  The two are the same method in shifted variables; "
        "the plotted points differ.",
        state_names=(("momentum_buffer", 0),),
    ),
    OptimizerSpec(
        name="adagrad",
        source="torch.optim.Adagrad (torch 2.13)",
        card_keys=("lr_decay", "weight_decay"),
        oid=ADAGRAD,
        display_name="AdaGrad",
        family="first-order",
        params=(
            _lr(1e-2),
            HyperParam("lr_decay", HP_LR_DECAY, 0.0, 0.0, 10.0, "", "learning-rate decay η/(1+(t−1)·decay)", ui_high=1.0),
            _wd(),
            HyperParam("initial_accumulator_value", HP_INITIAL_ACC, 0.0, 0.0, 1e3, "", "initial sum of squares",
                       ui_high=1.0),  # fmt: skip
            _eps(1e-10),
        ),
        rule_latex=r"r_t \leftarrow r_{t-1} + g_t^2\\ \theta_t \leftarrow \theta_{t-1} - \frac{\eta}{\sqrt{r_t}+\epsilon}\,g_t",
        convention="torch.optim.Adagrad: ε outside the square root; the effective rate η/(√r+ε) only shrinks.",
        state_names=(("sum", 0),),
    ),
    OptimizerSpec(
        name="rmsprop",
        source="torch.optim.RMSprop (torch 2.13)",
        card_keys=("rho", "momentum"),
        oid=RMSPROP,
        display_name="RMSProp",
        family="first-order",
        params=(
            _lr(1e-2),
            _beta("rho", HP_RHO, 0.99, r"\rho", "decay of the squared-gradient average (torch's alpha)"),
            _eps(1e-8),
            _wd(),
            HyperParam("momentum", HP_MOMENTUM, 0.0, 0.0, 1.0, r"\mu", "momentum factor", high_open=True, ui_high=0.999),
            HyperParam("centered", HP_CENTERED, 0.0, 0, 1, "", "divide by the centred (variance) estimate", kind="bool"),
        ),
        rule_latex=r"r_t \leftarrow \rho r_{t-1} + (1-\rho) g_t^2\\ \theta_t \leftarrow \theta_{t-1} - \frac{\eta}{\sqrt{r_t}+\epsilon}\,g_t",
        convention="torch.optim.RMSprop: ε outside the square root, no bias correction, so the first steps are "
        "large; with momentum the buffer accumulates g/(√r+ε).",
        state_names=(("square_avg", 0), ("momentum_buffer", 1), ("grad_avg", 2)),
    ),
    OptimizerSpec(
        name="adadelta",
        source="torch.optim.Adadelta (torch 2.13)",
        card_keys=("rho", "eps"),
        oid=ADADELTA,
        display_name="Adadelta",
        family="first-order",
        params=(
            _lr(1.0, ui_high=10.0, desc="scale applied to the Adadelta step"),
            _beta("rho", HP_RHO, 0.9, r"\rho", "decay of the running averages"),
            _eps(1e-6),
            _wd(),
        ),
        rule_latex=r"v_t \leftarrow \rho v_{t-1} + (1-\rho) g_t^2\\ \Delta_t = \frac{\sqrt{u_{t-1}+\epsilon}}{\sqrt{v_t+\epsilon}}\,g_t\\"
        r"u_t \leftarrow \rho u_{t-1} + (1-\rho)\Delta_t^2\\ \theta_t \leftarrow \theta_{t-1} - \eta\,\Delta_t",
        convention="torch.optim.Adadelta: ε inside both square roots; the step's units match θ's.",
        state_names=(("square_avg", 0), ("acc_delta", 1)),
    ),
    OptimizerSpec(
        name="adam",
        source="torch.optim.Adam (torch 2.13)",
        card_keys=("beta1", "beta2"),
        oid=ADAM,
        display_name="Adam",
        family="first-order",
        params=(
            *_moments(1e-3),
            _wd(),
            _AMSGRAD,
            _NO_BIAS_CORRECTION,
        ),
        rule_latex=_ADAM_RULE,
        convention="torch.optim.Adam: bias-corrected moments, ε added after the square root; weight decay is L2 "
        "(added to the gradient). Without the bias correction (no_bias_correction; not in torch): m̂ = m, v̂ = v, as "
        "Hugging Face's AdamW(correct_bias=False).",
        state_names=(("exp_avg", 0), ("exp_avg_sq", 1), ("max_exp_avg_sq", 2)),
    ),
    OptimizerSpec(
        name="adamw",
        source="torch.optim.AdamW (torch 2.13)",
        card_keys=("beta1", "weight_decay"),
        oid=ADAMW,
        display_name="AdamW",
        family="first-order",
        params=(
            *_moments(1e-3),
            _wd(1e-2, "decoupled weight decay θ ← θ(1 − ηλ)"),
            _AMSGRAD,
            _NO_BIAS_CORRECTION,
        ),
        rule_latex=r"\theta_{t-1} \leftarrow \theta_{t-1}(1 - \eta\lambda)\\" + _ADAM_RULE,
        convention="torch.optim.AdamW: the decay is decoupled from the gradient and scaled by the learning rate "
        "(ηλ), not by λ alone as in Loshchilov & Hutter's schedule multiplier.",
        state_names=(("exp_avg", 0), ("exp_avg_sq", 1), ("max_exp_avg_sq", 2)),
    ),
    OptimizerSpec(
        name="nadam",
        source="torch.optim.NAdam (torch 2.13)",
        card_keys=("beta1", "beta2"),
        oid=NADAM,
        display_name="NAdam",
        family="first-order",
        params=(
            *_moments(2e-3),
            _wd(),
            HyperParam("momentum_decay", HP_MOMENTUM_DECAY, 4e-3, 0.0, 1.0, r"\psi", "momentum schedule decay",
                       ui_high=0.1),  # fmt: skip
            _DECOUPLED_WD,
        ),
        rule_latex=r"\mu_t = \beta_1\left(1 - \tfrac12 0.96^{t\psi}\right)\\ m_t, v_t \text{ as in Adam}\\"
        r"\theta_t \leftarrow \theta_{t-1} - \eta\frac{(1-\mu_t)\,g_t/(1-\prod_{i\le t}\mu_i) + "
        r"\mu_{t+1} m_t/(1-\prod_{i\le t+1}\mu_i)}{\sqrt{v_t/(1-\beta_2^t)}+\epsilon}",
        convention="torch.optim.NAdam (Dozat 2016) with the momentum schedule μ_t. The product ∏μ_i is kept "
        "in float64 (torch keeps it in its default scalar dtype: float32 unless the default dtype is float64).",
        state_names=(("exp_avg", 0), ("exp_avg_sq", 1)),
    ),
    OptimizerSpec(
        name="adamax",
        source="torch.optim.Adamax (torch 2.13)",
        card_keys=("beta1", "beta2"),
        oid=ADAMAX,
        display_name="Adamax",
        family="first-order",
        params=(*_moments(2e-3), _wd()),
        rule_latex=r"m_t \leftarrow \beta_1 m_{t-1} + (1-\beta_1) g_t\\"
        r"u_t \leftarrow \max\left(\beta_2 u_{t-1},\ |g_t| + \epsilon\right)\\"
        r"\theta_t \leftarrow \theta_{t-1} - \frac{\eta}{1-\beta_1^t}\,\frac{m_t}{u_t}",
        convention="torch.optim 2.13 Adamax (Kingma & Ba 2015, §7.1): the infinity norm u replaces Adam's √v and "
        "needs no bias correction; ε is added to |g| inside the max, so u ≥ ε and the first step is "
        "η·g/(|g|+ε), about η·sign g. Weight decay is L2 (added to the gradient).",
        state_names=(("exp_avg", 0), ("exp_inf", 1)),
    ),
    OptimizerSpec(
        name="radam",
        source="torch.optim.RAdam (torch 2.13)",
        card_keys=("beta1", "beta2"),
        oid=RADAM,
        display_name="RAdam",
        family="first-order",
        params=(*_moments(1e-3), _wd(), _DECOUPLED_WD),
        rule_latex=r"m_t, v_t \text{ as in Adam},\ \hat m_t = m_t/(1-\beta_1^t)\\"
        r"\rho_\infty = \tfrac{2}{1-\beta_2} - 1,\ \rho_t = \rho_\infty - \tfrac{2t\beta_2^t}{1-\beta_2^t}\\"
        r"\rho_t > 5:\ r_t = \sqrt{\tfrac{(\rho_t-4)(\rho_t-2)\rho_\infty}{(\rho_\infty-4)(\rho_\infty-2)\rho_t}},\ "
        r"\theta_t \leftarrow \theta_{t-1} - \eta\,\hat m_t\, r_t \frac{\sqrt{1-\beta_2^t}}{\sqrt{v_t}+\epsilon}\\"
        r"\text{else}:\ \theta_t \leftarrow \theta_{t-1} - \eta\,\hat m_t",
        convention="torch.optim 2.13 RAdam (Liu et al. 2020): while the variance estimate is unreliable "
        "(ρ_t ≤ 5: the first 5 steps at β₂ = 0.999) the step is bias-corrected momentum η·m̂ with no adaptive "
        "scaling; after that, Adam's step times the rectification r_t < 1, with ε added to √v before the "
        "√(1−β₂ᵗ) correction. decoupled_weight_decay gives AdamW's θ(1 − ηλ) instead of L2.",
        state_names=(("exp_avg", 0), ("exp_avg_sq", 1)),
    ),
    OptimizerSpec(
        name="lion",
        source="lion-pytorch 0.2.5 (Chen et al. 2023)",
        card_keys=("beta1", "beta2"),
        oid=LION,
        display_name="Lion",
        family="first-order",
        params=(
            _lr(1e-4),
            _beta("beta1", HP_BETA1, 0.9, r"\beta_1", "interpolation for the update direction"),
            _beta("beta2", HP_BETA2, 0.99, r"\beta_2", "decay of the momentum"),
            _wd(0.0, "decoupled weight decay, scaled by η"),
        ),
        rule_latex=r"c_t = \beta_1 m_{t-1} + (1-\beta_1) g_t\\ \theta_t \leftarrow \theta_{t-1} - \eta\,(\operatorname{sign} c_t + \lambda\theta_{t-1})\\"
        r"m_t \leftarrow \beta_2 m_{t-1} + (1-\beta_2) g_t",
        convention="Chen et al. 2023, Algorithm 2, in lion-pytorch's arithmetic (θ(1 − ηλ), then the sign step): "
        "every coordinate moves by exactly η (sign update); the default η is 10× smaller than Adam's.",
        state_names=(("exp_avg", 0),),
    ),
    OptimizerSpec(
        name="rprop",
        source="torch.optim.Rprop (torch 2.13)",
        card_keys=("eta_minus", "eta_plus"),
        oid=RPROP,
        display_name="Rprop",
        family="first-order",
        params=(
            _lr(1e-2, desc="initial step size"),
            HyperParam("eta_minus", HP_ETA_MINUS, 0.5, 0.0, 1.0, r"\eta_-", "step shrink factor on a sign change",
                       low_open=True, high_open=True),  # fmt: skip
            HyperParam("eta_plus", HP_ETA_PLUS, 1.2, 1.0, 10.0, r"\eta_+", "step growth factor while the sign holds",
                       low_open=True),  # fmt: skip
            HyperParam("step_min", HP_STEP_MIN, 1e-6, 0.0, 1e3, "", "smallest step size", log=True, ui_low=1e-9, ui_high=1.0),
            HyperParam("step_max", HP_STEP_MAX, 50.0, 0.0, 1e6, "", "largest step size", log=True, low_open=True,
                       ui_low=1e-3, ui_high=100.0),  # fmt: skip
        ),
        rule_latex=r"s_t = \begin{cases}\min(s_{t-1}\eta_+, s_{\max}) & g_t g_{t-1} > 0\\ \max(s_{t-1}\eta_-, s_{\min}) & g_t g_{t-1} < 0,\ g_t \leftarrow 0\\ s_{t-1} & \text{else}\end{cases}\\"
        r"\theta_t \leftarrow \theta_{t-1} - s_t \operatorname{sign} g_t",
        convention="torch.optim.Rprop: after a sign change the gradient is set to zero (no step for that "
        "coordinate, and no sign comparison on the next step). Only the sign of the gradient is used.",
        state_names=(("step_size", 0), ("prev", 1)),
        notes="Rprop is meant for full-batch gradients: with gradient noise the sign flips and the steps collapse.",
    ),
    OptimizerSpec(
        name="delta_bar_delta",
        source="Jacobs 1988 (paper), in the lecture's form",
        card_keys=("gain_step", "momentum"),
        oid=DBD,
        display_name="Local gains (delta-bar-delta)",
        family="first-order",
        params=(
            _lr(1e-2),
            HyperParam("gain_step", HP_GAIN_STEP, 0.05, 0.0, 1.0, r"\delta", "additive gain increase / multiplicative decrease",
                       high_open=True, ui_high=0.5),  # fmt: skip
            HyperParam("gain_min", HP_GAIN_MIN, 0.1, 0.0, 1.0, "", "smallest gain", low_open=True),
            HyperParam("gain_max", HP_GAIN_MAX, 10.0, 1.0, 1e4, "", "largest gain", log=True, ui_high=100.0),
            HyperParam("momentum", HP_MOMENTUM, 0.0, 0.0, 1.0, r"\mu", "momentum factor", high_open=True, ui_high=0.999),
        ),
        rule_latex=r"g_{ij} \leftarrow \begin{cases} g_{ij} + \delta & \frac{\partial E}{\partial w_{ij}}(t)\,\frac{\partial E}{\partial w_{ij}}(t-1) > 0\\"
        r" g_{ij}(1-\delta) & \text{otherwise}\end{cases}\\ v \leftarrow \mu v - \eta\, g_{ij} \frac{\partial E}{\partial w_{ij}},\ w \leftarrow w + v",
        convention="The lecture's local-gain rule (Hinton; Jacobs 1988): additive increase, multiplicative "
        "decrease, gains clipped to [gain_min, gain_max]. A zero product (the first step) counts as a sign change.",
        state_names=(("gain", 0), ("prev_grad", 1), ("velocity", 2)),
    ),
    OptimizerSpec(
        name="sam",
        source="Foret et al. 2021, Algorithm 1 (paper); its bases step as torch.optim.SGD and Adam (torch 2.13)",
        card_keys=("rho", "base"),
        oid=SAM,
        display_name="SAM (sharpness-aware)",
        family="first-order",
        elementwise=False,
        params=(
            _lr(1e-3),
            HyperParam("rho", HP_SAM_RHO, 0.05, 0.0, 100.0, r"\rho", "radius of the ascent step ε = ρg/‖g‖",
                       ui_high=1.0),  # fmt: skip
            HyperParam("base", HP_BASE, SAM_SGD, 0, 2, "", "the optimizer that steps with the gradient at θ + ε",
                       kind="choice", choices=("sgd", "momentum", "adam")),  # fmt: skip
            HyperParam("momentum", HP_MOMENTUM, 0.9, 0.0, 1.0, r"\mu", "momentum factor (base momentum)",
                       high_open=True, ui_high=0.999),  # fmt: skip
            _beta("beta1", HP_BETA1, 0.9, r"\beta_1", "decay of the first-moment average (base adam)"),
            _beta("beta2", HP_BETA2, 0.999, r"\beta_2", "decay of the second-moment average (base adam)"),
            _eps(1e-8),
            _wd(),
        ),
        rule_latex=r"\epsilon_t = \rho\,\frac{\nabla f(\theta_{t-1})}{\lVert\nabla f(\theta_{t-1})\rVert_2}\\"
        r"g_t = \nabla f(\theta_{t-1} + \epsilon_t)\\"
        r"\theta_t \leftarrow \text{base step from } \theta_{t-1} \text{ with } g_t"
        r"\quad(\text{sgd: } \theta_{t-1} - \eta g_t)",
        convention="Foret et al. 2021, Algorithm 1: ascend to θ + ε with ε = ρ∇f/(‖∇f‖₂ + 1e-12) (the norm of the "
        "whole parameter vector), take the gradient there, and step the base optimizer from θ with it: sgd "
        "θ ← θ − ηg, momentum (torch.optim.SGD with μ) or adam (torch.optim.Adam). Two gradient evaluations per "
        "step; noise and clipping apply to both. Weight decay is L2, added to the base's gradient.",
        state_names=(("buffer", 0), ("exp_avg_sq", 1)),
        notes="With ρ = 0 this is the base optimizer at twice the cost. The buffer is the momentum buffer "
        "(base momentum) or Adam's exp_avg (base adam).",
    ),
    OptimizerSpec(
        name="schedulefree_sgd",
        source="schedulefree 1.4.1 SGDScheduleFree (Defazio et al. 2024)",
        averaged_state="x",
        card_keys=("momentum", "warmup_steps"),
        oid=SF_SGD,
        display_name="Schedule-free SGD",
        family="first-order",
        params=(
            _lr(1e-3),
            HyperParam("momentum", HP_MOMENTUM, 0.9, 0.0, 1.0, r"\beta", "interpolation y = (1−β)z + βx",
                       low_open=True, high_open=True, ui_low=0.01, ui_high=0.999),  # fmt: skip
            *_schedule_free_params(),
        ),
        rule_latex=_SF_RULE + r"\\ \tilde g_t = g_t + \lambda y_t",
        convention="schedulefree 1.4.1 SGDScheduleFree (Defazio et al. 2024, \"The Road Less Scheduled\"), "
        "single-tensor path. " + _SF_CONVENTION + " The package's default η is 1.0 (for networks); here 1e-3.",
        state_names=(("z", 0), ("x", 2)),
    ),
    OptimizerSpec(
        name="schedulefree_adamw",
        source="schedulefree 1.4.1 AdamWScheduleFree (Defazio et al. 2024)",
        averaged_state="x",
        card_keys=("beta1", "warmup_steps"),
        oid=SF_ADAMW,
        display_name="Schedule-free AdamW",
        family="first-order",
        params=(
            _lr(2.5e-3),
            HyperParam("beta1", HP_BETA1, 0.9, 0.0, 1.0, r"\beta_1", "interpolation y = (1−β₁)z + β₁x",
                       low_open=True, high_open=True, ui_low=0.01, ui_high=0.999),  # fmt: skip
            _beta("beta2", HP_BETA2, 0.999, r"\beta_2", "decay of the second-moment average"),
            _eps(1e-8),
            *_schedule_free_params(),
        ),
        rule_latex=_SF_RULE + r"\\ \tilde g_t = g_t / (\sqrt{v_t/(1-\beta_2^t)} + \epsilon) + \lambda y_t",
        convention="schedulefree 1.4.1 AdamWScheduleFree (Defazio et al. 2024, \"The Road Less Scheduled\"), "
        "single-tensor path: z takes Adam's normalised step without a first moment (β₁ is the interpolation "
        "weight). " + _SF_CONVENTION,
        state_names=(("z", 0), ("exp_avg_sq", 1), ("x", 2)),
    ),
    OptimizerSpec(
        name="newton",
        source="Nocedal & Wright, Numerical Optimization, ch. 3 (textbook)",
        card_keys=("damping",),
        oid=NEWTON,
        display_name="Newton (damped)",
        family="second-order",
        params=(
            _lr(1.0, ui_low=1e-3, ui_high=2.0, desc="step fraction"),
            HyperParam("damping", HP_DAMPING, 0.0, 0.0, 1e6, r"\lambda", "Levenberg damping added to the Hessian's diagonal",
                       ui_high=100.0),  # fmt: skip
        ),
        rule_latex=r"\theta_t \leftarrow \theta_{t-1} - \eta\,\left(\nabla^2 f + \lambda I\right)^{-1} \nabla f",
        convention="Exact Hessian of the surface. Newton's method seeks any stationary point: on a saddle it "
        "walks to the saddle. A singular system ends the run ('stalled').",
    ),
    OptimizerSpec(
        name="cg",
        source="Nocedal & Wright, Numerical Optimization §5.2 (textbook)",
        card_keys=("c2", "max_evals"),
        oid=CG,
        display_name="Conjugate gradient",
        family="line-search",
        params=(
            _lr(1.0, ui_low=1e-3, desc="first trial step of the first line search"),
            HyperParam("beta_rule", HP_BETA_RULE, POLAK_RIBIERE, 0, 1, r"\beta", "conjugacy formula",
                       kind="choice", choices=("pr+", "fr")),  # fmt: skip
            _C1,
            HyperParam("c2", HP_C2, 0.1, 0.0, 1.0, "c_2", "curvature (Wolfe) constant", low_open=True, high_open=True),
            _MAX_EVALS,
        ),
        rule_latex=r"d_t = -g_t + \beta_t d_{t-1},\ \beta_t^{PR+} = \max\!\left(0, \frac{g_t^\top(g_t - g_{t-1})}{g_{t-1}^\top g_{t-1}}\right)\\"
        r"\theta_t \leftarrow \theta_{t-1} + \alpha_t d_t,\ \alpha_t \text{ by a weak-Wolfe line search}",
        convention="Nonlinear CG (Nocedal & Wright §5.2), restarted every n steps and whenever d is not a descent "
        "direction. One iteration may evaluate f several times (the line search).",
        state_names=(("direction", 0),),
    ),
    OptimizerSpec(
        name="lbfgs",
        source="Nocedal & Wright, Numerical Optimization, Algorithms 7.4 and 7.5 (textbook)",
        card_keys=("history", "max_evals"),
        oid=LBFGS,
        display_name="L-BFGS",
        family="line-search",
        params=(
            _lr(1.0, ui_low=1e-3, desc="trial step of each line search"),
            HyperParam("history", HP_HISTORY, 10, 1, 100, "m", "number of stored curvature pairs", kind="int"),
            _C1,
            HyperParam("c2", HP_C2, 0.9, 0.0, 1.0, "c_2", "curvature (Wolfe) constant", low_open=True, high_open=True),
            _MAX_EVALS,
        ),
        rule_latex=r"d_t = -H_t g_t \text{ (two-loop recursion over the last } m \text{ pairs } (s_i, y_i))\\"
        r"H_0 = \frac{s^\top y}{y^\top y} I,\ \theta_t \leftarrow \theta_{t-1} + \alpha_t d_t",
        convention="Nocedal & Wright Algorithm 7.4/7.5 with a weak-Wolfe bisection line search; the first step "
        "is η·min(1, 1/‖g‖₁) as in torch.optim.LBFGS.",
        state_names=(("direction", -1),),
    ),
    OptimizerSpec(
        name="hessian_free",
        source="Martens 2010, Deep learning via Hessian-free optimization (ICML), §4",
        card_keys=("damping", "max_cg"),
        oid=HESSIAN_FREE_OID,
        display_name="Hessian-free (truncated Newton)",
        family="second-order",
        params=(
            _lr(1.0, ui_low=1e-3, ui_high=2.0, desc="step fraction: the line search's first trial step length"),
            HyperParam("damping", HP_DAMPING, 1.0, 0.0, 1e8, r"\lambda_0",
                       "initial Levenberg–Marquardt damping (adapted by ρ each step)", ui_high=100.0),  # fmt: skip
            HyperParam("max_cg", HP_MAX_EVALS, 50, 1, MAX_CG, "m", "CG iterations per step at most", kind="int",
                       ui_high=200),  # fmt: skip
            HyperParam("cg_decay", HP_RHO, 0.95, 0.0, 1.0, r"\zeta", "decay of CG's warm start ζ·d_{t−1}"),
            HyperParam("gauss_newton", HP_CONVENTION, 1.0, 0, 1, "", "use Gauss–Newton products where the "
                       "model provides them (networks); surfaces always use the exact Hessian", kind="bool"),
        ),
        rule_latex=r"d_t \approx \arg\min_d\; g_t^\top d + \tfrac12 d^\top (B_t + \lambda_t I) d"
        r"\ \text{(at most } m \text{ CG steps from } \zeta d_{t-1}\text{, only products } B_t v)\\"
        r"\theta_t \leftarrow \theta_{t-1} + \alpha_t d_t,\ \alpha_t = \eta\, 0.8^j\\"
        r"\rho_t = \frac{f(\theta_{t-1} + d_t) - f(\theta_{t-1})}{q(d_t)},\ "
        r"\lambda_{t+1} = \lambda_t \times \begin{cases}3/2 & \rho_t < 1/4\\ 2/3 & \rho_t > 3/4\end{cases}",
        convention="Martens 2010: CG on (B + λI)d = −g using only curvature-vector products (the surface's exact "
        "Hessian; for a network the Gauss–Newton matrix when gauss_newton is on), warm-started from ζ·d_{t−1}, at "
        "most max_cg iterations, stopped by Martens' relative-progress rule (k = max(10, 0.1i), ε = 5e-4). On "
        "negative curvature CG returns its iterate so far, or −g if it has none. λ follows Martens' rule (ρ < 1/4: "
        "×3/2; ρ > 3/4: ×2/3) within [1e-8, 1e8]. The step is searched by backtracking α ← 0.8α from η with an "
        "Armijo test (Martens & Sutskever 2012 §8.8; Martens 2010's CG-iterate backtracking is not used); if no "
        "trial lowers f the step is rejected and λ grows.",
        state_names=(("direction", 0),),
        notes="Each step reports its CG iterations and curvature products; no Hessian matrix is formed.",
    ),
)
