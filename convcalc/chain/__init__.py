"""`convcalc chain`: a stack of layers, its sizes, skip connections and accepted inputs."""
