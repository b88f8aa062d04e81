enum SparseIFTPlaceholder {}
