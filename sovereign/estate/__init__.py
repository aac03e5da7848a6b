"""The rendered estate read as residency facts: the connectivity proof's egress and cross-border flows, the transfer
that covers each flow, and where data at rest lives. Asked by the posture diff and the data-flow register, so both
say the same thing about the same render."""
