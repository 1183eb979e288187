"""The conversation stage: session logs, the teacher's proposals, the interview."""
