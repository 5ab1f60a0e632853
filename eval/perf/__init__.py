"""Performance runs: ``common`` holds what eval/bench.py, eval/loadtest.py,
eval/scale.py and eval/soak.py share, so the runners never import one another
for it."""
