"""Update rules in numpy, each matching its tf.compat.v1.train optimizer step for step.

Every rule takes (w, dw, state) and returns (new_w, new_state): state is None
on the first step and whatever the rule returned after that; nothing else is
kept between calls. `weight_decay` adds weight_decay * w to the gradient (an
L2 penalty weight_decay / 2 * ||w||^2 in the loss), as TF1 code does by hand.

    w, state = adam(w, dw, state, learning_rate=1e-3)
"""
import numpy as np


def _gradient(w, dw, weight_decay):
    w, dw = np.asarray(w), np.asarray(dw)
    if w.shape != dw.shape:
        raise ValueError(f"dw has shape {dw.shape} but w has shape {w.shape}; they must match")
    return dw + weight_decay * w if weight_decay else dw


def _state(state, w, **initial):
    """A fresh state (arrays shaped like w) on the first step, else the given one after checking it."""
    if state is None:
        return {name: np.full_like(w, value, dtype=np.result_type(w, np.float32)) if name != "t" else value
                for name, value in initial.items()}
    if not isinstance(state, dict) or set(state) != set(initial):
        raise ValueError(f"state must be None or the dict this rule returned (keys {sorted(initial)}), "
                         f"got {state if not isinstance(state, dict) else sorted(state)}")
    return state


def sgd(w, dw, state=None, learning_rate=1e-2, weight_decay=0.0):
    """Plain SGD (tf.compat.v1.train.GradientDescentOptimizer): w - lr * dw. State stays None."""
    return w - learning_rate * _gradient(w, dw, weight_decay), None


def momentum(w, dw, state=None, learning_rate=1e-2, momentum=0.9, nesterov=False, weight_decay=0.0):
    """SGD with momentum (tf.compat.v1.train.MomentumOptimizer).

    accumulation = momentum * accumulation + dw; w -= lr * accumulation, or with
    nesterov w -= lr * (dw + momentum * accumulation). State: {'accumulation'}.
    """
    g = _gradient(w, dw, weight_decay)
    state = _state(state, w, accumulation=0.0)
    accumulation = momentum * state["accumulation"] + g
    step = g + momentum * accumulation if nesterov else accumulation
    return w - learning_rate * step, {"accumulation": accumulation}


def rmsprop(w, dw, state=None, learning_rate=1e-3, decay=0.9, momentum=0.0, epsilon=1e-10, weight_decay=0.0):
    """RMSProp (tf.compat.v1.train.RMSPropOptimizer, its defaults; 7.2 uses learning_rate=1e-3).

    ms = decay * ms + (1 - decay) dw^2 (ms starts at ONES, as in TF1);
    mom = momentum * mom + lr dw / sqrt(ms + epsilon); w -= mom. State: {'ms', 'mom'}.
    """
    g = _gradient(w, dw, weight_decay)
    state = _state(state, w, ms=1.0, mom=0.0)
    ms = decay * state["ms"] + (1 - decay) * g * g
    mom = momentum * state["mom"] + learning_rate * g / np.sqrt(ms + epsilon)
    return w - mom, {"ms": ms, "mom": mom}


def adam(w, dw, state=None, learning_rate=1e-3, beta1=0.9, beta2=0.999, epsilon=1e-8, weight_decay=0.0):
    """Adam (tf.compat.v1.train.AdamOptimizer): bias correction folded into the step size.

    m = b1 m + (1 - b1) dw; v = b2 v + (1 - b2) dw^2;
    w -= lr sqrt(1 - b2^t) / (1 - b1^t) * m / (sqrt(v) + epsilon). State: {'m', 'v', 't'}.
    """
    g = _gradient(w, dw, weight_decay)
    state = _state(state, w, m=0.0, v=0.0, t=0)
    t = state["t"] + 1
    m = beta1 * state["m"] + (1 - beta1) * g
    v = beta2 * state["v"] + (1 - beta2) * g * g
    step_size = learning_rate * np.sqrt(1 - beta2 ** t) / (1 - beta1 ** t)
    return w - step_size * m / (np.sqrt(v) + epsilon), {"m": m, "v": v, "t": t}
