"""The registry of Kubernetes kinds and what it answers: roles, pod locations, verdicts (judged, inert, unjudged)."""
