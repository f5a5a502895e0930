"""`convcalc verify` and `convcalc sweep`: every answer proved by execution in the engine."""
