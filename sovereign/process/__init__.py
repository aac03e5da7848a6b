"""Process plumbing: garbage-collector settings for batch runs, a forked helper, a fast exit."""
