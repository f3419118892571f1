"""Course staff's side of hw2: grading untrusted submissions (the box they run in: sandbox.py)."""
