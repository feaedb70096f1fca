"""Sources of trainee turns for a Session (typed text, a script, the microphone, recorded WAVs), the
customer speaking his lines back (customer.py), and the run that wires one practice call (runner.py)."""
