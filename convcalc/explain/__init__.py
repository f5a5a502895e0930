"""`convcalc explain`: the matrix view, the direct convolution step by step, overlap maps, diagrams."""
